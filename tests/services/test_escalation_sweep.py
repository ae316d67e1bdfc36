"""The nightly escalation run through the database (issue 3 §2, §4; L2, L5, L17).

Ledger: monthly charges of 200.00 due on the 15th from January 2026 (no late-fee clause).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Reason
from arrears.persistence.enums import ActionStatus, CaseStatus, DisputeCategory, RunStatus
from arrears.persistence.models import (
    AuditEntry,
    CaseStage,
    Charge,
    CollectionCase,
    Company,
    EscalationAction,
    EscalationRun,
    Unit,
)
from arrears.services import billing
from arrears.services.escalation import disputes, holds, plans
from arrears.services.escalation.sweep import RunResult, run_escalation
from arrears.services.payments import PaymentInput, record_payment
from tests.factories import ACTOR, make_community, make_ownership, make_schedule, make_unit

TODAY = dt.date(2026, 11, 22)  # the bookkeeping day of the ledger entries
JAN15 = dt.date(2026, 1, 15)


def _ledger(session: Session, through: dt.date = dt.date(2026, 6, 1), company: Company | None = None,
            **company_kw: object) -> tuple[Unit, int]:
    """One unit, one owner, monthly 200.00 due on the 15th, billed through `through`."""
    community = make_community(session, company, late_fee_rate_per_day=None)
    if company_kw:
        owner = session.get(Company, community.company_id)
        for key, value in company_kw.items():
            setattr(owner, key, value)
    make_schedule(session, community, rate=Decimal("2.00"), due_day=15)
    unit = make_unit(session, community, area=Decimal("100.00"))
    record = make_ownership(session, unit)
    _bill(session, unit, through)
    return unit, record.parties[0].owner_id


def _bill(session: Session, unit: Unit, through: dt.date) -> None:
    billing.run_billing(session, ACTOR, company_id=unit.company_id, through=through, today=TODAY)


def _run(session: Session, unit: Unit, as_of: dt.date, **kw: object) -> RunResult:
    return run_escalation(session, ACTOR, unit.company_id, as_of=as_of, **kw)  # type: ignore[arg-type]


def _case(session: Session, unit: Unit) -> CollectionCase:
    case = session.scalar(select(CollectionCase).where(CollectionCase.unit_id == unit.id))
    assert case is not None
    session.refresh(case)
    return case


def _stages(session: Session, case: CollectionCase) -> list[CaseStage]:
    return list(session.scalars(select(CaseStage).where(CaseStage.case_id == case.id).order_by(CaseStage.id)))


def _actions(session: Session, unit: Unit) -> list[EscalationAction]:
    return list(session.scalars(select(EscalationAction).where(EscalationAction.unit_id == unit.id)
                                .order_by(EscalationAction.id)))


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _pay_all(session: Session, unit: Unit, payer_id: int, on: dt.date, ref: str) -> None:
    owed = session.scalar(select(func.sum(Charge.principal_outstanding)).where(
        Charge.unit_id == unit.id, Charge.due_date < on, Charge.reversed_on.is_(None)))
    record_payment(session, ACTOR, unit.company_id, PaymentInput(unit.id, payer_id, ref, on, owed), today=TODAY)


# --- stages computed from the debt ---------------------------------------------------------------


def test_gap_lands_on_the_right_stage_with_the_skipped_ones_recorded(session: Session) -> None:
    """50 days overdue on the first run: straight to the second reminder (not one step per run)."""
    unit, _ = _ledger(session, through=dt.date(2026, 2, 1))
    result = _run(session, unit, JAN15 + dt.timedelta(days=50))
    case = _case(session, unit)
    assert (case.status, case.stage_code, case.cycle) == (CaseStatus.OPEN, "reminder_2", 1)
    [row] = _stages(session, case)
    assert (row.stage_code, row.skipped, row.started_on, row.ended_on) == (
        "reminder_2", ["reminder_1"], JAN15 + dt.timedelta(days=50), None)
    assert result.counts["opened"] == 1 and result.counts["prepared"] == 1
    [action] = _actions(session, unit)
    assert action.key == f"case:{case.id}:reminder_2:1"
    assert action.status == ActionStatus.PREPARED and action.needs_approval  # reminder_2 needs approval
    assert action.arrears == Decimal("400.00") and len(action.charges) == 2
    assert action.charges[0] == {"id": action.charges[0]["id"], "period": "2026-01", "due": "2026-01-15",
                                 "outstanding": "200.00"}
    assert action.reason.startswith("50 days overdue; 2 periods; ¥400.00")


def test_l2_an_old_debt_found_by_import_starts_at_the_demand_never_beyond(session: Session) -> None:
    """300 days overdue, no demand ever delivered: the case starts at the formal demand (L2)."""
    unit, _ = _ledger(session, through=dt.date(2026, 10, 1))
    as_of = JAN15 + dt.timedelta(days=300)
    _run(session, unit, as_of)
    case = _case(session, unit)
    assert case.stage_code == "demand"
    assert case.reason == Reason.AWAITING_DEMAND_DELIVERY.value and case.next_action_on is None
    [row] = _stages(session, case)
    assert row.skipped == ["reminder_1", "reminder_2"]
    [action] = _actions(session, unit)
    assert (action.stage_code, action.deadline_days, action.status) == ("demand", 15, ActionStatus.PREPARED)
    # A later run without a delivered demand still stops at the demand.
    result = _run(session, unit, as_of + dt.timedelta(days=60))
    assert _case(session, unit).stage_code == "demand" and result.counts["advanced"] == 0


def test_l2_after_a_delivered_demand_and_its_deadline_the_case_advances(session: Session) -> None:
    unit, _ = _ledger(session)
    _run(session, unit, dt.date(2026, 4, 5))  # 80 days, 3 periods: the demand
    case = _case(session, unit)
    assert case.stage_code == "demand"
    case.demand_deadline = dt.date(2026, 4, 25)  # delivered 04-10 with 15 days (set by delivery, L5)
    session.flush()
    _run(session, unit, dt.date(2026, 4, 25))  # the last day of the period still counts (L2)
    case = _case(session, unit)
    assert case.stage_code == "demand" and case.reason == Reason.DEMAND_DEADLINE_RUNNING.value
    assert case.next_action_on == dt.date(2026, 4, 26)
    result = _run(session, unit, dt.date(2026, 6, 1))  # 137 days: mediation, over the public notice
    case = _case(session, unit)
    assert case.stage_code == "mediation" and result.counts["advanced"] == 1
    first, second = _stages(session, case)
    assert (first.stage_code, first.ended_on) == ("demand", dt.date(2026, 6, 1))
    assert (second.stage_code, second.skipped, second.ended_on) == ("mediation", ["public_notice"], None)
    _run(session, unit, dt.date(2026, 6, 20))  # 156 days, ≥ 3 periods, 19 days after mediation
    assert _case(session, unit).stage_code == "legal_ready"
    assert [a.stage_code for a in _actions(session, unit)] == ["demand", "mediation", "legal_ready"]


def test_second_run_changes_nothing_and_prepares_nothing(session: Session) -> None:
    unit, _ = _ledger(session)
    first = _run(session, unit, dt.date(2026, 4, 5))
    assert first.counts["prepared"] == 1
    rows = (_count(session, CaseStage), _count(session, EscalationAction), _count(session, AuditEntry))
    case_before = _case(session, unit)
    snapshot = (case_before.stage_code, case_before.evaluated_on, case_before.next_action_on, case_before.reason)
    second = _run(session, unit, dt.date(2026, 4, 5))
    assert {k: second.counts[k] for k in ("opened", "reopened", "advanced", "closed", "prepared", "pre_due")} == \
        dict.fromkeys(("opened", "reopened", "advanced", "closed", "prepared", "pre_due"), 0)
    assert second.counts["stayed"] == 1
    # Only the run's own audit entry is new: no stage row, no action, no case audit.
    assert (_count(session, CaseStage), _count(session, EscalationAction), _count(session, AuditEntry)) == \
        (rows[0], rows[1], rows[2] + 1)
    case = _case(session, unit)
    assert (case.stage_code, case.evaluated_on, case.next_action_on, case.reason) == snapshot
    run = session.get(EscalationRun, second.run_id)
    assert run is not None and run.status == RunStatus.SUCCEEDED and run.counts == second.counts
    assert run.finished_at is not None and run.started_at <= run.finished_at


def test_actions_without_approval_are_approved_by_the_policy(session: Session) -> None:
    unit, _ = _ledger(session, through=dt.date(2026, 1, 1))
    _run(session, unit, JAN15 + dt.timedelta(days=20))
    [action] = _actions(session, unit)
    assert (action.stage_code, action.status, action.needs_approval) == ("reminder_1", ActionStatus.APPROVED, False)


# --- closing and reopening ---------------------------------------------------------------------


def test_payment_closes_the_case_and_new_arrears_reopen_it_in_cycle_2(session: Session) -> None:
    unit, payer = _ledger(session, through=dt.date(2026, 3, 1))
    _run(session, unit, dt.date(2026, 4, 5))
    case = _case(session, unit)
    assert case.stage_code == "demand"
    _pay_all(session, unit, payer, dt.date(2026, 4, 6), "R-1")
    result = _run(session, unit, dt.date(2026, 4, 7))
    case = _case(session, unit)
    assert result.counts["closed"] == 1
    assert (case.status, case.closed_on, case.arrears, case.next_action_on) == (
        CaseStatus.CLOSED, dt.date(2026, 4, 7), Decimal("0.00"), None)
    assert all(s.ended_on is not None for s in _stages(session, case))
    # Nothing owed: the next run does not touch the closed case.
    assert _run(session, unit, dt.date(2026, 4, 8)).counts["evaluated"] == 0
    # Arrears rise again: the same case reopens in a new cycle with new action keys.
    _bill(session, unit, dt.date(2026, 5, 1))  # April and May: April is 46 days overdue on 05-31
    result = _run(session, unit, dt.date(2026, 5, 31))
    case = _case(session, unit)
    assert result.counts["reopened"] == 1
    assert (case.status, case.cycle, case.stage_code, case.opened_on, case.closed_on) == (
        CaseStatus.OPEN, 2, "reminder_2", dt.date(2026, 5, 31), None)
    assert _actions(session, unit)[-1].key == f"case:{case.id}:reminder_2:2"
    assert _stages(session, case)[-1].cycle == 2


def test_tolerance_arrears_at_or_below_it_open_no_case(session: Session) -> None:
    unit, _ = _ledger(session, through=dt.date(2026, 2, 1), arrears_tolerance=Decimal("400.00"))
    result = _run(session, unit, dt.date(2026, 3, 10))  # 400.00 overdue: not pursued
    assert result.counts["opened"] == 0 and session.scalar(select(CollectionCase.id)) is None
    _bill(session, unit, dt.date(2026, 3, 1))
    assert _run(session, unit, dt.date(2026, 3, 20)).counts["opened"] == 1  # 600.00 > 400.00


# --- pauses --------------------------------------------------------------------------------------


def test_a_hold_pauses_the_case(session: Session) -> None:
    unit, _ = _ledger(session)
    _run(session, unit, JAN15 + dt.timedelta(days=20))
    case = _case(session, unit)
    holds.place_hold(session, ACTOR, unit.company_id, case.id, reason="owner in hospital",
                     ends_on=dt.date(2026, 4, 30), today=dt.date(2026, 2, 10))
    result = _run(session, unit, dt.date(2026, 4, 5))
    assert result.counts["paused"] == 1 and result.counts["advanced"] == 0
    assert _case(session, unit).stage_code == "reminder_1"
    _run(session, unit, dt.date(2026, 5, 1))  # the hold has ended
    assert _case(session, unit).stage_code == "demand"


def test_a_dispute_caps_the_case_at_the_reminders(session: Session) -> None:
    unit, _ = _ledger(session)
    _run(session, unit, JAN15 + dt.timedelta(days=20))
    case = _case(session, unit)
    disputes.open_dispute(session, ACTOR, unit.company_id, case.id, category=DisputeCategory.LEAK,
                          description="water leak from the roof", today=dt.date(2026, 2, 10))
    result = _run(session, unit, dt.date(2026, 4, 5))  # 80 days: would be the demand
    case = _case(session, unit)
    assert case.stage_code == "reminder_2" and case.reason == Reason.DISPUTED.value
    assert result.counts["advanced"] == 1
    assert _run(session, unit, dt.date(2026, 5, 5)).counts["paused"] == 1


def test_a_kept_payment_plan_pauses_the_case(session: Session) -> None:
    unit, _ = _ledger(session, through=dt.date(2026, 3, 1))
    _run(session, unit, JAN15 + dt.timedelta(days=20))
    case = _case(session, unit)
    plans.create_plan(session, ACTOR, unit.company_id, case.id, agreed_on=dt.date(2026, 2, 10),
                      instalments=[(dt.date(2026, 4, 20), "100.00"), (dt.date(2026, 5, 20), "100.00")],
                      grace_days=7, note=None, today=dt.date(2026, 2, 10))
    result = _run(session, unit, dt.date(2026, 4, 5))
    assert result.counts["paused"] == 1 and _case(session, unit).stage_code == "reminder_1"


def test_pauses_are_read_through_the_pause_services(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep asks holds/plans/disputes once per run (set-based), whatever they decide."""
    unit, _ = _ledger(session)
    _run(session, unit, JAN15 + dt.timedelta(days=20))
    case = _case(session, unit)
    calls: list[str] = []

    def held(_s: Session, company_id: int, as_of: dt.date) -> set[int]:
        calls.append("held")
        return {case.id}

    monkeypatch.setattr(holds, "held_case_ids", held)
    assert _run(session, unit, dt.date(2026, 4, 5)).counts["paused"] == 1
    assert calls == ["held"]


# --- pre-due notices -----------------------------------------------------------------------------


def test_pre_due_notice_once_per_due_date(session: Session) -> None:
    unit, _ = _ledger(session, through=dt.date(2026, 3, 1))
    _pay_all(session, unit, _owner_of(session, unit), dt.date(2026, 3, 1), "R-1")  # Jan and Feb paid
    assert _run(session, unit, dt.date(2026, 3, 11)).counts["pre_due"] == 0  # 4 days before
    result = _run(session, unit, dt.date(2026, 3, 12))  # 3 days before 03-15
    assert result.counts["pre_due"] == 1 and result.counts["opened"] == 0
    [notice] = _actions(session, unit)
    assert notice.case_id is None and notice.key.startswith("predue:") and notice.key.endswith(":2026-03-15")
    assert (notice.status, notice.arrears, notice.channels) == (ActionStatus.APPROVED, Decimal("200.00"),
                                                               ["sms", "email"])
    assert _run(session, unit, dt.date(2026, 3, 13)).counts["pre_due"] == 0
    assert _run(session, unit, dt.date(2026, 3, 15)).counts["pre_due"] == 0
    assert len(_actions(session, unit)) == 1


def _owner_of(session: Session, unit: Unit) -> int:
    case_owner = session.scalar(select(Charge.ownership_id).where(Charge.unit_id == unit.id))
    from arrears.persistence.models import OwnershipParty

    owner = session.scalar(select(OwnershipParty.owner_id).where(OwnershipParty.ownership_id == case_owner))
    assert owner is not None
    return owner


# --- tenancy and dry runs ------------------------------------------------------------------------


def test_a_run_touches_only_its_own_company(session: Session) -> None:
    mine, _ = _ledger(session)
    theirs, _ = _ledger(session)
    assert mine.company_id != theirs.company_id
    result = _run(session, mine, dt.date(2026, 4, 5))
    assert result.counts["opened"] == 1
    assert session.scalar(select(CollectionCase.id).where(CollectionCase.company_id == theirs.company_id)) is None
    assert _actions(session, theirs) == []


def test_dry_run_decides_everything_and_writes_nothing(session: Session) -> None:
    unit, _ = _ledger(session)
    before = [_count(session, m) for m in (CollectionCase, CaseStage, EscalationAction, EscalationRun, AuditEntry)]
    result = _run(session, unit, dt.date(2026, 4, 5), dry_run=True)
    assert result.run_id is None and result.counts["opened"] == 1
    assert result.counts["prepared"] == 1  # the same count the real run reports
    [decision] = result.decisions
    assert (decision.stage_code, decision.skipped, decision.arrears) == (
        "demand", ("reminder_1", "reminder_2"), Decimal("600.00"))
    after = [_count(session, m) for m in (CollectionCase, CaseStage, EscalationAction, EscalationRun, AuditEntry)]
    assert after == before


# --- atomic and concurrent runs ------------------------------------------------------------------


def test_a_run_that_fails_midway_leaves_nothing_and_a_restart_does_it_all(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from arrears.services.escalation import sweep

    unit, _ = _ledger(session)

    def crash(*_args: object) -> int:
        raise RuntimeError("killed")

    monkeypatch.setattr(sweep, "_insert_actions", crash)  # after cases and stage rows were written
    with pytest.raises(RuntimeError), session.begin_nested():
        _run(session, unit, dt.date(2026, 4, 5))
    assert (_count(session, CollectionCase), _count(session, CaseStage), _count(session, EscalationRun)) == (0, 0, 0)
    monkeypatch.undo()
    result = _run(session, unit, dt.date(2026, 4, 5))
    assert (result.counts["opened"], result.counts["prepared"]) == (1, 1)
    assert len(_actions(session, unit)) == 1 and len(_stages(session, _case(session, unit))) == 1


def test_two_concurrent_runs_on_postgresql_prepare_everything_once(engine) -> None:  # type: ignore[no-untyped-def]
    """The advisory lock queues the second run; after the first commits it finds nothing to do."""
    import threading

    from tests.conftest import clean_tables

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    try:
        with Session(engine) as setup:
            unit, _ = _ledger(setup)
            for n in range(3):
                _ledger(setup, company=session_company(setup, unit))
            setup.commit()
            company_id = unit.company_id
        barrier = threading.Barrier(2)
        results: list[RunResult] = []
        failures: list[BaseException] = []

        def worker() -> None:
            try:
                with Session(engine) as mine:
                    barrier.wait(timeout=10)
                    results.append(run_escalation(mine, ACTOR, company_id, as_of=dt.date(2026, 4, 5)))
                    mine.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not failures and len(results) == 2
        assert sorted(r.counts["opened"] for r in results) == [0, 4]
        assert sorted(r.counts["prepared"] for r in results) == [0, 4]
        with Session(engine) as check:
            assert _count(check, EscalationAction) == 4 and _count(check, CaseStage) == 4
            assert _count(check, CollectionCase) == 4 and _count(check, EscalationRun) == 2
    finally:
        clean_tables(engine)


def session_company(session: Session, unit: Unit) -> Company:
    company = session.get(Company, unit.company_id)
    assert company is not None
    return company


def test_co_owners_case_names_the_first_party_and_their_credit_counts(session: Session) -> None:
    """Unapplied credit of any party of the ownership on that unit reduces the arrears; a
    stranger's does not (credit stays with the payer on the unit, see facts.credit_as_of)."""
    from arrears.persistence.models import Payment
    from tests.factories import make_owner

    community = make_community(session, late_fee_rate_per_day=None)
    make_schedule(session, community, rate=Decimal("2.00"), due_day=15)
    unit = make_unit(session, community, area=Decimal("100.00"))
    first, second = make_owner(session, unit.company_id), make_owner(session, unit.company_id)
    stranger = make_owner(session, unit.company_id)
    make_ownership(session, unit, [first, second])
    _bill(session, unit, dt.date(2026, 3, 1))
    for ref, payer, amount in (("C-1", second, "150.00"), ("C-2", stranger, "90.00")):
        session.add(Payment(company_id=unit.company_id, unit_id=unit.id, payer_id=payer.id, receipt_ref=ref,
                            received_on=dt.date(2026, 3, 1), amount=Decimal(amount), unapplied=Decimal(amount)))
    session.flush()
    _run(session, unit, dt.date(2026, 4, 5))
    case = _case(session, unit)
    assert case.owner_id == first.id
    assert case.arrears == Decimal("450.00")  # 600.00 overdue − 150.00 credit of the co-owner
    [action] = _actions(session, unit)
    assert action.arrears == Decimal("450.00") and action.owner_id == first.id
