"""The nightly escalation run: evaluate every ownership's debt, move cases, prepare actions.

Set-based: one aggregate of open charges per ownership (`debts.ownership_debts`), one load of
the company's cases, one query per pause kind, then bulk inserts and updates. The stage is
computed from the debt by the pure `domain.escalation.decide` (never one step per run), so a
repeated run decides the same and writes nothing, and every prepared action has a unique key
(case, stage, cycle) inserted with ON CONFLICT DO NOTHING: nothing is ever prepared twice.
The whole company run is one transaction (the caller commits); on PostgreSQL an advisory lock
keyed on the company serialises concurrent runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy import table as sql_table
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from arrears.domain.escalation import (
    Action,
    CaseState,
    Debt,
    Decision,
    Outcome,
    Policy,
    Reason,
    StageRule,
    action_key,
    decide,
    default_policy_stages,
    pre_due_key,
)
from arrears.persistence.base import utcnow
from arrears.persistence.bulk import insert_rows, update_by_id
from arrears.persistence.enums import ActionStatus, CaseStatus, RunStatus
from arrears.persistence.models import (
    AuditEntry,
    CaseStage,
    CollectionCase,
    Community,
    Company,
    EscalationAction,
    EscalationPolicy,
    EscalationRun,
)

from .. import audit
from ..actor import Actor
from ..tenancy import get_company
from . import disputes, holds, plans
from .debts import (
    OpenCharge,
    OwnershipDebt,
    Place,
    due_soon,
    open_overdue_charges,
    ownership_debts,
    ownership_places,
)
from .policy import ensure_policy, to_domain

ZERO = Decimal("0.00")
CHUNK = 2000
LOCK_CLASS = 0x45534331  # "ESC1": advisory-lock namespace of escalation runs (key 2 = company id)
COUNT_KEYS = ("evaluated", "opened", "reopened", "advanced", "closed", "stayed", "paused", "prepared", "pre_due")
PAUSE_REASONS = (Reason.PAUSED, Reason.DISPUTED)

#: Case columns a run writes (demand_deadline only on reopen: it is set by delivery, L2/L5).
_CACHE_COLUMNS = ("status", "cycle", "stage_code", "stage_entered_on", "opened_on", "closed_on", "next_action_on",
                  "arrears", "oldest_due", "overdue_periods", "evaluated_on", "reason")


@dataclass(frozen=True)
class PlannedDecision:
    """One ownership's decision, as a dry run reports it."""

    ownership_id: int
    case_id: int | None
    unit_id: int
    outcome: Outcome
    stage_code: str | None
    reason: Reason
    arrears: Decimal
    next_action_on: dt.date | None
    skipped: tuple[str, ...] = ()


@dataclass
class RunResult:
    run_id: int | None
    counts: dict[str, int]
    errors: list[str] = field(default_factory=list)
    decisions: list[PlannedDecision] = field(default_factory=list)  # filled by a dry run


@dataclass
class _Case:
    """A collection case as plain values: what it was (`before`) and what the run makes it."""

    id: int | None
    ownership_id: int
    unit_id: int
    community_id: int
    owner_id: int
    values: dict[str, Any]
    demand_deadline: dt.date | None
    before: tuple[Any, ...] | None = None
    reopened: bool = False

    @property
    def is_open(self) -> bool:
        return self.values["status"] == CaseStatus.OPEN

    def changed(self) -> bool:
        return self.before != tuple(self.values[c] for c in _CACHE_COLUMNS)


@dataclass(frozen=True)
class _Entry:
    """A stage the run enters for a case; its action is prepared once the case has an id."""

    case: _Case
    stage: StageRule
    skipped: tuple[str, ...]
    debt: Debt


@dataclass
class _Work:
    new: list[_Case] = field(default_factory=list)
    updated: list[_Case] = field(default_factory=list)
    entries: list[_Entry] = field(default_factory=list)
    ends: list[_Case] = field(default_factory=list)  # cases whose open stage row ends today
    audits: list[tuple[_Case, str]] = field(default_factory=list)
    decisions: list[PlannedDecision] = field(default_factory=list)


def run_escalation(session: Session, actor: Actor, company_id: int, *, as_of: dt.date, dry_run: bool = False,
                   trigger: str = "cli") -> RunResult:
    """Evaluate every ownership of the company as of a date; flushes, never commits."""
    if not dry_run:
        _lock(session, company_id)
    company = get_company(session, company_id)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    errors: list[str] = []
    run = None
    if not dry_run:
        run = EscalationRun(company_id=company_id, as_of=as_of, trigger=trigger, actor=actor.name, dry_run=False,
                            status=RunStatus.RUNNING, started_at=utcnow(), counts={}, errors=[])
        session.add(run)
        session.flush()
    policies = _Policies(session, actor, company, dry_run)
    debts = ownership_debts(session, company_id, as_of)
    cases = _load_cases(session, company_id)
    paused, disputed = _pauses(session, company_id, as_of, dry_run)
    places = ownership_places(session, company_id, (o for o in debts if o not in cases))
    work = _evaluate(policies, debts, cases, places, paused, disputed, as_of, counts, errors)
    if not dry_run:
        assert run is not None
        _apply(session, actor, company_id, run.id, as_of, work, counts)
    else:  # what the real run would prepare: one action per stage entered
        counts["prepared"] += len(work.entries)
    counts["pre_due"] = _pre_due(session, actor, company_id, run.id if run else None, as_of, policies, dry_run)
    counts["prepared"] += counts["pre_due"]
    if run is None:
        return RunResult(None, counts, errors, work.decisions)
    run.status, run.finished_at, run.counts, run.errors = RunStatus.SUCCEEDED, utcnow(), counts, errors
    audit.record(session, actor, "escalation.run", "escalation_run", run.id, company_id=company_id,
                 as_of=as_of, trigger=trigger, counts=counts, errors=len(errors))
    session.flush()
    return RunResult(run.id, counts, errors, [])


def _lock(session: Session, company_id: int) -> None:
    """PostgreSQL: concurrent runs of one company queue here; the second one, after the first
    commits, reads its results (READ COMMITTED) and finds nothing to do."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), {"c": LOCK_CLASS, "k": company_id})


class _Policies:
    """The domain policy of each community: its override, else the company default."""

    def __init__(self, session: Session, actor: Actor, company: Company, dry_run: bool) -> None:
        rows = list(session.scalars(select(EscalationPolicy).where(EscalationPolicy.company_id == company.id)))
        self.default = next((p for p in rows if p.community_id is None), None)
        if self.default is None and not dry_run:
            self.default = ensure_policy(session, actor, company.id)
        self.overrides = {p.community_id: p for p in rows if p.community_id is not None}
        self.deadlines: dict[int, int] = dict(session.execute(  # type: ignore[arg-type]
            select(Community.id, Community.demand_deadline_days).where(Community.company_id == company.id)).all())
        self.tolerance = company.arrears_tolerance
        self._cache: dict[int, Policy] = {}

    def of(self, community_id: int) -> Policy:
        if community_id not in self._cache:
            self._cache[community_id] = self._build(community_id)
        return self._cache[community_id]

    def _build(self, community_id: int) -> Policy:
        days = self.deadlines.get(community_id)
        source = self.overrides.get(community_id, self.default)
        if source is not None:
            return to_domain(source, self.tolerance, demand_deadline_days=days)
        # dry run before any policy exists: the shipped default, as ensure_policy would store it
        stages = tuple(replace(s, deadline_days=s.deadline_days or days) if s.action == Action.DEMAND else s
                       for s in default_policy_stages())
        return Policy(stages=stages, tolerance=self.tolerance)

    def all(self) -> list[Policy]:
        return [self.of(c) for c in self.deadlines]


def _pauses(session: Session, company_id: int, as_of: dt.date, dry_run: bool) -> tuple[set[int], set[int]]:
    """Held or kept-plan cases (paused) and disputed ones. `kept_plan_case_ids` refreshes plan
    statuses; a dry run keeps that inside a savepoint it rolls back, so it writes nothing."""
    held = holds.held_case_ids(session, company_id, as_of)
    disputed = disputes.disputed_case_ids(session, company_id)
    if dry_run:
        savepoint = session.begin_nested()
        try:
            kept = plans.kept_plan_case_ids(session, company_id, as_of)
        finally:
            savepoint.rollback()
    else:
        kept = plans.kept_plan_case_ids(session, company_id, as_of)
    return held | kept, disputed


def _load_cases(session: Session, company_id: int) -> dict[int, _Case]:
    """Every case of the company (open and closed), as plain values, by ownership."""
    t = CollectionCase.__table__
    rows = session.execute(
        select(t.c.id, t.c.ownership_id, t.c.unit_id, t.c.community_id, t.c.owner_id, t.c.demand_deadline,
               *(t.c[c] for c in _CACHE_COLUMNS)).where(t.c.company_id == company_id)
    ).all()
    result = {}
    for case_id, ownership_id, unit_id, community_id, owner_id, deadline, *cached in rows:
        cached[0] = CaseStatus(cached[0])
        result[ownership_id] = _Case(case_id, ownership_id, unit_id, community_id, owner_id,
                                     dict(zip(_CACHE_COLUMNS, cached)), deadline, tuple(cached))
    return result


# --- deciding -----------------------------------------------------------------------------------


def _evaluate(policies: _Policies, debts: dict[int, OwnershipDebt], cases: dict[int, _Case],
              places: dict[int, Place], paused: set[int], disputed: set[int], as_of: dt.date,
              counts: dict[str, int], errors: list[str]) -> _Work:
    work = _Work()
    candidates = set(debts) | {oid for oid, case in cases.items() if case.is_open}
    for ownership_id in sorted(candidates):
        found, case = debts.get(ownership_id), cases.get(ownership_id)
        debt = (Debt(found.arrears, found.oldest_due, found.overdue_periods) if found
                else Debt(ZERO, None, 0))
        if case is None:
            place = places.get(ownership_id)
            if place is None or place.owner_id is None:
                errors.append(f"ownership {ownership_id}: no owner recorded, no case opened")
                continue
            case = _Case(None, ownership_id, place.unit_id, place.community_id, place.owner_id,
                         {"status": CaseStatus.CLOSED, "cycle": 0, "stage_code": None, "stage_entered_on": None},
                         None)
        counts["evaluated"] += 1
        policy = policies.of(case.community_id)
        decision = _decide(policy, debt, case, paused, disputed, as_of)
        if decision.outcome == Outcome.NOTHING:
            continue
        _record(work, case, decision, debt, as_of, counts)
        if decision.outcome in (Outcome.OPEN, Outcome.ADVANCE):
            # Cache what the case now waits for, as the next run will compute it (so that run
            # finds nothing to change): e.g. "awaiting demand delivery" rather than "advanced".
            settled = _decide(policy, debt, case, paused, disputed, as_of)
            case.values.update(reason=settled.reason.value, next_action_on=settled.next_action_on)
            work.decisions[-1] = replace(work.decisions[-1], next_action_on=settled.next_action_on)
    return work


def _decide(policy: Policy, debt: Debt, case: _Case, paused: set[int], disputed: set[int],
            as_of: dt.date) -> Decision:
    if case.is_open:
        state = CaseState(True, case.values["stage_code"], case.values["stage_entered_on"], case.demand_deadline,
                          paused=case.id in paused, disputed=case.id in disputed)
    else:  # a new cycle starts from no stage (the earlier demand named other charges, L2)
        state = CaseState(False, disputed=case.id in disputed)
    return decide(policy, debt, state, as_of)


def _record(work: _Work, case: _Case, decision: Decision, debt: Debt, as_of: dt.date,
            counts: dict[str, int]) -> None:
    """Apply one decision to the case's values and note the rows to write."""
    v = case.values
    outcome = decision.outcome
    if case.id is not None and outcome != Outcome.STAY:
        work.ends.append(case)  # its open stage row (if any) ends today
    if outcome == Outcome.OPEN:
        if case.id is None:
            counts["opened"] += 1
            work.audits.append((case, "case.open"))
        else:
            counts["reopened"] += 1
            case.reopened = True
            case.demand_deadline = None
            work.audits.append((case, "case.reopen"))
        v.update(status=CaseStatus.OPEN, cycle=v["cycle"] + 1, stage_code=None, stage_entered_on=None,
                 opened_on=as_of, closed_on=None)
    elif outcome == Outcome.ADVANCE:
        counts["advanced"] += 1
    elif outcome == Outcome.CLOSE:
        counts["closed"] += 1
        v.update(status=CaseStatus.CLOSED, closed_on=as_of)
        work.audits.append((case, "case.close"))
    else:
        counts["stayed"] += 1
        counts["paused"] += decision.reason in PAUSE_REASONS
    if decision.stage is not None:
        v.update(stage_code=decision.stage.code, stage_entered_on=as_of)
        work.entries.append(_Entry(case, decision.stage, decision.skipped, debt))
    v.update(arrears=debt.arrears, oldest_due=debt.oldest_due, overdue_periods=debt.overdue_periods,
             evaluated_on=as_of, reason=decision.reason.value,
             next_action_on=None if outcome == Outcome.CLOSE else decision.next_action_on)
    if case.id is None:
        work.new.append(case)
    elif case.changed() or case.reopened:
        work.updated.append(case)
    work.decisions.append(PlannedDecision(
        case.ownership_id, case.id, case.unit_id, outcome, decision.stage.code if decision.stage else None,
        decision.reason, debt.arrears, v["next_action_on"], decision.skipped))


# --- writing ------------------------------------------------------------------------------------


def _apply(session: Session, actor: Actor, company_id: int, run_id: int, as_of: dt.date, work: _Work,
           counts: dict[str, int]) -> None:
    now = utcnow()
    _insert_cases(session, company_id, work.new, now)
    _update_cases(session, work.updated)
    _end_stage_rows(session, [c.id for c in work.ends], as_of)
    insert_rows(session, CaseStage.__table__, [
        {"case_id": e.case.id, "cycle": e.case.values["cycle"], "stage_code": e.stage.code,
         "action": e.stage.action.value, "started_on": as_of, "ended_on": None, "run_id": run_id,
         "skipped": list(e.skipped)} for e in work.entries
    ])
    charges = open_overdue_charges(session, company_id, as_of, (e.case.ownership_id for e in work.entries))
    counts["prepared"] += _insert_actions(session, [
        _case_action(company_id, run_id, as_of, e, charges.get(e.case.ownership_id, []), actor, now)
        for e in work.entries
    ])
    insert_rows(session, AuditEntry.__table__, [
        {"company_id": company_id, "user_id": actor.user_id, "actor": actor.name, "action": action,
         "entity": "collection_case", "entity_id": case.id, "message": None, "at": now,
         "detail": {"ownership_id": case.ownership_id, "cycle": case.values["cycle"], "run_id": run_id,
                    "arrears": str(case.values["arrears"])}}
        for case, action in work.audits
    ])
    _expire(session)


def _insert_cases(session: Session, company_id: int, cases: list[_Case], now: dt.datetime) -> None:
    """New cases need their ids for the action keys. PostgreSQL: ids from the sequence, then COPY
    (no concurrent insert is possible: the run holds the company's advisory lock)."""
    if not cases:
        return
    table = CollectionCase.__table__
    rows = [{**c.values, "status": c.values["status"].value, "company_id": company_id,
             "community_id": c.community_id, "unit_id": c.unit_id, "ownership_id": c.ownership_id,
             "owner_id": c.owner_id, "responsible_user_id": None, "notes": None, "demand_deadline": None,
             "created_at": now} for c in cases]
    if _is_postgres(session):
        ids = list(session.scalars(text("SELECT nextval(pg_get_serial_sequence('collection_case', 'id')) "
                                        "FROM generate_series(1, :n)"), {"n": len(rows)}))
        for case, row, case_id in zip(cases, rows, ids, strict=True):
            case.id = row["id"] = case_id
        insert_rows(session, table, rows)
        return
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        new_ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk).scalars()
        for case, case_id in zip(cases[start : start + CHUNK], new_ids, strict=True):
            case.id = case_id


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _update_cases(session: Session, cases: list[_Case]) -> None:
    table = CollectionCase.__table__
    plain = [c for c in cases if not c.reopened]
    reopened = [c for c in cases if c.reopened]
    update_by_id(session, table, [_case_row(c) for c in plain])
    update_by_id(session, table, [{**_case_row(c), "demand_deadline": None} for c in reopened])


def _case_row(case: _Case) -> dict[str, Any]:
    return {"id": case.id, **case.values, "status": case.values["status"].value}


def _end_stage_rows(session: Session, case_ids: Sequence[int | None], as_of: dt.date) -> None:
    ids = sorted({i for i in case_ids if i is not None})
    table = CaseStage.__table__
    for start in range(0, len(ids), CHUNK):
        session.execute(update(table).where(table.c.ended_on.is_(None), table.c.case_id.in_(ids[start : start + CHUNK]))
                        .values(ended_on=as_of))


def _case_action(company_id: int, run_id: int, as_of: dt.date, entry: _Entry, charges: list[OpenCharge],
                 actor: Actor, now: dt.datetime) -> dict[str, Any]:
    case, stage, debt = entry.case, entry.stage, entry.debt
    assert case.id is not None and debt.oldest_due is not None
    periods = debt.overdue_periods
    reason = (f"{debt.days_overdue(as_of)} days overdue; {periods} period{'s' if periods != 1 else ''}; "
              f"¥{debt.arrears:,.2f}")
    if entry.skipped:
        reason += f" (after {', '.join(entry.skipped)})"
    return _action_row(company_id, run_id, as_of, key=action_key(case.id, stage.code, case.values["cycle"]),
                       case_id=case.id, ownership_id=case.ownership_id, unit_id=case.unit_id, owner_id=case.owner_id,
                       cycle=case.values["cycle"], stage=stage, reason=reason, arrears=debt.arrears,
                       charges=charges, actor=actor, now=now)


def _action_row(company_id: int, run_id: int | None, as_of: dt.date, *, key: str, case_id: int | None,
                ownership_id: int, unit_id: int, owner_id: int, cycle: int, stage: StageRule, reason: str,
                arrears: Decimal, charges: Sequence[OpenCharge], actor: Actor, now: dt.datetime) -> dict[str, Any]:
    approved = not stage.needs_approval  # the policy itself approved it in advance
    return {
        "key": key, "company_id": company_id, "case_id": case_id, "run_id": run_id, "ownership_id": ownership_id,
        "unit_id": unit_id, "owner_id": owner_id, "cycle": cycle, "stage_code": stage.code,
        "action": stage.action.value, "prepared_on": as_of,
        "status": (ActionStatus.APPROVED if approved else ActionStatus.PREPARED).value,
        "needs_approval": stage.needs_approval, "reason": reason, "arrears": arrears,
        "channels": [c.value for c in stage.channels], "template": stage.template,
        "charges": [c.frozen() for c in charges], "deadline_days": stage.deadline_days,
        "decided_by": actor.name if approved else None, "decided_at": now if approved else None,
        "removed_reason": None, "delivered_on": None, "deadline_on": None, "created_at": now,
    }


def _insert_actions(session: Session, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT (key) DO NOTHING: returns how many were really prepared now.

    PostgreSQL: COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT (a big
    multi-row VALUES statement costs more in the driver than in the database)."""
    if not rows:
        return 0
    table = EscalationAction.__table__
    if _is_postgres(session):
        columns = ", ".join(f'"{c}"' for c in rows[0])
        session.execute(text("DROP TABLE IF EXISTS tmp_escalation_action"))
        session.execute(text(f"CREATE TEMP TABLE tmp_escalation_action ON COMMIT DROP AS "
                             f"SELECT {columns} FROM escalation_action WITH NO DATA"))
        insert_rows(session, sql_table("tmp_escalation_action"), rows)  # type: ignore[arg-type]
        created = len(session.execute(text(
            f"INSERT INTO escalation_action ({columns}) SELECT {columns} FROM tmp_escalation_action "
            "ON CONFLICT (key) DO NOTHING RETURNING id")).all())
        session.execute(text("DROP TABLE tmp_escalation_action"))
        return created
    statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)
    created = 0
    for start in range(0, len(rows), CHUNK):
        created += len(session.execute(statement, rows[start : start + CHUNK]).all())
    return created


def _expire(session: Session) -> None:
    """Rows were written with Core: loaded ORM copies of cases and stages are stale."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, (CollectionCase, CaseStage, EscalationAction)):
            session.expire(obj)


# --- pre-due notices ------------------------------------------------------------------------------


def _pre_due(session: Session, actor: Actor, company_id: int, run_id: int | None, as_of: dt.date,
             policies: _Policies, dry_run: bool) -> int:
    """A notice a few days before a due date, once per ownership and due date (its key)."""
    horizon = max((-p.pre_due.min_days_overdue for p in policies.all() if p.pre_due is not None), default=None)
    if horizon is None:
        return 0
    candidates = []
    for item in due_soon(session, company_id, as_of, as_of + dt.timedelta(days=horizon)):
        rule = policies.of(item.community_id).pre_due
        if rule is None or item.owner_id is None or (item.due - as_of).days > -rule.min_days_overdue:
            continue
        candidates.append((pre_due_key(item.ownership_id, item.due), item, rule))
    known = _existing_keys(session, company_id, as_of - dt.timedelta(days=horizon))
    candidates = [c for c in candidates if c[0] not in known]
    if dry_run or not candidates:
        return len(candidates)
    now = utcnow()
    rows = [_action_row(company_id, run_id, as_of, key=key, case_id=None, ownership_id=item.ownership_id,
                        unit_id=item.unit_id, owner_id=_owner(item.owner_id), cycle=1, stage=rule,
                        reason=f"due on {item.due.isoformat()}: ¥{item.amount:,.2f}", arrears=item.amount,
                        charges=item.charges, actor=actor, now=now)
            for key, item, rule in candidates]
    return _insert_actions(session, rows)


def _owner(owner_id: int | None) -> int:
    assert owner_id is not None
    return owner_id


def _existing_keys(session: Session, company_id: int, since: dt.date) -> set[str]:
    return set(session.scalars(select(EscalationAction.key).where(
        EscalationAction.company_id == company_id, EscalationAction.case_id.is_(None),
        EscalationAction.action == Action.PRE_DUE_NOTICE, EscalationAction.prepared_on >= since)))

