"""Helpers for the end-to-end browser tests: signing in, the demo import workbook, job pages,
screenshots. The pages are driven through their ids, names and hrefs, not their (Chinese) text."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from flask import Flask
from sqlalchemy import select

from arrears.persistence.enums import Role
from arrears.persistence.models import Company, Owner, Unit
from arrears.services.timezone import company_today
from tests.web.helpers import PASSWORD

VIEWPORT = {"width": 1280, "height": 800}
JOB_TIMEOUT_MS = 45_000


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Through the login form; lands on the dashboard."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def sign_out(page: Any) -> None:
    page.click("form[action$='/logout'] button[type=submit]")
    page.wait_for_url(re.compile(r"/login"))


def follow(page: Any, path: str) -> None:
    """Click the header's link to a section (the layout may fold it into a menu); go there directly
    only if the header has no such link."""
    link = page.locator(f"header a[href='{path}']")
    if link.count() and link.first.is_visible():
        link.first.click()
    else:
        page.goto(path)
    page.wait_for_url(re.compile(re.escape(path) + r"$"))


def today_of(app: Flask, company_id: int) -> dt.date:
    """The company's business date, as the pages compute it."""
    with app.extensions["arrears"].transaction() as session:
        company = session.get(Company, company_id)
        assert company is not None
        return company_today(company)


def wait_for_job(page: Any) -> dict[str, str]:
    """On /jobs/<id>: wait until the polling script shows the result; return its figures."""
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    result = page.locator("#result")
    result.locator("dd").first.wait_for(state="visible", timeout=JOB_TIMEOUT_MS)
    figures = {}
    for item in result.locator("div").all():
        figures[item.locator("dt").inner_text().strip()] = item.locator("dd").inner_text().strip()
    return figures


def money(text: str) -> str:
    """"1,234.50" → "1234.50" (the |money filter's grouping)."""
    return text.strip().replace(",", "")


# ---------------------------------------------------------------- the demo workbook


@dataclass(frozen=True)
class DemoOwner:
    unit: str
    area: str
    name: str
    id_number: str
    phone: str


COMMUNITY = "DEMO01"


def resident_id(region: str, birth: dt.date, seq: int) -> str:
    """A checksum-valid resident ID number (GB 11643: ISO 7064 MOD 11-2)."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    total = sum(int(c) * (2 ** (17 - i) % 11) for i, c in enumerate(body))
    return body + "10X98765432"[total % 11]


DEMO_OWNERS = (
    DemoOwner("1-1-101", "100.00", "陈思远", resident_id("320106", dt.date(1985, 3, 12), 31), "13912345678"),
    DemoOwner("1-1-102", "89.50", "王雅婷", resident_id("320104", dt.date(1990, 7, 1), 42), "13851234567"),
    DemoOwner("1-1-201", "120.00", "刘建国", resident_id("320102", dt.date(1972, 11, 23), 17), "13770001234"),
    DemoOwner("1-1-202", "75.00", "赵敏", resident_id("330106", dt.date(1995, 2, 5), 88), "15950506060"),
)


def demo_start(today: dt.date) -> dt.date:
    """The fee standard and the ownerships start eight months before this month."""
    months = today.year * 12 + today.month - 1 - 8
    return dt.date(months // 12, months % 12 + 1, 1)


def fill_demo_workbook(template: bytes, today: dt.date) -> bytes:
    """The downloaded template filled in: one community, a fee standard, four units and owners.

    Sheets left unused lose their example row; the README sheet stays as downloaded."""
    start = demo_start(today)
    rows: dict[str, list[dict[str, object]]] = {
        "communities": [{
            "code": COMMUNITY, "name": "阳光花园", "province": "江苏", "city": "南京市", "district": "鼓楼区",
            "address": "南京市鼓楼区中山路1号", "competent_court": "南京市鼓楼区人民法院",
            "contract_name": "前期物业服务合同", "contract_number": "YG-2019-001",
            "fee_clause": "物业服务费按建筑面积每月每平方米2.50元收取，每月15日前交纳",
            "late_fee_rate_per_day": "万分之五", "allocation_policy": "principal_first",
            "demand_deadline_days": 15,
        }],
        "fee_schedules": [{
            "community_code": COMMUNITY, "fee_item_code": "PROPERTY", "fee_item_name": "物业服务费",
            "unit_type": "residential", "basis": "per_m2", "rate": "2.50", "cycle": "monthly",
            "due_rule": "day_of_first_month", "due_day": 15, "valid_from": start,
        }],
        "units": [{"community_code": COMMUNITY, "unit_code": o.unit, "building": "1", "area": o.area,
                   "unit_type": "residential", "delivered_on": start} for o in DEMO_OWNERS],
        "owners": [{"id_type": "resident_id", "id_number": o.id_number, "name": o.name, "kind": "person",
                    "phone": o.phone, "service_address": f"南京市鼓楼区中山路1号阳光花园{o.unit}",
                    "service_address_confirmed": "yes", "language": "zh_CN"} for o in DEMO_OWNERS],
        "ownerships": [{"community_code": COMMUNITY, "unit_code": o.unit, "owner_id_type": "resident_id",
                        "owner_id_number": o.id_number, "valid_from": start} for o in DEMO_OWNERS],
    }
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    for sheet in workbook.worksheets[1:]:
        header = [cell.value for cell in sheet[1]]
        sheet.delete_rows(2, sheet.max_row)
        for row in rows.get(sheet.title, []):
            sheet.append([row.get(str(name)) for name in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


COMPANY = {"name": "江苏瑞和物业服务有限公司", "phone": "025-83456789",
           "collections_contact": "客服中心 025-83456789（工作日 9:00–17:00）"}
DISPLAY_NAMES = {Role.MANAGER: "周经理", Role.ACCOUNTANT: "李会计", Role.LAWYER: "赵律师", Role.AUDITOR: "孙审计",
                 Role.ADMIN: "系统管理员"}


@dataclass(frozen=True)
class DemoLedger:
    company_id: int
    usernames: dict[Role, str]
    unit_ids: dict[str, int]
    owner_ids: dict[str, int]


def seed_demo_ledger(app: Flask, folder: Path) -> DemoLedger:
    """What the import and billing pages produce, done through the services for tests that start
    later in the story: the demo workbook imported, billed through this month, a user per role."""
    from arrears.services import billing, users
    from arrears.services.imports import run_import, template_workbook
    from tests.factories import ACTOR, make_company

    with app.extensions["arrears"].transaction() as session:
        company = make_company(session, **COMPANY)
        today = company_today(company)
        path = folder / "demo.xlsx"
        path.write_bytes(fill_demo_workbook(template_workbook(), today))
        report = run_import(session, ACTOR, company.id, path, today=today)
        assert report.ok, [str(e) for e in report.errors]
        billing.run_billing(session, ACTOR, company_id=company.id, through=today, today=today)
        usernames = {}
        for role in Role:
            user = users.create_user(session, ACTOR, username=f"demo-{role.value}", password=PASSWORD,
                                     display_name=DISPLAY_NAMES.get(role, role.value),
                                     memberships={company.id: role})
            usernames[role] = user.username
        units = {u.code: u.id for u in session.scalars(select(Unit).where(Unit.company_id == company.id))}
        owners = {o.id_number: o.id for o in session.scalars(select(Owner).where(Owner.company_id == company.id))}
        return DemoLedger(company.id, usernames, units,
                          {d.unit: owners[d.id_number] for d in DEMO_OWNERS})


# ---------------------------------------------------------------- screenshots


class Shots:
    """Screenshots of the main pages at 1280×800 into ARREARS_SCREENSHOTS (default: a tmp dir)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls, default: Path) -> Shots:
        chosen = os.environ.get("ARREARS_SCREENSHOTS")
        return cls(Path(chosen) if chosen else default)

    def __call__(self, page: Any, name: str) -> Path:
        page.set_viewport_size(VIEWPORT)
        page.wait_for_load_state("load")
        page.evaluate("document.activeElement && document.activeElement.blur && document.activeElement.blur()")
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path
