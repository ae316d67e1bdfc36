"""Jinja filters for printed documents: dates as 2026年11月22日, amounts in figures and capitals (L8).

Registered on the document environment by :mod:`arrears.documents.pdf`; plain functions, so
builders and tests can use them too.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from arrears.domain.money import MoneyError, amount_in_capitals, is_fen, to_fen

_PERIOD_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_PERIOD_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def cn_date(day: dt.date | dt.datetime | str | None) -> str:
    """2026年11月22日 (an ISO string is read first; None is an empty string)."""
    if day is None or day == "":
        return ""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    if isinstance(day, dt.datetime):
        day = day.date()
    return f"{day.year}年{day.month}月{day.day}日"


def _amount(value: Decimal | int | str) -> Decimal:
    if isinstance(value, (float, bool)):
        raise MoneyError(f"amounts on documents must be Decimal, not {type(value).__name__}")
    amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not is_fen(amount):
        raise MoneyError(f"amount on a document is not a whole number of fen: {value}")
    return to_fen(amount)


def yuan(value: Decimal | int | str) -> str:
    """1,234.56 — two decimals, thousands separators; never rounds silently."""
    return f"{_amount(value):,.2f}"


def capitals(value: Decimal | int | str) -> str:
    """壹仟贰佰叁拾肆元伍角陆分 (L8); amounts with fractions of a fen are refused, not rounded."""
    return amount_in_capitals(_amount(value))


def yuan_both(value: Decimal | int | str) -> str:
    """人民币1,234.56元（大写：壹仟贰佰叁拾肆元伍角陆分） — figures and capitals together (L8)."""
    return f"人民币{yuan(value)}元（大写：{capitals(value)}）"


def period(label: str | None) -> str:
    """A charge period as printed: "2026-01" → 2026年1月, "2026-01-15" → 2026年1月15日, a range
    "2026-01~2026-03" → 2026年1月至2026年3月; anything else unchanged."""
    if not label:
        return ""
    text = str(label).strip()
    for separator in ("~", "至", "/", "—", " - ", "–"):
        if separator in text:
            start, _, end = text.partition(separator)
            if start.strip() and end.strip():
                return f"{period(start.strip())}至{period(end.strip())}"
    if match := _PERIOD_DAY.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return f"{year}年{month}月{day}日"
    if match := _PERIOD_MONTH.fullmatch(text):
        year, month = (int(g) for g in match.groups())
        return f"{year}年{month}月"
    return text


FILTERS = {"cn_date": cn_date, "yuan": yuan, "capitals": capitals, "yuan_both": yuan_both, "period": period}
