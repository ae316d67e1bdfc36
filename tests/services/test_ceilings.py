"""Small-claims ceilings (L11): seeded from the published figures, added, replaced with history, retired."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from arrears.domain.routing import (
    WARN_CEILING_NOT_HALF_WAGE,
    Ceiling,
    load_published_ceilings,
)
from arrears.persistence.legal import SmallClaimsCeiling
from arrears.persistence.models import AuditEntry
from arrears.services.demo import load_demo
from arrears.services.errors import NotFound, ServiceError
from arrears.services.legal.ceilings import (
    add_ceiling,
    ceilings_for,
    get_ceiling,
    history,
    list_ceilings,
    replace_ceiling,
    retire_ceiling,
    seed_ceilings,
    warnings_for,
)
from tests.factories import ACTOR

D = Decimal


@pytest.fixture
def empty(session: Session) -> Session:
    """The session with no ceiling rows (other tests may have seeded; rolled back afterwards)."""
    session.execute(delete(SmallClaimsCeiling))
    return session


def _add(session: Session, **kw: object) -> SmallClaimsCeiling:
    args: dict[str, object] = {"province": "湖北", "amount": "50000.00", "wage_figure": "100000.00",
                               "effective_from": dt.date(2025, 7, 1), "source": "鄂高法〔2025〕1号",
                               "checked_on": dt.date(2026, 11, 22)}
    args.update(kw)
    return add_ceiling(session, ACTOR, **args)  # type: ignore[arg-type]


def test_seed_inserts_the_published_rows_once(empty: Session) -> None:
    published = load_published_ceilings()
    assert seed_ceilings(empty) == len(published) == 5
    assert seed_ceilings(empty) == 0
    rows = list_ceilings(empty)
    assert len(rows) == 5
    assert {(r.province, r.amount, r.wage_figure, r.effective_from, r.source, r.checked_on, r.basis)
            for r in rows} == {(c.province, c.amount, c.wage_figure, c.effective_from, c.source, c.checked_on,
                                c.basis) for c in published}
    assert all(r.created_by.startswith("seed") and not r.retired and r.replaces_id is None for r in rows)
    assert empty.scalar(select(AuditEntry).where(AuditEntry.action == "ceiling.seed")) is not None


def test_seed_leaves_a_maintained_table_alone(empty: Session) -> None:
    _add(empty)
    assert seed_ceilings(empty) == 0
    assert [r.province for r in list_ceilings(empty)] == ["湖北"]


def test_ceilings_for_a_province_as_domain_values(empty: Session) -> None:
    seed_ceilings(empty)
    jiangsu = ceilings_for(empty, "江苏省")
    assert [(c.amount, c.effective_from) for c in jiangsu] == [
        (D("64610.00"), dt.date(2026, 1, 4)), (D("60862.00"), dt.date(2024, 1, 6))]
    assert all(isinstance(c, Ceiling) for c in jiangsu)
    assert ceilings_for(empty, "广东") == []
    assert [r.province for r in list_ceilings(empty, province="上海市")] == ["上海"]


def test_add_a_ceiling_with_audit(empty: Session) -> None:
    row = _add(empty, basis=" 2024 average wage ")
    assert (row.amount, row.wage_figure, row.basis, row.created_by, row.retired) == (
        D("50000.00"), D("100000.00"), "2024 average wage", ACTOR.name, False)
    assert warnings_for(row) == ()
    entry = empty.scalar(select(AuditEntry).where(AuditEntry.action == "ceiling.add", AuditEntry.entity_id == row.id))
    assert entry is not None and entry.company_id is None and entry.detail["warnings"] == []


def test_a_ceiling_not_half_the_wage_figure_is_accepted_with_a_warning(empty: Session) -> None:
    row = _add(empty, amount="50001.00")
    assert warnings_for(row) == (WARN_CEILING_NOT_HALF_WAGE,)
    entry = empty.scalar(select(AuditEntry).where(AuditEntry.action == "ceiling.add", AuditEntry.entity_id == row.id))
    assert entry is not None and entry.detail["warnings"] == [WARN_CEILING_NOT_HALF_WAGE]


@pytest.mark.parametrize(("kw", "message"), [
    ({"province": "  "}, "needs a province"),
    ({"amount": "abc"}, "not a valid amount"),
    ({"amount": "1.234"}, "more than 2 decimal places"),
    ({"amount": "0"}, "must be positive"),
    ({"wage_figure": "-5"}, "must be positive"),
    ({"amount": "200000.00"}, "cannot exceed the wage figure"),
    ({"source": " "}, "needs its source"),
    ({"effective_from": "2025-07-01"}, "needs a date for effective from"),
    ({"checked_on": None}, "needs a date for checked on"),
])
def test_bad_ceilings_are_refused_and_nothing_changes(empty: Session, kw: dict[str, object], message: str) -> None:
    with pytest.raises(ServiceError, match=message):
        _add(empty, **kw)
    assert list_ceilings(empty, include_retired=True) == []


def test_a_second_row_for_the_same_date_is_refused(empty: Session) -> None:
    first = _add(empty)
    with pytest.raises(ServiceError, match="already has a ceiling from 2025-07-01") as info:
        _add(empty, province="湖北省", amount="51000.00", wage_figure="102000.00")
    assert info.value.params["id"] == first.id
    _add(empty, effective_from=dt.date(2026, 7, 1), amount="52000.00", wage_figure="104000.00")
    assert len(list_ceilings(empty, "湖北")) == 2


def test_replace_keeps_history_and_never_edits(empty: Session) -> None:
    old = _add(empty)
    new = replace_ceiling(empty, ACTOR, old.id, amount=D("51000.00"), wage_figure=D("102000.00"),
                          checked_on=dt.date(2026, 11, 29))
    assert new.id != old.id and new.replaces_id == old.id
    assert (new.amount, new.wage_figure, new.checked_on, new.source, new.effective_from) == (
        D("51000.00"), D("102000.00"), dt.date(2026, 11, 29), old.source, old.effective_from)
    assert old.retired and (old.amount, old.checked_on) == (D("50000.00"), dt.date(2026, 11, 22))
    assert [r.id for r in list_ceilings(empty)] == [new.id]
    assert {r.id for r in list_ceilings(empty, include_retired=True)} == {old.id, new.id}
    assert [r.id for r in history(empty, new.id)] == [new.id, old.id]
    assert [c.amount for c in ceilings_for(empty, "湖北")] == [D("51000.00")]
    entry = empty.scalar(select(AuditEntry).where(AuditEntry.action == "ceiling.replace"))
    assert entry is not None and entry.detail["replaces_id"] == old.id
    # a second replacement chains
    newer = replace_ceiling(empty, ACTOR, new.id, checked_on=dt.date(2026, 12, 1))
    assert [r.id for r in history(empty, newer.id)] == [newer.id, new.id, old.id]


def test_replace_refusals(empty: Session) -> None:
    old = _add(empty)
    with pytest.raises(ServiceError, match="unknown ceiling field"):
        replace_ceiling(empty, ACTOR, old.id, colour="red")
    with pytest.raises(ServiceError, match="nothing to change"):
        replace_ceiling(empty, ACTOR, old.id, amount="50000.00")
    with pytest.raises(ServiceError, match="cannot exceed"):
        replace_ceiling(empty, ACTOR, old.id, amount="100001.00")
    assert not old.retired
    other = _add(empty, effective_from=dt.date(2026, 7, 1))
    with pytest.raises(ServiceError, match="already has a ceiling from 2026-07-01"):
        replace_ceiling(empty, ACTOR, old.id, effective_from=dt.date(2026, 7, 1))
    assert not old.retired and not other.retired
    replace_ceiling(empty, ACTOR, old.id, source="corrected source")
    with pytest.raises(ServiceError, match="is retired"):
        replace_ceiling(empty, ACTOR, old.id, source="again")
    with pytest.raises(NotFound):
        replace_ceiling(empty, ACTOR, 999_999, source="x")


def test_retire_removes_a_row_from_routing_but_keeps_it(empty: Session) -> None:
    row = _add(empty)
    retire_ceiling(empty, ACTOR, row.id, reason="typo in the province")
    assert row.retired and ceilings_for(empty, "湖北") == []
    assert list_ceilings(empty, include_retired=True) == [row]
    entry = empty.scalar(select(AuditEntry).where(AuditEntry.action == "ceiling.retire"))
    assert entry is not None and entry.message == "typo in the province"
    with pytest.raises(ServiceError, match="already retired"):
        retire_ceiling(empty, ACTOR, row.id)
    with pytest.raises(NotFound):
        get_ceiling(empty, 999_999)


def test_migrate_command_seeds_the_ceilings_once(app: Flask) -> None:
    runtime = app.extensions["arrears"]
    with runtime.transaction() as session:
        session.execute(delete(SmallClaimsCeiling))
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["arrears", "migrate"])
        assert result.exit_code == 0, result.output
    with runtime.transaction() as session:
        assert len(list_ceilings(session)) == len(load_published_ceilings())


def test_demo_seeds_the_ceilings(empty: Session) -> None:
    load_demo(empty, seed=7, today=dt.date(2026, 11, 20), scale=0.02)
    assert [c.amount for c in ceilings_for(empty, "江苏")] == [D("64610.00"), D("60862.00")]
    assert [c.amount for c in ceilings_for(empty, "浙江")] == [D("54323.00")]
