"""Public arrears notices on the web (issue 4 §3): generate, approve (managers only), print only
once approved, take-down after a payment, correction, and the public check page /n/<hash>."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from arrears.persistence.enums import Role
from arrears.persistence.models import (
    AuditEntry,
    Company,
    NoticeStatus,
    Owner,
    PublicNotice,
)
from tests.factories import make_user
from tests.services.test_notices import AS_OF, build_world, pay
from tests.web.helpers import login


@dataclass
class Site:
    company_id: int
    community_id: int
    users: dict[Role, str]
    owners: list[tuple[str, str, str]]


def _site(app: Flask, prefix: str) -> Site:
    with app.extensions["arrears"].transaction() as session:
        w = build_world(session)
        users = {role: make_user(session, w.company, role, username=f"{prefix}-{role.value}").username
                 for role in Role}
        owners = [(o.name, o.id_number, o.phone or "")
                  for o in session.scalars(select(Owner).where(Owner.company_id == w.company_id))]
        return Site(w.company_id, w.community.id, users, owners)


def _generate(client: FlaskClient, site: Site) -> int:
    response = client.post("/notices/new", data={"community_id": site.community_id, "as_of": AS_OF.isoformat()})
    assert response.status_code == 302, response.data.decode()
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _notice(app: Flask, notice_id: int) -> PublicNotice:
    with app.extensions["arrears"].transaction() as session:
        notice = session.get(PublicNotice, notice_id)
        assert notice is not None
        session.expunge(notice)
        return notice


@pytest.fixture
def site(app: Flask) -> Site:
    app.config["WTF_CSRF_ENABLED"] = False
    return _site(app, "n")


def test_generate_review_approve_and_print(app: Flask, client: FlaskClient, site: Site) -> None:
    login(client, site.users[Role.ACCOUNTANT])
    assert client.get("/notices/").status_code == 200
    assert client.get("/notices/new").status_code == 200
    notice_id = _generate(client, site)
    page = client.get(f"/notices/{notice_id}").data.decode()
    assert "1-1-101" in page and "800.00" in page and "1-1-102" in page
    assert "1-1-201" in page  # staff see what was left out (former owner) — never printed
    # not approved yet: no PDF, and an accountant cannot approve
    assert client.get(f"/notices/{notice_id}/pdf").status_code == 403
    assert client.post(f"/notices/{notice_id}/approve").status_code == 403
    assert _notice(app, notice_id).status == NoticeStatus.DRAFT

    client.post("/logout")
    login(client, site.users[Role.MANAGER])
    response = client.post(f"/notices/{notice_id}/approve")
    assert response.status_code == 302
    notice = _notice(app, notice_id)
    assert notice.status == NoticeStatus.APPROVED and notice.approved_by == site.users[Role.MANAGER]
    assert client.post(f"/notices/{notice_id}/approve").status_code == 400  # not a draft any more

    response = client.get(f"/notices/{notice_id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "1-1-101" in text and "800.00" in text
    for name, id_number, phone in site.owners:
        assert name not in text and id_number not in text and phone not in text
    with app.extensions["arrears"].transaction() as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == notice_id,
                                                                      AuditEntry.entity == "public_notice")))
    assert {"notice.generate", "notice.approve"} <= actions


@pytest.mark.parametrize("role", [Role.ACCOUNTANT, Role.LAWYER, Role.AUDITOR])
def test_only_managers_approve(app: Flask, client: FlaskClient, site: Site, role: Role) -> None:
    login(client, site.users[Role.MANAGER])
    notice_id = _generate(client, site)
    client.post("/logout")
    login(client, site.users[role])
    assert client.post(f"/notices/{notice_id}/approve").status_code == 403
    assert client.post(f"/notices/{notice_id}/withdraw", data={"reason": "x"}).status_code == 403
    assert client.get(f"/notices/{notice_id}/pdf").status_code == 403
    assert _notice(app, notice_id).status == NoticeStatus.DRAFT


def test_readers_cannot_generate(client: FlaskClient, site: Site) -> None:
    login(client, site.users[Role.AUDITOR])
    assert client.get("/notices/").status_code == 200
    assert client.post("/notices/new", data={"community_id": site.community_id, "as_of": "2026-05-01"}).status_code == 403


def test_bad_input_shows_the_form_again(client: FlaskClient, site: Site) -> None:
    login(client, site.users[Role.MANAGER])
    assert client.post("/notices/new", data={"community_id": site.community_id, "as_of": "01/05/2026"}).status_code == 400
    assert client.post("/notices/new", data={"community_id": "x", "as_of": "2026-05-01"}).status_code == 400
    response = client.post("/notices/new", data={"community_id": site.community_id, "as_of": "2026-01-10"})
    assert response.status_code == 400


def test_payment_take_down_and_correction(app: Flask, client: FlaskClient, site: Site) -> None:
    login(client, site.users[Role.MANAGER])
    notice_id = _generate(client, site)
    client.post(f"/notices/{notice_id}/approve")
    content_hash = _notice(app, notice_id).content_hash
    assert "1-1-101" not in client.get(f"/n/{content_hash}").data.decode()

    with app.extensions["arrears"].transaction() as session:
        from arrears.persistence.models import Community, Unit
        from tests.services.test_notices import World

        company = session.get(Company, site.company_id)
        community = session.get(Community, site.community_id)
        assert company is not None and community is not None
        w = World(company, community)
        w.units["listed"] = session.scalar(select(Unit).where(Unit.code == "1-1-101",
                                                              Unit.community_id == community.id))
        owner_id = session.scalar(select(Owner.id).where(Owner.company_id == company.id, Owner.name == "李明华"))
        w.owners["listed"] = session.get(Owner, owner_id)
        pay(session, w, "listed", "800.00", dt.date.today())

    client.post("/notices/check-payments")
    notice = _notice(app, notice_id)
    assert notice.takedown_marked_on is not None
    assert notice.takedown_units == [{"unit": "1-1-101", "reason": "paid_since"}]
    assert "take" in client.get(f"/notices/{notice_id}").data.decode().lower()
    page = client.get(f"/n/{content_hash}").data.decode()
    assert "no longer current" in page or "已失效" in page or "不是" in page

    assert client.post(f"/notices/{notice_id}/taken-down").status_code == 302
    notice = _notice(app, notice_id)
    assert notice.taken_down_by == site.users[Role.MANAGER] and notice.taken_down_on is not None

    response = client.post(f"/notices/{notice_id}/correct", data={"as_of": AS_OF.isoformat()})
    assert response.status_code == 302
    corrected_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    corrected = _notice(app, corrected_id)
    units = [e["unit"] for e in corrected.entries]
    assert corrected.replaces_id == notice_id and "1-1-102" in units and "1-1-101" not in units
    assert _notice(app, notice_id).status == NoticeStatus.SUPERSEDED


def test_public_page_shows_current_or_superseded_and_nothing_personal(app: Flask, client: FlaskClient,
                                                                      site: Site) -> None:
    login(client, site.users[Role.MANAGER])
    first = _generate(client, site)
    draft_hash = _notice(app, first).content_hash
    client.post("/logout")
    assert client.get(f"/n/{draft_hash}").status_code == 404  # a draft was never posted
    login(client, site.users[Role.MANAGER])
    client.post(f"/notices/{first}/approve")
    second = _generate(client, site)
    client.post(f"/notices/{second}/approve")
    client.post("/logout")

    current = client.get(f"/n/{_notice(app, second).content_hash}")
    assert current.status_code == 200
    assert current.headers["X-Robots-Tag"].startswith("noindex")
    old = client.get(f"/n/{draft_hash}")
    assert old.status_code == 200
    for page, state in ((current.data.decode(), "current"), (old.data.decode(), "superseded")):
        assert "金陵花园" in page and "2026年5月1日" in page
        for name, id_number, phone in site.owners:
            assert name not in page and id_number not in page and phone not in page
        for room in ("1-1-101", "1-1-102", "800.00", "600.00"):
            assert room not in page
    assert client.get(f"/n/{'0' * 64}").status_code == 404
    assert client.get("/n/nonsense").status_code == 404


def test_another_company_gets_404(app: Flask, client: FlaskClient, site: Site) -> None:
    other = _site(app, "o")
    login(client, site.users[Role.MANAGER])
    notice_id = _generate(client, site)
    client.post(f"/notices/{notice_id}/approve")
    client.post("/logout")
    login(client, other.users[Role.MANAGER])
    assert client.get(f"/notices/{notice_id}").status_code == 404
    assert client.get(f"/notices/{notice_id}/pdf").status_code == 404
    assert client.post(f"/notices/{notice_id}/approve").status_code == 404
    assert client.post(f"/notices/{notice_id}/taken-down").status_code == 404
    assert client.post(f"/notices/{notice_id}/correct", data={}).status_code == 404
    assert client.post("/notices/new", data={"community_id": site.community_id, "as_of": "2026-05-01"}).status_code == 404
    assert "GS-" not in client.get("/notices/").data.decode()
