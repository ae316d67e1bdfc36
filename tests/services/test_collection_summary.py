"""The collection summaries: figures read through them equal the figures summed from the ledger
alone — after a rebuild, and after payments, backdated payments and reversals made since it."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.calendar import month_end
from arrears.domain.reporting import PeriodRange, Window, last_year, month_window, year_to_date_window
from arrears.persistence.models import (
    BilledSummary,
    Charge,
    CollectionSummary,
    CollectionSummaryDay,
    Company,
    Payment,
    SummaryBuild,
    Unit,
)
from arrears.scheduler.jobs import collection_summary
from arrears.services import billing
from arrears.services.corrections import reverse_charge
from arrears.services.payments import PaymentInput, record_payment, reverse_payment
from arrears.services.reports import collection, dashboard, monthly
from arrears.services.reports.summary import rebuild
from arrears.services.runtime import Runtime
from tests.factories import ACTOR, make_company
from tests.services.test_reports import TODAY, _community, _other_company, _world

D = Decimal
FIRST = dt.date(2025, 1, 1)


def _windows() -> list[Window]:
    """Every month of the ledger as of several days of it, years to date and last year's."""
    windows = []
    day = FIRST
    while day <= TODAY:
        end = month_end(day.year, day.month)
        for as_of in (day, day.replace(day=10), day.replace(day=20), end, TODAY):
            windows.append(Window(PeriodRange(day, end), as_of))
        windows.append(year_to_date_window(min(end, TODAY)))
        day = end + dt.timedelta(days=1)
    return windows + [last_year(year_to_date_window(TODAY)), last_year(month_window(TODAY))]


def _live(session: Session, company_id: int, windows: list[Window], monkeypatch: pytest.MonkeyPatch
          ) -> list[dict[int, collection.Collection]]:
    with monkeypatch.context() as patch:
        patch.setattr(collection, "_build", lambda *args: None)
        return collection.by_community(session, company_id, windows)


def _assert_same(session: Session, company_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    windows = _windows()
    assert session.get(SummaryBuild, company_id) is not None
    assert collection.by_community(session, company_id, windows) == _live(session, company_id, windows, monkeypatch)
    # a range not made of whole months is always summed from the ledger
    odd = [Window(PeriodRange(dt.date(2025, 3, 5), dt.date(2025, 9, 20)), dt.date(2025, 12, 1)), *windows[:3]]
    assert collection.by_community(session, company_id, odd) == _live(session, company_id, odd, monkeypatch)


def test_worked_example_through_the_summary_and_after_a_reversal(session: Session,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    world = _world(session)
    ytd = year_to_date_window(TODAY)
    before = collection.by_community(session, world.company_id, [ytd, last_year(ytd)])
    result = rebuild(session, world.company_id)
    assert result.days > 0 and result.months > 0 and result.billed > 0
    assert session.get(SummaryBuild, world.company_id) is not None
    assert collection.by_community(session, world.company_id, [ytd, last_year(ytd)]) == before
    a = before[0][world.a.id]
    assert (a.billed, a.collected, a.recovered) == (D("600.00"), D("250.00"), D("400.00"))  # test_reports' figures
    _assert_same(session, world.company_id, monkeypatch)
    # reversed after the build: out of the figures at once, before any rebuild
    reverse_payment(session, ACTOR, world.company_id, world.payments["p3"], reason="bounced", today=TODAY)
    _assert_same(session, world.company_id, monkeypatch)
    a = collection.by_community(session, world.company_id, [ytd])[0][world.a.id]
    assert (a.collected, a.recovered) == (D("150.00"), D("0.00"))  # p4's 150 went back to Jan 2026 after p3
    rebuild(session, world.company_id)
    _assert_same(session, world.company_id, monkeypatch)


def _random_ledger(session: Session, rng: random.Random) -> tuple[int, list[tuple[Unit, int]]]:
    community, unit, owner = _community(session)
    company = session.get(Company, community.company_id)
    units = [(unit, owner)] + [_community(session, company)[1:] for _ in range(3)]
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 3, 1), today=TODAY)
    return community.company_id, units  # type: ignore[return-value]


def _random_payments(session: Session, rng: random.Random, units: list[tuple[Unit, int]], count: int,
                     tag: str) -> None:
    for n in range(count):
        unit, owner = rng.choice(units)
        on = FIRST + dt.timedelta(days=rng.randrange((TODAY - FIRST).days + 1))
        amount = f"{rng.randrange(50, 900)}.{rng.randrange(100):02d}"
        record_payment(session, ACTOR, unit.company_id, PaymentInput(unit.id, owner, f"{tag}-{n}", on, amount),
                       today=TODAY)


def _random_reversals(session: Session, rng: random.Random, company_id: int) -> None:
    payments = session.scalars(select(Payment.id).where(Payment.company_id == company_id,
                                                        Payment.reversed_on.is_(None)).order_by(Payment.id)).all()
    for payment_id in rng.sample(list(payments), min(2, len(payments))):
        reverse_payment(session, ACTOR, company_id, payment_id, reason="test", today=TODAY)
    charges = session.scalars(select(Charge.id).where(Charge.company_id == company_id,
                                                      Charge.reversed_on.is_(None)).order_by(Charge.id)).all()
    for charge_id in rng.sample(list(charges), min(2, len(charges))):
        reverse_charge(session, ACTOR, company_id, charge_id, reason="test", today=TODAY)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_ledgers_give_the_same_figures_with_and_without_the_summary(
        session: Session, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    company_id, units = _random_ledger(session, rng)
    _random_payments(session, rng, units, 12, "first")
    _random_reversals(session, rng, company_id)
    rebuild(session, company_id)
    _assert_same(session, company_id, monkeypatch)
    # after the build: new (backdated) payments, reversals of payments and charges in and after it
    _random_payments(session, rng, units, 6, "second")
    _random_reversals(session, rng, company_id)
    _assert_same(session, company_id, monkeypatch)
    rebuild(session, company_id)
    _assert_same(session, company_id, monkeypatch)
    _random_reversals(session, rng, company_id)
    _assert_same(session, company_id, monkeypatch)


def _contents(session: Session, company_id: int) -> list[list[tuple[object, ...]]]:
    return [sorted(tuple(row) for row in session.execute(select(*columns).where(model.company_id == company_id)))
            for model, columns in (
                (CollectionSummary, (CollectionSummary.community_id, CollectionSummary.charge_month,
                                     CollectionSummary.applied_month, CollectionSummary.principal)),
                (CollectionSummaryDay, (CollectionSummaryDay.community_id, CollectionSummaryDay.charge_month,
                                        CollectionSummaryDay.applied_on, CollectionSummaryDay.principal)),
                (BilledSummary, (BilledSummary.community_id, BilledSummary.charge_month, BilledSummary.amount)))]


def test_rebuild_is_idempotent_and_keeps_companies_apart(session: Session) -> None:
    world = _world(session)
    other = _other_company(session)
    rebuild(session, other.company_id)
    theirs = _contents(session, other.company_id)
    first = rebuild(session, world.company_id)
    mine = _contents(session, world.company_id)
    again = rebuild(session, world.company_id)
    assert _contents(session, world.company_id) == mine
    assert (again.days, again.months, again.billed) == (first.days, first.months, first.billed)
    assert _contents(session, other.company_id) == theirs  # untouched by the other company's rebuild
    communities = {row[0] for table in mine for row in table}
    assert communities == {world.a.id, world.b.id}
    # the monthly totals are the days' sums; billed is every fee charge (15 months × 200.00 × 2 units)
    assert sum(r[3] for r in mine[0]) == sum(r[3] for r in mine[1])
    assert sum(r[2] for r in mine[2]) == D("6000.00")
    ytd = year_to_date_window(TODAY)
    assert collection.by_community(session, other.company_id, [ytd])[0][other.id].collected == D("600.00")
    assert set(collection.by_community(session, world.company_id, [ytd])[0]) == {world.a.id, world.b.id}


def test_dashboard_and_monthly_report_are_unchanged_by_a_rebuild(session: Session) -> None:
    world = _world(session)
    board = dashboard.build(session, world.company_id, TODAY)
    reports = [monthly.monthly_report(session, world.company_id, 2026, m, today=TODAY) for m in (1, 2, 3)]
    rebuild(session, world.company_id)
    assert dashboard.build(session, world.company_id, TODAY).rates == board.rates
    assert [monthly.monthly_report(session, world.company_id, 2026, m, today=TODAY) for m in (1, 2, 3)] == reports


def _seed(runtime: Runtime) -> list[int]:
    ids = []
    with runtime.transaction() as session:
        for _ in range(2):
            community, unit, owner = _community(session, make_company(session))
            billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 3, 1),
                                today=TODAY)
            record_payment(session, ACTOR, community.company_id,
                           PaymentInput(unit.id, owner, "R-1", dt.date(2026, 2, 1), "500.00"), today=TODAY)
            ids.append(community.company_id)
    return ids


def _builds(runtime: Runtime) -> dict[int, int]:
    with runtime.transaction() as session:
        return {cid: int(n) for cid, n in session.execute(
            select(CollectionSummary.company_id, func.count()).group_by(CollectionSummary.company_id))}


def test_nightly_job_rebuilds_every_company(runtime: Runtime) -> None:
    ids = _seed(runtime)
    done = collection_summary(runtime)
    assert sorted(done) == ids and all(r.months > 0 for r in done.values())
    counts = _builds(runtime)
    assert sorted(counts) == ids
    assert collection_summary(runtime).keys() == done.keys() and _builds(runtime) == counts


def test_cli_rebuild_reports(app: Flask) -> None:
    ids = _seed(app.extensions["arrears"])
    result = app.test_cli_runner().invoke(args=["arrears", "rebuild-reports", "--company", str(ids[1])])
    assert result.exit_code == 0, result.output
    assert "collection summary rebuilt" in result.output
    assert sorted(_builds(app.extensions["arrears"])) == [ids[1]]
    result = app.test_cli_runner().invoke(args=["arrears", "rebuild-reports"])
    assert result.exit_code == 0, result.output
    assert sorted(_builds(app.extensions["arrears"])) == ids
