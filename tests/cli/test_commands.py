"""`flask arrears …` commands against the test database."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from flask import Flask

from tests.factories import make_community, make_ownership, make_schedule, make_unit


def _seed(app: Flask) -> tuple[str, str]:
    with app.extensions["arrears"].transaction() as session:
        community = make_community(session, code="NJ01")
        make_schedule(session, community, valid_from=dt.date(2026, 1, 1))
        unit = make_unit(session, community, code="1-2-301", area=Decimal("89.50"))
        make_ownership(session, unit)
        return community.code, unit.code


def test_bill_then_statement_json(app: Flask) -> None:
    community, unit = _seed(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["arrears", "bill", "--through", "2026-03"])
    assert result.exit_code == 0, result.output
    assert "3 charges posted" in result.output
    again = runner.invoke(args=["arrears", "bill", "--through", "2026-03"])
    assert "0 charges posted" in again.output
    result = runner.invoke(args=["arrears", "statement", community, unit, "--as-of", "2026-04-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["totals"]["arrears"] == "590.70"
    assert [line["due_date"] for line in data["lines"]] == ["2026-01-15", "2026-02-15", "2026-03-15"]


def test_bad_month_is_a_clear_error(app: Flask) -> None:
    _seed(app)
    result = app.test_cli_runner().invoke(args=["arrears", "bill", "--through", "2026-13"])
    assert result.exit_code != 0
    assert "is not a month like 2026-11" in result.output


def test_create_user(app: Flask) -> None:
    _seed(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["arrears", "create-user", "--username", "li", "--password", "long enough pw",
                                 "--company", "1", "--role", "accountant"])
    assert result.exit_code == 0, result.output
    short = runner.invoke(args=["arrears", "create-user", "--username", "wu", "--password", "short",
                                "--company", "1", "--role", "accountant"])
    assert short.exit_code != 0 and "at least 10" in short.output


def test_close_books_refuses_back_dated_payments_and_reopening(app: Flask) -> None:
    _seed(app)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["arrears", "close-books", "--through", "2026-03-31"]).exit_code == 0
    back = runner.invoke(args=["arrears", "close-books", "--through", "2026-02-28"])
    assert back.exit_code != 0 and "already closed" in back.output
