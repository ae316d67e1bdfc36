"""Reports from the ledger: collection rate (收缴率), recovery (清欠), aging, arrears at a date,
the monthly report and the dashboard read model.

Worked example (community A, one unit, 200.00 a month due at month end, no late-fee clause,
charges January 2025 – March 2026):

* 2025-02-20 pays 400.00 → Jan and Feb 2025;   2025-06-30 pays 1,600.00 → Mar–Oct 2025;
* Nov and Dec 2025 stay unpaid;
* 2026-02-10 pays 500.00 → Nov 2025, Dec 2025 (recovery) and 100.00 of Jan 2026 (partial);
* 2026-03-16 pays 150.00 → the rest of Jan 2026 and 50.00 of Feb 2026.

Community B's unit prepaid: 2025-12-20 pays 2,600.00 → Jan 2025 – Jan 2026.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.periods import DueRule
from arrears.domain.reporting import PeriodRange, Window, last_year, month_window, year_to_date_window
from arrears.persistence.enums import CaseStatus
from arrears.persistence.models import Charge, Community, LimitationWarning, Unit
from arrears.services import billing, portfolio
from arrears.services.errors import ServiceError
from arrears.services.escalation.policy import ensure_policy
from arrears.services.payments import PaymentInput, record_payment, reverse_payment
from arrears.services.reports import aging, collection, dashboard, monthly
from arrears.services.reports.collection import Collection
from tests.factories import ACTOR, make_community, make_company, make_ownership, make_schedule, make_unit

D = Decimal
TODAY = dt.date(2026, 3, 20)


@dataclass
class World:
    company_id: int
    a: Community
    b: Community
    unit_a: Unit
    payments: dict[str, int]


def _community(session: Session, company=None):  # type: ignore[no-untyped-def]
    community = make_community(session, company, late_fee_rate_per_day=None)
    make_schedule(session, community, rate=D("2.00"), due_rule=DueRule.PERIOD_END, due_day=None,
                  valid_from=dt.date(2025, 1, 1))
    unit = make_unit(session, community, area=D("100.00"))
    owner_id = make_ownership(session, unit).parties[0].owner_id
    return community, unit, owner_id


def _pay(session: Session, unit: Unit, owner_id: int, ref: str, on: dt.date, amount: str) -> int:
    payment, _ = record_payment(session, ACTOR, unit.company_id, PaymentInput(unit.id, owner_id, ref, on, amount),
                                today=TODAY)
    return payment.id


def _world(session: Session) -> World:
    a, unit_a, owner_a = _community(session)
    company = a.company_id
    from arrears.persistence.models import Company

    b, unit_b, owner_b = _community(session, session.get(Company, company))
    billing.run_billing(session, ACTOR, company_id=company, through=dt.date(2026, 3, 1), today=TODAY)
    payments = {
        "p1": _pay(session, unit_a, owner_a, "A-1", dt.date(2025, 2, 20), "400.00"),
        "p2": _pay(session, unit_a, owner_a, "A-2", dt.date(2025, 6, 30), "1600.00"),
        "p3": _pay(session, unit_a, owner_a, "A-3", dt.date(2026, 2, 10), "500.00"),
        "p4": _pay(session, unit_a, owner_a, "A-4", dt.date(2026, 3, 16), "150.00"),
        "b1": _pay(session, unit_b, owner_b, "B-1", dt.date(2025, 12, 20), "2600.00"),
    }
    return World(company, a, b, unit_a, payments)


def _other_company(session: Session) -> Community:
    """Another company with its own charges and payments, which must never leak in."""
    community, unit, owner = _community(session, make_company(session))
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 3, 1), today=TODAY)
    _pay(session, unit, owner, "X-1", dt.date(2026, 3, 1), "3000.00")
    return community


def _figures(session: Session, world: World, *windows: Window) -> list[dict[int, Collection]]:
    return collection.by_community(session, world.company_id, list(windows))


def test_collection_rate_worked_example_with_partial_payments_and_recovery(session: Session) -> None:
    world = _world(session)
    ytd, march = year_to_date_window(TODAY), month_window(TODAY)
    got_ytd, got_march = _figures(session, world, ytd, march)
    a = got_ytd[world.a.id]
    # Jan–Mar 2026 billed 600.00; collected 100 + 100 (Jan, in two parts) + 50 (Feb, partly)
    assert (a.billed, a.collected, a.recovered) == (D("600.00"), D("250.00"), D("400.00"))
    assert a.rate == D("250") / D("600") and a.percent == D("41.7")
    # March: its own charge is unpaid; the 150.00 of 2026-03-16 paid January and February charges,
    # which are earlier periods for March: recovery, not collection
    m = got_march[world.a.id]
    assert (m.billed, m.collected, m.recovered, m.percent) == (D("200.00"), D("0.00"), D("150.00"), D("0.0"))


def test_a_payment_applied_to_an_old_charge_is_recovery_not_collection(session: Session) -> None:
    world = _world(session)
    february = Window(PeriodRange(dt.date(2026, 2, 1), dt.date(2026, 2, 28)), dt.date(2026, 2, 28))
    feb = _figures(session, world, february)[0][world.a.id]
    # the 500.00 of 2026-02-10 went to Nov, Dec 2025 and Jan 2026: all older than February's charges
    assert (feb.billed, feb.collected, feb.recovered) == (D("200.00"), D("0.00"), D("500.00"))


def test_prepayment_counts_as_collected_when_it_was_applied(session: Session) -> None:
    world = _world(session)
    ytd = year_to_date_window(TODAY)
    b_now, b_last = (f[world.b.id] for f in _figures(session, world, ytd, last_year(ytd)))
    assert (b_now.billed, b_now.collected, b_now.recovered) == (D("600.00"), D("200.00"), D("0.00"))
    assert (b_last.billed, b_last.collected) == (D("600.00"), D("0.00"))  # paid only in December 2025


def test_last_year_comparison_counts_money_up_to_the_same_day_last_year(session: Session) -> None:
    world = _world(session)
    ytd, march = year_to_date_window(TODAY), month_window(TODAY)
    got = _figures(session, world, last_year(ytd), last_year(march))
    ytd_last, march_last = got[0][world.a.id], got[1][world.a.id]
    # 2025-01-01 … 2025-03-31 as of 2025-03-20: only the 400.00 of 2025-02-20; 2025-06-30 is later
    assert (ytd_last.billed, ytd_last.collected, ytd_last.recovered) == (D("600.00"), D("400.00"), D("0.00"))
    assert ytd_last.percent == D("66.7")
    assert (march_last.billed, march_last.collected, march_last.percent) == (D("200.00"), D("0.00"), D("0.0"))
    total = collection.total(_figures(session, world, ytd)[0])
    assert (total.billed, total.collected, total.percent) == (D("1200.00"), D("450.00"), D("37.5"))


def test_zero_billed_has_no_rate(session: Session) -> None:
    world = _world(session)
    empty = Window(PeriodRange(dt.date(2024, 1, 1), dt.date(2024, 12, 31)), dt.date(2024, 12, 31))
    assert _figures(session, world, empty) == [{}]
    assert collection.total({}).rate is None and collection.total({}).percent is None


def test_reversed_payment_is_left_out(session: Session) -> None:
    world = _world(session)
    reverse_payment(session, ACTOR, world.company_id, world.payments["p4"], reason="bounced", today=TODAY)
    a = _figures(session, world, year_to_date_window(TODAY))[0][world.a.id]
    assert (a.collected, a.recovered) == (D("100.00"), D("400.00"))


def test_company_isolation(session: Session) -> None:
    world = _world(session)
    other = _other_company(session)
    ytd = year_to_date_window(TODAY)
    figures = _figures(session, world, ytd)[0]
    assert set(figures) == {world.a.id, world.b.id}
    assert collection.by_community(session, other.company_id, [ytd])[0][other.id].collected == D("600.00")
    assert other.id not in aging.arrears_at(session, world.company_id, TODAY)
    assert other.id not in aging.by_bucket(session, world.company_id, TODAY)


def test_arrears_at_a_past_date_and_today(session: Session) -> None:
    world = _world(session)
    _other_company(session)
    now = aging.arrears_at(session, world.company_id, TODAY)
    # A: the rest of February (March is due on the 31st); B: February, after the prepaid months
    assert now == {world.a.id: D("150.00"), world.b.id: D("200.00")}
    fast = {row.community.id: row.arrears for row in portfolio.communities(session, world.company_id, TODAY)}
    assert fast == now
    assert aging.arrears_at(session, world.company_id, dt.date(2025, 12, 31)) == {world.a.id: D("200.00")}
    assert aging.arrears_at(session, world.company_id, dt.date(2026, 1, 31)) == {world.a.id: D("400.00")}
    # 2025-06-29: Mar, Apr, May 2025 overdue (2025-06-30 paid them later); B has not paid anything yet
    assert aging.arrears_at(session, world.company_id, dt.date(2025, 6, 29)) == {
        world.a.id: D("600.00"), world.b.id: D("1000.00")}


def test_aging_buckets_from_the_open_charges(session: Session) -> None:
    world = _world(session)
    assert aging.by_bucket(session, world.company_id, TODAY) == {world.a.id: {"d1_30": D("150.00")},
                                                                 world.b.id: {"d1_30": D("200.00")}}
    later = aging.by_bucket(session, world.company_id, dt.date(2026, 6, 1))  # Feb: 93 days, Mar: 62 days
    assert later[world.a.id] == {"d91_180": D("150.00"), "d31_90": D("200.00")}
    assert later[world.b.id] == {"d91_180": D("200.00"), "d31_90": D("200.00")}


def test_monthly_report(session: Session) -> None:
    world = _world(session)
    report = monthly.monthly_report(session, world.company_id, 2026, 3, today=TODAY)
    assert report.as_of == TODAY and not report.complete
    rows = {row.community_id: row for row in report.rows}
    assert (rows[world.a.id].billed, rows[world.a.id].collected, rows[world.a.id].recovered,
            rows[world.a.id].arrears) == (D("200.00"), D("0.00"), D("150.00"), D("150.00"))
    assert rows[world.b.id].percent == D("0.0")
    assert (report.total.billed, report.total.collected, report.total.recovered) == (
        D("400.00"), D("0.00"), D("150.00"))
    feb = monthly.monthly_report(session, world.company_id, 2026, 2, today=TODAY)
    assert feb.complete and feb.as_of == dt.date(2026, 2, 28)
    assert {r.community_id: r.arrears for r in feb.rows}[world.a.id] == D("100.00")  # Jan 2026 rest
    assert feb.total.arrears == D("100.00") and report.total.arrears == D("350.00")
    for year, month in ((2026, 4), (2026, 13), (1999, 12)):
        with pytest.raises(ServiceError):
            monthly.monthly_report(session, world.company_id, year, month, today=TODAY)


def test_dashboard_read_model(session: Session) -> None:
    from arrears.persistence.models import CollectionCase, Ownership

    world = _world(session)
    ensure_policy(session, ACTOR, world.company_id)
    ownership = session.scalar(select(Ownership).where(Ownership.unit_id == world.unit_a.id))
    assert ownership is not None
    session.add(CollectionCase(
        company_id=world.company_id, community_id=world.a.id, unit_id=world.unit_a.id, ownership_id=ownership.id,
        owner_id=ownership.parties[0].owner_id, status=CaseStatus.OPEN, stage_code="demand",
        opened_on=dt.date(2026, 1, 1), arrears=D("150.00"), demand_deadline=TODAY + dt.timedelta(days=10)))
    charge = session.scalar(select(Charge).where(Charge.unit_id == world.unit_a.id, Charge.principal_outstanding > 0)
                            .order_by(Charge.due_date))
    assert charge is not None
    session.add(LimitationWarning(company_id=world.company_id, unit_id=world.unit_a.id, charge_id=charge.id,
                                  ends_on=TODAY + dt.timedelta(days=60), found_on=TODAY))
    session.flush()
    board = dashboard.build(session, world.company_id, TODAY)
    assert board.company_rate.ytd.percent == D("37.5") and board.company_rate.ytd_last_year.percent == D("33.3")
    assert [row.community.id for row in board.rates[1:] if row.community] == sorted(
        [world.a.id, world.b.id], key=lambda cid: session.get(Community, cid).code)  # type: ignore[union-attr]
    assert dict(board.company_aging.buckets)["d1_30"] == D("350.00")
    codes = [s.code for s in board.stages]
    assert codes[:3] == ["pre_due", "reminder_1", "reminder_2"] and codes.index("demand") == 3
    assert {s.code: s.count for s in board.stages}["demand"] == 1 and board.open_cases == 1
    assert board.runs.last_run is None and board.runs.awaiting_approval == 0
    assert board.demand_deadline_count == 1 and board.demand_deadlines[0].deadline == TODAY + dt.timedelta(days=10)
    assert board.limitation_deadline_count == 1 and board.limitation_deadlines[0].outstanding == D("150.00")
    assert board.court_deadlines == ()
