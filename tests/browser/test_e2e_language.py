"""End to end in Chromium: the header's language switch turns the pages English and back."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from arrears.persistence.enums import Role
from tests.browser.support import DEMO_OWNERS, follow, seed_demo_ledger, sign_in


def _switch(page, lang: str) -> None:  # type: ignore[no-untyped-def]
    url = page.url
    page.click(f"form[action$='/language'] button[name=lang][value={lang}]")
    page.wait_for_url(url)  # the switch returns to the same page


def test_switch_to_english_and_back(live_app: Flask, page, shots, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    demo = seed_demo_ledger(live_app, tmp_path)
    unit_id = demo.unit_ids[DEMO_OWNERS[0].unit]
    sign_in(page, demo.usernames[Role.MANAGER])
    follow(page, "/cases/")
    heading = page.locator("main h1").first
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "待办案件" in heading.inner_text()

    _switch(page, "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Work queue" in heading.inner_text()
    # It sticks for the session: the statement is English too.
    page.goto(f"/units/{unit_id}")
    page.wait_for_url(re.compile(rf"/units/{unit_id}$"))
    assert "Record payment" in page.locator(f"a[href='/units/{unit_id}/payments/new']").inner_text()
    shots(page, "10-english-unit-statement")

    _switch(page, "zh_CN")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    follow(page, "/cases/")
    assert "待办案件" in page.locator("main h1").first.inner_text()
