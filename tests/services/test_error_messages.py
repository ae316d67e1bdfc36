"""Service errors carry an English msgid and params: `str(exc)` is the filled English text (CLI,
logs, import reports) and the web shows them in the user's language through `error_text`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from flask_babel import get_locale
from sqlalchemy.orm import Session

from arrears.persistence.models import Company, Unit
from arrears.services.errors import ClosedPeriodError, ServiceError
from arrears.services.payments import PaymentInput, record_payment
from arrears.web.messages import error_text
from tests.factories import ACTOR, make_community, make_ownership, make_unit
from tests.web.test_i18n import compiled_catalogues  # noqa: F401 - autouse: compiles the .mo files

TODAY = dt.date(2026, 11, 22)


def _pay(session: Session, unit: Unit, payer_id: int, amount: str, on: dt.date, ref: str) -> None:
    record_payment(session, ACTOR, unit.company_id, PaymentInput(unit.id, payer_id, ref, on, amount), today=TODAY)


def _bad_amount(session: Session, unit: Unit, payer_id: int) -> None:
    _pay(session, unit, payer_id, "abc", dt.date(2026, 3, 10), "R-1")


def _closed_books(session: Session, unit: Unit, payer_id: int) -> None:
    company = session.get(Company, unit.company_id)
    assert company is not None
    company.books_closed_through = dt.date(2026, 3, 31)
    _pay(session, unit, payer_id, "100.00", dt.date(2026, 3, 10), "R-1")


def _receipt_with_other_content(session: Session, unit: Unit, payer_id: int) -> None:
    _pay(session, unit, payer_id, "100.00", dt.date(2026, 3, 10), "R-1")
    _pay(session, unit, payer_id, "120.00", dt.date(2026, 3, 10), "R-1")


Case = tuple[Callable[[Session, Unit, int], None], type[ServiceError], str, str]
CASES: dict[str, Case] = {
    "bad amount": (
        _bad_amount, ServiceError,
        "'abc' is not a valid amount of money",
        "“abc”不是有效的金额",
    ),
    "closed books": (
        _closed_books, ClosedPeriodError,
        "books are closed through 2026-03-31; an entry dated 2026-03-10 is refused",
        "账目已结账至 2026-03-31，不能再登记日期为 2026-03-10 的记录",
    ),
    "receipt with other content": (
        _receipt_with_other_content, ServiceError,
        "receipt R-1 is already recorded with different content",
        "收据号 R-1 已登记，且内容与本次不一致",
    ),
}


def _raise(session: Session, name: str) -> ServiceError:
    action, kind, _, _ = CASES[name]
    community = make_community(session, late_fee_rate_per_day=None)
    unit = make_unit(session, community)
    payer_id = make_ownership(session, unit).parties[0].owner_id
    with pytest.raises(kind) as info:
        action(session, unit, payer_id)
    return info.value


@pytest.mark.parametrize("name", CASES)
def test_str_is_the_filled_english_text(session: Session, name: str) -> None:
    exc = _raise(session, name)
    assert str(exc) == CASES[name][2]
    assert "%(" not in str(exc)
    assert exc.message % exc.params == str(exc)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("name", CASES)
def test_the_web_shows_the_error_in_the_users_language(app: Flask, session: Session, name: str, lang: str) -> None:
    exc = _raise(session, name)
    _, _, english, chinese = CASES[name]
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert str(get_locale()) == ("en" if lang == "en" else "zh_Hans_CN")
        assert error_text(exc) == (english if lang == "en" else chinese)
