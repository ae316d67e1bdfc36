"""Keyboard use, visible focus, tablet layout, error pages in both languages and job progress — in Chromium."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from arrears.persistence.enums import Role
from arrears.persistence.models import BackgroundJob, Unit
from tests.web.helpers import PASSWORD, make_tenant

CJK = re.compile(r"[\u4e00-\u9fff]")
TABLET = {"width": 800, "height": 1100}


def _sign_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/")


def _focused(page: Any) -> dict[str, str]:
    return page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el);
        return {id: el.id, tag: el.tagName.toLowerCase(), type: el.getAttribute('type') || '',
                outline: style.outlineStyle, width: style.outlineWidth};
    }""")


def _no_horizontal_overflow(page: Any) -> None:
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"{page.url}: page is {sizes[0]} px wide in a {sizes[1]} px window"


def test_login_form_is_reached_by_tab_with_a_visible_focus(live_app: Flask, page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.mouse.click(2, 2)  # start from the top of the page, as after loading it without autofocus
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        seen.append(_focused(page))
        if seen[-1]["tag"] == "button" and seen[-1]["type"] == "submit" and seen[-1]["id"] == "":
            break
    ids = [f["id"] or f"{f['tag']}:{f['type']}" for f in seen]
    assert ids.index("username") < ids.index("password") < ids.index("button:submit"), ids
    for focus in seen:  # every stop shows where the focus is: a solid ring of at least 2 px
        assert focus["outline"] == "solid" and float(focus["width"].rstrip("px")) >= 2, focus

    # backwards from the (autofocused) user name field the skip link is reached and shown on screen
    page.goto("/login")
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.classList.contains('skip')"):
            break
    assert page.evaluate("() => document.activeElement.classList.contains('skip')")
    assert page.evaluate("() => document.activeElement.getBoundingClientRect().left") >= 0
    assert _focused(page)["outline"] != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_slash_then_enter_opens_a_unit(live_app: Flask, page) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant(live_app, "kbd")
    with live_app.extensions["arrears"].transaction() as session:
        code = session.get(Unit, tenant.unit_id).code
    _sign_in(page, tenant.usernames[Role.ACCOUNTANT])

    page.goto("/reports/")
    page.keyboard.press("/")
    assert _focused(page)["id"] == "find"
    assert _focused(page)["outline"] != "none"
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/units/{tenant.unit_id}")
    assert page.locator("#find").count() == 1  # the finder is on every staff page

    # "/" typed into a field is just a character
    page.goto("/units/")
    page.focus("#q")
    page.keyboard.type("1/2")
    assert page.input_value("#q") == "1/2"
    assert _focused(page)["id"] == "q"


def test_tablet_width_menu_and_no_sideways_scrolling(live_app: Flask, page) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant(live_app, "tab")
    page.set_viewport_size(TABLET)
    _sign_in(page, tenant.usernames[Role.ACCOUNTANT])

    toggle = page.locator("[data-testid=menu-toggle]")
    assert toggle.is_visible()
    assert toggle.bounding_box()["height"] >= 40
    units_link = page.locator("nav a[href='/units/']")
    assert not units_link.is_visible()  # collapsed on a tablet …
    toggle.focus()
    page.keyboard.press("Enter")  # … and opened from the keyboard
    assert units_link.is_visible()
    assert units_link.bounding_box()["height"] >= 40  # a touch target
    units_link.click()
    page.wait_for_url("**/units/")
    assert page.locator("nav a[aria-current=page]").get_attribute("href") == "/units/"

    for url in ("/units/", "/cases/", f"/units/{tenant.unit_id}", "/jobs/"):
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        _no_horizontal_overflow(page)

    # a table wider than the screen scrolls inside its own labelled region, reachable by keyboard
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(f"/units/{tenant.unit_id}")
    _no_horizontal_overflow(page)
    wrap = page.locator(".table-wrap.scrolls").first
    assert wrap.get_attribute("role") == "region" and wrap.get_attribute("tabindex") == "0"
    assert wrap.get_attribute("aria-label")

    # on a laptop the whole menu shows without a toggle
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/units/")
    assert not toggle.is_visible()
    assert page.locator("nav a[href='/cases/']").is_visible()


def test_not_found_page_in_chinese_then_in_english(live_app: Flask, page) -> None:  # type: ignore[no-untyped-def]
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("[data-testid=error]").get_attribute("data-code") == "404"
    assert CJK.search(page.locator("#error-title").inner_text())
    assert page.locator("#error-home").get_attribute("href") == "/"

    page.locator("#lang-en").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url("**/no-such-page*")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#error-title").inner_text() == "Not found."
    assert not CJK.search(page.locator("#error-hint").inner_text())
    assert page.locator("#lang-en").get_attribute("aria-current") == "true"


def test_job_page_shows_progress_and_then_the_result(live_app: Flask, page) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant(live_app, "job")
    manager = tenant.usernames[Role.MANAGER]
    with live_app.extensions["arrears"].transaction() as session:
        job = BackgroundJob(company_id=tenant.company_id, kind="billing", created_by=manager, done=3, total=10)
        session.add(job)
        session.flush()
        job_id = job.id
    _sign_in(page, manager)

    page.goto(f"/jobs/{job_id}")
    bar = page.locator("[data-testid=job-progress]")
    assert bar.get_attribute("max") == "10" and bar.get_attribute("value") == "3"
    state = page.locator("[data-testid=job-state]")
    assert state.get_attribute("aria-live") == "polite" and "3 / 10" in state.inner_text()
    assert page.locator("[data-while-running]").is_visible()  # "you can leave this page …"
    assert page.locator("[data-while-running] a[href='/jobs/']").count() == 1
    assert page.locator("noscript").count() == 1  # a refresh for browsers without script
    assert page.locator("#next").is_hidden()

    with live_app.extensions["arrears"].transaction() as session:
        stored = session.get(BackgroundJob, job_id)
        stored.done, stored.total = 7, 10
    page.wait_for_function("() => document.getElementById('bar').value === 7")

    with live_app.extensions["arrears"].transaction() as session:
        stored = session.get(BackgroundJob, job_id)
        stored.status, stored.done = "done", 10
        stored.result = {"created": 4, "amount": "1234.50", "units": 2, "warnings": [], "warning_count": 0}
    page.wait_for_selector("#job[data-status=done]")
    assert page.locator("#next a").is_visible()  # the result: units in arrears
    assert page.locator("#result").is_visible() and "4" in page.locator("#result").inner_text()
    assert page.locator("[data-while-running]").is_hidden()

    page.goto("/jobs/")  # where to find it again
    assert page.locator(f"[data-job='{job_id}'] a[href='/jobs/{job_id}']").count() == 1


def test_every_error_page_explains_itself_in_both_languages(live_app: Flask) -> None:
    """Runs without a browser: each status has its own title, a hint and a link home; the API stays JSON."""
    from flask import abort

    from arrears.web.access import public

    def fail(code: int):  # type: ignore[no-untyped-def]
        if code == 501:
            raise RuntimeError("boom")  # an unexpected exception becomes the 500 page
        abort(code)

    live_app.add_url_rule("/fail/<int:code>", "fail", public(fail))
    live_app.add_url_rule("/api/fail/<int:code>", "api_fail", public(fail))
    live_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = live_app.test_client()
    titles: dict[str, set[str]] = {"zh_CN": set(), "en": set()}
    for lang in ("zh_CN", "en"):
        with client.session_transaction() as session:
            session["lang"] = lang
        for code in (400, 403, 404, 405, 413, 429, 500, 501):
            response = client.get(f"/fail/{code}")
            shown = 500 if code == 501 else code
            assert response.status_code == shown and response.mimetype == "text/html"
            page = response.get_data(as_text=True)
            assert f'data-code="{shown}"' in page and 'id="error-home" class="button" href="/"' in page
            assert re.search(r'<p id="error-hint">[^<]{20,}</p>', page), (lang, code)
            title = re.search(r'<h1 id="error-title">([^<]+)</h1>', page)
            assert title, page
            titles[lang].add(title.group(1))
            assert bool(CJK.search(title.group(1))) is (lang == "zh_CN"), (lang, code, title.group(1))
    assert len(titles["en"]) == len(titles["zh_CN"]) == 7  # one title per status (501 shows the 500 page)
    assert "Not found." in titles["en"] and "Too many attempts; please wait and try again." in titles["en"]

    api = client.get("/api/fail/404")
    assert api.status_code == 404 and api.get_json()["status"] == 404
    assert client.get("/api/fail/429").get_json()["status"] == 429


def test_without_script_the_menu_is_open_and_a_job_page_refreshes(live_app: Flask, page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    tenant = make_tenant(live_app, "nojs")
    manager = tenant.usernames[Role.MANAGER]
    with live_app.extensions["arrears"].transaction() as session:
        job = BackgroundJob(company_id=tenant.company_id, kind="billing", created_by=manager, done=1, total=4)
        session.add(job)
        session.flush()
        job_id = job.id
    context = page.context.browser.new_context(base_url=live_server, locale="zh-CN", java_script_enabled=False,
                                               viewport=TABLET)
    try:
        plain = context.new_page()
        _sign_in(plain, manager)
        assert plain.locator("nav a[href='/units/']").is_visible()  # nothing collapsed without script
        plain.goto(f"/units/{tenant.unit_id}")
        _no_horizontal_overflow(plain)
        plain.goto(f"/jobs/{job_id}")
        refresh = plain.locator("meta[http-equiv=refresh]")
        assert refresh.count() == 1 and refresh.get_attribute("content") == "5"
        assert plain.locator("[data-testid=job-progress]").get_attribute("value") == "1"
        with live_app.extensions["arrears"].transaction() as session:
            stored = session.get(BackgroundJob, job_id)
            stored.status, stored.done, stored.result = "done", 4, {"created": 4, "amount": "10.00", "units": 1}
        plain.wait_for_selector("#job[data-status=done]", timeout=15_000)  # the refresh brought the result
        assert plain.locator("#next a").is_visible() and plain.locator("meta[http-equiv=refresh]").count() == 0
    finally:
        context.close()
