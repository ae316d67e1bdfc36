"""`flask arrears escalate`: counts, idempotent reruns, dry runs that write nothing, clear errors,
and abandoned runs (a process that died) shown as failed in the run history (issue 3, scope 4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from arrears.persistence.base import utcnow
from arrears.persistence.enums import RunStatus
from arrears.persistence.models import (
    AuditEntry,
    CaseStage,
    CollectionCase,
    EscalationAction,
    EscalationPolicy,
    EscalationRun,
)
from arrears.services import billing, leases
from tests.factories import ACTOR, make_community, make_ownership, make_schedule, make_unit

AS_OF = "2026-06-01"  # January's charge (due 15 Jan) is 137 days overdue, May's 17


def _seed(app: Flask, units: int = 3) -> int:
    with app.extensions["arrears"].transaction() as session:
        community = make_community(session, late_fee_rate_per_day=None)
        make_schedule(session, community, rate=Decimal("3.00"), valid_from=dt.date(2026, 1, 1))
        for _ in range(units):
            make_ownership(session, make_unit(session, community, area=Decimal("100.00")))
        billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 5, 1),
                            today=dt.date(2026, 6, 1))
        return community.company_id


def _counts(app: Flask) -> dict[str, int]:
    with app.extensions["arrears"].transaction() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (EscalationRun, CollectionCase, CaseStage, EscalationAction, EscalationPolicy,
                              AuditEntry)}


def test_escalate_prints_the_counts_and_a_rerun_prepares_nothing(app: Flask) -> None:
    _seed(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["arrears", "escalate", "--as-of", AS_OF])
    assert first.exit_code == 0, first.output
    assert "evaluated 3, opened 3" in first.output
    prepared = _counts(app)["EscalationAction"]
    assert prepared >= 3 and f"prepared {prepared}" in first.output
    again = runner.invoke(args=["arrears", "escalate", "--as-of", AS_OF])
    assert again.exit_code == 0, again.output
    assert "opened 0" in again.output and "prepared 0" in again.output
    assert _counts(app)["EscalationAction"] == prepared
    with app.extensions["arrears"].transaction() as session:
        runs = session.scalars(select(EscalationRun).order_by(EscalationRun.id)).all()
        assert [(r.status, r.trigger, r.as_of) for r in runs] == [(RunStatus.SUCCEEDED, "cli", dt.date(2026, 6, 1))] * 2
        keys = session.scalars(select(EscalationAction.key)).all()
        assert len(keys) == len(set(keys))


def test_dry_run_lists_the_decisions_and_writes_nothing(app: Flask) -> None:
    _seed(app, units=2)
    before = _counts(app)
    result = app.test_cli_runner().invoke(args=["arrears", "escalate", "--as-of", AS_OF, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "dry run (nothing written)" in result.output and "evaluated 2, opened 2" in result.output
    decisions = [line for line in result.output.splitlines() if line.startswith("  ownership ")]
    assert len(decisions) == 2 and all(": open -> " in line for line in decisions)
    assert _counts(app) == before  # not even the default policy or an audit entry


def test_escalate_one_named_company(app: Flask) -> None:
    first, second = _seed(app, units=1), _seed(app, units=2)
    result = app.test_cli_runner().invoke(args=["arrears", "escalate", "--as-of", AS_OF, "--company", str(second)])
    assert result.exit_code == 0, result.output
    assert "evaluated 2" in result.output and "evaluated 1" not in result.output
    with app.extensions["arrears"].transaction() as session:
        assert session.scalars(select(CollectionCase.company_id).distinct()).all() == [second]
    assert first != second


def test_bad_date_and_unknown_company_are_clear_errors(app: Flask) -> None:
    _seed(app, units=1)
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["arrears", "escalate", "--as-of", "2026-02-30"])
    assert bad.exit_code == 2
    assert "Invalid value for '--as-of': '2026-02-30' is not a date like 2026-11-29" in bad.output
    unknown = runner.invoke(args=["arrears", "escalate", "--company", "999999"])
    assert unknown.exit_code == 2 and "no company with id or USCC '999999'" in unknown.output
    assert _counts(app)["EscalationRun"] == 0


def test_default_as_of_is_the_company_today(app: Flask) -> None:
    _seed(app, units=1)
    result = app.test_cli_runner().invoke(args=["arrears", "escalate"])
    assert result.exit_code == 0, result.output
    with app.extensions["arrears"].transaction() as session:
        run = session.scalars(select(EscalationRun)).one()
        shanghai_today = utcnow().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        assert run.as_of == shanghai_today


def test_a_run_left_running_by_a_dead_process_is_marked_failed_by_the_next_run(app: Flask) -> None:
    company_id = _seed(app, units=1)
    with app.extensions["arrears"].transaction() as session:  # what a killed `escalate` leaves behind
        dead = leases.begin_attempt(session, ACTOR, company_id, as_of=dt.date(2026, 6, 1), trigger="cli",
                                    now=utcnow() - dt.timedelta(minutes=3))
    result = app.test_cli_runner().invoke(args=["arrears", "escalate", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    with app.extensions["arrears"].transaction() as session:
        runs = session.scalars(select(EscalationRun).order_by(EscalationRun.id)).all()
        assert [r.status for r in runs] == [RunStatus.FAILED, RunStatus.SUCCEEDED]
        assert runs[0].id == dead and runs[0].errors == [leases.ABANDONED]
        assert runs[0].finished_at is not None
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "escalation.run.failed")) == 1


def test_a_run_that_raises_is_recorded_as_failed_and_other_companies_still_run(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arrears.services.escalation import sweep

    broken, fine = _seed(app, units=1), _seed(app, units=1)
    real = sweep.run_escalation

    def flaky(session, actor, company_id, **kw):  # type: ignore[no-untyped-def]
        if company_id == broken:
            raise RuntimeError("the ledger of this company is broken")
        return real(session, actor, company_id, **kw)

    monkeypatch.setattr(sweep, "run_escalation", flaky)
    result = app.test_cli_runner().invoke(args=["arrears", "escalate", "--as-of", AS_OF])
    assert result.exit_code == 1
    assert "escalation failed: RuntimeError: the ledger of this company is broken" in result.output
    assert "escalation failed for 1 company" in result.output
    with app.extensions["arrears"].transaction() as session:
        runs = {r.company_id: r for r in session.scalars(select(EscalationRun))}
        assert runs[broken].status == RunStatus.FAILED
        assert runs[broken].errors == ["RuntimeError: the ledger of this company is broken"]
        assert runs[fine].status == RunStatus.SUCCEEDED


def test_dispatch_then_letters_write_the_pdf_and_the_mailing_list(app: Flask, tmp_path: Path) -> None:
    """No e-mail or SMS gateway is configured here, so approved actions go out as printed letters."""
    from arrears.services.escalation.review import approve_run

    company_id = _seed(app, units=2)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["arrears", "escalate", "--as-of", AS_OF]).exit_code == 0
    with app.extensions["arrears"].transaction() as session:
        run_id = session.scalars(select(EscalationRun.id)).one()
        assert approve_run(session, ACTOR, company_id, run_id) >= 1
    dispatched = runner.invoke(args=["arrears", "dispatch"])
    assert dispatched.exit_code == 0, dispatched.output
    assert "2 message(s) queued; dispatch: sent 0" in dispatched.output  # one bundled message per owner
    letters = runner.invoke(args=["arrears", "letters", "--out", str(tmp_path / "print")])
    assert letters.exit_code == 0, letters.output
    assert "2 letter(s)" in letters.output
    pdf, csv = sorted((tmp_path / "print").iterdir())
    assert pdf.read_bytes().startswith(b"%PDF") and csv.suffix == ".csv"
    assert len(csv.read_text(encoding="utf-8-sig").splitlines()) == 3  # header + one line per letter
    again = runner.invoke(args=["arrears", "letters", "--out", str(tmp_path / "print")])
    assert "no letters are waiting" in again.output
