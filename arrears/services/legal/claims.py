"""What stands against each charge of a collection case before a filing (L2, L4, L5).

For every open charge of the case's ownership as of a date: the delivered demand that covers it
(a DEMAND action delivered by that date whose frozen ``charges`` list names it), whether that
demand's deadline has passed, whether the charge fell due after the latest delivered demand was
prepared (it could not be in it: flagged, a supplementary demand is offered, L2), and whether it
is time-barred (the statement engine's limitation end, interruptions included, L4/L5).

Time-barred charges are shown and left out of the claim unless the lawyer includes them (L4).
Charges not covered by a demand, or whose demand's deadline is still running, are flagged but
stay claimable: L2's precondition is one delivered demand past its deadline for the case, which
:func:`check_ready` enforces.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Action
from arrears.domain.latefees import LateFeeTerms
from arrears.domain.lpr import CONTRACT, basis_terms, check_basis, rebased_late_fee
from arrears.domain.money import ZERO
from arrears.domain.statement import Statement
from arrears.persistence.enums import FeeKind
from arrears.persistence.models import (
    Charge,
    CollectionCase,
    Community,
    EscalationAction,
)

from ..errors import N_, ServiceError
from ..statements import unit_statement
from ..tenancy import get_scoped

NOT_COVERED = "not_covered"  # no delivered demand lists it
DEADLINE_RUNNING = "deadline_running"  # the demand covering it has a deadline not yet passed
BILLED_AFTER_DEMAND = "billed_after_demand"  # fell due after the latest delivered demand: supplementary demand
TIME_BARRED = "time_barred"  # limitation ended (L4): left out unless included
NOT_DUE = "not_due"  # upcoming, not arrears: never claimed


@dataclass(frozen=True)
class ChargeStanding:
    charge_id: int
    period: str
    fee_item: str
    due_date: dt.date
    outstanding: Decimal
    late_fee: Decimal  # outstanding late fee as of the date (0 without a contract clause)
    overdue: bool
    demand_id: int | None  # the delivered demand covering it (the latest one)
    demand_delivered_on: dt.date | None
    demand_deadline_on: dt.date | None
    deadline_passed: bool
    billed_after_demand: bool
    time_barred: bool
    limitation_end: dt.date
    limitation_provisional: bool

    @property
    def covered(self) -> bool:
        return self.demand_id is not None

    @property
    def against(self) -> tuple[str, ...]:
        """What stands against this charge, for the screen (empty: nothing)."""
        reasons: list[str] = []
        if not self.overdue:
            reasons.append(NOT_DUE)
        if self.billed_after_demand:
            reasons.append(BILLED_AFTER_DEMAND)
        elif not self.covered:
            reasons.append(NOT_COVERED)
        elif not self.deadline_passed:
            reasons.append(DEADLINE_RUNNING)
        if self.time_barred:
            reasons.append(TIME_BARRED)
        return tuple(reasons)

    def claimable(self, include_time_barred: bool = False) -> bool:
        return self.overdue and self.outstanding > 0 and (include_time_barred or not self.time_barred)


@dataclass(frozen=True)
class Claim:
    """The claim a legal case is opened with (amounts as of ``as_of``)."""

    as_of: dt.date
    charge_ids: tuple[int, ...]
    principal: Decimal
    late_fee: Decimal
    credit: Decimal
    excluded_time_barred: tuple[int, ...]
    standings: tuple[ChargeStanding, ...]
    late_fee_basis: str = CONTRACT  # contract | lpr_x1_3 (L7)

    @property
    def total(self) -> Decimal:
        return self.principal + self.late_fee


def charge_standing(
    session: Session, company_id: int, collection_case_id: int, *, as_of: dt.date
) -> list[ChargeStanding]:
    """Every open charge of the case's ownership as of ``as_of`` with what stands against it."""
    case = get_scoped(session, CollectionCase, collection_case_id, company_id)
    standings, _ = _standings(session, company_id, case, as_of)
    return standings


def supplementary_demand_offered(standings: list[ChargeStanding]) -> bool:
    """L2: charges billed after the latest delivered demand (or never demanded) are overdue."""
    return any(s.overdue and s.outstanding > 0 and not s.covered for s in standings)


def flagged(standings: list[ChargeStanding]) -> list[ChargeStanding]:
    """The overdue charges a supplementary demand would name (not covered by a delivered demand)."""
    return [s for s in standings if s.overdue and s.outstanding > 0 and not s.covered]


def delivered_demands(session: Session, case: CollectionCase, as_of: dt.date) -> list[EscalationAction]:
    return list(session.scalars(
        select(EscalationAction).where(
            EscalationAction.case_id == case.id, EscalationAction.action == Action.DEMAND,
            EscalationAction.delivered_on.is_not(None), EscalationAction.delivered_on <= as_of,
        ).order_by(EscalationAction.delivered_on, EscalationAction.id)))


def check_ready(session: Session, case: CollectionCase, as_of: dt.date) -> None:
    """L2: at least one delivered demand whose deadline has passed by ``as_of``; else ServiceError."""
    demands = delivered_demands(session, case, as_of)
    if not demands:
        raise ServiceError(N_("case %(id)s has no delivered demand: a legal case needs a written demand that "
                              "reached the owner and whose deadline has passed (L2)"), id=case.id)
    deadlines = [d.deadline_on for d in demands if d.deadline_on is not None]
    if not any(deadline < as_of for deadline in deadlines):
        latest = max(deadlines).isoformat() if deadlines else "?"
        raise ServiceError(N_("the deadline of the demand delivered to case %(id)s has not passed by %(date)s "
                              "(it ends on %(deadline)s): open the legal case after it (L2)"),
                           id=case.id, date=as_of.isoformat(), deadline=latest)


def build_claim(
    session: Session, company_id: int, case: CollectionCase, *, as_of: dt.date, include_time_barred: bool,
    claim_late_fees: bool, late_fee_basis: str = CONTRACT,
) -> Claim:
    """The claimable charges and amounts: principal less the debtor's unapplied credit; late fee as of
    ``as_of`` only when asked and the contract has a clause (L7), at the contract rate or (basis
    ``lpr_x1_3``) at one-year LPR × 1.3 / 365 a day, the contract's cap unchanged."""
    basis = _basis(late_fee_basis)
    standings, statement = _standings(session, company_id, case, as_of)
    community = session.get(Community, case.community_id)
    has_clause = community is not None and community.late_fee_rate_per_day is not None
    chosen = [s for s in standings if s.claimable(include_time_barred)]
    excluded = tuple(s.charge_id for s in standings if s.overdue and s.outstanding > 0 and s.time_barred
                     and not include_time_barred)
    credit = statement.credit if statement is not None else ZERO
    principal = max(sum((s.outstanding for s in chosen), ZERO) - credit, ZERO)
    late_fee = ZERO
    if claim_late_fees and has_clause:
        assert community is not None and statement is not None
        fees = {s.charge_id: s.late_fee for s in chosen}
        if basis != CONTRACT:
            terms = claim_terms(community, basis, as_of)
            by_key = {line.key: line for line in statement.lines}
            fees = {key: rebased_late_fee(by_key[key], terms, statement.as_of).outstanding for key in fees}
        late_fee = sum(fees.values(), ZERO)
    return Claim(as_of=as_of, charge_ids=tuple(s.charge_id for s in chosen), principal=principal,
                 late_fee=late_fee, credit=credit, excluded_time_barred=excluded, standings=tuple(standings),
                 late_fee_basis=basis)


def claim_terms(community: Community, basis: str, as_of: dt.date) -> LateFeeTerms:
    """The late-fee terms of a claim on ``basis`` as of ``as_of`` (L7); ServiceError when there is no
    one-year LPR on record for the date."""
    contract = LateFeeTerms(rate_per_day=community.late_fee_rate_per_day, cap_ratio=community.late_fee_cap_ratio)
    try:
        return basis_terms(_basis(basis), contract, as_of)
    except LookupError:
        raise ServiceError(N_("no one-year LPR on record for %(date)s: claim late fees on the contract rate "
                              "(L7)"), date=as_of.isoformat()) from None


def _basis(value: str) -> str:
    try:
        return check_basis(value)
    except ValueError:
        raise ServiceError(N_("unknown late-fee basis %(basis)s (contract or lpr_x1_3)"), basis=str(value)) from None


def _standings(
    session: Session, company_id: int, case: CollectionCase, as_of: dt.date
) -> tuple[list[ChargeStanding], Statement | None]:
    statements = unit_statement(session, company_id, case.unit_id, as_of)
    statement = statements.by_debtor.get(case.ownership_id)
    if statement is None:
        return [], None
    costs = set(session.scalars(select(Charge.id).where(
        Charge.unit_id == case.unit_id, Charge.ownership_id == case.ownership_id, Charge.kind == FeeKind.COST)))
    demands = delivered_demands(session, case, as_of)
    cover: dict[int, EscalationAction] = {}
    for demand in demands:  # in delivery order: the latest covering demand wins
        for item in demand.charges or []:
            cover[int(item["id"])] = demand
    latest = demands[-1] if demands else None
    result: list[ChargeStanding] = []
    for line in statement.lines:
        if line.key in costs or line.outstanding <= 0:
            continue
        demand = cover.get(line.key)
        deadline = demand.deadline_on if demand is not None else None
        billed_after = demand is None and latest is not None and line.due_date > latest.prepared_on
        result.append(ChargeStanding(
            charge_id=line.key,
            period=line.label,
            fee_item=line.fee_item,
            due_date=line.due_date,
            outstanding=line.outstanding,
            late_fee=line.late_fee.outstanding,
            overdue=line.overdue,
            demand_id=demand.id if demand is not None else None,
            demand_delivered_on=demand.delivered_on if demand is not None else None,
            demand_deadline_on=deadline,
            deadline_passed=deadline is not None and deadline < as_of,
            billed_after_demand=billed_after,
            time_barred=line.time_barred,
            limitation_end=line.limitation.end,
            limitation_provisional=line.limitation.provisional,
        ))
    return result, statement
