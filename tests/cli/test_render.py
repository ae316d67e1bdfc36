"""`flask arrears render notice|letters|packet` (issue 4, scope 5): the files are written, the
summary names them, failures are reported with a non-zero exit, bad input fails clearly."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from arrears.domain.escalation import Action
from arrears.persistence.base import utcnow
from arrears.persistence.enums import ActionStatus, RunStatus
from arrears.persistence.models import (
    AuditEntry,
    EscalationAction,
    EscalationRun,
    NoticeStatus,
    PublicNotice,
)
from arrears.services.documents import batch, registry
from arrears.services.documents.batch import read_index
from tests.services.test_document_batch import (
    BROKEN,  # registers the test-only builders in this process
)


def _text(data: bytes | Path) -> str:
    reader = PdfReader(io.BytesIO(data) if isinstance(data, bytes) else data)
    return "".join((page.extract_text() or "") for page in reader.pages).replace(" ", "").replace("\n", "")


def _invoke(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["arrears", "render", *args], catch_exceptions=False)


# ---------------------------------------------------------------- packet


def _packet_case(app: Flask, **kw: object) -> int:
    from tests.documents.packet_world import build_world

    with app.extensions["arrears"].transaction() as session:
        return build_world(session, **kw).case.id  # type: ignore[arg-type]


def test_packet_writes_every_document_the_joined_packet_and_a_zip(app: Flask, tmp_path: Path) -> None:
    case_id = _packet_case(app)
    out = tmp_path / "packet"
    result = _invoke(app, "packet", str(case_id), "--route", "small_claims", "--as-of", "2026-11-22",
                     "--out", str(out), "--workers", "2")
    assert result.exit_code == 0, result.output
    stem = f"case-{case_id}-small_claims-2026-11-22"
    pdfs = sorted(p.name for p in out.glob("0*.pdf"))
    assert len(pdfs) == 6 and pdfs[0].startswith("001-")
    assert "6 of 6 document(s) written" in result.output and f"{stem}-packet.pdf" in result.output
    rows = read_index(out / f"{stem}.zip")
    assert [r["document"].split(":")[0] for r in rows] == [
        "complaint", "calculation_sheet", "evidence_list", "power_of_attorney", "legal_rep_certificate",
        "court_fee_estimate"]
    assert {r["status"] for r in rows} == {"ok"}
    joined = out / f"{stem}-packet.pdf"
    text = _text(joined)
    assert "民事起诉状" in text and "证据目录" in text and "授权委托书" in text
    assert len(PdfReader(joined).pages) == sum(len(PdfReader(out / name).pages) for name in pdfs)
    assert sorted(zipfile.ZipFile(out / f"{stem}.zip").namelist()) == sorted([*pdfs, f"{stem}-packet.pdf",
                                                                               "index.csv"])
    with app.extensions["arrears"].transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "documents.rendered"))
        assert entry is not None and entry.entity == "collection_case" and entry.entity_id == case_id
        assert entry.detail["route"] == "small_claims" and len(entry.detail["files"]) == 6


def test_packet_refuses_bad_ids_routes_dates_and_cases_not_ready(app: Flask, tmp_path: Path) -> None:
    case_id = _packet_case(app, demand=False)
    out = str(tmp_path / "x")
    bad_route = _invoke(app, "packet", str(case_id), "--route", "mediation", "--out", out)
    assert bad_route.exit_code == 2 and "Invalid value for '--route'" in bad_route.output
    unknown = _invoke(app, "packet", "999999", "--route", "lawsuit", "--out", out)
    assert unknown.exit_code == 2 and "no case 999999" in unknown.output
    bad_date = _invoke(app, "packet", str(case_id), "--route", "lawsuit", "--as-of", "22.11.2026", "--out", out)
    assert bad_date.exit_code == 2 and "is not a date like" in bad_date.output
    not_ready = _invoke(app, "packet", str(case_id), "--route", "lawsuit", "--as-of", "2026-11-22", "--out", out)
    assert not_ready.exit_code == 1 and "Error:" in not_ready.output  # the service's reason (L2: no demand)
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- notice


def _notice_world(app: Flask, *, approve: bool):  # type: ignore[no-untyped-def]
    from arrears.services.documents import notices
    from tests.services.test_notices import ACTOR, AS_OF, TODAY, build_world

    with app.extensions["arrears"].transaction() as session:
        world = build_world(session)
        notice_id = None
        if approve:
            notice = notices.generate_notice(session, ACTOR, world.company_id, world.community.id, as_of=AS_OF,
                                             today=TODAY)
            notice_id = notices.approve_notice(session, ACTOR, world.company_id, notice.id, today=TODAY,
                                               public_base_url="https://wy.example.cn").id
        return world.community.code, AS_OF, notice_id


def test_notice_without_an_approved_one_writes_a_new_draft_and_says_so(app: Flask, tmp_path: Path) -> None:
    code, as_of, _ = _notice_world(app, approve=False)
    out = tmp_path / "notice" / "notice.pdf"
    result = _invoke(app, "notice", code, "--as-of", as_of.isoformat(), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "DRAFT" in result.output and "do NOT post it" in result.output
    text = _text(out.read_bytes())
    assert "1-1-101" in text and "800.00" in text
    with app.extensions["arrears"].transaction() as session:
        drafts = session.scalars(select(PublicNotice)).all()
        assert [(n.status, n.as_of) for n in drafts] == [(NoticeStatus.DRAFT, as_of)]
        assert drafts[0].reference in result.output
    again = _invoke(app, "notice", code, "--as-of", as_of.isoformat(), "--out", str(out))
    assert again.exit_code == 0 and "DRAFT" in again.output
    newer = _invoke(app, "notice", code, "--as-of", as_of.isoformat(), "--out", str(out), "--new-draft")
    assert newer.exit_code == 0 and "DRAFT" in newer.output
    with app.extensions["arrears"].transaction() as session:
        # the same rows print the same draft again; --new-draft generates another one
        assert len(session.scalars(select(PublicNotice)).all()) == 2


def test_notice_with_an_approved_one_writes_its_stored_pdf(app: Flask, tmp_path: Path) -> None:
    code, as_of, notice_id = _notice_world(app, approve=True)
    out = tmp_path / "notice.pdf"
    result = _invoke(app, "notice", code, "--as-of", as_of.isoformat(), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "approved notice: this copy may be posted" in result.output and "DRAFT" not in result.output
    from arrears.services.documents.notices import notice_pdf

    with app.extensions["arrears"].transaction() as session:
        notice = session.get(PublicNotice, notice_id)
        assert notice is not None
        assert out.read_bytes() == notice_pdf(session, notice.company_id, notice_id)[1]
        assert session.scalar(select(PublicNotice.id).where(PublicNotice.id != notice_id)) is None  # no new draft


def test_notice_refuses_unknown_community_bad_date_and_an_empty_notice(app: Flask, tmp_path: Path) -> None:
    code, as_of, _ = _notice_world(app, approve=False)
    out = str(tmp_path / "n.pdf")
    unknown = _invoke(app, "notice", "NOPE", "--as-of", as_of.isoformat(), "--out", out)
    assert unknown.exit_code == 2 and "no community with code 'NOPE'" in unknown.output
    bad_date = _invoke(app, "notice", code, "--as-of", "2026-13-01", "--out", out)
    assert bad_date.exit_code == 2 and "is not a date like" in bad_date.output
    missing = _invoke(app, "notice", code, "--out", out)
    assert missing.exit_code == 2 and "--as-of" in missing.output
    empty = _invoke(app, "notice", code, "--as-of", "2025-01-01", "--out", out)
    assert empty.exit_code == 1 and "qualifies for a public notice" in empty.output
    assert not Path(out).exists()


# ---------------------------------------------------------------- letters


def _run_with_letters(app: Flask, statuses: list[tuple[Action, ActionStatus]]) -> tuple[int, list[int]]:
    from tests.documents.packet_world import build_world

    with app.extensions["arrears"].transaction() as session:
        world = build_world(session, demand=False)
        run = EscalationRun(company_id=world.company.id, as_of=dt.date(2026, 11, 22), trigger="cli",
                            actor="tester", status=RunStatus.SUCCEEDED, started_at=utcnow(), finished_at=utcnow())
        session.add(run)
        session.flush()
        ids = []
        for n, (action, status) in enumerate(statuses):
            row = EscalationAction(
                key=f"letters:{run.id}:{n}", company_id=world.company.id, case_id=world.case.id, run_id=run.id,
                ownership_id=world.case.ownership_id, unit_id=world.unit.id, owner_id=world.owners[0].id,
                stage_code=action.value, action=action, prepared_on=dt.date(2026, 11, 22), status=status,
                arrears=sum((c.principal_outstanding for c in world.charges), Decimal("0.00")),
                channels=["letter"], deadline_days=15 if action == Action.DEMAND else None,
                charges=[{"id": c.id, "period": c.period_label, "due": c.due_date.isoformat(),
                          "outstanding": str(c.principal_outstanding)} for c in world.charges])
            session.add(row)
            session.flush()
            ids.append(row.id)
        return run.id, ids


def test_letters_of_a_batch_one_pdf_per_approved_reminder_or_demand(app: Flask, tmp_path: Path) -> None:
    run_id, ids = _run_with_letters(app, [(Action.DEMAND, ActionStatus.APPROVED),
                                          (Action.REMINDER, ActionStatus.APPROVED),
                                          (Action.REMINDER, ActionStatus.PREPARED)])
    out = tmp_path / "letters"
    result = _invoke(app, "letters", "--batch", str(run_id), "--out", str(out), "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "2 of 2 document(s) written" in result.output
    rows = read_index(out / f"letters-batch-{run_id}.zip")
    assert [r["document"] for r in rows] == [f"demand_letter:{ids[0]}", f"reminder_letter:{ids[1]}"]
    assert {r["status"] for r in rows} == {"ok"}
    demand = _text(out / rows[0]["file"])
    assert "催告" in demand and "3-2-1101" in demand


def test_letters_refuse_unknown_batches_and_batches_with_nothing_approved(app: Flask, tmp_path: Path) -> None:
    run_id, _ids = _run_with_letters(app, [(Action.REMINDER, ActionStatus.PREPARED)])
    unknown = _invoke(app, "letters", "--batch", "999999", "--out", str(tmp_path))
    assert unknown.exit_code == 2 and "no batch (escalation run) 999999" in unknown.output
    nothing = _invoke(app, "letters", "--batch", str(run_id), "--out", str(tmp_path / "x"))
    assert nothing.exit_code == 1 and "has no approved reminder or demand" in nothing.output
    not_a_number = _invoke(app, "letters", "--batch", "seven", "--out", str(tmp_path))
    assert not_a_number.exit_code == 2


def test_a_failed_document_is_reported_the_others_are_written_and_the_exit_code_is_1(
        app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the test-only builder (rendered in this process: --workers 0) standing in for the letters."""
    run_id, _ids = _run_with_letters(app, [(Action.REMINDER, ActionStatus.APPROVED)])
    with app.extensions["arrears"].transaction() as session:
        company_id = session.get(EscalationRun, run_id).company_id  # type: ignore[union-attr]

    def fake(_session, company, run):  # type: ignore[no-untyped-def]
        return [registry.DocumentRequest("test_doc", company, n) for n in (1, BROKEN, 3)]

    monkeypatch.setattr(batch, "letter_requests", fake)
    out = tmp_path / "out"
    result = _invoke(app, "letters", "--batch", str(run_id), "--out", str(out), "--workers", "0")
    assert result.exit_code == 1
    assert f"FAILED test_doc:{BROKEN}: ServiceError: document {BROKEN} cannot be built" in result.output
    assert "2 of 3 document(s) written" in result.output and "1 document(s) failed" in result.output
    assert sorted(p.name for p in out.glob("*.pdf")) == ["001-测试_文书 1.pdf", "003-测试_文书 3.pdf"]
    assert [r["status"] for r in read_index(out / "index.csv")] == ["ok", "failed", "ok"]
    assert company_id
