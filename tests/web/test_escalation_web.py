"""The policy editor: everyone reads the policy, managers edit stages and community overrides;
bad input changes nothing; there is no utility or access action to choose (L3)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from arrears.domain.escalation import Action
from arrears.persistence.enums import Role
from arrears.persistence.models import Community, EscalationPolicy, EscalationStage
from tests.web.helpers import Tenant, login, make_tenant
from tests.web.test_cases_web import login_en


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _codes(app: Flask, community_id: int | None = None) -> list[str]:
    with app.extensions["arrears"].transaction() as session:
        policy = session.scalar(select(EscalationPolicy).where(
            EscalationPolicy.community_id.is_(None) if community_id is None
            else EscalationPolicy.community_id == community_id))
        if policy is None:
            return []
        return [s.code for s in sorted(policy.stages, key=lambda s: s.position)]


def _setup(app: Flask, client: FlaskClient, tenant: Tenant) -> int:
    login_en(client, tenant.usernames[Role.MANAGER])
    assert client.post("/escalation/setup").status_code == 302
    with app.extensions["arrears"].transaction() as session:
        policy = session.scalars(select(EscalationPolicy)).one()
        return policy.id


STAGE = {"code": "courtesy_call", "name": "Courtesy call", "action": "reminder", "min_days_overdue": "30",
         "min_amount": "100.00", "min_periods": "1", "min_days_since_previous": "7", "channel": ["sms", "email", ""],
         "template": "reminder", "needs_approval": "1", "deadline_days": ""}


def test_staff_read_the_policy_with_the_l3_note_but_only_managers_edit(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    login_en(client, tenant.usernames[Role.LAWYER])
    assert client.get("/escalation/").status_code == 403  # lawyers see their legal cases only
    client.post("/logout")
    for role in [r for r in Role if r != Role.LAWYER]:
        login_en(client, tenant.usernames[role])
        page = client.get("/escalation/").get_data(as_text=True)
        assert "No action cuts utilities or access." in page and "944" in page
        assert "reminder_1" in page and "legal_ready" in page  # the shipped default is visible
        if role not in (Role.ADMIN, Role.MANAGER):
            assert client.post("/escalation/setup").status_code == 403
            assert client.post("/escalation/overrides", data={"community_id": 1}).status_code == 403
        client.post("/logout")
    assert _codes(no_csrf) == []  # reading never saved anything
    policy_id = _setup(no_csrf, client, tenant)
    assert _codes(no_csrf)[:2] == ["pre_due", "reminder_1"]
    client.post("/logout")
    login(client, tenant.usernames[Role.ACCOUNTANT])
    assert client.get(f"/escalation/policies/{policy_id}/stages/new").status_code == 403
    assert client.post(f"/escalation/policies/{policy_id}/stages/new", data=STAGE).status_code == 403


def test_the_stage_form_offers_no_utility_or_access_action(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    policy_id = _setup(no_csrf, client, tenant)
    form = client.get(f"/escalation/policies/{policy_id}/stages/new").get_data(as_text=True)
    offered = {chunk.split('"')[0] for chunk in form.split('<option value="')[1:]}
    assert {a.value for a in Action} <= offered
    assert not {v for v in offered if any(w in v for w in ("water", "power", "utility", "access", "cut"))}


def test_add_edit_move_and_delete_a_stage(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    policy_id = _setup(no_csrf, client, tenant)
    assert client.post(f"/escalation/policies/{policy_id}/stages/new", data=STAGE).status_code == 302
    codes = _codes(no_csrf)
    assert codes.index("courtesy_call") == codes.index("reminder_1") + 1  # placed by its days overdue
    with no_csrf.extensions["arrears"].transaction() as session:
        stage = session.scalar(select(EscalationStage).where(EscalationStage.code == "courtesy_call"))
        assert stage is not None
        assert stage.channels == ["sms", "email"] and stage.needs_approval and stage.min_days_since_previous == 7
        stage_id = stage.id
    edit = client.get(f"/escalation/stages/{stage_id}/edit").get_data(as_text=True)
    assert 'value="courtesy_call"' in edit
    changed = {**STAGE, "name": "Phone call", "needs_approval": "", "channel": ["email", "", ""]}
    assert client.post(f"/escalation/stages/{stage_id}/edit", data=changed).status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        stage = session.get(EscalationStage, stage_id)
        assert stage is not None
        assert (stage.name, stage.needs_approval, stage.channels) == ("Phone call", False, ["email"])
    before = _codes(no_csrf)
    assert client.post(f"/escalation/stages/{stage_id}/move", data={"direction": "up"}).status_code == 302
    after = _codes(no_csrf)
    i = before.index("courtesy_call")
    assert after[i - 1] == "courtesy_call" and after[i] == before[i - 1]
    assert client.post(f"/escalation/stages/{stage_id}/delete").status_code == 302
    assert "courtesy_call" not in _codes(no_csrf)


def test_bad_stage_input_shows_an_error_and_changes_nothing(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    policy_id = _setup(no_csrf, client, tenant)
    before = _codes(no_csrf)
    url = f"/escalation/policies/{policy_id}/stages/new"
    bad = [
        ({**STAGE, "min_days_overdue": "thirty"}, "enter a whole number"),
        ({**STAGE, "min_amount": "12.345"}, "12.345"),
        ({**STAGE, "action": "cut_water"}, "Choose an action from the list."),
        ({**STAGE, "code": "reminder_1"}, "reminder_1"),  # the service refuses a duplicate code
        ({**STAGE, "channel": ["", "", ""]}, "needs at least one channel"),
    ]
    for data, error in bad:
        response = client.post(url, data=data)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and error in page, error
        assert 'value="Courtesy call"' in page  # the form keeps what was typed
    assert _codes(no_csrf) == before


def test_community_override_create_and_delete(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    theirs = make_tenant(no_csrf, "b")
    _setup(no_csrf, client, tenant)
    with no_csrf.extensions["arrears"].transaction() as session:
        mine_c = session.scalars(select(Community).where(Community.company_id == tenant.company_id)).one()
        their_c = session.scalars(select(Community).where(Community.company_id == theirs.company_id)).one()
        mine_id, their_id, name = mine_c.id, their_c.id, mine_c.name
    assert client.post("/escalation/overrides", data={"community_id": their_id}).status_code == 404
    assert client.post("/escalation/overrides", data={"community_id": mine_id}).status_code == 302
    assert _codes(no_csrf, mine_id) == _codes(no_csrf)
    page = client.get("/escalation/").get_data(as_text=True)
    assert name in page and "Delete override" in page
    again = client.post("/escalation/overrides", data={"community_id": mine_id}, follow_redirects=True)
    assert "already has its own escalation policy" in again.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        override = session.scalar(select(EscalationPolicy).where(EscalationPolicy.community_id == mine_id))
        default = session.scalar(select(EscalationPolicy).where(EscalationPolicy.community_id.is_(None)))
        assert override is not None and default is not None
        override_id, default_id = override.id, default.id
    refused = client.post(f"/escalation/policies/{default_id}/delete", follow_redirects=True)
    assert "cannot be deleted" in refused.get_data(as_text=True)
    assert client.post(f"/escalation/policies/{override_id}/delete").status_code == 302
    assert _codes(no_csrf, mine_id) == [] and _codes(no_csrf) != []


def test_another_companys_policy_and_stages_are_not_found(no_csrf: Flask, client: FlaskClient) -> None:
    mine, theirs = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    their_policy = _setup(no_csrf, client, theirs)
    with no_csrf.extensions["arrears"].transaction() as session:
        their_stage = session.scalars(select(EscalationStage.id).where(EscalationStage.policy_id == their_policy)).first()
    client.post("/logout")
    login(client, mine.usernames[Role.MANAGER])
    assert client.get(f"/escalation/policies/{their_policy}/stages/new").status_code == 404
    assert client.get(f"/escalation/stages/{their_stage}/edit").status_code == 404
    assert client.post(f"/escalation/stages/{their_stage}/delete").status_code == 404
    assert client.post(f"/escalation/stages/{their_stage}/move", data={"direction": "down"}).status_code == 404
    assert client.post(f"/escalation/policies/{their_policy}/delete").status_code == 404
    assert their_stage in _stage_ids(no_csrf)


def _stage_ids(app: Flask) -> list[int]:
    with app.extensions["arrears"].transaction() as session:
        return list(session.scalars(select(EscalationStage.id)))


def test_policy_forms_require_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "a")
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, tenant.usernames[Role.MANAGER])
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/escalation/setup").status_code == 400
    assert _codes(app) == []
