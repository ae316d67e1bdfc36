"""The work queue and the case page: access, timeline, and the forms (hold, dispute, plan, notes).

`build_case` / `build_run` create escalation rows directly, so the pages can be tested without
the nightly sweep; the other escalation web tests import them from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from arrears.domain.escalation import Action, Channel
from arrears.persistence.base import utcnow
from arrears.persistence.enums import ActionStatus, CaseStatus, MessageStatus, PlanStatus, Role, RunStatus
from arrears.persistence.models import (
    AuditEntry,
    CaseHold,
    Charge,
    CollectionCase,
    Dispute,
    EscalationAction,
    EscalationRun,
    MessageAction,
    OutboundMessage,
    Owner,
    Ownership,
    PaymentPlan,
    Unit,
)
from tests.web.helpers import Tenant, login, make_tenant


@dataclass
class Built:
    case_id: int
    run_id: int
    action_ids: list[int]
    message_ids: list[int]


def build_case(app: Flask, tenant: Tenant, *, next_action_on: dt.date | None = None,
               stage_code: str = "reminder_1") -> int:
    """An open collection case on the tenant's unit (what the sweep would have opened)."""
    with app.extensions["arrears"].transaction() as session:
        unit = session.get(Unit, tenant.unit_id)
        assert unit is not None
        ownership = session.scalar(select(Ownership).where(Ownership.unit_id == unit.id))
        assert ownership is not None
        case = CollectionCase(
            company_id=tenant.company_id, community_id=unit.community_id, unit_id=unit.id,
            ownership_id=ownership.id, owner_id=tenant.owner_id, status=CaseStatus.OPEN, stage_code=stage_code,
            stage_entered_on=dt.date(2026, 11, 1), opened_on=dt.date(2026, 11, 1), arrears=Decimal("590.70"),
            oldest_due=dt.date(2026, 1, 31), overdue_periods=3, next_action_on=next_action_on,
        )
        session.add(case)
        session.flush()
        return case.id


def build_run(app: Flask, tenant: Tenant, case_id: int, *, actions: int = 3,
              messages: tuple[MessageStatus, ...] = ()) -> Built:
    """A finished run with `actions` PREPARED actions for the case, and messages carrying the first."""
    with app.extensions["arrears"].transaction() as session:
        case = session.get(CollectionCase, case_id)
        assert case is not None
        run = EscalationRun(company_id=tenant.company_id, as_of=dt.date(2026, 11, 22), trigger="cli",
                            actor="tester", status=RunStatus.SUCCEEDED, started_at=utcnow(),
                            finished_at=utcnow(), counts={"evaluated": 7, "opened": 2, "advanced": 1,
                                                          "closed": 1, "prepared": actions},
                            errors=["unit 9: no address"])
        session.add(run)
        session.flush()
        action_ids = []
        for n in range(actions):
            action = EscalationAction(
                key=f"case:{case.id}:s{n}:{run.id}", company_id=tenant.company_id, case_id=case.id,
                run_id=run.id, ownership_id=case.ownership_id, unit_id=case.unit_id, owner_id=case.owner_id,
                stage_code=f"s{n}", action=Action.REMINDER if n else Action.DEMAND,
                prepared_on=dt.date(2026, 11, 22), status=ActionStatus.PREPARED,
                reason=f"why-{n}: 3 periods overdue", arrears=Decimal("590.70"),
                channels=[Channel.EMAIL.value, Channel.SMS.value], template="reminder",
                charges=[{"id": 1, "period": "2026-01", "due": "2026-01-31", "outstanding": "196.90"}],
            )
            session.add(action)
            session.flush()
            action_ids.append(action.id)
        message_ids = []
        for status in messages:
            message = OutboundMessage(company_id=tenant.company_id, owner_id=case.owner_id,
                                      channel=Channel.LETTER, address="南京市鼓楼区中山路1号", subject="催缴通知",
                                      body="...", status=status,
                                      sent_at=utcnow() if status in (MessageStatus.SENT, MessageStatus.DELIVERED)
                                      else None)
            message.actions.append(MessageAction(action_id=action_ids[0]))
            session.add(message)
            session.flush()
            message_ids.append(message.id)
        return Built(case.id, run.id, action_ids, message_ids)


def login_en(client: FlaskClient, username: str) -> None:
    """Sign in and switch to English, so assertions can read the English msgids."""
    login(client, username)
    client.post("/language", data={"lang": "en", "next": "/"})


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _today() -> dt.date:
    """The company's business day (Asia/Shanghai), which is what the services compare with."""
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _count(app: Flask, model: type, *where: object) -> int:
    with app.extensions["arrears"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_staff_read_the_queue_and_case_but_only_writers_change_it(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    case_id = build_case(no_csrf, tenant)
    for role in Role:
        login_en(client, tenant.usernames[role])
        # a lawyer sees only the legal cases assigned to them, not the company's collection cases
        expected = 403 if role == Role.LAWYER else 200
        assert client.get("/cases/").status_code == expected
        assert client.get(f"/cases/{case_id}").status_code == expected
        response = client.post(f"/cases/{case_id}/holds", data={"reason": "owner abroad", "ends_on": "2099-01-01"})
        # readers are refused before the service; writers reach it, and it refuses a 73-year hold
        assert response.status_code == (403 if role in (Role.LAWYER, Role.AUDITOR) else 400)
        client.post("/logout")
    assert _count(no_csrf, CaseHold) == 0


def test_another_companys_case_is_not_found(no_csrf: Flask, client: FlaskClient) -> None:
    mine, theirs = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    their_case = build_case(no_csrf, theirs)
    build_case(no_csrf, mine)
    login_en(client, mine.usernames[Role.MANAGER])
    assert client.get(f"/cases/{their_case}").status_code == 404
    assert client.post(f"/cases/{their_case}/holds", data={"reason": "x", "ends_on": "2026-12-01"}).status_code == 404
    assert client.post(f"/cases/{their_case}/update", data={"notes": "mine now"}).status_code == 404
    listing = client.get("/cases/").get_data(as_text=True)
    assert f"/cases/{their_case}\"" not in listing
    assert _count(no_csrf, CaseHold) == 0


def test_queue_orders_by_next_action_with_unassigned_first_and_filters(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    later = build_case(no_csrf, tenant, next_action_on=dt.date(2026, 12, 20), stage_code="demand")
    with no_csrf.extensions["arrears"].transaction() as session:  # two more cases on new units of the community
        from tests.factories import make_ownership, make_unit

        base = session.get(Unit, tenant.unit_id)
        assert base is not None
        extra = []
        for _ in range(2):
            unit = make_unit(session, base.community)
            record = make_ownership(session, unit)
            extra.append((unit.id, record.id, record.parties[0].owner_id))
    ids = []
    for (unit_id, ownership_id, owner_id), next_on in zip(extra, [None, dt.date(2026, 12, 1)]):
        with no_csrf.extensions["arrears"].transaction() as session:
            unit = session.get(Unit, unit_id)
            assert unit is not None
            case = CollectionCase(company_id=tenant.company_id, community_id=unit.community_id, unit_id=unit_id,
                                  ownership_id=ownership_id, owner_id=owner_id, stage_code="reminder_1",
                                  opened_on=dt.date(2026, 11, 1), next_action_on=next_on)
            session.add(case)
            session.flush()
            ids.append(case.id)
    nobody, soon = ids
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    page = client.get("/cases/").get_data(as_text=True)
    positions = [page.index(f"/cases/{i}\"") for i in (nobody, soon, later)]
    assert positions == sorted(positions)  # needs a person first, then by date
    only_demand = client.get("/cases/?stage=demand").get_data(as_text=True)
    assert f"/cases/{later}\"" in only_demand and f"/cases/{soon}\"" not in only_demand
    client.post(f"/cases/{soon}/holds", data={"reason": "owner in hospital", "ends_on": "2026-12-31"})
    # the hold starts "today" in the company's zone; the queue uses today too
    paused = client.get("/cases/?paused=1").get_data(as_text=True)
    assert f"/cases/{soon}\"" in paused and f"/cases/{later}\"" not in paused
    not_paused = client.get("/cases/?paused=0").get_data(as_text=True)
    assert f"/cases/{soon}\"" not in not_paused and f"/cases/{later}\"" in not_paused
    unassigned = client.get("/cases/?responsible=none").get_data(as_text=True)
    assert f"/cases/{nobody}\"" in unassigned


def test_case_page_shows_masked_id_and_a_merged_timeline(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    case_id = build_case(no_csrf, tenant)
    built = build_run(no_csrf, tenant, case_id, actions=1, messages=(MessageStatus.SENT,))
    with no_csrf.extensions["arrears"].transaction() as session:
        owner = session.get(Owner, tenant.owner_id)
        assert owner is not None
        full_id, name = owner.id_number, owner.name
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert name in page
    assert full_id not in page and full_id[:3] in page and full_id[-4:] in page  # L18 masking
    assert "2026-01" in page and "why-0" in page  # a charge and the action's reason
    assert page.index("2026-01-31") < page.index("why-0")  # ordered by date: charge before the action
    assert "printed letter" in page and "sent" in page  # the message, its channel and status
    assert built.message_ids


def test_hold_with_bad_input_changes_nothing_then_a_good_one_pauses(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    case_id = build_case(no_csrf, tenant)
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    bad_date = client.post(f"/cases/{case_id}/holds", data={"reason": "abroad", "ends_on": "next week"})
    assert bad_date.status_code == 400 and "is not a date" in bad_date.get_data(as_text=True)
    no_reason = client.post(f"/cases/{case_id}/holds", data={"reason": " ", "ends_on": "2099-12-01"})
    assert no_reason.status_code == 400
    assert _count(no_csrf, CaseHold) == 0
    ends = (_today() + dt.timedelta(days=20)).isoformat()
    ok = client.post(f"/cases/{case_id}/holds", data={"reason": "owner abroad", "ends_on": ends})
    assert ok.status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "owner abroad" in page
    with no_csrf.extensions["arrears"].transaction() as session:
        hold = session.scalars(select(CaseHold)).one()
        hold_id = hold.id
    assert client.post(f"/cases/{case_id}/holds/{hold_id}/release").status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.get(CaseHold, hold_id).released_on is not None  # type: ignore[union-attr]


def test_notes_responsible_and_next_action(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    case_id = build_case(no_csrf, tenant)
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    with no_csrf.extensions["arrears"].transaction() as session:
        from arrears.persistence.models import User

        accountant = session.scalar(select(User).where(User.username == tenant.usernames[Role.ACCOUNTANT]))
        assert accountant is not None
        accountant_id = accountant.id
    bad = client.post(f"/cases/{case_id}/update", data={"responsible_user_id": str(accountant_id),
                                                        "next_action_on": "31/12/2026", "notes": "call"})
    assert bad.status_code == 400
    ok = client.post(f"/cases/{case_id}/update", data={"responsible_user_id": str(accountant_id),
                                                       "next_action_on": "2026-12-31", "notes": "call on Monday"})
    assert ok.status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        case = session.get(CollectionCase, case_id)
        assert case is not None
        assert (case.responsible_user_id, case.next_action_on, case.notes) == (
            accountant_id, dt.date(2026, 12, 31), "call on Monday")


def test_dispute_session_and_fee_adjusted_resolution(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    case_id = build_case(no_csrf, tenant)
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    assert client.post(f"/cases/{case_id}/disputes", data={"category": "flood", "description": "x"}).status_code == 400
    assert client.post(f"/cases/{case_id}/disputes", data={"category": "leak",
                                                           "description": "ceiling leak"}).status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        dispute = session.scalars(select(Dispute)).one()
        dispute_id = dispute.id
        charge = session.scalars(select(Charge).where(Charge.unit_id == tenant.unit_id).order_by(Charge.id)).first()
        assert charge is not None
        charge_id, outstanding = charge.id, charge.principal_outstanding
    today = _today().isoformat()
    assert client.post(f"/cases/{case_id}/disputes/{dispute_id}/sessions", data={
        "held_on": today, "mediator": "居委会 李主任", "participants": "owner, manager", "summary": "agreed to inspect",
    }).status_code == 302
    bad_amount = client.post(f"/cases/{case_id}/disputes/{dispute_id}/resolve", data={
        "outcome": "fee_adjusted", "note": "leak confirmed", "credit_charge_id": [str(charge_id)],
        "credit_amount": ["12.345"]})
    assert bad_amount.status_code == 400 and "12.345" in bad_amount.get_data(as_text=True)
    ok = client.post(f"/cases/{case_id}/disputes/{dispute_id}/resolve", data={
        "outcome": "fee_adjusted", "note": "leak confirmed", "credit_charge_id": [str(charge_id), ""],
        "credit_amount": ["50.00", ""]})
    assert ok.status_code == 302, ok.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        dispute = session.get(Dispute, dispute_id)
        assert dispute is not None and dispute.outcome is not None and dispute.outcome.value == "fee_adjusted"
        assert len(dispute.sessions) == 1 and len(dispute.adjustment_ids) == 1
        charge = session.get(Charge, charge_id)
        assert charge is not None and charge.principal_outstanding == outstanding - Decimal("50.00")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "mediation session" in page and "agreed to inspect" in page and "fee adjusted by a credit entry" in page


def test_payment_plan_rows_and_cancel(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    case_id = build_case(no_csrf, tenant)
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    today = _today()
    rows = [(today + dt.timedelta(days=30 * n)).isoformat() for n in (1, 2, 3)]
    half = client.post(f"/cases/{case_id}/plans", data={
        "agreed_on": today.isoformat(), "grace_days": "7", "due_on": [rows[0], rows[1]], "amount": ["100.00", ""]})
    assert half.status_code == 400
    empty = client.post(f"/cases/{case_id}/plans", data={
        "agreed_on": today.isoformat(), "grace_days": "7", "due_on": ["", ""], "amount": ["", ""]})
    assert empty.status_code == 400 and "at least one instalment" in empty.get_data(as_text=True)
    assert _count(no_csrf, PaymentPlan) == 0
    ok = client.post(f"/cases/{case_id}/plans", data={
        "agreed_on": today.isoformat(), "grace_days": "7", "due_on": rows + [""],
        "amount": ["196.90", "196.90", "196.90", ""]})
    assert ok.status_code == 302, ok.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        plan = session.scalars(select(PaymentPlan)).one()
        assert [i.amount for i in plan.instalments] == [Decimal("196.90")] * 3
        plan_id = plan.id
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "paused while instalments are kept" in page and page.count(rows[2]) >= 2  # plan table + timeline
    assert client.post(f"/cases/{case_id}/plans/{plan_id}/cancel", data={"reason": ""}).status_code == 400
    assert client.post(f"/cases/{case_id}/plans/{plan_id}/cancel", data={"reason": "owner sold"}).status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.get(PaymentPlan, plan_id).status == PlanStatus.CANCELLED  # type: ignore[union-attr]


def test_a_hold_of_another_case_is_not_found(no_csrf: Flask, client: FlaskClient) -> None:
    mine, theirs = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    my_case, their_case = build_case(no_csrf, mine), build_case(no_csrf, theirs)
    login(client, theirs.usernames[Role.MANAGER])
    ends = (_today() + dt.timedelta(days=5)).isoformat()
    assert client.post(f"/cases/{their_case}/holds", data={"reason": "r", "ends_on": ends}).status_code == 302
    client.post("/logout")
    with no_csrf.extensions["arrears"].transaction() as session:
        hold_id = session.scalars(select(CaseHold.id)).one()
    login_en(client, mine.usernames[Role.MANAGER])
    assert client.post(f"/cases/{my_case}/holds/{hold_id}/release").status_code == 404
    assert client.post(f"/cases/{their_case}/holds/{hold_id}/release").status_code == 404
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.get(CaseHold, hold_id).released_on is None  # type: ignore[union-attr]


def test_case_forms_require_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "a")
    case_id = build_case(app, tenant)
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, tenant.usernames[Role.MANAGER])
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/cases/{case_id}/update", data={"notes": "x"}).status_code == 400
    assert _count(app, AuditEntry, AuditEntry.action == "case.update") == 0
