"""Excel exports of the lists: every row the current filter matches (not only the page), amounts as
numbers, dates as dates, translated headers, the list's own access, one company only, and text
that a spreadsheet would run as a formula neutralised."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from arrears.persistence.enums import MessageStatus, Role
from arrears.persistence.legal import SmallClaimsCeiling
from arrears.persistence.models import Community, Company, NoticeStatus, PublicNotice, Unit
from arrears.services import billing
from arrears.services.legal import cases as legal_cases
from tests.factories import ACTOR, make_community, make_owner, make_ownership, make_schedule, make_unit
from tests.web.helpers import Tenant, login, make_tenant
from tests.web.test_cases_web import build_case, build_run, login_en

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _sheet(client: FlaskClient, url: str) -> list[list[Any]]:
    """Download ``url`` and return the rows of its only sheet (header first)."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.worksheets) == 1
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def _column(rows: list[list[Any]], header: str) -> list[Any]:
    index = rows[0].index(header)
    return [row[index] for row in rows[1:]]


def _add_units(app: Flask, tenant: Tenant, *owners: str, community_name: str | None = None) -> list[str]:
    """More billed units in the tenant's company (a new community when named), owned by ``owners``."""
    with app.extensions["arrears"].transaction() as session:
        first = session.get(Unit, tenant.unit_id)
        assert first is not None
        community = first.community
        if community_name is not None:
            community = make_community(session, session.get(Company, tenant.company_id), name=community_name)
            make_schedule(session, community, valid_from=dt.date(2026, 1, 1))
        codes = []
        for name in owners:
            unit = make_unit(session, community, area=Decimal("101.25"))
            make_ownership(session, unit, [make_owner(session, tenant.company_id, name=name)])
            codes.append(unit.code)
        billing.run_billing(session, ACTOR, company_id=tenant.company_id, through=dt.date(2026, 3, 1),
                            today=dt.date(2026, 11, 22))
        return codes


# ---------------------------------------------------------------- units


def test_units_export_has_every_matching_row_with_numbers_dates_and_neutralised_text(
        no_csrf: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant, other = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    _add_units(no_csrf, tenant, FORMULA, "李四")
    monkeypatch.setattr("arrears.web.units.PER_PAGE", 2)
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    page = client.get("/units/").get_data(as_text=True)
    assert "/units/export.xlsx" in page and "Export to Excel" in page
    rows = _sheet(client, "/units/export.xlsx")
    assert rows[0] == ["Community", "Unit", "Owner", "Area (m²)", "Arrears (CNY)", "Oldest unpaid due date"]
    assert len(rows) == 1 + 3  # all three units of the company, although a page shows two
    owners = _column(rows, "Owner")
    assert "'" + FORMULA in owners and FORMULA not in owners
    for area, arrears, oldest in zip(_column(rows, "Area (m²)"), _column(rows, "Arrears (CNY)"),
                                     _column(rows, "Oldest unpaid due date"), strict=True):
        assert isinstance(area, (int, float)) and isinstance(arrears, (int, float))
        assert arrears > 0  # billed January to March 2026, all overdue today
        assert isinstance(oldest, dt.datetime)  # openpyxl reads a date cell as a datetime
    with no_csrf.extensions["arrears"].transaction() as session:
        their_code = session.get(Unit, other.unit_id).code  # type: ignore[union-attr]
    assert their_code not in _column(rows, "Unit")


def test_units_export_follows_the_filter(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    _add_units(no_csrf, tenant, "王五", "赵六", community_name="西溪雅苑")
    login(client, tenant.usernames[Role.MANAGER])
    with no_csrf.extensions["arrears"].transaction() as session:
        community_id = session.scalar(
            select(Community.id).where(Community.name == "西溪雅苑"))
    rows = _sheet(client, f"/units/export.xlsx?community={community_id}")
    assert len(rows) == 3 and {row[0] for row in rows[1:]} == {"西溪雅苑"}
    searched = _sheet(client, "/units/export.xlsx?q=赵六")
    assert [row[2] for row in searched[1:]] == ["赵六"]
    assert searched[0][0] == "小区"  # headers in the user's language (Chinese by default)


def test_a_search_that_finds_one_unit_opens_it(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    (code,) = _add_units(no_csrf, tenant, "孙七")
    login(client, tenant.usernames[Role.ACCOUNTANT])
    found = client.get("/units/?q=孙七")
    assert found.status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == code))
    assert found.headers["Location"].endswith(f"/units/{unit_id}")
    assert client.get("/units/?q=1-").status_code == 200  # two matches: the list
    assert client.get("/units/?q=孙七&arrears=1").status_code == 200  # another filter: the list
    assert client.get("/units/?q=nobody-matches").status_code == 200


def test_exports_keep_the_lists_access(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    login(client, tenant.usernames[Role.LAWYER])
    for url in ("/units/export.xlsx", "/runs/export.xlsx", "/deliveries/letters/awaiting.xlsx",
                "/notices/export.xlsx", "/legal/export.xlsx", "/ceilings/export.xlsx"):
        assert client.get(url).status_code == 403, url
    client.post("/logout")
    login(client, tenant.usernames[Role.ACCOUNTANT])
    assert client.get("/legal/export.xlsx").status_code == 403
    assert client.get("/ceilings/export.xlsx").status_code == 403
    assert client.get("/legal/mine/export.xlsx").status_code == 403
    client.post("/logout")
    assert client.get("/units/export.xlsx").status_code == 302  # to the sign-in page


# ---------------------------------------------------------------- runs and letters


def test_run_history_export(no_csrf: Flask, client: FlaskClient) -> None:
    tenant, other = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=2,
                      messages=(MessageStatus.SENT, MessageStatus.FAILED))
    theirs = build_run(no_csrf, other, build_case(no_csrf, other), actions=1)
    login_en(client, tenant.usernames[Role.AUDITOR])
    assert "/runs/export.xlsx" in client.get("/runs/").get_data(as_text=True)
    rows = _sheet(client, "/runs/export.xlsx")
    assert _column(rows, "Run") == [built.run_id] and theirs.run_id not in _column(rows, "Run")
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["As of"] == dt.datetime(2026, 11, 22)
    assert isinstance(row["Started (UTC)"], dt.datetime)
    assert (row["evaluated"], row["prepared"], row["sent"], row["failed"], row["Waiting for review"]) == (7, 2, 1, 1, 2)
    assert row["Status"] == "succeeded" and row["Errors"] == "unit 9: no address"


def test_letters_awaiting_a_result_export(no_csrf: Flask, client: FlaskClient) -> None:
    tenant, other = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=1,
                      messages=(MessageStatus.SENT, MessageStatus.SENT, MessageStatus.FAILED))
    theirs = build_run(no_csrf, other, build_case(no_csrf, other), actions=1, messages=(MessageStatus.SENT,))
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    assert "/deliveries/letters/awaiting.xlsx" in client.get("/deliveries/").get_data(as_text=True)
    rows = _sheet(client, "/deliveries/letters/awaiting.xlsx")
    assert _column(rows, "Message") == built.message_ids[:2]  # the failed one awaits nothing
    assert theirs.message_ids[0] not in _column(rows, "Message")
    assert set(_column(rows, "Channel")) == {"printed letter"}
    assert all(isinstance(v, dt.datetime) for v in _column(rows, "Sent (UTC)"))
    assert client.get("/deliveries/letters/999999/letters.xlsx").status_code == 404


# ---------------------------------------------------------------- notices


def _notice(app: Flask, tenant: Tenant, reference: str, total: str, **kw: Any) -> None:
    with app.extensions["arrears"].transaction() as session:
        unit = session.get(Unit, tenant.unit_id)
        assert unit is not None
        session.add(PublicNotice(
            company_id=tenant.company_id, community_id=kw.pop("community_id", unit.community_id),
            reference=reference, as_of=dt.date(2026, 11, 20), status=kw.pop("status", NoticeStatus.DRAFT),
            unit_count=2, total=Decimal(total), content_hash=reference.ljust(64, "0"),
            generated_on=dt.date(2026, 11, 20), generated_by="tester", **kw))


def test_notices_export_follows_the_community_filter(no_csrf: Flask, client: FlaskClient) -> None:
    tenant, other = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    _notice(no_csrf, tenant, "GS-A-1", "50500.00")
    _notice(no_csrf, other, "GS-B-1", "10.00")
    with no_csrf.extensions["arrears"].transaction() as session:
        elsewhere = make_community(session, session.get(Company, tenant.company_id), name="=cmd|' /C calc'!A0").id
    _notice(no_csrf, tenant, "GS-A-2", "1.50", community_id=elsewhere)
    login_en(client, tenant.usernames[Role.AUDITOR])
    assert "/notices/export.xlsx" in client.get("/notices/").get_data(as_text=True)
    rows = _sheet(client, "/notices/export.xlsx")
    assert sorted(_column(rows, "Reference")) == ["GS-A-1", "GS-A-2"]
    assert "'=cmd|' /C calc'!A0" in _column(rows, "Community")
    filtered = _sheet(client, f"/notices/export.xlsx?community={elsewhere}")
    row = dict(zip(filtered[0], filtered[1], strict=True))
    assert len(filtered) == 2 and row["Reference"] == "GS-A-2"
    assert row["Total (CNY)"] == 1.5 and row["As of"] == dt.datetime(2026, 11, 20)
    assert row["Status"] == "Draft (not approved)"


# ---------------------------------------------------------------- legal cases and ceilings


def test_legal_case_exports_for_managers_and_lawyers(no_csrf: Flask, client: FlaskClient) -> None:
    from tests.web.test_legal_web import _today, _world

    world = _world(no_csrf, "a")
    with no_csrf.extensions["arrears"].transaction() as session:
        legal_id = legal_cases.open_legal_case(session, ACTOR, world.company_id, world.case_id, today=_today(),
                                               lawyer_user_id=world.user_ids[Role.LAWYER]).id
    login_en(client, world.users[Role.MANAGER])
    assert "/legal/export.xlsx" in client.get("/legal/").get_data(as_text=True)
    rows = _sheet(client, "/legal/export.xlsx")
    row = dict(zip(rows[0], rows[1], strict=True))
    assert len(rows) == 2 and row["Legal case"] == legal_id and row["State"] == "drafted"
    assert isinstance(row["Claimed (CNY)"], (int, float)) and row["Claimed (CNY)"] > 0
    assert row["Awarded (CNY)"] is None and isinstance(row["Opened on"], dt.datetime)
    assert len(_sheet(client, "/legal/export.xlsx?state=drafted")) == 2
    assert len(_sheet(client, "/legal/export.xlsx?state=filed")) == 1  # the header only
    client.post("/logout")
    login_en(client, world.users[Role.LAWYER])
    mine = _sheet(client, "/legal/mine/export.xlsx")
    assert _column(mine, "Legal case") == [legal_id]
    assert client.get("/legal/export.xlsx").status_code == 403


def test_ceilings_export_shows_current_rows_or_the_history(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    with no_csrf.extensions["arrears"].transaction() as session:
        for province, retired in (("江苏", False), ("浙江", True)):
            session.add(SmallClaimsCeiling(province=province, amount=Decimal("60000.00"),
                                           wage_figure=Decimal("120000.00"), effective_from=dt.date(2026, 1, 1),
                                           source="+court notice", checked_on=dt.date(2026, 6, 1),
                                           created_by="tester", retired=retired))
    login_en(client, tenant.usernames[Role.ADMIN])
    assert "/ceilings/export.xlsx" in client.get("/ceilings/").get_data(as_text=True)
    current = _sheet(client, "/ceilings/export.xlsx")
    assert _column(current, "Province") == ["江苏"]
    assert _column(current, "Ceiling (CNY)") == [60000] and _column(current, "Source") == ["'+court notice"]
    assert _column(current, "Effective from") == [dt.datetime(2026, 1, 1)]
    history = _sheet(client, "/ceilings/export.xlsx?history=1")
    assert sorted(_column(history, "Status")) == ["current", "retired"]
