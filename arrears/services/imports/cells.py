"""Reading one cell: text, dates, money, rates, flags, choices and period labels, exactly.

Cells arrive as `str`, `date` or None (the reader turns spreadsheet numbers into their shortest
decimal text, so no float reaches the ledger). Each parser returns a typed value or raises
`CellError` with an English and a Chinese sentence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from arrears.domain.money import MoneyError, parse_money
from arrears.domain.periods import BillingCycle, Period, period_containing

Cell = str | dt.date | None
Parser = Callable[[Cell], Any]


class CellError(ValueError):
    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.en, self.zh = en, zh


def as_text(value: Cell) -> str:
    return value.isoformat() if isinstance(value, dt.date) else (value or "")


def text(max_len: int = 255) -> Parser:
    def parse(value: Cell) -> str:
        result = as_text(value).strip()
        if len(result) > max_len:
            raise CellError(f"is longer than {max_len} characters", f"超过{max_len}个字符")
        return result

    return parse


_DATE_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def date(value: Cell) -> dt.date:
    """A date cell, or text like 2025-03-01, 2025/3/1, 2025.3.1, 2025年3月1日, 20250301."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = as_text(value).strip()
    for form in _DATE_FORMS:
        match = form.fullmatch(raw)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                break
    raise CellError(f"{raw!r} is not a date like 2025-03-01", f"“{raw}”不是日期（格式如 2025-03-01）")


def money(value: Cell) -> Decimal:
    raw = as_text(value).strip().replace("¥", "").replace("￥", "").replace("元", "")
    try:
        return parse_money(raw)
    except MoneyError:
        raise CellError(
            f"{raw!r} is not an amount in yuan with at most 2 decimals",
            f"“{raw}”不是金额（元，最多两位小数）",
        ) from None


def decimal(places: int) -> Parser:
    """A plain decimal number with at most `places` decimals."""

    def parse(value: Cell) -> Decimal:
        raw = as_text(value).strip().replace(",", "")
        number = _decimal(raw)
        if number is None:
            raise CellError(f"{raw!r} is not a number", f"“{raw}”不是数字")
        if number != number.quantize(Decimal(1).scaleb(-places)):
            raise CellError(f"has more than {places} decimal places", f"小数位数超过{places}位")
        return number

    return parse


def integer(value: Cell) -> int:
    raw = as_text(value).strip()
    if not re.fullmatch(r"[+-]?\d+", raw):
        raise CellError(f"{raw!r} is not a whole number", f"“{raw}”不是整数")
    return int(raw)


_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_FRACTION_WORDS = {"百分之": Decimal("0.01"), "千分之": Decimal("0.001"), "万分之": Decimal("0.0001")}


def ratio(places: int = 6) -> Parser:
    """A rate as a decimal (0.0005), a percent (0.05%), per mille (0.5‰) or in words (万分之五)."""

    def parse(value: Cell) -> Decimal:
        raw = as_text(value).strip().replace(" ", "")
        number = _ratio(raw)
        if number is None or number < 0:
            raise CellError(
                f"{raw!r} is not a rate like 0.0005, 0.05% or 万分之五",
                f"“{raw}”不是费率（格式如 0.0005、0.05% 或 万分之五）",
            )
        if number != number.quantize(Decimal(1).scaleb(-places)):
            raise CellError(f"has more than {places} decimal places", f"小数位数超过{places}位")
        return number.normalize() if number else Decimal(0)

    return parse


def _ratio(raw: str) -> Decimal | None:
    for word, unit in _FRACTION_WORDS.items():
        if raw.startswith(word):
            count = _decimal(raw[len(word):]) or _chinese_number(raw[len(word):])
            return None if count is None else count * unit
    for suffix, unit in (("%", Decimal("0.01")), ("％", Decimal("0.01")), ("‰", Decimal("0.001"))):
        if raw.endswith(suffix):
            number = _decimal(raw[: -len(suffix)])
            return None if number is None else number * unit
    return _decimal(raw)


def _chinese_number(raw: str) -> Decimal | None:
    """Small Chinese numerals (一 … 九十九), enough for rates written 万分之五 or 千分之一点五 is not."""
    if not raw or any(c not in _CN_DIGITS for c in raw):
        return None
    if "十" not in raw:
        return Decimal(int("".join(str(_CN_DIGITS[c]) for c in raw))) if len(raw) == 1 else None
    tens, _, ones = raw.partition("十")
    value = (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    return Decimal(value)


def _decimal(raw: str) -> Decimal | None:
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


_TRUE = {"yes", "y", "true", "1", "是", "有", "√"}
_FALSE = {"no", "n", "false", "0", "否", "无", "×"}


def flag(value: Cell) -> bool:
    raw = as_text(value).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise CellError(f"{raw!r} is not yes or no", f"“{raw}”不是“是”或“否”")


def choice(options: Mapping[str, str]) -> Parser:
    """One of `options` (spelling → stored value); matching ignores case, spaces and hyphens."""
    table = {_key(k): v for k, v in options.items()}
    table.update({_key(v): v for v in options.values()})
    allowed = ", ".join(sorted(set(options.values())))

    def parse(value: Cell) -> str:
        raw = as_text(value).strip()
        found = table.get(_key(raw))
        if found is None:
            raise CellError(f"{raw!r} is not one of: {allowed}", f"“{raw}”不是可选值之一：{allowed}")
        return found

    return parse


def _key(raw: str) -> str:
    return re.sub(r"[\s_\-]", "", raw).lower()


_LABELS = (
    (re.compile(r"(\d{4})-(\d{1,2})"), BillingCycle.MONTHLY),
    (re.compile(r"(\d{4})年(\d{1,2})月"), BillingCycle.MONTHLY),
    (re.compile(r"(\d{4})Q([1-4])", re.I), BillingCycle.QUARTERLY),
    (re.compile(r"(\d{4})H([12])", re.I), BillingCycle.HALF_YEARLY),
    (re.compile(r"(\d{4})年?"), BillingCycle.YEARLY),
)


def period(value: Cell) -> Period:
    """A period label: 2025-03 (a month), 2025Q1, 2025H1 or 2025; a date cell means its month
    (spreadsheets turn a typed 2025-03 into 1 March 2025)."""
    if isinstance(value, dt.date):
        return period_containing(BillingCycle.MONTHLY, value)
    raw = as_text(value).strip()
    for pattern, cycle in _LABELS:
        match = pattern.fullmatch(raw)
        if not match:
            continue
        year, part = int(match.group(1)), int(match.group(2)) if match.lastindex == 2 else 1
        month = {BillingCycle.MONTHLY: part, BillingCycle.QUARTERLY: part * 3 - 2,
                 BillingCycle.HALF_YEARLY: part * 6 - 5, BillingCycle.YEARLY: 1}[cycle]
        if 1 <= month <= 12 and year >= 1900:
            return period_containing(cycle, dt.date(year, month, 1))
    raise CellError(
        f"{raw!r} is not a period like 2025-03, 2025Q1, 2025H1 or 2025",
        f"“{raw}”不是账期（格式如 2025-03、2025Q1、2025H1 或 2025）",
    )


def periods(value: Cell) -> list[Period]:
    """A list of period labels separated by ; , 、 or spaces."""
    if isinstance(value, dt.date):
        return [period(value)]
    parts = [p for p in re.split(r"[;；,，、\s]+", as_text(value).strip()) if p]
    return [period(p) for p in parts]
