"""End to end in Chromium: an accountant generates a public arrears notice, a manager approves
it, its PDF downloads, and the public check page (no sign-in) says it is current."""

from __future__ import annotations

import re

from flask import Flask

from arrears.persistence.enums import Role
from arrears.services import users
from tests.browser.support import COMPANY, DISPLAY_NAMES, PASSWORD, follow, sign_in, sign_out
from tests.factories import ACTOR, make_company
from tests.services.test_notices import AS_OF, build_world


def _world(app: Flask) -> tuple[int, dict[Role, str]]:
    """tests/services/test_notices.py's community, whose notice as of AS_OF lists 1-1-101 (800.00)
    and 1-1-102 (600.00) and leaves units out for a dispute, a plan, a later payment and so on."""
    with app.extensions["arrears"].transaction() as session:
        world = build_world(session, company=make_company(session, **COMPANY))
        logins = {}
        for role in (Role.ACCOUNTANT, Role.MANAGER):
            user = users.create_user(session, ACTOR, username=f"e2e-{role.value}", password=PASSWORD,
                                     display_name=DISPLAY_NAMES[role], memberships={world.company_id: role})
            logins[role] = user.username
        return world.community.id, logins


def test_generate_approve_and_check_a_public_notice(live_app: Flask, live_server: str, page, shots) -> None:  # type: ignore[no-untyped-def]
    community_id, users = _world(live_app)
    sign_in(page, users[Role.ACCOUNTANT])
    follow(page, "/notices/")
    page.click("a[href$='/notices/new']")
    page.wait_for_url(re.compile(r"/notices/new$"))
    page.select_option("#community_id", str(community_id))
    page.fill("#as_of", AS_OF.isoformat())
    page.locator("form[action$='/notices/new'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/notices/\d+$"))
    notice_url = page.url
    main = page.locator("main")
    assert "1-1-101" in main.inner_text() and "800.00" in main.inner_text()
    assert page.locator("form[action$='/approve']").count() == 0  # an accountant cannot approve
    assert page.locator("a[href$='/pdf']").count() == 0  # a draft is never printed
    sign_out(page)

    sign_in(page, users[Role.MANAGER])
    page.goto(notice_url)
    page.locator("form[action$='/approve'] button[type=submit]").click()
    page.wait_for_url(notice_url)
    assert page.locator(".flash.success").is_visible()
    assert page.locator("form[action$='/approve']").count() == 0
    content_hash = page.locator("code").filter(has_text=re.compile(r"^[0-9a-f]{64}$")).first.inner_text()
    shots(page, "07-public-notice")
    with page.expect_download() as download:
        page.click("a[href$='/pdf']")
    assert download.value.path().read_bytes()[:4] == b"%PDF"

    # The QR code's page, opened by a passer-by: no session, only whether the notice is current.
    context = page.context.browser.new_context(base_url=live_server, locale="zh-CN")
    try:
        public = context.new_page()
        public.goto(f"/n/{content_hash}")
        assert public.locator(".flash.success").is_visible()
        assert "1-1-101" not in public.locator("main").inner_text()
        shots(public, "07b-public-notice-check")
    finally:
        context.close()
