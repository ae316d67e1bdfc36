"""The monthly collection report: page, Excel (numbers as numbers) and PDF (Chinese), access, input
errors, and no other company's data."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader

from arrears.persistence.enums import Role
from tests.web.helpers import login
from tests.web.test_dashboard import MONTHLY, build_world, today


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _last_month() -> tuple[int, int]:
    day = today()
    return (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)


def test_report_page_shows_the_month_per_community_with_totals(no_csrf: Flask, client: FlaskClient) -> None:
    world = build_world(no_csrf, "a", "金桂苑ABC")
    build_world(no_csrf, "b", "隔壁小区XYZ")
    login(client, world.tenant.usernames[Role.ACCOUNTANT])
    page = client.get("/reports/").get_data(as_text=True)
    assert "金桂苑ABC" in page and "隔壁小区XYZ" not in page
    row = page.split(f'data-community="{world.community_id}"')[1].split("</tr>")[0]
    # this month: 200.00 billed, nothing collected on it, the payment of today recovered 21+ months
    assert "200.00" in row and 'data-rate="0.0"' in row and f"{world.month_recovered:,.2f}" in row
    year, month = _last_month()
    previous = client.get(f"/reports/?year={year}&month={month}").get_data(as_text=True)
    assert f'value="{year}"' in previous and f'<option value="{month}" selected>' in previous
    assert f"/reports/collection.xlsx?year={year}&amp;month={month}" in previous


def test_bad_or_future_month_is_refused(no_csrf: Flask, client: FlaskClient) -> None:
    world = build_world(no_csrf, "a", "金桂苑ABC")
    login(client, world.tenant.usernames[Role.ACCOUNTANT])
    day = today()
    assert client.get("/reports/?year=abc&month=1").status_code == 400
    assert client.get("/reports/?year=2026&month=13").status_code == 400
    assert client.get(f"/reports/?year={day.year + 1}&month=1").status_code == 400
    assert client.get(f"/reports/collection.xlsx?year={day.year + 1}&month=1").status_code == 400
    assert client.get("/reports/collection.pdf?year=1999&month=1").status_code == 400


def test_excel_download_has_numbers_as_numbers(no_csrf: Flask, client: FlaskClient) -> None:
    world = build_world(no_csrf, "a", "金桂苑ABC")
    build_world(no_csrf, "b", "隔壁小区XYZ")
    login(client, world.tenant.usernames[Role.ACCOUNTANT])
    response = client.get("/reports/collection.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    names = [r[0] for r in rows[1:]]
    assert "金桂苑ABC" in names and "隔壁小区XYZ" not in names
    mine = next(r for r in rows if r[0] == "金桂苑ABC")
    assert isinstance(mine[2], (int, float)) and Decimal(str(mine[2])) == MONTHLY  # billed
    assert mine[3] == 0 and mine[4] == 0 and isinstance(mine[5], (int, float))
    assert Decimal(str(mine[5])) == world.month_recovered and Decimal(str(mine[6])) == MONTHLY  # recovered, arrears
    total = rows[-1]
    assert isinstance(total[2], (int, float)) and Decimal(str(total[2])) == Decimal(str(sum(r[2] for r in rows[1:-1])))


def test_pdf_download_in_chinese(no_csrf: Flask, client: FlaskClient) -> None:
    world = build_world(no_csrf, "a", "金桂苑ABC")
    build_world(no_csrf, "b", "隔壁小区XYZ")
    login(client, world.tenant.usernames[Role.ACCOUNTANT])
    year, month = _last_month()
    response = client.get(f"/reports/collection.pdf?year={year}&month={month}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.data)).pages)
    assert f"{year}年{month}月物业服务费收缴情况报表" in text
    assert "金桂苑ABC" in text and "隔壁小区XYZ" not in text and "收缴率" in text
    assert "200.00" in text  # billed in the month


def test_only_staff_see_reports(no_csrf: Flask, client: FlaskClient) -> None:
    world = build_world(no_csrf, "a", "金桂苑ABC")
    login(client, world.tenant.usernames[Role.LAWYER])
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/collection.xlsx").status_code == 403
    client.post("/logout")
    login(client, world.tenant.usernames[Role.AUDITOR])
    assert client.get("/reports/").status_code == 200
