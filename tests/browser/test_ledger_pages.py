"""An accountant signs in, finds a unit, reads its statement and records a payment — in Chromium."""

from __future__ import annotations

from flask import Flask

from arrears.persistence.enums import Role
from tests.web.helpers import PASSWORD, make_tenant


def test_accountant_records_a_payment_and_sees_it_applied(live_app: Flask, page) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant(live_app, "web")
    page.goto("/login")
    page.fill("#username", tenant.usernames[Role.ACCOUNTANT])
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/")

    page.goto("/units/")
    page.click(f"a[href='/units/{tenant.unit_id}']")
    page.wait_for_url(f"**/units/{tenant.unit_id}")
    page.fill("#as_of", "2026-11-22")
    page.locator("form.filters button[type=submit]").click()
    rows = page.locator("table.data tbody tr")
    assert "2026-01" in page.content()
    assert rows.count() >= 3

    page.click(f"a[href='/units/{tenant.unit_id}/payments/new']")
    page.fill("#receipt_ref", "R-BROWSER-1")
    page.fill("#received_on", "2026-02-01")
    page.fill("#amount", "196.90")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"**/units/{tenant.unit_id}")
    assert "R-BROWSER-1" in page.locator(".flash").inner_text()
    first_paid = page.locator("table.data").nth(2).locator("tbody tr").first.locator("td").nth(5)
    assert "196.90" in first_paid.inner_text()


def test_wrong_password_shows_an_error(live_app: Flask, page) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant(live_app, "web")
    page.goto("/login")
    page.fill("#username", tenant.usernames[Role.ACCOUNTANT])
    page.fill("#password", "not the password")
    page.click("main form button[type=submit]")
    assert page.locator(".flash.error").is_visible()
