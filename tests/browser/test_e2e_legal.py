"""End to end in Chromium on the demo data: a manager finds a legal-ready case in the work queue,
opens a legal case from it and downloads the filing packet, a PDF that names the unit."""

from __future__ import annotations

import re

from flask import Flask

from arrears.services.demo import DEMO_LOGINS, load_demo
from tests.browser.support import JOB_TIMEOUT_MS, follow, sign_in
from tests.documents.test_legal_docs import pdf_text


def _demo(app: Flask) -> None:
    """The demo company at a small scale, as of the company's today (the pages' today)."""
    with app.extensions["arrears"].transaction() as session:
        load_demo(session, seed=7, scale=0.03)


def _password(username: str) -> str:
    return next(password for name, password, _role in DEMO_LOGINS if name == username)


def test_open_a_legal_case_and_download_its_filing_packet(live_app: Flask, page, shots) -> None:  # type: ignore[no-untyped-def]
    _demo(live_app)
    sign_in(page, "manager", _password("manager"))
    follow(page, "/")
    shots(page, "01-dashboard")

    follow(page, "/cases/")
    shots(page, "04-work-queue")
    page.select_option("#stage", "legal_ready")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"/cases/\?.*stage=legal_ready"))
    rows = page.locator("table.data tbody tr")
    assert rows.count() >= 1
    rows.first.locator("a[href^='/cases/']").click()
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    case_id = int(page.url.rsplit("/", 1)[1])

    page.click(f"a[href='/legal/open/{case_id}']")
    page.wait_for_url(re.compile(rf"/legal/open/{case_id}$"))
    unit_code = page.locator(f"h1 a[href='/cases/{case_id}']").inner_text().strip()
    assert re.fullmatch(r"[\w-]+", unit_code), unit_code
    opener = page.locator(f"form[action$='/legal/open/{case_id}']")
    assert opener.locator("button[type=submit]").is_enabled(), page.locator(".legal-refusal").all_inner_texts()
    opener.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/legal/\d+$"))
    assert page.locator(".flash.success").is_visible()
    legal_url = page.url
    shots(page, "08-legal-case")

    # The packet renders in a background job; the page reloads itself when it is done.
    page.locator("form.packet button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(legal_url) + r"(#packets)?$"))
    pdf_link = page.locator("a[href^='/legal/jobs/'][href$='/pdf']")
    pdf_link.wait_for(timeout=JOB_TIMEOUT_MS)
    with page.expect_download() as download:
        pdf_link.click()
    data = download.value.path().read_bytes()
    assert data[:4] == b"%PDF"
    assert download.value.suggested_filename.endswith(".pdf")
    assert unit_code in pdf_text(data)
