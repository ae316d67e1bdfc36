"""Money values: parsing, the one rounding helper, pro-rata splits and amounts in capitals (L8).

Money is ``Decimal`` everywhere, never ``float``. Rounding is half-up to the fen and happens only
in :func:`to_fen`, which callers use at the points the rules define (E1, L7, E9).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

_PLAIN = re.compile(r"[+-]?\d+(\.\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


class MoneyError(ValueError):
    """A value that cannot be read as an amount of money."""


def to_fen(x: Decimal) -> Decimal:
    """Round half-up to the fen (0.01 CNY): the only rounding function of the domain."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def is_fen(x: Decimal) -> bool:
    """True if ``x`` is finite and has nothing below the fen (1.230 is, 1.235 is not)."""
    return x.is_finite() and x == x.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(value: str | int | Decimal) -> Decimal:
    """Read an amount typed by a person or imported from a file, exactly.

    Accepts ``"1,234.50"``, ``" 12 "``, ints and Decimals. Rejects floats (``TypeError``: binary
    floats cannot hold fen exactly), NaN/infinity, empty strings, exponents and anything with
    non-zero digits beyond the fen (``MoneyError``): an amount is never rounded silently.
    """
    if isinstance(value, (bool, float)):
        raise TypeError(f"money must be given as str, int or Decimal, not {type(value).__name__}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        amount = _parse_text(value)
    else:
        raise TypeError(f"money must be given as str, int or Decimal, not {type(value).__name__}")
    if not amount.is_finite():
        raise MoneyError(f"amount is not a finite number: {value!r}")
    if not is_fen(amount):
        raise MoneyError(f"amount has more than 2 decimal places: {value!r}")
    return to_fen(amount)


def _parse_text(value: str) -> Decimal:
    text = value.strip()
    if not text:
        raise MoneyError("amount is empty")
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    elif not _PLAIN.fullmatch(text):
        raise MoneyError(f"not an amount of money: {value!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regexes admit only valid numbers
        raise MoneyError(f"not an amount of money: {value!r}") from exc


def split_pro_rata(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` without losing a fen (largest remainder).

    Used where equal-rank debts share a payment (L6, E4). Each part gets the floor of its exact
    share in fen; the fen left over go one each to the largest fractional parts (earlier wins a
    tie). Parts sum exactly to ``total``; a zero weight gets zero.
    """
    if not is_fen(total):
        raise ValueError(f"total must be a whole number of fen: {total}")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum((Fraction(w) for w in weights), Fraction(0))
    if weight_sum == 0:
        raise ValueError("cannot split by weights that are all zero")
    sign = -1 if total < 0 else 1
    units = int(abs(total) / CENT)
    exact = [units * Fraction(w) / weight_sum for w in weights]
    parts = [int(x) for x in exact]  # floor: all shares are non-negative
    leftover = units - sum(parts)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    return [sign * Decimal(p) * CENT for p in parts]


# --- amounts in Chinese capitals (L8) -----------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿")
_LIMIT = 10**12  # up to 9999亿…: far beyond any property-fee claim


def amount_in_capitals(amount: Decimal) -> str:
    """Write an amount in Chinese financial capitals (大写) as documents require (L8, E8).

    Style of the E8 table (and of the cn2an library): 元 then 角 then 分; whole yuan end in 整;
    a missing 角 before 分 is written 零 (壹佰元零伍分); zeros inside the yuan figure are one 零,
    except before a 仟 place opening a 万/亿 group, where the payment-settlement rules allow
    leaving it out (壹拾万柒仟元). 0 is 零元整; a negative amount is prefixed 负.
    """
    if not is_fen(amount):
        raise MoneyError(f"amount in capitals needs a whole number of fen: {amount}")
    if abs(amount) >= _LIMIT:
        raise MoneyError(f"amount too large for capitals: {amount}")
    sign = "负" if amount < 0 else ""
    fen_total = int(abs(amount) / CENT)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if yuan == 0 and jiao == 0 and fen == 0:
        return "零元整"
    text = _yuan_in_capitals(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        return sign + text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return sign + text


def _yuan_in_capitals(yuan: int) -> str:
    digits = str(yuan)
    out: list[str] = []
    zero_pending = False
    group_has_digit = False
    for index, char in enumerate(digits):
        position = len(digits) - 1 - index
        place, group = position % 4, position // 4
        digit = int(char)
        if digit == 0:
            zero_pending = bool(out)
        else:
            if zero_pending and place != 3:
                out.append("零")
            zero_pending = False
            group_has_digit = True
            out.append(_DIGITS[digit] + _PLACES[place])
        if place == 0:
            if group_has_digit:
                out.append(_GROUPS[group])
            group_has_digit = False
    return "".join(out)
