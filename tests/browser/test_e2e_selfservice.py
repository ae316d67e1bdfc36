"""End to end in Chromium: an owner opens their self-service link (no account), proves who they
are with the last four digits of their phone, files a dispute; staff then see it on /requests/."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from flask import Flask

from arrears.persistence.base import utcnow
from arrears.persistence.enums import Role
from arrears.services.actor import Actor
from tests.browser.support import DEMO_OWNERS, follow, seed_demo_ledger, sign_in

READY = importlib.util.find_spec("arrears.services.selfservice") is not None and \
    importlib.util.find_spec("arrears.services.selfservice.links") is not None
pytestmark = pytest.mark.skipif(not READY, reason="the self-service module (arrears.services.selfservice.links) "
                                                  "is not there yet")


def _link(app: Flask, folder: Path) -> tuple[str, str, str]:
    """The demo ledger and a fresh link for 陈思远 and 1-1-101: (token, unit code, a staff login)."""
    from arrears.services.selfservice import links

    demo = seed_demo_ledger(app, folder)
    owner = DEMO_OWNERS[0]
    with app.extensions["arrears"].transaction() as session:
        link = links.issue_link(session, Actor.system("e2e"), demo.company_id, demo.owner_ids[owner.unit],
                                demo.unit_ids[owner.unit], now=utcnow())
        token = links.signer_from(app.extensions["arrears"].settings).token(link)
    return token, owner.unit, demo.usernames[Role.ACCOUNTANT]


def test_an_owner_files_a_dispute_through_the_link_and_staff_see_it(live_app: Flask, live_server: str, page,  # type: ignore[no-untyped-def]
                                                                    shots, tmp_path: Path) -> None:
    token, unit_code, staff = _link(live_app, tmp_path)
    owner_url = re.compile(rf"/o/{re.escape(token)}$")

    context = page.context.browser.new_context(base_url=live_server, locale="zh-CN")  # no sign-in
    try:
        owner = context.new_page()
        owner.set_default_timeout(10_000)
        owner.goto(f"/o/{token}")
        assert owner.locator("#summary").count() == 0  # nothing shown before the check
        owner.fill("#digits", DEMO_OWNERS[0].phone[-4:])
        owner.locator("form[action$='/check'] button[type=submit]").click()
        owner.wait_for_url(owner_url)
        owner.locator("#summary").wait_for()
        assert owner.locator("#arrears").get_attribute("data-amount") not in (None, "", "0", "0.00")
        shots(owner, "11-owner-self-service")

        owner.locator("#dispute-form > summary").click()
        owner.select_option("#category", "service_quality")
        owner.fill("#text", "电梯三月至今经常停运，物业未及时维修。")
        owner.locator("form[action$='/dispute'] button[type=submit]").click()
        owner.wait_for_url(owner_url)
        assert owner.locator(".flash.success").is_visible()
        assert owner.locator("#requests tbody tr").count() == 1
    finally:
        context.close()

    sign_in(page, staff)
    follow(page, "/requests/")
    rows = page.locator("#owner-requests tbody tr[data-status=submitted]")
    assert rows.count() == 1
    assert unit_code in rows.first.inner_text()
