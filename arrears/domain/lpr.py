"""The one-year Loan Prime Rate (LPR) as dated data, and the "LPR × 1.3" late-fee basis (L7).

Courts may cut a contract late fee that exceeds the real loss by more than 30 % (SPC 2023 contract
interpretation art. 65), commonly to one-year LPR × 1.3 to 1.5. A legal case may claim on that
basis instead of the contract rate to anticipate the cut. The published series lives in
``data/lpr_one_year.csv`` (see ``data/README.md``); this module only reads and applies it.

Convention: the LPR of a claim is the one in force on its as-of (filing) date; the daily rate is
``LPR × 1.3 / 365``, kept exact (Decimal, not rounded; the fee is rounded per charge to the fen).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources

from .latefees import LateFee, LateFeeTerms, PrincipalReduction, late_fee_due
from .statement import StatementLine

LPR_FILE = "lpr_one_year.csv"
#: The multiple of the one-year LPR claimed under the ``lpr_x1_3`` basis.
LPR_MULTIPLE = Decimal("1.3")
DAYS_PER_YEAR = 365

CONTRACT = "contract"
LPR_X1_3 = "lpr_x1_3"
#: The late-fee bases of a legal case (L7).
LATE_FEE_BASES = (CONTRACT, LPR_X1_3)


@dataclass(frozen=True)
class LprRate:
    """One announcement: ``rate_percent`` per year, in force from ``effective_from``."""

    effective_from: dt.date
    rate_percent: Decimal
    source: str


def parse_lpr_csv(text: str, *, source: str = LPR_FILE) -> tuple[LprRate, ...]:
    """The rows of an LPR CSV (``effective_from,rate_percent,source``), sorted by date; a malformed
    row, a duplicate date or a non-positive rate raises ValueError naming ``source`` and the line."""
    rows: dict[dt.date, LprRate] = {}
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for number, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        try:
            day = dt.date.fromisoformat((row.get("effective_from") or "").strip())
            rate = Decimal((row.get("rate_percent") or "").strip())
        except (ValueError, InvalidOperation) as exc:
            raise ValueError(f"{source}:{number}: malformed row {row!r}") from exc
        if not rate.is_finite() or rate <= 0:
            raise ValueError(f"{source}:{number}: rate must be positive, not {rate}")
        if day in rows:
            raise ValueError(f"{source}:{number}: duplicate date {day.isoformat()}")
        rows[day] = LprRate(day, rate, (row.get("source") or "").strip())
    return tuple(rows[day] for day in sorted(rows))


@lru_cache(maxsize=1)
def lpr_series() -> tuple[LprRate, ...]:
    """The packaged series (``data/lpr_one_year.csv``), read once."""
    text = resources.files(__package__).joinpath("data", LPR_FILE).read_text(encoding="utf-8")
    return parse_lpr_csv(text, source=f"arrears/domain/data/{LPR_FILE}")


def lpr_on(day: dt.date, series: tuple[LprRate, ...] | None = None) -> LprRate:
    """The one-year LPR in force on ``day``: the latest row on or before it. LookupError before the
    first row (no data)."""
    rows = lpr_series() if series is None else series
    current: LprRate | None = None
    for row in rows:
        if row.effective_from > day:
            break
        current = row
    if current is None:
        raise LookupError(f"no one-year LPR on record for {day.isoformat()}")
    return current


def lpr_daily_rate(rate_percent: Decimal, multiple: Decimal = LPR_MULTIPLE) -> Decimal:
    """Daily late-fee rate (a fraction) of ``rate_percent`` % per year × ``multiple`` / 365, exact:
    3.00 → 0.039 / 365."""
    return rate_percent / 100 * multiple / DAYS_PER_YEAR


def basis_terms(basis: str, contract: LateFeeTerms, as_of: dt.date,
                series: tuple[LprRate, ...] | None = None) -> LateFeeTerms:
    """The late-fee terms of a claim on ``basis``: the contract's, or (``lpr_x1_3``) the daily rate
    of the LPR in force on ``as_of`` × 1.3 with the contract's cap unchanged, but never above the
    contract's own rate: the basis anticipates a court's cut, it never claims more than the contract
    gives. No clause (rate None) stays no clause: the LPR basis only re-prices a fee the contract
    provides (L7). LookupError when there is no LPR for ``as_of``."""
    if check_basis(basis) == CONTRACT or contract.rate_per_day is None:
        return contract
    rate = min(lpr_daily_rate(lpr_on(as_of, series).rate_percent), contract.rate_per_day)
    return LateFeeTerms(rate_per_day=rate, cap_ratio=contract.cap_ratio)


def rebased_late_fee(line: StatementLine, terms: LateFeeTerms, as_of: dt.date) -> LateFee:
    """A statement line's late fee recomputed under ``terms`` (same segments, payments of the fee
    and waivers as the ledger; rounded once and capped as in :func:`late_fee_due`)."""
    reductions = [PrincipalReduction(a.on, a.amount) for a in line.applications if a.reduces_principal]
    return late_fee_due(line.amount, line.due_date, reductions, as_of, terms,
                        paid=line.late_fee.paid, waived=line.late_fee.waived)


def check_basis(basis: str) -> str:
    """``basis`` if it is one of LATE_FEE_BASES, else ValueError."""
    value = (basis or "").strip()
    if value not in LATE_FEE_BASES:
        raise ValueError(f"unknown late-fee basis {basis!r} (contract or lpr_x1_3)")
    return value


__all__ = [
    "CONTRACT",
    "LATE_FEE_BASES",
    "LPR_MULTIPLE",
    "LPR_X1_3",
    "LprRate",
    "basis_terms",
    "check_basis",
    "lpr_daily_rate",
    "lpr_on",
    "lpr_series",
    "parse_lpr_csv",
    "rebased_late_fee",
]
