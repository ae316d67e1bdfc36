"""What an owner may ask through their link, and how staff triage it.

Nothing an owner submits changes escalation by itself:

* a **dispute** report waits (``submitted``) until staff accept it; only then is a case
  :class:`~arrears.persistence.escalation.Dispute` opened (source "owner"), which caps escalation;
* a **plan** proposal (number of instalments) waits until staff offer a schedule (``offered``);
  the owner confirms that schedule through the link and only then is the payment plan created
  (``confirmed``). The owner may withdraw before; confirming twice creates one plan.

Every change is audited; each function is one step of one request's transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.domain.money import MoneyError, parse_money
from arrears.domain.plans import Instalment, ScheduleProblem, schedule_problems, total
from arrears.persistence.enums import CaseStatus, DisputeCategory
from arrears.persistence.escalation import CollectionCase
from arrears.persistence.models import Ownership, OwnershipParty, StoredFile
from arrears.persistence.workspace import OwnerLink, OwnerRequest, OwnerRequestKind, OwnerRequestStatus

from .. import audit
from ..actor import Actor
from ..errors import N_, ServiceError, invalid_amount
from ..escalation.disputes import open_dispute
from ..escalation.plans import create_plan
from ..tenancy import get_scoped
from .statement import owner_arrears

MAX_TEXT = 2000
MAX_PHOTO = 5 * 1024 * 1024
MIN_INSTALMENTS, MAX_INSTALMENTS = 2, 12  # what an owner may propose
MAX_OFFERED = 36  # what staff may offer (the table's limit)
#: Days after an instalment's date before a confirmed plan counts as broken.
PLAN_GRACE_DAYS = 5
#: Requests one link may submit per day (a flood from a leaked link stays small).
MAX_PER_DAY = 10
OPEN = (OwnerRequestStatus.SUBMITTED, OwnerRequestStatus.OFFERED)
_MAGIC = ((b"\xff\xd8\xff", "image/jpeg", "jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", "png"))


@dataclass(frozen=True)
class Photo:
    """An uploaded file as received (the content type is decided from its bytes, not the browser)."""

    filename: str
    data: bytes


def _owner_actor(link: OwnerLink) -> Actor:
    return Actor(f"owner link {link.id}")


# --------------------------------------------------------------------------- owner side


def submit_dispute(session: Session, link: OwnerLink, *, category: DisputeCategory | str, text: str,
                   photo: Photo | None, now: dt.datetime, remote_addr: str | None) -> OwnerRequest:
    """Record a dispute report; a second identical report while the first is open returns the first."""
    kind = _category(category)
    body = (text or "").strip()
    if not 1 <= len(body) <= MAX_TEXT:
        raise ServiceError(N_("Describe the dispute in 1 to %(max)d characters."), max=MAX_TEXT)
    same = session.scalar(select(OwnerRequest).where(
        OwnerRequest.link_id == link.id, OwnerRequest.kind == OwnerRequestKind.DISPUTE,
        OwnerRequest.status == OwnerRequestStatus.SUBMITTED, OwnerRequest.category == kind,
        OwnerRequest.text == body))
    if same is not None:
        return same
    _check_rate(session, link, now)
    stored = _store_photo(session, link, photo) if photo is not None and photo.data else None
    request = OwnerRequest(company_id=link.company_id, link_id=link.id, owner_id=link.owner_id, unit_id=link.unit_id,
                           case_id=_case_id(session, link), kind=OwnerRequestKind.DISPUTE,
                           status=OwnerRequestStatus.SUBMITTED, category=kind, text=body,
                           photo_file_id=stored.id if stored else None, remote_addr=_addr(remote_addr))
    session.add(request)
    session.flush()
    audit.record(session, _owner_actor(link), "owner_request.dispute", "owner_request", request.id,
                 company_id=link.company_id, category=str(kind), photo_file_id=request.photo_file_id,
                 case_id=request.case_id)
    return request


def submit_plan(session: Session, link: OwnerLink, *, instalments: int, now: dt.datetime,
                remote_addr: str | None) -> OwnerRequest:
    """Record a plan proposal; one open proposal per link (the same one again returns it)."""
    if not MIN_INSTALMENTS <= instalments <= MAX_INSTALMENTS:
        raise ServiceError(N_("Choose %(min)d to %(max)d instalments."), min=MIN_INSTALMENTS, max=MAX_INSTALMENTS)
    current = session.scalar(select(OwnerRequest).where(
        OwnerRequest.owner_id == link.owner_id, OwnerRequest.unit_id == link.unit_id,
        OwnerRequest.kind == OwnerRequestKind.PLAN, OwnerRequest.status.in_(OPEN)))
    if current is not None:
        if current.status == OwnerRequestStatus.SUBMITTED and current.instalments == instalments:
            return current
        raise ServiceError(N_("You already have a payment plan request in progress."))
    _check_rate(session, link, now)
    request = OwnerRequest(company_id=link.company_id, link_id=link.id, owner_id=link.owner_id, unit_id=link.unit_id,
                           case_id=_case_id(session, link), kind=OwnerRequestKind.PLAN,
                           status=OwnerRequestStatus.SUBMITTED, instalments=instalments,
                           remote_addr=_addr(remote_addr))
    session.add(request)
    session.flush()
    audit.record(session, _owner_actor(link), "owner_request.plan", "owner_request", request.id,
                 company_id=link.company_id, instalments=instalments, case_id=request.case_id)
    return request


def confirm_plan(session: Session, link: OwnerLink, request_id: int, *, today: dt.date,
                 now: dt.datetime) -> OwnerRequest:
    """The owner accepts the offered schedule: the payment plan is created now, once."""
    request = _owned_request(session, link, request_id, lock=True)
    if request.status == OwnerRequestStatus.CONFIRMED:
        return request  # a second click, a resent form: the plan exists already
    if request.kind != OwnerRequestKind.PLAN or request.status != OwnerRequestStatus.OFFERED or not request.offer:
        raise ServiceError(N_("There is no payment plan offer to confirm."))
    if request.case_id is None:
        raise ServiceError(N_("There is no payment plan offer to confirm."))
    schedule = [(dt.date.fromisoformat(day), Decimal(amount)) for day, amount in request.offer]
    actor = _owner_actor(link)
    plan = create_plan(session, actor, request.company_id, request.case_id, agreed_on=today, instalments=schedule,
                       grace_days=PLAN_GRACE_DAYS, note=f"owner request {request.id}, confirmed through the link",
                       today=today)
    request.status, request.plan_id, request.confirmed_at = OwnerRequestStatus.CONFIRMED, plan.id, now
    session.flush()
    audit.record(session, actor, "owner_request.confirm", "owner_request", request.id,
                 company_id=request.company_id, plan_id=plan.id, case_id=request.case_id)
    return request


def withdraw(session: Session, link: OwnerLink, request_id: int, *, now: dt.datetime) -> OwnerRequest:
    """The owner takes back a request staff have not settled (a submitted one or an offer)."""
    request = _owned_request(session, link, request_id, lock=True)
    if request.status == OwnerRequestStatus.WITHDRAWN:
        return request
    if request.status not in OPEN:
        raise ServiceError(N_("This request can no longer be withdrawn."))
    request.status, request.decided_at = OwnerRequestStatus.WITHDRAWN, now
    session.flush()
    audit.record(session, _owner_actor(link), "owner_request.withdraw", "owner_request", request.id,
                 company_id=request.company_id)
    return request


def requests_of_link(session: Session, link: OwnerLink) -> list[OwnerRequest]:
    """The owner's requests on this unit (through any of their links), newest first."""
    return list(session.scalars(select(OwnerRequest).where(
        OwnerRequest.owner_id == link.owner_id, OwnerRequest.unit_id == link.unit_id)
        .order_by(OwnerRequest.id.desc())))


# --------------------------------------------------------------------------- staff side


def list_requests(session: Session, company_id: int, *, status: OwnerRequestStatus | None = None,
                  limit: int = 200) -> list[OwnerRequest]:
    """Requests of the company, submitted first, then offered, then the rest; oldest first within."""
    rank = sql_case({OwnerRequestStatus.SUBMITTED: 0, OwnerRequestStatus.OFFERED: 1}, value=OwnerRequest.status,
                    else_=2)
    statement = select(OwnerRequest).where(OwnerRequest.company_id == company_id)
    if status is not None:
        statement = statement.where(OwnerRequest.status == status)
    return list(session.scalars(statement.order_by(rank, OwnerRequest.id).limit(limit)))


def count_waiting(session: Session, company_id: int) -> int:
    return session.scalar(select(func.count(OwnerRequest.id)).where(
        OwnerRequest.company_id == company_id, OwnerRequest.status == OwnerRequestStatus.SUBMITTED)) or 0


def requests_for_case(session: Session, company_id: int, case: CollectionCase) -> list[OwnerRequest]:
    """Requests about the case's unit by a party of the case's ownership, newest first."""
    owners = select(OwnershipParty.owner_id).where(OwnershipParty.ownership_id == case.ownership_id)
    return list(session.scalars(select(OwnerRequest).where(
        OwnerRequest.company_id == company_id, OwnerRequest.unit_id == case.unit_id,
        OwnerRequest.owner_id.in_(owners)).order_by(OwnerRequest.id.desc())))


def get_request(session: Session, company_id: int, request_id: int, *, lock: bool = False) -> OwnerRequest:
    request = get_scoped(session, OwnerRequest, request_id, company_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        session.execute(select(OwnerRequest.id).where(OwnerRequest.id == request.id).with_for_update())
        session.refresh(request)
    return request


def accept_dispute(session: Session, actor: Actor, company_id: int, request_id: int, *, today: dt.date,
                   now: dt.datetime, note: str = "") -> OwnerRequest:
    """Triage a dispute report into a case dispute (source "owner"): from now on it caps escalation."""
    request = get_request(session, company_id, request_id, lock=True)
    _expect(request, OwnerRequestKind.DISPUTE, OwnerRequestStatus.SUBMITTED)
    case_id = request.case_id or _case_id_for(session, request.owner_id, request.unit_id)
    if case_id is None:
        raise ServiceError(N_("there is no collection case for this owner and unit, so there is nothing to pause"))
    assert request.category is not None
    dispute = open_dispute(session, actor, company_id, case_id, category=request.category,
                           description=request.text or "", today=today, source="owner")
    request.case_id, request.dispute_id = case_id, dispute.id
    _decide(request, actor, OwnerRequestStatus.ACCEPTED, note, now)
    session.flush()
    audit.record(session, actor, "owner_request.accept", "owner_request", request.id, company_id=company_id,
                 dispute_id=dispute.id, case_id=case_id)
    return request


def reject_request(session: Session, actor: Actor, company_id: int, request_id: int, *, note: str,
                   now: dt.datetime) -> OwnerRequest:
    """Turn down a submitted request (or take back an unconfirmed offer), with a note the owner sees."""
    request = get_request(session, company_id, request_id, lock=True)
    if request.status not in OPEN:
        raise ServiceError(N_("request %(id)s is %(status)s; only open requests can be rejected"),
                           id=request.id, status=request.status.value)
    if not (note or "").strip():
        raise ServiceError(N_("rejecting a request needs a note for the owner"))
    _decide(request, actor, OwnerRequestStatus.REJECTED, note, now)
    session.flush()
    audit.record(session, actor, "owner_request.reject", "owner_request", request.id, company_id=company_id,
                 message=request.decision_note)
    return request


def offer_plan(session: Session, actor: Actor, company_id: int, request_id: int, *,
               instalments: Sequence[tuple[dt.date, Decimal | str]], today: dt.date, now: dt.datetime,
               note: str = "") -> OwnerRequest:
    """Offer a schedule for a plan proposal: it must pay exactly the arrears the owner is shown.
    It binds nobody until the owner confirms it."""
    request = get_request(session, company_id, request_id, lock=True)
    _expect(request, OwnerRequestKind.PLAN, OwnerRequestStatus.SUBMITTED)
    case_id = request.case_id or _case_id_for(session, request.owner_id, request.unit_id)
    if case_id is None:
        raise ServiceError(N_("there is no collection case for this owner and unit; a plan needs one"))
    case = get_scoped(session, CollectionCase, case_id, company_id)
    if case.status != CaseStatus.OPEN:
        raise ServiceError(N_("case %(id)s is closed; a plan needs an open case"), id=case.id)
    schedule = [Instalment(on, _money(amount)) for on, amount in instalments]
    if not 1 <= len(schedule) <= MAX_OFFERED:
        raise ServiceError(N_("an offer needs 1 to %(max)d instalments"), max=MAX_OFFERED)
    problems = [p for p in schedule_problems(today, schedule, 0, total(schedule))
                if p != ScheduleProblem.EXCEEDS_BALANCE]
    if problems:
        raise ServiceError(_PROBLEMS.get(problems[0], N_("the schedule is not valid")))
    arrears = owner_arrears(session, company_id, case, today)
    if total(schedule) != arrears:
        raise ServiceError(N_("the instalments total %(total)s but the arrears are %(arrears)s; they must be equal"),
                           total=f"{total(schedule):,.2f}", arrears=f"{arrears:,.2f}")
    request.case_id = case.id
    request.offer = [[i.due_on.isoformat(), f"{i.amount:.2f}"] for i in schedule]
    _decide(request, actor, OwnerRequestStatus.OFFERED, note, now)
    session.flush()
    audit.record(session, actor, "owner_request.offer", "owner_request", request.id, company_id=company_id,
                 case_id=case.id, instalments=len(schedule), total=total(schedule))
    return request


def offered_schedule(request: OwnerRequest) -> list[Instalment]:
    return [Instalment(dt.date.fromisoformat(day), Decimal(amount)) for day, amount in (request.offer or [])]


def photo_of(session: Session, company_id: int, request_id: int) -> StoredFile:
    request = get_request(session, company_id, request_id)
    stored = session.get(StoredFile, request.photo_file_id) if request.photo_file_id else None
    if stored is None or stored.company_id != company_id:
        raise ServiceError(N_("request %(id)s has no photo"), id=request_id)
    return stored


# --------------------------------------------------------------------------- helpers

_PROBLEMS = {
    ScheduleProblem.NO_INSTALMENTS: N_("a payment plan needs at least one instalment"),
    ScheduleProblem.NON_POSITIVE_AMOUNT: N_("every instalment must be greater than zero"),
    ScheduleProblem.DATES_NOT_INCREASING: N_("instalment dates must be strictly increasing"),
    ScheduleProblem.BEFORE_AGREEMENT: N_("the first instalment cannot fall before the agreement date"),
}


def _expect(request: OwnerRequest, kind: OwnerRequestKind, status: OwnerRequestStatus) -> None:
    if request.kind != kind:
        raise ServiceError(N_("request %(id)s is not a %(kind)s request"), id=request.id, kind=kind.value)
    if request.status != status:
        raise ServiceError(N_("request %(id)s is %(status)s, not %(expected)s"), id=request.id,
                           status=request.status.value, expected=status.value)


def _decide(request: OwnerRequest, actor: Actor, status: OwnerRequestStatus, note: str, now: dt.datetime) -> None:
    request.status, request.decided_at, request.decided_by = status, now, actor.name
    request.decision_note = (note or "").strip() or None


def _owned_request(session: Session, link: OwnerLink, request_id: int, *, lock: bool) -> OwnerRequest:
    """A request of this link's owner and unit; anything else is "not found" (never another owner's)."""
    request = session.get(OwnerRequest, request_id)
    if request is None or (request.owner_id, request.unit_id, request.company_id) != (
            link.owner_id, link.unit_id, link.company_id):
        raise ServiceError(N_("There is no such request."))
    if lock:
        request = get_request(session, link.company_id, request.id, lock=True)
    return request


def _case_id(session: Session, link: OwnerLink) -> int | None:
    return _case_id_for(session, link.owner_id, link.unit_id)


def _case_id_for(session: Session, owner_id: int, unit_id: int) -> int | None:
    """The owner's collection case on the unit: an open one first, then the latest."""
    return session.scalar(
        select(CollectionCase.id)
        .join(Ownership, Ownership.id == CollectionCase.ownership_id)
        .join(OwnershipParty, OwnershipParty.ownership_id == Ownership.id)
        .where(CollectionCase.unit_id == unit_id, OwnershipParty.owner_id == owner_id)
        .order_by((CollectionCase.status == CaseStatus.OPEN).desc(), Ownership.valid_from.desc(),
                  CollectionCase.id.desc())
        .limit(1))


def _check_rate(session: Session, link: OwnerLink, now: dt.datetime) -> None:
    recent = session.scalar(select(func.count(OwnerRequest.id)).where(
        OwnerRequest.link_id == link.id, OwnerRequest.created_at >= now - dt.timedelta(days=1))) or 0
    if recent >= MAX_PER_DAY:
        raise ServiceError(N_("Too many requests today. Please contact the office directly."))


def _store_photo(session: Session, link: OwnerLink, photo: Photo) -> StoredFile:
    if len(photo.data) > MAX_PHOTO:
        raise ServiceError(N_("The photo is larger than 5 MB."))
    kind = next(((ctype, ext) for magic, ctype, ext in _MAGIC if photo.data.startswith(magic)), None)
    if kind is None:
        raise ServiceError(N_("The photo must be a JPEG or PNG image."))
    content_type, ext = kind
    stored = StoredFile(company_id=link.company_id, filename=f"owner-request-photo.{ext}", content_type=content_type,
                        size=len(photo.data), sha256=hashlib.sha256(photo.data).hexdigest(), data=photo.data,
                        created_by=_owner_actor(link).name)
    session.add(stored)
    session.flush()
    return stored


def _category(value: DisputeCategory | str) -> DisputeCategory:
    try:
        return DisputeCategory(value)
    except ValueError:
        raise ServiceError(N_("Choose a category from the list.")) from None


def _money(value: Decimal | str) -> Decimal:
    try:
        return parse_money(value)
    except MoneyError as exc:
        raise invalid_amount(value) from exc


def _addr(remote_addr: str | None) -> str | None:
    return (remote_addr or "")[:64] or None
