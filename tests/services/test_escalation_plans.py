"""Payment plans through the database (issue 3 §3; L5 acknowledgement): validation, the
interruption the plan records, judging kept / completed / broken, cancel, tenancy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.periods import DueRule
from arrears.persistence.enums import CaseStatus, InterruptionKind, PlanStatus
from arrears.persistence.escalation import CollectionCase, PaymentPlan
from arrears.persistence.models import AuditEntry, Charge, Interruption, Unit
from arrears.services import billing
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation.plans import cancel_plan, create_plan, kept_plan_case_ids, refresh_plans
from arrears.services.payments import PaymentInput, record_payment, reverse_payment
from tests.factories import ACTOR, make_community, make_owner, make_ownership, make_schedule, make_unit

TODAY = dt.date(2026, 5, 10)
D = Decimal


def build_case(session: Session, **case_kw: object):  # type: ignore[no-untyped-def]
    """A unit with 200.00 charges due at each month end Jan–May 2026 and an open case on it."""
    community = make_community(session, late_fee_rate_per_day=None)
    make_schedule(session, community, rate=D("2.00"), due_rule=DueRule.PERIOD_END, due_day=None)
    unit = make_unit(session, community, area=D("100.00"))
    record = make_ownership(session, unit)
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 5, 1), today=TODAY)
    case = CollectionCase(company_id=community.company_id, community_id=community.id, unit_id=unit.id,
                          ownership_id=record.id, owner_id=record.parties[0].owner_id, status=CaseStatus.OPEN,
                          stage_code="reminder_2", stage_entered_on=dt.date(2026, 4, 1),
                          opened_on=dt.date(2026, 2, 15), **case_kw)
    session.add(case)
    session.flush()
    charges = list(session.scalars(select(Charge).where(Charge.unit_id == unit.id).order_by(Charge.due_date)))
    return case, charges


def pay(session: Session, case: CollectionCase, amount: str, on: dt.date, ref: str,
        payer_id: int | None = None):  # type: ignore[no-untyped-def]
    payment, _ = record_payment(
        session, ACTOR, case.company_id,
        PaymentInput(case.unit_id, payer_id or case.owner_id, ref, on, amount), today=max(on, TODAY),
    )
    return payment


# Jan–Apr are overdue on TODAY (800.00); May is billed but not yet due (balance 1000.00).
SCHEDULE = [(dt.date(2026, 5, 20), D("300.00")), (dt.date(2026, 6, 20), D("300.00")),
            (dt.date(2026, 7, 20), D("200.00"))]


def _plan(session: Session, case: CollectionCase, **kw: object) -> PaymentPlan:
    args: dict[str, object] = {"agreed_on": TODAY, "instalments": SCHEDULE, "grace_days": 5,
                               "note": "signed at the office", "today": TODAY}
    args.update(kw)
    return create_plan(session, ACTOR, case.company_id, case.id, **args)  # type: ignore[arg-type]


def test_plan_records_an_interruption_for_exactly_the_open_overdue_charges(session: Session) -> None:
    """L5: the plan is the owner's acknowledgement of the charges overdue and open on agreement."""
    case, (jan, feb, mar, apr, may) = build_case(session)
    pay(session, case, "200.00", dt.date(2026, 2, 20), "R-jan")  # pays January
    plan = _plan(session, case, instalments=[(dt.date(2026, 5, 20), D("600.00"))])
    event = session.get(Interruption, plan.interruption_id)
    assert event is not None
    assert event.kind == InterruptionKind.PAYMENT_PLAN
    assert (event.occurred_on, event.proof_ref, event.owner_id) == (TODAY, f"plan:{plan.id}", case.owner_id)
    assert sorted(c.charge_id for c in event.charges) == [feb.id, mar.id, apr.id]  # not Jan (paid), not May (not due)
    assert [(i.seq, i.due_on, i.amount) for i in plan.instalments] == [(1, dt.date(2026, 5, 20), D("600.00"))]
    assert plan.status == PlanStatus.ACTIVE and plan.created_by == ACTOR.name
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.create",
                                                   AuditEntry.entity_id == plan.id)) is not None


@pytest.mark.parametrize(("kw", "message"), [
    ({"instalments": []}, "at least one instalment"),
    ({"instalments": [(dt.date(2026, 5, 20), D("0"))]}, "greater than zero"),
    ({"instalments": [(dt.date(2026, 5, 20), "abc")]}, "not a valid amount"),
    ({"instalments": [(dt.date(2026, 5, 20), "1.001")]}, "more than 2 decimal places"),
    ({"instalments": [(dt.date(2026, 6, 1), D("1")), (dt.date(2026, 6, 1), D("1"))]}, "strictly increasing"),
    ({"instalments": [(dt.date(2026, 5, 9), D("1"))]}, "before the agreement date"),
    ({"grace_days": -1}, "grace days"),
    ({"instalments": [(dt.date(2026, 5, 20), D("1000.01"))]}, "more than the open balance 1000.00"),
    ({"agreed_on": dt.date(2026, 5, 11)}, "in the future"),
    ({"agreed_on": dt.date(2026, 1, 1), "instalments": [(dt.date(2026, 2, 1), D("1"))]}, "no overdue charges"),
])
def test_bad_plans_are_refused_and_change_nothing(session: Session, kw: dict[str, object], message: str) -> None:
    case, _ = build_case(session)
    with pytest.raises(ServiceError, match=message):
        _plan(session, case, **kw)
    assert session.scalars(select(PaymentPlan)).all() == []
    assert session.scalars(select(Interruption).where(Interruption.unit_id == case.unit_id)).all() == []


def test_plan_may_cover_the_whole_open_balance_including_charges_not_yet_due(session: Session) -> None:
    """Arrears are 800.00 (Jan–Apr); May (200.00, due 05-31) is billed: the plan may clear it too,
    but the acknowledgement covers only the overdue charges."""
    case, charges = build_case(session)
    plan = _plan(session, case, instalments=[(dt.date(2026, 5, 20), D("1000.00"))])
    event = session.get(Interruption, plan.interruption_id)
    assert event is not None and sorted(c.charge_id for c in event.charges) == [c.id for c in charges[:4]]


def test_only_one_active_plan_per_case_and_closed_cases_refused(session: Session) -> None:
    case, _ = build_case(session)
    first = _plan(session, case)
    with pytest.raises(ServiceError, match="already has an active payment plan"):
        _plan(session, case)
    cancel_plan(session, ACTOR, case.company_id, first.id, reason="owner asked to redo", today=TODAY)
    second = _plan(session, case)
    assert second.status == PlanStatus.ACTIVE
    other, _ = build_case(session, closed_on=TODAY)
    other.status = CaseStatus.CLOSED
    with pytest.raises(ServiceError, match="closed"):
        _plan(session, other)


def test_kept_plan_pauses_until_a_missed_instalment_breaks_it(session: Session) -> None:
    case, _ = build_case(session)
    plan = _plan(session, case)
    assert kept_plan_case_ids(session, case.company_id, dt.date(2026, 5, 15)) == {case.id}
    pay(session, case, "300.00", dt.date(2026, 5, 25), "R-1")  # first instalment on the last grace day
    assert kept_plan_case_ids(session, case.company_id, dt.date(2026, 6, 24)) == {case.id}
    assert plan.status == PlanStatus.ACTIVE
    # the second instalment (06-20, grace through 06-25) is missed: broken at the end of 06-25
    assert kept_plan_case_ids(session, case.company_id, dt.date(2026, 6, 25)) == set()
    assert (plan.status, plan.ended_on) == (PlanStatus.BROKEN, dt.date(2026, 6, 25))
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.broken", AuditEntry.entity_id == plan.id))
    assert entry is not None and entry.detail["paid"] == "300.00" and entry.detail["due"] == "600.00"
    # broken is final: a later payment does not bring the pause back; the case keeps its stage
    pay(session, case, "500.00", dt.date(2026, 6, 27), "R-2")
    assert kept_plan_case_ids(session, case.company_id, dt.date(2026, 6, 28)) == set()
    assert plan.status == PlanStatus.BROKEN and case.stage_code == "reminder_2"


def test_missed_first_instalment_is_broken_after_grace(session: Session) -> None:
    case, _ = build_case(session)
    plan = _plan(session, case)
    assert refresh_plans(session, ACTOR, case.company_id, dt.date(2026, 5, 24)) == {case.id: PlanStatus.ACTIVE}
    assert refresh_plans(session, ACTOR, case.company_id, dt.date(2026, 5, 25)) == {case.id: PlanStatus.BROKEN}
    assert plan.ended_on == dt.date(2026, 5, 25)
    assert refresh_plans(session, ACTOR, case.company_id, dt.date(2026, 5, 26)) == {}  # no longer active


def test_paying_the_total_completes_the_plan(session: Session) -> None:
    case, _ = build_case(session)
    plan = _plan(session, case)
    pay(session, case, "500.00", dt.date(2026, 5, 12), "R-1")
    assert kept_plan_case_ids(session, case.company_id, dt.date(2026, 5, 31)) == {case.id}
    pay(session, case, "300.00", dt.date(2026, 6, 1), "R-2")
    assert kept_plan_case_ids(session, case.company_id, dt.date(2026, 6, 1)) == set()
    assert (plan.status, plan.ended_on) == (PlanStatus.COMPLETED, dt.date(2026, 6, 1))


def test_only_payments_by_the_case_owners_after_agreement_count(session: Session) -> None:
    case, _ = build_case(session)
    pay(session, case, "300.00", dt.date(2026, 5, 9), "R-before")  # before the agreement
    stranger = make_owner(session, case.company_id)  # a former owner of the unit
    make_ownership(session, session.get(Unit, case.unit_id), [stranger],  # type: ignore[arg-type]
                   valid_from=dt.date(2019, 1, 1), valid_to=dt.date(2019, 12, 31))
    plan = _plan(session, case, instalments=[(dt.date(2026, 5, 20), D("300.00"))])
    pay(session, case, "300.00", dt.date(2026, 5, 15), "R-stranger", payer_id=stranger.id)
    bounced = pay(session, case, "300.00", dt.date(2026, 5, 16), "R-bounced")
    reverse_payment(session, ACTOR, case.company_id, bounced.id, reason="bounced", today=dt.date(2026, 5, 17))
    assert refresh_plans(session, ACTOR, case.company_id, dt.date(2026, 5, 25)) == {case.id: PlanStatus.BROKEN}
    assert plan.status == PlanStatus.BROKEN


def test_co_owner_payment_counts(session: Session) -> None:
    community = make_community(session, late_fee_rate_per_day=None)
    make_schedule(session, community, rate=D("2.00"), due_rule=DueRule.PERIOD_END, due_day=None)
    unit = make_unit(session, community, area=D("100.00"))
    a, b = make_owner(session, unit.company_id), make_owner(session, unit.company_id)
    record = make_ownership(session, unit, [a, b])
    billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 2, 1), today=TODAY)
    case = CollectionCase(company_id=unit.company_id, community_id=community.id, unit_id=unit.id,
                          ownership_id=record.id, owner_id=a.id, opened_on=dt.date(2026, 2, 15))
    session.add(case)
    session.flush()
    _plan(session, case, instalments=[(dt.date(2026, 5, 20), D("400.00"))])
    pay(session, case, "400.00", dt.date(2026, 5, 20), "R-b", payer_id=b.id)
    assert refresh_plans(session, ACTOR, case.company_id, dt.date(2026, 5, 20)) == {case.id: PlanStatus.COMPLETED}


def test_cancel_plan(session: Session) -> None:
    case, _ = build_case(session)
    plan = _plan(session, case)
    with pytest.raises(ServiceError, match="needs a reason"):
        cancel_plan(session, ACTOR, case.company_id, plan.id, reason=" ", today=TODAY)
    cancel_plan(session, ACTOR, case.company_id, plan.id, reason="replaced", today=TODAY)
    assert (plan.status, plan.ended_on) == (PlanStatus.CANCELLED, TODAY)
    assert kept_plan_case_ids(session, case.company_id, TODAY) == set()
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "plan.cancel"))
    assert entry is not None and entry.message == "replaced"
    with pytest.raises(ServiceError, match="not active"):
        cancel_plan(session, ACTOR, case.company_id, plan.id, reason="again", today=TODAY)


def test_plans_are_company_scoped(session: Session) -> None:
    case, _ = build_case(session)
    other, _ = build_case(session)
    plan = _plan(session, case)
    _plan(session, other)
    with pytest.raises(NotFound):
        create_plan(session, ACTOR, other.company_id, case.id, agreed_on=TODAY, instalments=SCHEDULE,
                    grace_days=5, note=None, today=TODAY)
    with pytest.raises(NotFound):
        cancel_plan(session, ACTOR, other.company_id, plan.id, reason="x", today=TODAY)
    assert kept_plan_case_ids(session, case.company_id, TODAY) == {case.id}
    assert refresh_plans(session, ACTOR, other.company_id, TODAY) == {other.id: PlanStatus.ACTIVE}


# --- concurrency (PostgreSQL): the case row lock keeps "one open dispute / active plan" true -----

def _second_waits_then_fails(engine, first, second) -> list[BaseException]:  # type: ignore[no-untyped-def]
    """`first` runs in an open transaction; `second` (another connection) must wait on the case lock
    until `first` commits, then see its row. Waiting is detected in pg_stat_activity, not by sleeping."""
    import threading

    from sqlalchemy import text

    errors: list[BaseException] = []
    with Session(engine) as one:
        first(one)

        def worker() -> None:
            with Session(engine) as two:
                try:
                    second(two)
                    two.commit()
                except BaseException as exc:  # noqa: BLE001 - returned to the test
                    errors.append(exc)

        thread = threading.Thread(target=worker)
        thread.start()
        with engine.connect() as probe:
            waiting = 0
            for _ in range(2000):
                waiting = probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar_one()
                if waiting or not thread.is_alive():
                    break
            assert waiting == 1, "the second transaction did not wait for the case lock"
        one.commit()
        thread.join(timeout=30)
    return errors


@pytest.mark.parametrize("what", ["plan", "dispute"])
def test_concurrent_plans_or_disputes_on_one_case_cannot_both_succeed(engine, what: str) -> None:  # type: ignore[no-untyped-def]
    from arrears.services.escalation.disputes import open_dispute
    from tests.conftest import clean_tables

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    try:
        with Session(engine) as setup:
            case, _ = build_case(setup)
            setup.commit()
            company_id, case_id = case.company_id, case.id

        def act(s: Session) -> None:
            if what == "plan":
                create_plan(s, ACTOR, company_id, case_id, agreed_on=TODAY, instalments=SCHEDULE, grace_days=5,
                            note=None, today=TODAY)
            else:
                open_dispute(s, ACTOR, company_id, case_id, category="leak", description="leak", today=TODAY)

        errors = _second_waits_then_fails(engine, act, act)
        assert len(errors) == 1 and isinstance(errors[0], ServiceError)
        assert "already has an" in str(errors[0])
    finally:
        clean_tables(engine)
