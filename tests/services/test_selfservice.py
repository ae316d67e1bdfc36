"""Owner self-service (issue 6): signed links, the four-digit check and its lockouts, what the owner
sees, and requests that bind nobody until staff triage them (and, for plans, the owner confirms)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.escalation import Action, Channel
from arrears.domain.periods import DueRule
from arrears.persistence.enums import ActionStatus, DisputeCategory
from arrears.persistence.escalation import Dispute, EscalationAction, PaymentPlan
from arrears.persistence.models import AuditEntry, OutboundMessage, OwnerLink, OwnerRequestStatus, StoredFile
from arrears.services import billing
from arrears.services.errors import ServiceError
from arrears.services.escalation.disputes import disputed_case_ids
from arrears.services.escalation.outbox import queue_approved
from arrears.services.selfservice import links, requests
from arrears.services.selfservice.statement import owner_view
from tests.factories import ACTOR, make_community, make_owner, make_ownership, make_schedule, make_unit
from tests.services.test_escalation_plans import TODAY, build_case
from tests.services.test_outbox import NOW as OUTBOX_NOW
from tests.services.test_outbox import make_world

D = Decimal
NOW = dt.datetime(2026, 5, 10, 2, 0, tzinfo=dt.UTC)
SIGNER = links.LinkSigner("test-secret-0123456789-abcdefghijklmnop", "https://fees.example.cn")
IP = "203.0.113.7"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _link(session: Session, **kw: object):  # type: ignore[no-untyped-def]
    case, charges = build_case(session)
    link = links.issue_link(session, ACTOR, case.company_id, case.owner_id, case.unit_id, now=NOW, **kw)
    return case, charges, link


# --------------------------------------------------------------------------- tokens


def test_a_token_opens_its_link_and_nothing_else(session: Session) -> None:
    _, _, link = _link(session)
    token = SIGNER.token(link)
    assert links.resolve(session, SIGNER, token, now=NOW) is link
    assert SIGNER.url(link) == f"https://fees.example.cn/o/{token}"
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    other_secret = links.LinkSigner("another-secret-0123456789-abcdefghijk", SIGNER.base_url)
    forged_nonce = links.LinkSigner(SIGNER.secret, "")._serializer().dumps([link.id, "guessed-nonce"])
    for bad in (tampered, other_secret.token(link), forged_nonce, "", "garbage", "x" * 500):
        with pytest.raises(links.LinkRefused) as refused:
            links.resolve(session, SIGNER, bad, now=NOW)
        assert "not valid" in str(refused.value)


def test_expired_and_revoked_links_are_refused_with_the_same_message(session: Session) -> None:
    case, _, link = _link(session, days=10)
    token = SIGNER.token(link)
    messages = set()
    with pytest.raises(links.LinkRefused) as expired:
        links.resolve(session, SIGNER, token, now=NOW + dt.timedelta(days=10))
    messages.add(str(expired.value))
    assert links.resolve(session, SIGNER, token, now=NOW + dt.timedelta(days=9)) is link
    links.revoke_link(session, ACTOR, case.company_id, link.id, now=NOW)
    with pytest.raises(links.LinkRefused) as revoked:
        links.resolve(session, SIGNER, token, now=NOW)
    messages.add(str(revoked.value))
    assert len(messages) == 1
    with pytest.raises(ServiceError, match="already revoked"):
        links.revoke_link(session, ACTOR, case.company_id, link.id, now=NOW)
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "owner_link",
                                                                  AuditEntry.entity_id == link.id)))
    assert {"owner_link.issue", "owner_link.revoke"} <= actions


def test_a_link_needs_an_ownership_of_the_unit(session: Session) -> None:
    case, _ = build_case(session)
    stranger = make_owner(session, case.company_id)
    with pytest.raises(ServiceError, match="no ownership record"):
        links.issue_link(session, ACTOR, case.company_id, stranger.id, case.unit_id, now=NOW)
    with pytest.raises(ServiceError, match="1 to 366 days"):
        links.issue_link(session, ACTOR, case.company_id, case.owner_id, case.unit_id, now=NOW, days=0)


# --------------------------------------------------------------------------- the four-digit check


def test_phone_or_id_digits_open_the_link_case_insensitive_x(session: Session) -> None:
    case, _, link = _link(session)
    owner = link_owner(session, link)
    owner.phone, owner.id_number = "+86 138-0013-8123", "32010219800101123x"
    assert links.verify(session, link, "8123", now=NOW, remote_addr=IP) is link
    assert links.verify(session, link, "123x", now=NOW, remote_addr=IP) is link
    assert link.last_opened_at == NOW
    with pytest.raises(links.CheckFailed):
        links.verify(session, link, "0000", now=NOW, remote_addr=IP)
    with pytest.raises(links.CheckFailed):
        links.verify(session, link, "", now=NOW, remote_addr=IP)


def test_five_wrong_answers_lock_the_link_for_15_minutes_and_success_resets(session: Session) -> None:
    _, _, link = _link(session)
    right = link_owner(session, link).phone[-4:]
    for _ in range(3):
        with pytest.raises(links.CheckFailed):
            links.verify(session, link, "0000", now=NOW, remote_addr=IP)
    assert link.failed_checks == 3
    links.verify(session, link, right, now=NOW, remote_addr=IP)
    assert (link.failed_checks, link.locked_until) == (0, None)  # success resets the counter
    for attempt in range(1, 6):
        error = links.LinkLocked if attempt == 5 else links.CheckFailed
        with pytest.raises(error):
            links.verify(session, link, "0000", now=NOW, remote_addr=IP)
    assert link.locked_until == NOW + dt.timedelta(minutes=15)
    with pytest.raises(links.LinkLocked):  # even the right answer while locked
        links.verify(session, link, right, now=NOW + dt.timedelta(minutes=14), remote_addr=IP)
    links.verify(session, link, right, now=NOW + dt.timedelta(minutes=15), remote_addr=IP)
    assert (link.failed_checks, link.locked_until) == (0, None)


def test_one_address_guessing_across_links_is_throttled(session: Session) -> None:
    all_links = [_link(session)[2] for _ in range(5)]
    for n in range(links.IP_MAX_FAILURES):
        with pytest.raises(links.CheckFailed):
            links.verify(session, all_links[n % 5], "0000", now=NOW, remote_addr=IP)
            # 4 failures per link: no link is locked yet
    assert all(link.locked_until is None for link in all_links)
    assert links.address_throttled(session, IP, now=NOW)
    assert not links.address_throttled(session, "198.51.100.1", now=NOW)
    fresh = _link(session)[2]
    with pytest.raises(links.LinkLocked):
        links.verify(session, fresh, link_owner(session, fresh).phone[-4:], now=NOW, remote_addr=IP)
    assert not links.address_throttled(session, IP, now=NOW + links.IP_WINDOW + dt.timedelta(seconds=1))


# --------------------------------------------------------------------------- what the owner sees


def test_the_statement_shows_only_this_owners_ownership(session: Session) -> None:
    community = make_community(session, late_fee_rate_per_day=None)
    make_schedule(session, community, rate=D("2.00"), due_rule=DueRule.PERIOD_END, due_day=None)
    unit = make_unit(session, community, area=D("100.00"))
    previous = make_owner(session, unit.company_id, name="前业主")
    current = make_owner(session, unit.company_id, name="现业主")
    make_ownership(session, unit, [previous], valid_from=dt.date(2020, 1, 1), valid_to=dt.date(2026, 2, 28))
    make_ownership(session, unit, [current], valid_from=dt.date(2026, 3, 1))
    billing.run_billing(session, ACTOR, company_id=unit.company_id, through=dt.date(2026, 5, 1), today=TODAY)
    link = links.issue_link(session, ACTOR, unit.company_id, current.id, unit.id, now=NOW)
    view = owner_view(session, link, TODAY)
    labels = [line.label for span in view.spans for line in span.statement.lines]
    assert labels and all(label >= "2026-03" for label in labels), labels
    assert view.arrears == D("400.00")  # March and April; the previous owner's Jan–Feb never shown
    assert view.owner_name == "现业主" and len(view.spans) == 1
    old = owner_view(session, links.issue_link(session, ACTOR, unit.company_id, previous.id, unit.id, now=NOW), TODAY)
    assert [line.label for span in old.spans for line in span.statement.lines] == ["2026-01", "2026-02"]


# --------------------------------------------------------------------------- disputes


def test_a_dispute_pauses_escalation_only_once_staff_accept_it(session: Session) -> None:
    case, _, link = _link(session)
    request = requests.submit_dispute(session, link, category="leak", text="  water from the roof  ",
                                      photo=requests.Photo("roof.jpg", JPEG), now=NOW, remote_addr=IP)
    assert (request.status, request.text, request.case_id) == (OwnerRequestStatus.SUBMITTED, "water from the roof",
                                                              case.id)
    stored = session.get(StoredFile, request.photo_file_id)
    assert stored is not None and stored.content_type == "image/jpeg" and stored.size == len(JPEG)
    assert disputed_case_ids(session, case.company_id) == set()  # submitted: nothing pauses yet
    again = requests.submit_dispute(session, link, category="leak", text="water from the roof", photo=None,
                                    now=NOW, remote_addr=IP)
    assert again.id == request.id  # a double submit records one request
    requests.accept_dispute(session, ACTOR, case.company_id, request.id, today=TODAY, now=NOW)
    dispute = session.get(Dispute, request.dispute_id)
    assert dispute is not None and (dispute.source, dispute.category) == ("owner", DisputeCategory.LEAK)
    assert request.status == OwnerRequestStatus.ACCEPTED and request.decided_by == ACTOR.name
    assert disputed_case_ids(session, case.company_id) == {case.id}
    with pytest.raises(ServiceError, match="is accepted, not submitted"):
        requests.accept_dispute(session, ACTOR, case.company_id, request.id, today=TODAY, now=NOW)


def test_rejected_disputes_pause_nothing_and_need_a_note(session: Session) -> None:
    case, _, link = _link(session)
    request = requests.submit_dispute(session, link, category=DisputeCategory.OTHER, text="wrong amount",
                                      photo=None, now=NOW, remote_addr=IP)
    with pytest.raises(ServiceError, match="needs a note"):
        requests.reject_request(session, ACTOR, case.company_id, request.id, note=" ", now=NOW)
    requests.reject_request(session, ACTOR, case.company_id, request.id, note="the amount is right", now=NOW)
    assert request.status == OwnerRequestStatus.REJECTED and request.decision_note == "the amount is right"
    assert disputed_case_ids(session, case.company_id) == set()


@pytest.mark.parametrize(("kw", "message"), [
    ({"category": "noise"}, "category from the list"),
    ({"text": "   "}, "1 to 2000 characters"),
    ({"text": "x" * 2001}, "1 to 2000 characters"),
    ({"photo": requests.Photo("a.gif", b"GIF89a" + b"\x00" * 10)}, "JPEG or PNG"),
    ({"photo": requests.Photo("a.png", PNG + b"\x00" * requests.MAX_PHOTO)}, "larger than 5 MB"),
])
def test_bad_dispute_reports_are_refused(session: Session, kw: dict[str, object], message: str) -> None:
    _, _, link = _link(session)
    args: dict[str, object] = {"category": "leak", "text": "water", "photo": None, "now": NOW, "remote_addr": IP}
    args.update(kw)
    with pytest.raises(ServiceError, match=message):
        requests.submit_dispute(session, link, **args)  # type: ignore[arg-type]
    assert session.scalar(select(func.count(StoredFile.id))) == 0


# --------------------------------------------------------------------------- payment plans


def _offer(session: Session, case, request, schedule=None):  # type: ignore[no-untyped-def]
    schedule = schedule or [(dt.date(2026, 6, 10), D("400.00")), (dt.date(2026, 7, 10), D("400.00"))]
    return requests.offer_plan(session, ACTOR, case.company_id, request.id, instalments=schedule, today=TODAY,
                               now=NOW)


def test_a_plan_binds_only_after_staff_offer_and_the_owner_confirms_once(session: Session) -> None:
    case, _, link = _link(session)
    request = requests.submit_plan(session, link, instalments=2, now=NOW, remote_addr=IP)
    assert requests.submit_plan(session, link, instalments=2, now=NOW, remote_addr=IP).id == request.id
    with pytest.raises(ServiceError, match="already have a payment plan request"):
        requests.submit_plan(session, link, instalments=3, now=NOW, remote_addr=IP)
    with pytest.raises(ServiceError, match="There is no payment plan offer"):
        requests.confirm_plan(session, link, request.id, today=TODAY, now=NOW)
    with pytest.raises(ServiceError, match="instalments total 700.00 but the arrears are 800.00"):
        _offer(session, case, request, [(dt.date(2026, 6, 10), D("300.00")), (dt.date(2026, 7, 10), D("400.00"))])
    _offer(session, case, request)
    assert request.status == OwnerRequestStatus.OFFERED
    assert request.offer == [["2026-06-10", "400.00"], ["2026-07-10", "400.00"]]
    assert session.scalar(select(func.count(PaymentPlan.id))) == 0  # an offer binds nobody
    requests.confirm_plan(session, link, request.id, today=TODAY, now=NOW)
    requests.confirm_plan(session, link, request.id, today=TODAY, now=NOW)  # a second click
    plans = session.scalars(select(PaymentPlan).where(PaymentPlan.case_id == case.id)).all()
    assert len(plans) == 1 and request.plan_id == plans[0].id and request.status == OwnerRequestStatus.CONFIRMED
    assert [(i.due_on, i.amount) for i in plans[0].instalments] == [
        (dt.date(2026, 6, 10), D("400.00")), (dt.date(2026, 7, 10), D("400.00"))]
    with pytest.raises(ServiceError, match="can no longer be withdrawn"):
        requests.withdraw(session, link, request.id, now=NOW)


def test_the_owner_may_withdraw_an_offer_before_confirming(session: Session) -> None:
    case, _, link = _link(session)
    request = requests.submit_plan(session, link, instalments=2, now=NOW, remote_addr=IP)
    _offer(session, case, request)
    requests.withdraw(session, link, request.id, now=NOW)
    assert request.status == OwnerRequestStatus.WITHDRAWN
    with pytest.raises(ServiceError, match="no payment plan offer"):
        requests.confirm_plan(session, link, request.id, today=TODAY, now=NOW)
    assert session.scalar(select(func.count(PaymentPlan.id))) == 0


def test_another_owners_request_is_out_of_reach(session: Session) -> None:
    case, _, link = _link(session)
    _, _, other = _link(session)
    request = requests.submit_plan(session, other, instalments=2, now=NOW, remote_addr=IP)
    with pytest.raises(ServiceError, match="no such request"):
        requests.withdraw(session, link, request.id, now=NOW)
    assert requests.requests_of_link(session, link) == []


@pytest.mark.parametrize("count", [1, 13])
def test_plan_proposals_need_2_to_12_instalments(session: Session, count: int) -> None:
    _, _, link = _link(session)
    with pytest.raises(ServiceError, match="2 to 12 instalments"):
        requests.submit_plan(session, link, instalments=count, now=NOW, remote_addr=IP)


# --------------------------------------------------------------------------- links in messages


def test_queued_messages_carry_one_reused_link_per_owner_and_unit(session: Session) -> None:
    world = make_world(session, units=2, channels=(Channel.SMS,), action=Action.DEMAND, template="demand")
    assert queue_approved(session, ACTOR, world.company_id, now=OUTBOX_NOW) == 1
    rows = session.scalars(select(OwnerLink).where(OwnerLink.owner_id == world.owner_id)).all()
    assert sorted(r.unit_id for r in rows) == sorted(world.unit_ids)
    message = session.scalars(select(OutboundMessage).where(OutboundMessage.owner_id == world.owner_id)).one()
    assert all(r.message_id == message.id for r in rows)
    signer = links.default_signer()
    for row in rows:
        assert signer.url(row) in message.body
        assert links.resolve(session, signer, signer.token(row), now=OUTBOX_NOW) is row
    # the next message (another action on the same units) reuses the links instead of minting new ones
    for action_id in world.action_ids:
        first = session.get(EscalationAction, action_id)
        assert first is not None
        session.add(EscalationAction(
            key=f"{first.key}:again", company_id=first.company_id, ownership_id=first.ownership_id,
            unit_id=first.unit_id, owner_id=first.owner_id, stage_code="demand", action=Action.DEMAND,
            prepared_on=first.prepared_on, status=ActionStatus.APPROVED, reason="again", arrears=first.arrears,
            channels=[Channel.SMS.value], template="demand", deadline_days=15, charges=first.charges))
    session.flush()
    assert queue_approved(session, ACTOR, world.company_id, now=OUTBOX_NOW + dt.timedelta(days=7)) == 1
    assert session.scalar(select(func.count(OwnerLink.id)).where(OwnerLink.owner_id == world.owner_id)) == 2
    newest = session.scalars(select(OutboundMessage).where(OutboundMessage.owner_id == world.owner_id)
                             .order_by(OutboundMessage.id.desc())).first()
    assert newest is not None and newest.id != message.id
    assert all(signer.url(row) in newest.body for row in rows)


def test_pre_due_notices_carry_no_link(session: Session) -> None:
    world = make_world(session, channels=(Channel.EMAIL,), action=Action.PRE_DUE_NOTICE, template="pre_due")
    queue_approved(session, ACTOR, world.company_id, now=OUTBOX_NOW)
    assert session.scalar(select(func.count(OwnerLink.id)).where(OwnerLink.owner_id == world.owner_id)) == 0


def link_owner(session: Session, link: OwnerLink):  # type: ignore[no-untyped-def]
    from arrears.persistence.models import Owner

    owner = session.get(Owner, link.owner_id)
    assert owner is not None
    return owner


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
def test_composed_reminders_carry_the_link_of_each_unit(language: str, channel: Channel) -> None:
    from arrears.services.escalation.compose import Item, Sender, compose

    items = [Item(Action.REMINDER, "reminder", "花园 1-101", D("10.00"), (), None, "https://x.cn/o/aaa"),
             Item(Action.DEMAND, "demand", "花园 2-202", D("20.00"), (), 15, "https://x.cn/o/bbb")]
    message = compose(items, channel=channel, language=language, owner_name="张三",
                      sender=Sender("物业", "南京", "025-1"), as_of=TODAY)
    assert "https://x.cn/o/aaa" in message.body and "https://x.cn/o/bbb" in message.body
    plain = compose([Item(Action.REMINDER, "reminder", "花园 1-101", D("10.00"))], channel=channel,
                    language=language, owner_name="张三", sender=Sender("物业", "南京", "025-1"), as_of=TODAY)
    assert "/o/" not in plain.body
