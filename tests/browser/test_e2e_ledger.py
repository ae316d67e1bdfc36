"""End to end in Chromium: a manager signs in, imports the demo workbook (downloaded template,
filled in), bills through the billing page, records a payment and sees the statement change, then
reviews and approves the escalation run's prepared batch through its confirmation step."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Flask
from sqlalchemy import func, select

from arrears.persistence.enums import Role
from arrears.persistence.models import Charge, EscalationAction, Unit
from tests.browser.support import (
    COMPANY,
    DEMO_OWNERS,
    PASSWORD,
    fill_demo_workbook,
    follow,
    money,
    sign_in,
    today_of,
    wait_for_job,
)
from tests.factories import make_company


def _company_and_manager(app: Flask) -> int:
    """The company row, then its manager through `flask arrears create-user` (as an operator would)."""
    with app.extensions["arrears"].transaction() as session:
        company = make_company(session, **COMPANY)
        company_id = company.id
    result = app.test_cli_runner().invoke(args=[
        "arrears", "create-user", "--username", "zhou", "--password", PASSWORD, "--name", "周经理",
        "--company", str(company_id), "--role", Role.MANAGER.value,
    ])
    assert result.exit_code == 0, result.output
    return company_id


def _count(app: Flask, model: type, *where: object) -> int:
    with app.extensions["arrears"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _import_demo_workbook(page, tmp_path, today) -> None:  # type: ignore[no-untyped-def]
    follow(page, "/imports/")
    with page.expect_download() as download:
        page.click("a[href$='/imports/template.xlsx']")
    workbook = tmp_path / "demo.xlsx"
    workbook.write_bytes(fill_demo_workbook(download.value.path().read_bytes(), today))
    page.set_input_files("#file", str(workbook))
    page.click("form[enctype='multipart/form-data'] button[type=submit]")
    # The preview: counted, nothing written yet; the confirm form carries the upload's token.
    page.wait_for_url(re.compile(r"/imports/$"))
    confirm = page.locator("form[action$='/imports/confirm']")
    assert confirm.count() == 1, page.locator("table.issues").all_inner_texts()
    counts = {cells[0]: cells[1] for cells in (
        [c.strip() for c in row.locator("td").all_inner_texts()] for row in page.locator("table.data tbody tr").all())}
    assert counts["units"] == str(len(DEMO_OWNERS)) and counts["owners"] == str(len(DEMO_OWNERS))
    assert page.locator("table.issues tr.error").count() == 0
    new_rows = sum(int(n) for n in counts.values())
    confirm.locator("button[type=submit]").click()
    # Confirmed: the import runs in the background; its progress page is followed to the end.
    figures = wait_for_job(page)
    assert page.locator("#job").get_attribute("data-status") == "done"
    assert str(new_rows) in figures.values()  # the rows imported, as the preview counted them
    assert page.locator("#next a[href$='/units/']").is_visible()  # where to go next: the units


def test_import_bill_pay_and_approve_the_escalation_batch(live_app: Flask, page, shots, tmp_path) -> None:  # type: ignore[no-untyped-def]
    company_id = _company_and_manager(live_app)
    today = today_of(live_app, company_id)
    sign_in(page, "zhou")

    # 2. import the demo workbook: template → filled → preview → confirm
    _import_demo_workbook(page, tmp_path, today)
    assert _count(live_app, Unit, Unit.company_id == company_id) == len(DEMO_OWNERS)

    # 3. billing through the billing page, followed on the job's progress page
    follow(page, "/billing/")
    page.fill("#through", f"{today:%Y-%m}")
    page.locator("form.card button[type=submit]").click()
    figures = wait_for_job(page)
    posted = _count(live_app, Charge, Charge.company_id == company_id)
    assert posted == 9 * len(DEMO_OWNERS)  # eight months back through this month, one charge a month
    assert str(posted) in figures.values()

    page.goto("/")
    shots(page, "ledger-dashboard")

    # 4. a payment on 1-1-101, and the statement's arrears drop by exactly that amount
    unit_code = DEMO_OWNERS[0].unit
    follow(page, "/units/")
    assert page.locator("table.data tbody tr").count() == len(DEMO_OWNERS)
    shots(page, "02-units")
    page.fill("#q", unit_code)
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"/units/(\d+$|\?)"))
    if "?" in page.url:  # a list of matches rather than the one unit
        page.get_by_role("link", name=unit_code, exact=True).click()
        page.wait_for_url(re.compile(r"/units/\d+$"))
    assert unit_code in page.locator("h1").inner_text()
    unit_url = page.url
    arrears = page.locator("dl.totals > div").first.locator("dd")
    before = Decimal(money(arrears.inner_text()))
    assert before > 0
    page.click("a[href$='/payments/new']")
    page.fill("#receipt_ref", "R-E2E-0001")
    page.fill("#received_on", today.isoformat())
    page.fill("#amount", "250.00")
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(unit_url)
    assert "R-E2E-0001" in page.locator(".flash").first.inner_text()
    after = Decimal(money(page.locator("dl.totals > div").first.locator("dd").inner_text()))
    assert before - after == Decimal("250.00")
    assert "R-E2E-0001" in page.locator("main").inner_text()
    shots(page, "03-unit-statement")

    # 5. escalation as the scheduler would run it (the CLI), then review the prepared batch
    result = live_app.test_cli_runner().invoke(args=["arrears", "escalate", "--as-of", today.isoformat()])
    assert result.exit_code == 0, result.output
    run_id = int(re.search(r"\brun (\d+)", result.output).group(1))  # type: ignore[union-attr]
    prepared = _count(live_app, EscalationAction, EscalationAction.run_id == run_id,
                      EscalationAction.status == "prepared")
    assert prepared >= 1, result.output

    follow(page, "/runs/")
    page.click(f"a[href='/runs/{run_id}']")
    page.wait_for_url(re.compile(rf"/runs/{run_id}$"))
    assert page.locator("input[name=action_id]").count() == prepared
    shots(page, "06-run-review")
    page.click("button[name=decision][value=approve_all]")
    page.wait_for_url(re.compile(rf"/runs/{run_id}/decide$"))
    assert re.search(rf"\b{prepared}\b", page.locator(".confirm-count").inner_text())
    page.locator(f"form[action$='/runs/{run_id}/decide'] button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/runs/{run_id}$"))
    assert page.locator(".flash.success").is_visible()
    assert page.locator("input[name=action_id]").count() == 0
    assert _count(live_app, EscalationAction, EscalationAction.run_id == run_id,
                  EscalationAction.status == "prepared") == 0

    # the work queue lists the cases the run opened; one case page
    follow(page, "/cases/")
    case_links = page.locator("table.data tbody a[href^='/cases/']")
    assert case_links.count() == len(DEMO_OWNERS)
    shots(page, "ledger-work-queue")
    case_links.first.click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    shots(page, "05-case")

    follow(page, "/reports/")
    shots(page, "09-reports")
