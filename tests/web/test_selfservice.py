"""The owners' self-service pages over HTTP (issue 6): nothing before the check, the full flow of a
dispute and a plan through staff triage, photo validation, revocation, caching headers."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from arrears.persistence.base import utcnow
from arrears.persistence.enums import Role
from arrears.persistence.models import Dispute, Owner, OwnerLink, OwnerRequest, PaymentPlan, Unit
from arrears.services.actor import Actor
from arrears.services.selfservice import links
from tests.web.helpers import Tenant, login, make_tenant
from tests.web.test_cases_web import build_case

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture(autouse=True)
def _no_csrf(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def _issue(app: Flask, tenant: Tenant) -> tuple[int, str, str]:
    """A link for the tenant's owner and unit: (link id, token, the right four digits)."""
    runtime = app.extensions["arrears"]
    with runtime.transaction() as session:
        link = links.issue_link(session, Actor("tester"), tenant.company_id, tenant.owner_id, tenant.unit_id,
                                now=utcnow())
        owner = session.get(Owner, tenant.owner_id)
        assert owner is not None and owner.phone
        return link.id, links.signer_from(runtime.settings).token(link), owner.phone[-4:]


def _open(client: FlaskClient, token: str, digits: str) -> None:
    response = client.post(f"/o/{token}/check", data={"digits": digits})
    assert response.status_code == 302, response.data


def _secrets(app: Flask, tenant: Tenant) -> list[str]:
    with app.extensions["arrears"].transaction() as session:
        owner = session.get(Owner, tenant.owner_id)
        unit = session.get(Unit, tenant.unit_id)
        assert owner is not None and unit is not None
        return [owner.name, unit.code]


def test_nothing_is_shown_before_the_check_and_pages_are_never_cached(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "ss1")
    _, token, digits = _issue(app, tenant)
    response = client.get(f"/o/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="link-check"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    for secret in _secrets(app, tenant):
        assert secret not in html
    assert 'id="summary"' not in html and 'nav aria-label' not in html  # no statement, no staff menu
    _open(client, token, digits)
    page = client.get(f"/o/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'id="summary"' in html and 'id="contact"' in html
    for secret in _secrets(app, tenant):
        assert secret in html


def test_bad_tokens_answer_404(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "ss2")
    _, token, _ = _issue(app, tenant)
    for bad in (token[:-1] + ("x" if token[-1] != "x" else "y"), "nothing-here"):
        response = client.get(f"/o/{bad}")
        assert response.status_code == 404
        assert response.headers["Cache-Control"] == "no-store"


def test_wrong_digits_are_counted_and_lock_the_link(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "ss3")
    link_id, token, digits = _issue(app, tenant)
    wrong = "0000" if digits != "0000" else "1111"
    for _ in range(4):
        assert client.post(f"/o/{token}/check", data={"digits": wrong}).status_code == 400
    with app.extensions["arrears"].transaction() as session:
        link = session.get(OwnerLink, link_id)
        assert link is not None and link.failed_checks == 4  # kept although the answer was an error
    assert client.post(f"/o/{token}/check", data={"digits": wrong}).status_code == 429
    assert client.post(f"/o/{token}/check", data={"digits": digits}).status_code == 429  # locked
    assert 'id="summary"' not in client.get(f"/o/{token}").get_data(as_text=True)


def test_forms_need_the_check_first(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "ss4")
    _, token, _ = _issue(app, tenant)
    assert client.post(f"/o/{token}/plan", data={"instalments": "3"}).status_code == 403
    assert client.post(f"/o/{token}/dispute", data={"category": "leak", "text": "x"}).status_code == 403


def test_a_revoked_link_stops_working_at_once(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "ss5")
    link_id, token, digits = _issue(app, tenant)
    _open(client, token, digits)
    with app.extensions["arrears"].transaction() as session:
        links.revoke_link(session, Actor("tester"), tenant.company_id, link_id, now=utcnow())
    assert client.get(f"/o/{token}").status_code == 404
    assert client.post(f"/o/{token}/plan", data={"instalments": "3"}).status_code == 404


def test_photo_uploads_are_checked(app: Flask, client: FlaskClient) -> None:
    import io

    tenant = make_tenant(app, "ss6")
    build_case(app, tenant)
    _, token, digits = _issue(app, tenant)
    _open(client, token, digits)
    bad = client.post(f"/o/{token}/dispute", data={
        "category": "leak", "text": "roof leaks", "photo": (io.BytesIO(b"GIF89a" + b"\x00" * 20), "a.gif")},
        content_type="multipart/form-data")
    assert bad.status_code == 400
    assert bad.headers["Cache-Control"] == "no-store"
    good = client.post(f"/o/{token}/dispute", data={
        "category": "leak", "text": "roof leaks", "photo": (io.BytesIO(PNG), "roof.png")},
        content_type="multipart/form-data")
    assert good.status_code == 302
    with app.extensions["arrears"].transaction() as session:
        rows = session.scalars(select(OwnerRequest)).all()
        assert len(rows) == 1 and rows[0].photo_file_id is not None


def test_full_flow_dispute_and_plan_through_staff_triage(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "ss7")
    case_id = build_case(app, tenant)
    _, token, digits = _issue(app, tenant)
    _open(client, token, digits)
    assert client.post(f"/o/{token}/dispute", data={"category": "leak", "text": "roof leaks"}).status_code == 302
    assert client.post(f"/o/{token}/plan", data={"instalments": "2"}).status_code == 302
    with app.extensions["arrears"].transaction() as session:
        dispute_id, plan_id = (session.scalar(select(OwnerRequest.id).where(OwnerRequest.kind == kind))
                               for kind in ("dispute", "plan"))
        assert session.scalar(select(func.count(Dispute.id))) == 0

    staff = app.test_client()
    login(staff, tenant.usernames[Role.ACCOUNTANT])
    listing = staff.get("/requests/").get_data(as_text=True)
    assert f'data-request="{dispute_id}"' in listing and f'data-request="{plan_id}"' in listing
    case_page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'id="owner-links"' in case_page and f'data-request="{plan_id}"' in case_page
    assert staff.post(f"/requests/{dispute_id}/accept").status_code == 302
    with app.extensions["arrears"].transaction() as session:
        dispute = session.scalars(select(Dispute)).one()
        assert dispute.case_id == case_id and dispute.source == "owner"

    shown = staff.get(f"/requests/{plan_id}").get_data(as_text=True)
    arrears = Decimal(re.search(r'id="request-arrears" data-amount="([0-9.]+)"', shown).group(1))  # type: ignore[union-attr]
    assert arrears > 0
    first = arrears // 2
    today = dt.date.today()
    form = {"due_on": [(today + dt.timedelta(days=20)).isoformat(), (today + dt.timedelta(days=50)).isoformat()],
            "amount": [str(first), str(arrears - first)]}
    wrong = {"due_on": form["due_on"], "amount": [str(first), "1.00"]}
    assert staff.post(f"/requests/{plan_id}/offer", data=wrong).status_code == 400
    assert staff.post(f"/requests/{plan_id}/offer", data=form).status_code == 302

    page = client.get(f"/o/{token}").get_data(as_text=True)
    assert f'id="confirm-{plan_id}"' in page
    assert client.post(f"/o/{token}/requests/{plan_id}/confirm").status_code == 302
    assert client.post(f"/o/{token}/requests/{plan_id}/confirm").status_code == 302  # double submit
    with app.extensions["arrears"].transaction() as session:
        assert session.scalar(select(func.count(PaymentPlan.id)).where(PaymentPlan.case_id == case_id)) == 1
        request = session.get(OwnerRequest, plan_id)
        assert request is not None and request.status.value == "confirmed"


def test_staff_issue_and_revoke_links_from_the_case_page(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "ss8")
    case_id = build_case(app, tenant)
    login(client, tenant.usernames[Role.ACCOUNTANT])
    response = client.post("/requests/links", data={"case_id": case_id, "owner_id": tenant.owner_id, "days": "30"})
    assert response.status_code == 302
    with app.extensions["arrears"].transaction() as session:
        link = session.scalars(select(OwnerLink)).one()
        link_id = link.id
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'data-link="{link_id}" data-state="active"' in page and "/o/" in page
    assert client.post(f"/requests/links/{link_id}/revoke", data={"case_id": case_id}).status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'data-link="{link_id}" data-state="revoked"' in page


def test_the_page_follows_the_owners_language(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "ss9")
    with app.extensions["arrears"].transaction() as session:
        owner = session.get(Owner, tenant.owner_id)
        assert owner is not None
        owner.language = "en"
    _, token, digits = _issue(app, tenant)
    _open(client, token, digits)
    html = client.get(f"/o/{token}").get_data(as_text=True)
    assert '<html lang="en">' in html and "Your property fee account" in html
    client.post("/language", data={"lang": "zh_CN", "next": f"/o/{token}"})  # the switch wins
    assert '<html lang="zh-CN">' in client.get(f"/o/{token}").get_data(as_text=True)
