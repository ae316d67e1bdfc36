"""The one-year LPR as dated data and the "LPR × 1.3" late-fee basis (L7)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arrears.domain.latefees import LateFeeTerms, late_fee_due
from arrears.domain.lpr import (
    LPR_X1_3,
    basis_terms,
    check_basis,
    lpr_daily_rate,
    lpr_on,
    lpr_series,
    parse_lpr_csv,
)
from arrears.domain.money import to_fen

D = Decimal


def test_packaged_series_is_sorted_sourced_and_known() -> None:
    series = lpr_series()
    assert [(r.effective_from.isoformat(), r.rate_percent) for r in series] == [
        ("2023-08-21", D("3.45")), ("2024-02-20", D("3.45")), ("2024-07-22", D("3.35")),
        ("2024-10-21", D("3.10")), ("2025-05-20", D("3.00"))]
    assert all("全国银行间同业拆借中心" in r.source for r in series)


@pytest.mark.parametrize(("day", "rate"), [
    (dt.date(2023, 8, 21), D("3.45")),  # in force from its own day
    (dt.date(2024, 7, 21), D("3.45")),  # the day before a change
    (dt.date(2024, 7, 22), D("3.35")),
    (dt.date(2024, 12, 31), D("3.10")),
    (dt.date(2025, 5, 19), D("3.10")),
    (dt.date(2025, 5, 20), D("3.00")),
    (dt.date(2026, 11, 25), D("3.00")),  # the last value on record
])
def test_lpr_on_picks_the_rate_in_force(day: dt.date, rate: Decimal) -> None:
    assert lpr_on(day).rate_percent == rate


def test_no_lpr_before_the_first_row() -> None:
    with pytest.raises(LookupError):
        lpr_on(dt.date(2023, 8, 20))


def test_daily_rate_is_lpr_times_1_3_over_365_exact() -> None:
    assert lpr_daily_rate(D("3.00")) == D("0.039") / 365
    assert lpr_daily_rate(D("3.45")) == D("0.04485") / 365
    # 1 000.00 for 365 days at 3.00 % × 1.3 is 39.00 to the fen
    assert to_fen(lpr_daily_rate(D("3.00")) * D("1000.00") * 365) == D("39.00")


def test_basis_terms_keep_the_cap_and_need_a_clause() -> None:
    contract = LateFeeTerms(rate_per_day=D("0.0005"), cap_ratio=D("0.5"))
    assert basis_terms("contract", contract, dt.date(2026, 1, 1)) is contract
    lpr = basis_terms(LPR_X1_3, contract, dt.date(2026, 1, 1))
    assert lpr.rate_per_day == D("0.039") / 365 and lpr.cap_ratio == D("0.5")
    no_clause = LateFeeTerms(rate_per_day=None)
    assert basis_terms(LPR_X1_3, no_clause, dt.date(2026, 1, 1)) is no_clause
    with pytest.raises(ValueError):
        check_basis("lpr_x1_5")


def test_one_charge_on_the_lpr_basis() -> None:
    """590.70 due 2026-01-15, unpaid to 2026-11-25 (314 days): 590.70 × 0.039/365 × 314 = 19.82."""
    terms = basis_terms(LPR_X1_3, LateFeeTerms(rate_per_day=D("0.0005")), dt.date(2026, 11, 25))
    fee = late_fee_due(D("590.70"), dt.date(2026, 1, 15), [], dt.date(2026, 11, 25), terms)
    assert fee.days == 314
    assert fee.accrued == to_fen(D("590.70") * D("0.039") * 314 / 365) == D("19.82")


def test_parse_rejects_bad_rows() -> None:
    with pytest.raises(ValueError, match="x.csv:2"):
        parse_lpr_csv("effective_from,rate_percent,source\n2024-13-01,3.1,s\n", source="x.csv")
    with pytest.raises(ValueError, match="duplicate"):
        parse_lpr_csv("effective_from,rate_percent,source\n2024-01-01,3.1,s\n2024-01-01,3.2,s\n")
    with pytest.raises(ValueError, match="positive"):
        parse_lpr_csv("effective_from,rate_percent,source\n2024-01-01,0,s\n")
    rows = parse_lpr_csv("# comment\neffective_from,rate_percent,source\n2024-01-01,3.1,s\n")
    assert lpr_on(dt.date(2024, 6, 1), rows).rate_percent == D("3.1")


def test_the_lpr_basis_never_claims_more_than_the_contract_rate() -> None:
    """L7: LPR × 1.3 anticipates a court's cut; a contract rate below it stays the limit."""
    from arrears.domain.lpr import basis_terms

    low = LateFeeTerms(rate_per_day=Decimal("0.0001"), cap_ratio=Decimal("1"))
    assert basis_terms("lpr_x1_3", low, dt.date(2026, 3, 1)).rate_per_day == Decimal("0.0001")
