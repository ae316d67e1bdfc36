"""Court fees (诉讼费用) for a property-fee claim (L9, E5).

Source: 诉讼费用交纳办法 (State Council Order No. 481, in force 2007-04-01), art. 13 (property case
acceptance fee and enforcement application fee), art. 14(3) (payment order: one third of the
property-case fee), art. 15 (settlement by mediation / withdrawal: half), art. 16 (simplified
procedure: half; small claims are charged as simplified procedure, as LEGAL.md L9 states). The bands below are that Order's table, kept as data with its source:
they change only when the Order is amended.

Fees are cumulative over bands ("超过部分"). The full case fee is computed exactly and rounded
half-up to the fen once; reduced fees (half, one third) are derived from that rounded fee and
rounded half-up once more (E5: 1 415.25 → half 707.63, a third 471.75).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from .money import ZERO, is_fen, to_fen

SOURCE = "《诉讼费用交纳办法》（国务院令第481号，2007年4月1日施行）第十三条至第十六条"

Band = tuple[Decimal | None, Decimal]  # (upper bound of the band or None = no bound, rate on that part)

#: art. 13(1): property cases. Up to 10 000: a flat 50 per case.
CASE_FEE_FLAT = Decimal("50.00")
CASE_FEE_FLAT_UP_TO = Decimal(10000)
CASE_FEE_BANDS: tuple[Band, ...] = (
    (Decimal(100000), Decimal("0.025")),
    (Decimal(200000), Decimal("0.02")),
    (Decimal(500000), Decimal("0.015")),
    (Decimal(1000000), Decimal("0.01")),
    (Decimal(2000000), Decimal("0.009")),
    (Decimal(5000000), Decimal("0.008")),
    (Decimal(10000000), Decimal("0.007")),
    (Decimal(20000000), Decimal("0.006")),
    (None, Decimal("0.005")),
)
#: art. 14(1): enforcement application. Up to 10 000 (or no amount): 50 per case.
ENFORCEMENT_FLAT = Decimal("50.00")
ENFORCEMENT_FLAT_UP_TO = Decimal(10000)
ENFORCEMENT_BANDS: tuple[Band, ...] = (
    (Decimal(500000), Decimal("0.015")),
    (Decimal(5000000), Decimal("0.01")),
    (Decimal(10000000), Decimal("0.005")),
    (None, Decimal("0.001")),
)


class Procedure(StrEnum):
    """What the fee is paid for: decides the share of the full property-case fee (L9)."""

    ORDINARY = "ordinary"  # 普通程序: full fee
    SIMPLIFIED = "simplified"  # 简易程序: half (art. 16)
    SMALL_CLAIMS = "small_claims"  # 小额诉讼程序: half, as simplified procedure
    SETTLEMENT = "settlement"  # 调解结案 / 撤诉: half (art. 15)
    PAYMENT_ORDER = "payment_order"  # 支付令申请费: one third (art. 14(3))
    ARBITRATION = "arbitration"  # set by the commission's own rules: not estimated here


_SHARE: dict[Procedure, tuple[int, int]] = {
    Procedure.ORDINARY: (1, 1),
    Procedure.SIMPLIFIED: (1, 2),
    Procedure.SMALL_CLAIMS: (1, 2),
    Procedure.SETTLEMENT: (1, 2),
    Procedure.PAYMENT_ORDER: (1, 3),
}

SHARE_TEXT: dict[Procedure, str] = {
    Procedure.ORDINARY: "全额",
    Procedure.SIMPLIFIED: "减半",
    Procedure.SMALL_CLAIMS: "减半",
    Procedure.SETTLEMENT: "减半",
    Procedure.PAYMENT_ORDER: "三分之一",
}


@dataclass(frozen=True)
class FeeStep:
    """One band of the calculation: ``base`` (the part of the claim in the band) × ``rate``.

    For the flat first band ``rate`` is None and ``fee`` is the flat amount."""

    lower: Decimal
    upper: Decimal | None
    base: Decimal
    rate: Decimal | None
    fee: Decimal


@dataclass(frozen=True)
class CourtFee:
    claim: Decimal
    procedure: Procedure
    full_fee: Decimal  # property-case fee in full, rounded to the fen
    fee: Decimal  # what this procedure pays
    steps: tuple[FeeStep, ...]


def _check(claim: Decimal) -> None:
    if not isinstance(claim, Decimal) or not is_fen(claim):
        raise ValueError(f"claim must be a Decimal amount in fen: {claim!r}")
    if claim < 0:
        raise ValueError(f"claim must not be negative: {claim}")


def _steps(claim: Decimal, flat: Decimal, flat_up_to: Decimal, bands: tuple[Band, ...]) -> tuple[FeeStep, ...]:
    steps = [FeeStep(ZERO, flat_up_to, min(claim, flat_up_to), None, flat)]
    lower = flat_up_to
    for upper, rate in bands:
        if claim <= lower:
            break
        top = claim if upper is None else min(claim, upper)
        base = top - lower
        steps.append(FeeStep(lower, upper, base, rate, base * rate))
        if upper is None:
            break
        lower = upper
    return tuple(steps)


def case_fee_steps(claim: Decimal) -> tuple[FeeStep, ...]:
    """The bands of the property-case fee for ``claim`` (art. 13(1)); fees unrounded."""
    _check(claim)
    return _steps(claim, CASE_FEE_FLAT, CASE_FEE_FLAT_UP_TO, CASE_FEE_BANDS)


def case_fee(claim: Decimal) -> Decimal:
    """Property-case acceptance fee in full (L9; E5: 12 345.60 → 108.64)."""
    return to_fen(sum((s.fee for s in case_fee_steps(claim)), ZERO))


def court_fee(claim: Decimal, procedure: Procedure | str) -> CourtFee:
    """The fee ``procedure`` pays on ``claim`` (L9, E5): full, half or one third of the case fee,
    derived from the rounded full fee and rounded half-up to the fen."""
    procedure = Procedure(procedure)
    if procedure is Procedure.ARBITRATION:
        raise ValueError("arbitration fees follow the commission's own schedule, not the court fee Order")
    steps = case_fee_steps(claim)
    full = to_fen(sum((s.fee for s in steps), ZERO))
    numerator, denominator = _SHARE[procedure]
    fee = to_fen(full * numerator / denominator)
    return CourtFee(claim=claim, procedure=procedure, full_fee=full, fee=fee, steps=steps)


def reduced_fee(claim: Decimal, procedure: Procedure | str) -> Decimal:
    return court_fee(claim, procedure).fee


def enforcement_fee_steps(amount: Decimal) -> tuple[FeeStep, ...]:
    _check(amount)
    return _steps(amount, ENFORCEMENT_FLAT, ENFORCEMENT_FLAT_UP_TO, ENFORCEMENT_BANDS)


def enforcement_fee(amount: Decimal) -> Decimal:
    """Enforcement application fee (art. 14(1)): up to 10 000 → 50; 10 000–500 000 → 1.5 % of
    that part; then 1 %, 0.5 %, 0.1 %."""
    return to_fen(sum((s.fee for s in enforcement_fee_steps(amount)), ZERO))
