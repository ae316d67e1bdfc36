"""Run history and the prepared-batch review: approve, remove and hold change exactly the chosen
rows, bulk decisions are confirmed with a count first, and approved actions are queued."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from arrears.persistence.enums import ActionStatus, MessageStatus, Role
from arrears.persistence.models import CaseHold, EscalationAction, OutboundMessage, Owner
from tests.web.helpers import login, make_tenant
from tests.web.test_cases_web import _today, build_case, build_run, login_en


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _statuses(app: Flask, ids: list[int]) -> list[str]:
    with app.extensions["arrears"].transaction() as session:
        rows = session.scalars(select(EscalationAction).where(EscalationAction.id.in_(ids))
                               .order_by(EscalationAction.id)).all()
        return [row.status.value for row in rows]


def test_run_history_shows_counts_including_sent_and_failed(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    case_id = build_case(no_csrf, tenant)
    built = build_run(no_csrf, tenant, case_id, actions=2,
                      messages=(MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.FAILED))
    login_en(client, tenant.usernames[Role.AUDITOR])
    page = client.get("/runs/").get_data(as_text=True)
    assert f"/runs/{built.run_id}\"" in page
    cells = page.split(f"/runs/{built.run_id}\"")[1].split("</tr>")[0]
    numbers = [c.split(">")[-1] for c in cells.split("</td>") if 'class="num"' in c]
    # evaluated, opened, reopened, advanced, closed, prepared, sent, failed, waiting
    assert numbers[:9] == ["7", "2", "0", "1", "1", "2", "2", "1", "2"]
    assert "1 errors" in page
    detail = client.get(f"/runs/{built.run_id}").get_data(as_text=True)
    assert "why-0" in detail and "why-1" in detail and "unit 9: no address" in detail
    assert 'name="action_id"' not in detail  # an auditor sees the batch without the forms


def test_only_writers_decide_and_another_company_gets_404(no_csrf: Flask, client: FlaskClient) -> None:
    mine, theirs = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    their = build_run(no_csrf, theirs, build_case(no_csrf, theirs), actions=1)
    mine_built = build_run(no_csrf, mine, build_case(no_csrf, mine), actions=1)
    for role in (Role.LAWYER, Role.AUDITOR):
        login(client, mine.usernames[role])
        assert client.post(f"/runs/{mine_built.run_id}/decide",
                           data={"row": f"approve:{mine_built.action_ids[0]}"}).status_code == 403
        assert client.post("/runs/queue").status_code == 403
        client.post("/logout")
    login(client, mine.usernames[Role.ACCOUNTANT])
    assert client.get(f"/runs/{their.run_id}").status_code == 404
    assert client.post(f"/runs/{their.run_id}/decide", data={"decision": "approve", "confirm": "1",
                                                              "action_id": their.action_ids}).status_code == 404
    # their action ids smuggled into my run's form are not in my batch: nothing happens
    response = client.post(f"/runs/{mine_built.run_id}/decide", data={"decision": "approve", "confirm": "1",
                                                                      "action_id": their.action_ids})
    assert response.status_code == 400
    assert _statuses(no_csrf, their.action_ids + mine_built.action_ids) == ["prepared", "prepared"]
    assert f"/runs/{their.run_id}\"" not in client.get("/runs/").get_data(as_text=True)


def test_bulk_approve_confirms_the_count_then_changes_only_the_selected_rows(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=3)
    a, b, c = built.action_ids
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    confirm = client.post(f"/runs/{built.run_id}/decide", data={"decision": "approve", "action_id": [a, c]})
    assert confirm.status_code == 200 and "2 rows will be approved." in confirm.get_data(as_text=True)
    assert _statuses(no_csrf, [a, b, c]) == ["prepared"] * 3  # nothing changes before confirming
    done = client.post(f"/runs/{built.run_id}/decide", data={"decision": "approve", "action_id": [a, c],
                                                             "confirm": "1"})
    assert done.status_code == 302
    assert _statuses(no_csrf, [a, b, c]) == ["approved", "prepared", "approved"]
    # an approved row is frozen: approving or removing it again is refused and changes nothing
    again = client.post(f"/runs/{built.run_id}/decide", data={"decision": "remove", "action_id": [a, b],
                                                              "reason": "duplicate", "confirm": "1"})
    assert again.status_code == 400 and "can no longer be changed" in again.get_data(as_text=True)
    assert _statuses(no_csrf, [a, b, c]) == ["approved", "prepared", "approved"]


def test_remove_needs_a_reason_and_per_row_approve(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=3)
    a, b, c = built.action_ids
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    ask = client.post(f"/runs/{built.run_id}/decide", data={"row": f"remove:{b}"})
    assert ask.status_code == 200 and "1 rows will be removed from the batch." in ask.get_data(as_text=True)
    no_reason = client.post(f"/runs/{built.run_id}/decide", data={"decision": "remove", "action_id": [b],
                                                                  "confirm": "1", "reason": "  "})
    assert no_reason.status_code == 400 and "Give a reason." in no_reason.get_data(as_text=True)
    assert _statuses(no_csrf, [a, b, c]) == ["prepared"] * 3
    removed = client.post(f"/runs/{built.run_id}/decide", data={"decision": "remove", "action_id": [b],
                                                                "confirm": "1", "reason": "paid at the desk"})
    assert removed.status_code == 302
    assert client.post(f"/runs/{built.run_id}/decide", data={"row": f"approve:{c}"}).status_code == 302
    assert _statuses(no_csrf, [a, b, c]) == ["prepared", "removed", "approved"]
    with no_csrf.extensions["arrears"].transaction() as session:
        action = session.get(EscalationAction, b)
        assert action is not None and action.removed_reason == "paid at the desk" and action.decided_by


def test_approve_all_confirms_and_approves_every_prepared_row(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=3)
    other = build_run(no_csrf, tenant, built.case_id, actions=1)  # another run's row stays untouched
    login_en(client, tenant.usernames[Role.MANAGER])
    ask = client.post(f"/runs/{built.run_id}/decide", data={"decision": "approve_all"})
    assert "3 rows will be approved." in ask.get_data(as_text=True)
    done = client.post(f"/runs/{built.run_id}/decide", data={"decision": "approve", "confirm": "1",
                                                             "action_id": built.action_ids})
    assert done.status_code == 302
    assert _statuses(no_csrf, built.action_ids + other.action_ids) == ["approved"] * 3 + ["prepared"]


def test_hold_places_a_hold_and_takes_the_row_out(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=2)
    a, b = built.action_ids
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    bad = client.post(f"/runs/{built.run_id}/decide", data={"decision": "hold", "action_id": [a], "confirm": "1",
                                                            "reason": "owner in hospital", "ends_on": "soon"})
    assert bad.status_code == 400
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.scalars(select(CaseHold)).all() == []
    ends = (_today() + dt.timedelta(days=14)).isoformat()
    ok = client.post(f"/runs/{built.run_id}/decide", data={"decision": "hold", "action_id": [a], "confirm": "1",
                                                           "reason": "owner in hospital", "ends_on": ends})
    assert ok.status_code == 302, ok.get_data(as_text=True)
    assert _statuses(no_csrf, [a, b])[0] == "removed"
    with no_csrf.extensions["arrears"].transaction() as session:
        hold = session.scalars(select(CaseHold)).one()
        assert (hold.case_id, hold.reason, hold.ends_on.isoformat()) == (built.case_id, "owner in hospital", ends)


def test_queue_for_sending_calls_the_outbox(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=1)
    with no_csrf.extensions["arrears"].transaction() as session:
        owner = session.get(Owner, tenant.owner_id)
        assert owner is not None
        owner.email = "owner@example.com"
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    page = client.get(f"/runs/{built.run_id}").get_data(as_text=True)
    assert "Queue 0 approved actions for sending" in page
    client.post(f"/runs/{built.run_id}/decide", data={"row": f"approve:{built.action_ids[0]}"})
    assert "Queue 1 approved actions for sending" in client.get(f"/runs/{built.run_id}").get_data(as_text=True)
    response = client.post("/runs/queue", data={"next": f"/runs/{built.run_id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/runs/{built.run_id}")
    assert _statuses(no_csrf, built.action_ids) == [ActionStatus.DISPATCHED.value]
    with no_csrf.extensions["arrears"].transaction() as session:
        message = session.scalars(select(OutboundMessage)).one()
        assert (message.channel.value, message.status.value, message.address) == ("email", "queued",
                                                                                  "owner@example.com")
    assert "1 messages queued for sending." in client.get(f"/runs/{built.run_id}").get_data(as_text=True)
    # nothing approved is left: queueing again creates nothing
    client.post("/runs/queue")
    with no_csrf.extensions["arrears"].transaction() as session:
        assert len(session.scalars(select(OutboundMessage)).all()) == 1


def test_decisions_require_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "a")
    built = build_run(app, tenant, build_case(app, tenant), actions=1)
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, tenant.usernames[Role.ACCOUNTANT])
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/runs/{built.run_id}/decide", data={"row": f"approve:{built.action_ids[0]}"}).status_code == 400
    assert client.post("/runs/queue").status_code == 400
    assert _statuses(app, built.action_ids) == ["prepared"]


def test_a_real_nightly_run_is_reviewed_approved_and_queued(no_csrf: Flask, client: FlaskClient) -> None:
    """End to end with the real services: sweep → review page → approve all → queue → case page."""
    from arrears.services.escalation.sweep import run_escalation
    from tests.factories import ACTOR

    tenant = make_tenant(no_csrf, "a")
    with no_csrf.extensions["arrears"].transaction() as session:
        owner = session.get(Owner, tenant.owner_id)
        assert owner is not None
        owner.email = "owner@example.com"
        result = run_escalation(session, ACTOR, tenant.company_id, as_of=dt.date(2026, 11, 22))
    assert result.run_id is not None and result.counts["opened"] == 1
    with no_csrf.extensions["arrears"].transaction() as session:
        actions = session.scalars(select(EscalationAction).where(EscalationAction.run_id == result.run_id)).all()
        ids = [a.id for a in actions]
        case_id = actions[0].case_id
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    history = client.get("/runs/").get_data(as_text=True)
    assert f"/runs/{result.run_id}\"" in history
    page = client.get(f"/runs/{result.run_id}").get_data(as_text=True)
    for action in actions:
        days = action.reason.split(" ", 1)[0]  # the stored reason, shown in the UI's language
        assert f"{days} days overdue; 3 overdue periods;" in page and "(after First reminder" in page
    waiting = [i for i, s in zip(ids, _statuses(no_csrf, ids)) if s == "prepared"]
    if waiting:
        ask = client.post(f"/runs/{result.run_id}/decide", data={"decision": "approve_all"})
        assert f"{len(waiting)} rows will be approved." in ask.get_data(as_text=True)
        assert client.post(f"/runs/{result.run_id}/decide", data={
            "decision": "approve", "confirm": "1", "action_id": waiting}).status_code == 302
    assert "prepared" not in _statuses(no_csrf, ids)
    assert client.post("/runs/queue").status_code == 302
    assert "approved" not in _statuses(no_csrf, ids)
    case_page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "stage entered" in case_page and "message" in case_page
    assert f"/cases/{case_id}\"" in client.get("/cases/").get_data(as_text=True)
