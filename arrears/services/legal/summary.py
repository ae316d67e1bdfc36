"""The managers' summary of a company's legal cases (issue 5 §5): cases by state, amounts claimed,
awarded and recovered, and the average days from filing to title."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.money import ZERO
from arrears.persistence.enums import LegalState
from arrears.persistence.legal import LegalCase

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
