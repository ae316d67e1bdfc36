"""The managers' summary of a company's legal cases (issue 5 §5): cases by state, amounts claimed,
awarded and recovered, and the average days from filing to title."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.documents.xlsx import Column
from arrears.domain.money import ZERO
from arrears.persistence.enums import LegalState
from arrears.persistence.legal import LegalCase
from arrears.persistence.models import Unit, User
from arrears.services.errors import N_

from .deadlines import awarded_total, recovered


@dataclass(frozen=True)
class LegalSummary:
    total: int
    open: int
    by_state: dict[str, int]  # every state, zero included
    claimed: Decimal  # principal + late fee claimed
    awarded: Decimal  # principal + late fee + costs of the titles
    recovered: Decimal  # received since filing on the claimed charges (and cost charges)
    avg_days_filing_to_title: Decimal | None  # over cases with both dates, to 0.1 day


def summary(session: Session, company_id: int, *, as_of: dt.date | None = None) -> LegalSummary:
    """Figures over all legal cases of the company (closed ones included); ``recovered`` counts
    payments up to ``as_of`` (all of them when None)."""
    cases = list(session.scalars(select(LegalCase).where(LegalCase.company_id == company_id)))
    by_state = {state.value: 0 for state in LegalState}
    for case in cases:
        by_state[case.state.value] += 1
    until = as_of or dt.date.max
    spans = [(c.title_effective_on - c.filed_on).days for c in cases if c.filed_on and c.title_effective_on]
    average = (Decimal(sum(spans)) / len(spans)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if spans else None
    return LegalSummary(
        total=len(cases),
        open=sum(1 for c in cases if c.closed_on is None),
        by_state=by_state,
        claimed=sum((c.claimed_principal + c.claimed_late_fee for c in cases), ZERO),
        awarded=sum((awarded_total(c) for c in cases), ZERO),
        recovered=sum((recovered(session, c, until) for c in cases), ZERO),
        avg_days_filing_to_title=average,
    )


# ---------------------------------------------------------------- the list and its Excel export


def company_cases(session: Session, company_id: int, state: LegalState | None = None) -> list[LegalCase]:
    """The managers' list: the company's legal cases (optionally in one state), newest first."""
    query = select(LegalCase).where(LegalCase.company_id == company_id)
    if state is not None:
        query = query.where(LegalCase.state == state)
    return list(session.scalars(query.order_by(LegalCase.id.desc())))


LEGAL_EXPORT_COLUMNS = (
    Column(N_("Legal case"), 9), Column(N_("Company"), 24), Column(N_("Community"), 20), Column(N_("Unit"), 12),
    Column(N_("State"), 18), Column(N_("Route"), 16), Column(N_("Lawyer"), 14), Column(N_("Court case number"), 22),
    Column(N_("Claimed (CNY)"), 14, money=True), Column(N_("Awarded (CNY)"), 14, money=True),
    Column(N_("Opened on"), 12), Column(N_("Filed on"), 12), Column(N_("Title effective on"), 12),
    Column(N_("Closed on"), 12),
)


def legal_case_export(session: Session, cases: Sequence[LegalCase], company_names: Mapping[int, str],
                      label: Callable[[str, object], str]) -> Iterator[tuple[Any, ...]]:
    """The listed cases (already scoped by the caller: a company, or a lawyer's assignments) as rows
    in LEGAL_EXPORT_COLUMNS order; a route only proposed is shown with the proposal."""
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_({c.unit_id for c in cases})))}
    lawyer_ids = {c.lawyer_user_id for c in cases if c.lawyer_user_id}
    lawyers = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(lawyer_ids))).all())
    for c in cases:
        unit = units.get(c.unit_id)
        route = c.route or c.proposed_route
        yield (c.id, company_names.get(c.company_id, ""), unit.community.name if unit else "",
               unit.code if unit else "", label("legal_state", c.state), label("legal_route", route) if route else "",
               lawyers.get(c.lawyer_user_id, "") if c.lawyer_user_id else "", c.case_number or "",
               c.claimed_principal + c.claimed_late_fee,
               awarded_total(c) if c.awarded_principal is not None else None,
               c.opened_on, c.filed_on, c.title_effective_on, c.closed_on)
