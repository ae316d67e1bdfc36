"""money: parsing, the one rounding helper, pro-rata splits, amounts in capitals (L8, E8)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.money import (
    CENT,
    MoneyError,
    amount_in_capitals,
    parse_money,
    split_pro_rata,
    to_fen,
)

D = Decimal


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (D("1.005"), D("1.01")),  # half-up, not banker's rounding
        (D("1.015"), D("1.02")),
        (D("-1.005"), D("-1.01")),
        (D("17.5815"), D("17.58")),  # E2
        (D("26.5815"), D("26.58")),  # E2 without the payment
        (D("590.7"), D("590.70")),
    ],
)
def test_to_fen_rounds_half_up(raw: Decimal, expected: Decimal) -> None:
    assert to_fen(raw) == expected
    assert to_fen(raw).as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1,234.50", D("1234.50")),
        (" 12 ", D("12.00")),
        ("0.5", D("0.50")),
        ("-3.20", D("-3.20")),
        ("1,000,000", D("1000000.00")),
        ("12.500", D("12.50")),  # nothing lost below the fen
        (7, D("7.00")),
        (D("590.7"), D("590.70")),
    ],
)
def test_parse_money_accepts(value: str | int | Decimal, expected: Decimal) -> None:
    parsed = parse_money(value)
    assert parsed == expected
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1.234", "2 decimal places"),
        (D("0.001"), "2 decimal places"),
        ("NaN", "not an amount"),
        (D("NaN"), "finite"),
        (D("Infinity"), "finite"),
        ("inf", "not an amount"),
        ("1e3", "not an amount"),
        ("12,34.00", "not an amount"),
        ("abc", "not an amount"),
        ("¥12", "not an amount"),
    ],
)
def test_parse_money_rejects(value: str | Decimal, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_money(value)


@pytest.mark.parametrize("value", [1.5, 0.1, True])
def test_parse_money_rejects_float_and_bool(value: object) -> None:
    with pytest.raises(TypeError):
        parse_money(value)  # type: ignore[arg-type]


def test_money_error_is_a_value_error() -> None:
    assert issubclass(MoneyError, ValueError)


def test_split_pro_rata_largest_remainder() -> None:
    # 100.00 by 1:1:1 → 33.34, 33.33, 33.33 (the earliest part wins the tie)
    assert split_pro_rata(D("100.00"), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"), D("33.33")]
    # E4: two charges with the same due date share a remainder pro rata
    assert split_pro_rata(D("50.00"), [D("200.00"), D("100.00")]) == [D("33.33"), D("16.67")]


def test_split_pro_rata_zero_weights_get_zero() -> None:
    assert split_pro_rata(D("0.05"), [D(0), D(3), D(0), D(1)]) == [D(0), D("0.04"), D(0), D("0.01")]


def test_split_pro_rata_rejects_all_zero_and_negative_weights() -> None:
    with pytest.raises(ValueError, match="all zero"):
        split_pro_rata(D("1.00"), [D(0), D(0)])
    with pytest.raises(ValueError, match="negative"):
        split_pro_rata(D("1.00"), [D(1), D(-1)])
    with pytest.raises(ValueError, match="fen"):
        split_pro_rata(D("1.001"), [D(1)])


fen_amounts = st.integers(min_value=-(10**9), max_value=10**9).map(lambda n: D(n) * CENT)
weights = st.lists(
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=8,
).filter(lambda ws: any(w > 0 for w in ws))


@settings(max_examples=200, deadline=None)
@given(total=fen_amounts, ws=weights)
def test_split_pro_rata_sums_exactly(total: Decimal, ws: list[Decimal]) -> None:
    """Property: the parts sum exactly to the total; zero weights get zero; each part is within
    a fen of its exact share."""
    parts = split_pro_rata(total, ws)
    assert sum(parts) == total
    weight_sum = sum(ws)
    for part, w in zip(parts, ws, strict=True):
        if w == 0:
            assert part == 0
        assert abs(part - total * w / weight_sum) < CENT


# E8 — Amounts in capitals (L8): the table must pass exactly.
E8_TABLE = [
    (D("590.70"), "伍佰玖拾元柒角"),
    (D("1005.00"), "壹仟零伍元整"),
    (D("10000.00"), "壹万元整"),
    (D("100100.05"), "壹拾万零壹佰元零伍分"),
    (D("0.07"), "柒分"),
    (D("12345.60"), "壹万贰仟叁佰肆拾伍元陆角"),
]


@pytest.mark.parametrize(("figure", "capitals"), E8_TABLE)
def test_e8_amounts_in_capitals(figure: Decimal, capitals: str) -> None:
    """E8 (L8): 元 then 角 then 分; a missing 角 before 分 is 零; whole yuan end in 整."""
    assert amount_in_capitals(figure) == capitals


@pytest.mark.parametrize(
    ("figure", "capitals"),
    [
        (D("0"), "零元整"),
        (D("0.00"), "零元整"),
        (D("-590.70"), "负伍佰玖拾元柒角"),
        (D("10.00"), "壹拾元整"),
        (D("0.50"), "伍角"),
        (D("20.05"), "贰拾元零伍分"),
        (D("1010.00"), "壹仟零壹拾元整"),
        (D("1680.32"), "壹仟陆佰捌拾元叁角贰分"),
        (D("107000.53"), "壹拾万柒仟元伍角叁分"),
        (D("10000001"), "壹仟万零壹元整"),
        (D("100000000"), "壹亿元整"),
        (D("100010001.01"), "壹亿零壹万零壹元零壹分"),
        (D("100001000"), "壹亿壹仟元整"),
        (D("999999999999.99"), "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amount_in_capitals_more_cases(figure: Decimal, capitals: str) -> None:
    assert amount_in_capitals(figure) == capitals


def test_amount_in_capitals_rejects_sub_fen_and_huge() -> None:
    with pytest.raises(MoneyError):
        amount_in_capitals(D("1.001"))
    with pytest.raises(MoneyError):
        amount_in_capitals(D("1000000000000"))


zero_rich_fen = st.text(alphabet="000000123456789", min_size=1, max_size=14).map(int)
any_fen = st.one_of(st.integers(min_value=0, max_value=10**14 - 1), zero_rich_fen)


def test_amount_in_capitals_agrees_with_cn2an() -> None:
    """Cross-check against the cn2an library (dev-only dependency; skipped without it)."""
    cn2an = pytest.importorskip("cn2an")

    @settings(max_examples=300, deadline=None)
    @given(fen=any_fen)
    def agrees(fen: int) -> None:
        amount = D(fen) * CENT
        assert amount_in_capitals(amount) == cn2an.an2cn(str(amount), "rmb")

    agrees()
