"""The public arrears notice of a community as of a date (L16, L18).

What the notice lists, and why (L16 — PIPL art. 25 and the court cases on posted names):

* only building / room, the periods and the amount — never a name, ID number, phone number or
  bank detail; neutral wording; the legal basis configured for the community; the as-of date; a
  contact for corrections; a posting period;
* only open cases whose current cycle reached the notice stage and whose notice action was approved
  (an ``EscalationAction`` with action ``notice_candidate`` and status approved/dispatched/done);
* only debt of the unit's CURRENT owner: the case's ownership must cover both the as-of date and
  today (a former owner's debt is never posted by room number);
* left out: units with an open dispute, units in a kept (active) payment plan, cases on hold, and
  units with any payment received after the as-of date;
* every figure comes from the ledger as of the date (the statement engine: overdue principal less
  the owner's unapplied credit; late fees and cost charges are never in it).

A notice is generated as a draft with its entries and header frozen and a sha256 of their canonical
JSON; a manager approves it (the ledger is checked again and must give the same entries), which
fixes the posting period and stores the PDF. When a listed unit pays (or becomes disputed or goes on
a plan) the notice is marked for take-down; a person records the take-down, and a corrected notice
can be generated (it supersedes the old). The QR code on the notice opens the public page
``/n/<hash>``, which says only whether that notice is current. Every state change is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.documents.xlsx import Column
from arrears.domain.allocation import AllocationPolicy
from arrears.domain.calendar import load_default_calendar
from arrears.domain.escalation import Action
from arrears.domain.statement import Statement, build_statement
from arrears.domain.unitcode import natural_key
from arrears.persistence.enums import ActionStatus, CaseStatus, PlanStatus
from arrears.persistence.models import (
    Building,
    CaseHold,
    CollectionCase,
    Community,
    Company,
    Dispute,
    EscalationAction,
    NoticeStatus,
    Ownership,
    Payment,
    PaymentPlan,
    PublicNotice,
    StoredFile,
    Unit,
)
from arrears.services import audit
from arrears.services.actor import Actor
from arrears.services.errors import N_, ServiceError
from arrears.services.facts import UnitFacts, credit_as_of, load_unit_facts
from arrears.services.statements import terms_of
from arrears.services.tenancy import get_scoped

from .registry import Built, DocumentRequest, builder, render

KIND = "public_notice"
TEMPLATE = "public_notice.html"
ZERO = Decimal("0.00")
APPROVED_ACTION = (ActionStatus.APPROVED, ActionStatus.DISPATCHED, ActionStatus.DONE)
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
MAX_POSTING_DAYS = 365
FACTS_CHUNK = 500

# Reasons a unit with a notice-stage case is left out (staff-only, stored in `excluded`).
FORMER_OWNER = "former_owner"
DISPUTED = "disputed"
PAYMENT_PLAN = "payment_plan"
ON_HOLD = "on_hold"
PAID_SINCE = "paid_since"
NO_ARREARS = "no_arrears"
EXCLUSION_REASONS = (FORMER_OWNER, DISPUTED, PAYMENT_PLAN, ON_HOLD, PAID_SINCE, NO_ARREARS)


# ---------------------------------------------------------------- computing the entries


@dataclass(frozen=True)
class Selection:
    """What a notice of a community as of a date would list, and what it leaves out."""

    entries: list[dict[str, Any]]
    excluded: dict[str, list[str]]

    @property
    def total(self) -> Decimal:
        return sum((Decimal(e["amount"]) for e in self.entries), ZERO)


def select_entries(session: Session, company_id: int, community_id: int, *, as_of: dt.date,
                   today: dt.date) -> Selection:
    """The rows of the community's notice as of `as_of` (L16), from the ledger as of that date."""
    community = get_scoped(session, Community, community_id, company_id)
    company = session.get(Company, company_id)
    assert company is not None
    notice_stage = (
        select(EscalationAction.id).where(
            EscalationAction.case_id == CollectionCase.id,
            EscalationAction.cycle == CollectionCase.cycle,
            EscalationAction.action == Action.NOTICE_CANDIDATE,
            EscalationAction.status.in_(APPROVED_ACTION),
        ).exists()
    )
    cases = list(session.scalars(
        select(CollectionCase).where(
            CollectionCase.company_id == company_id, CollectionCase.community_id == community.id,
            CollectionCase.status == CaseStatus.OPEN, notice_stage,
        ).order_by(CollectionCase.unit_id, CollectionCase.id)
    ))
    excluded: dict[str, list[str]] = defaultdict(list)
    if not cases:
        return Selection([], {})
    unit_ids = sorted({c.unit_id for c in cases})
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    buildings = {b.id: b for b in session.scalars(
        select(Building).where(Building.id.in_({u.building_id for u in units.values()})))}
    current = _current_ownerships(session, unit_ids, as_of, today)
    blocked = _blocked_units(session, company_id, unit_ids, as_of, today)
    calendar = load_default_calendar()
    terms, policy = terms_of(community), AllocationPolicy(community.allocation_policy)
    facts: dict[int, UnitFacts] = {}
    for start in range(0, len(unit_ids), FACTS_CHUNK):
        facts.update(load_unit_facts(session, unit_ids[start:start + FACTS_CHUNK]))
    parties = {o.id: {p.owner_id for p in o.parties} for o in session.scalars(
        select(Ownership).where(Ownership.id.in_({c.ownership_id for c in cases})))}

    def debtor_statement(case: CollectionCase) -> Statement:
        """The case's ownership's statement as of the date — what `statements.unit_statement`
        gives as `by_debtor[ownership]`: its own charges, its owners' credit on the unit. Costs
        (court and other recoverable costs) are not service fees and are never posted."""
        unit_facts = facts[case.unit_id]
        charges = [c for c in unit_facts.charges
                   if unit_facts.ownership_of.get(c.key) == case.ownership_id and not c.is_cost]
        return build_statement(charges, as_of=as_of, terms=terms, calendar=calendar, policy=policy,
                               credit=credit_as_of(unit_facts, as_of, parties[case.ownership_id]))

    entries: list[dict[str, Any]] = []
    for case in cases:
        unit = units[case.unit_id]
        if current.get(unit.id) != case.ownership_id:
            excluded[FORMER_OWNER].append(unit.code)
            continue
        reason = blocked.get(unit.id)
        if reason is not None:
            excluded[reason].append(unit.code)
            continue
        statement = debtor_statement(case)
        if statement.arrears <= (company.arrears_tolerance or ZERO):
            excluded[NO_ARREARS].append(unit.code)
            continue
        lines = [line for line in statement.lines if line.overdue and line.outstanding > 0]
        building = buildings[unit.building_id]
        entries.append({
            "unit_id": unit.id,
            "building": building.name or building.code,
            "unit": unit.code,
            "periods": period_text([(line.period_start, line.period_end) for line in lines]),
            "period_count": len({(line.period_start, line.period_end) for line in lines}),
            "oldest_due": min(line.due_date for line in lines).isoformat(),
            "amount": str(statement.arrears),
        })
    entries.sort(key=lambda e: (natural_key(e["building"]), natural_key(e["unit"])))
    return Selection(entries, {k: sorted(set(v), key=natural_key) for k, v in excluded.items()})


def _current_ownerships(session: Session, unit_ids: Sequence[int], as_of: dt.date,
                        today: dt.date) -> dict[int, int]:
    """The ownership of each unit that covers both the as-of date and today (else none)."""
    result: dict[int, int] = {}
    for record in session.scalars(select(Ownership).where(Ownership.unit_id.in_(unit_ids))):
        if record.covers(as_of) and record.covers(today):
            result[record.unit_id] = record.id
    return result


def _blocked_units(session: Session, company_id: int, unit_ids: Sequence[int], as_of: dt.date,
                   today: dt.date) -> dict[int, str]:
    """Units left out whatever their debt: open dispute, kept plan, on hold, paid after as_of."""
    blocked: dict[int, str] = {}

    def mark(ids: Sequence[int], reason: str) -> None:
        for unit_id in ids:
            blocked.setdefault(unit_id, reason)

    mark(list(session.scalars(
        select(CollectionCase.unit_id).join(Dispute, Dispute.case_id == CollectionCase.id)
        .where(CollectionCase.unit_id.in_(unit_ids), Dispute.resolved_on.is_(None)))), DISPUTED)
    mark(list(session.scalars(
        select(CollectionCase.unit_id).join(PaymentPlan, PaymentPlan.case_id == CollectionCase.id)
        .where(CollectionCase.unit_id.in_(unit_ids), PaymentPlan.status == PlanStatus.ACTIVE))), PAYMENT_PLAN)
    mark(list(session.scalars(
        select(CollectionCase.unit_id).join(CaseHold, CaseHold.case_id == CollectionCase.id)
        .where(CollectionCase.unit_id.in_(unit_ids), CaseHold.released_on.is_(None),
               CaseHold.starts_on <= today, CaseHold.ends_on >= today))), ON_HOLD)
    mark(list(session.scalars(
        select(Payment.unit_id).where(Payment.company_id == company_id, Payment.unit_id.in_(unit_ids),
                                      Payment.reversed_on.is_(None), Payment.received_on > as_of))), PAID_SINCE)
    return blocked


def period_text(ranges: Sequence[tuple[dt.date, dt.date]]) -> str:
    """Charge periods merged into runs: "2026年1月至2026年4月、2026年6月"."""
    runs: list[list[dt.date]] = []
    for start, end in sorted(set(ranges)):
        if runs and start <= runs[-1][1] + dt.timedelta(days=1):
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    return "、".join(_run_text(start, end) for start, end in runs)


def _run_text(start: dt.date, end: dt.date) -> str:
    whole_months = start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    if whole_months:
        first, last = f"{start.year}年{start.month}月", f"{end.year}年{end.month}月"
        return first if first == last else f"{first}至{last}"
    first, last = f"{start.year}年{start.month}月{start.day}日", f"{end.year}年{end.month}月{end.day}日"
    return first if start == end else f"{first}至{last}"


# ---------------------------------------------------------------- the notice's life


def content_hash(header: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> str:
    """sha256 of the canonical JSON of header and entries (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps({"header": header, "entries": list(entries)}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def generate_notice(session: Session, actor: Actor, company_id: int, community_id: int, *, as_of: dt.date,
                    today: dt.date, replaces: PublicNotice | None = None) -> PublicNotice:
    """A draft notice of the community as of `as_of`, frozen with its hash (a manager approves it)."""
    community = get_scoped(session, Community, community_id, company_id)
    company = session.get(Company, company_id)
    assert company is not None
    if as_of > today:
        raise ServiceError(N_("the as-of date %(as_of)s is in the future"), as_of=as_of.isoformat())
    legal_basis = (community.notice_legal_basis or "").strip()
    if not legal_basis:
        raise ServiceError(N_("community %(code)s has no legal basis for public notices configured"),
                           code=community.code)
    contact = (company.collections_contact or company.phone or "").strip()
    if not contact:
        raise ServiceError(N_("the company has no contact for corrections (collections contact or phone)"))
    posting_days = community.notice_posting_days or 15
    if not 1 <= posting_days <= MAX_POSTING_DAYS:
        raise ServiceError(N_("the posting period must be between 1 and %(max)s days"), max=MAX_POSTING_DAYS)
    selection = select_entries(session, company_id, community.id, as_of=as_of, today=today)
    if not selection.entries:
        raise ServiceError(N_("no unit of community %(code)s qualifies for a public notice as of %(as_of)s"),
                           code=community.code, as_of=as_of.isoformat())
    reference = _next_reference(session, company_id, community, as_of)
    header = {
        "reference": reference,
        "company": company.name,
        "community": community.name,
        "community_code": community.code,
        "as_of": as_of.isoformat(),
        "legal_basis": legal_basis,
        "contact": contact,
        "posting_days": posting_days,
        "replaces": replaces.reference if replaces is not None else None,
    }
    notice = PublicNotice(
        company_id=company_id, community_id=community.id, reference=reference, as_of=as_of,
        status=NoticeStatus.DRAFT, header=header, entries=selection.entries, unit_count=len(selection.entries),
        total=selection.total, excluded=selection.excluded, content_hash=content_hash(header, selection.entries),
        generated_on=today, generated_by=actor.name, replaces_id=replaces.id if replaces is not None else None,
        takedown_units=[],
    )
    session.add(notice)
    session.flush()
    audit.record(session, actor, "notice.generate", "public_notice", notice.id, company_id=company_id,
                 community=community.code, as_of=as_of, units=notice.unit_count, total=notice.total,
                 hash=notice.content_hash, excluded={k: len(v) for k, v in selection.excluded.items()},
                 replaces=notice.replaces_id)
    return notice


def _next_reference(session: Session, company_id: int, community: Community, as_of: dt.date) -> str:
    count = session.scalar(select(func.count()).select_from(PublicNotice).where(
        PublicNotice.company_id == company_id, PublicNotice.community_id == community.id,
        PublicNotice.as_of == as_of)) or 0
    return f"GS-{community.code}-{as_of:%Y%m%d}-{count + 1:02d}"


def approve_notice(session: Session, actor: Actor, company_id: int, notice_id: int, *, today: dt.date,
                   public_base_url: str | None = None) -> PublicNotice:
    """A manager's approval (the web layer checks the role): the ledger must still give the same
    entries; fixes the posting period, supersedes the community's other current notice and stores
    the PDF that is printed."""
    notice = get_notice(session, company_id, notice_id)
    if notice.status != NoticeStatus.DRAFT:
        raise ServiceError(N_("notice %(ref)s is %(status)s, not a draft"), ref=notice.reference,
                           status=notice.status.value)
    fresh = select_entries(session, company_id, notice.community_id, as_of=notice.as_of, today=today)
    if fresh.entries != notice.entries:
        changed = sorted({e["unit"] for e in fresh.entries} ^ {e["unit"] for e in notice.entries}
                         | {a["unit"] for a, b in zip(fresh.entries, notice.entries) if a != b}, key=natural_key)
        raise ServiceError(N_("the entries of notice %(ref)s changed since it was generated (units %(units)s: "
                              "a payment, dispute, plan, hold or change of owner); generate a new notice"),
                           ref=notice.reference,
                           units=", ".join(changed) or "-")
    community = session.get(Community, notice.community_id)
    assert community is not None
    days = int(notice.header.get("posting_days") or community.notice_posting_days or 15)
    notice.status = NoticeStatus.APPROVED
    notice.approved_by = actor.name
    notice.approved_at = dt.datetime.now(dt.UTC)
    notice.posting_from = today
    notice.posting_until = today + dt.timedelta(days=days - 1)
    for other in session.scalars(select(PublicNotice).where(
            PublicNotice.company_id == company_id, PublicNotice.community_id == notice.community_id,
            PublicNotice.status == NoticeStatus.APPROVED, PublicNotice.id != notice.id)):
        _supersede(session, actor, other, notice, today)
    session.flush()
    built, pdf = render(session, DocumentRequest(KIND, company_id, notice.id,
                                                 {"public_base_url": public_base_url or ""}))
    stored = StoredFile(company_id=company_id, filename=built.filename, content_type="application/pdf",
                        size=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(), data=pdf, created_by=actor.name)
    session.add(stored)
    session.flush()
    notice.pdf_file_id = stored.id
    audit.record(session, actor, "notice.approve", "public_notice", notice.id, company_id=company_id,
                 posting_from=notice.posting_from, posting_until=notice.posting_until, hash=notice.content_hash,
                 pdf_sha256=stored.sha256)
    return notice


def _supersede(session: Session, actor: Actor, old: PublicNotice, new: PublicNotice, today: dt.date) -> None:
    was_posted = old.status == NoticeStatus.APPROVED
    old.status = NoticeStatus.SUPERSEDED
    old.superseded_by_id = new.id
    if was_posted and old.takedown_marked_on is None and old.taken_down_on is None:
        old.takedown_marked_on = today
        old.takedown_marked_by = actor.name
        old.takedown_reason = f"superseded by {new.reference}"
    audit.record(session, actor, "notice.supersede", "public_notice", old.id, company_id=old.company_id,
                 by=new.id, reference=new.reference)


def generate_corrected_notice(session: Session, actor: Actor, company_id: int, notice_id: int, *,
                              today: dt.date, as_of: dt.date | None = None) -> PublicNotice:
    """A new draft for the same community (as of the old date unless given); the old notice is
    superseded at once and, if it was posted, marked for take-down."""
    old = get_notice(session, company_id, notice_id)
    if old.status != NoticeStatus.APPROVED:
        raise ServiceError(N_("only an approved notice can be corrected; notice %(ref)s is %(status)s"),
                           ref=old.reference, status=old.status.value)
    new = generate_notice(session, actor, company_id, old.community_id, as_of=as_of or old.as_of, today=today,
                          replaces=old)
    _supersede(session, actor, old, new, today)
    session.flush()
    return new


def withdraw_notice(session: Session, actor: Actor, company_id: int, notice_id: int, *, reason: str,
                    today: dt.date) -> PublicNotice:
    """Discard a draft, or withdraw an approved notice (which then must be taken down)."""
    notice = get_notice(session, company_id, notice_id)
    if notice.status not in (NoticeStatus.DRAFT, NoticeStatus.APPROVED):
        raise ServiceError(N_("notice %(ref)s is %(status)s and cannot be withdrawn"), ref=notice.reference,
                           status=notice.status.value)
    if not reason.strip():
        raise ServiceError(N_("a reason is required to withdraw a notice"))
    was_posted = notice.status == NoticeStatus.APPROVED
    notice.status = NoticeStatus.WITHDRAWN
    notice.withdrawn_reason = reason.strip()
    if was_posted and notice.takedown_marked_on is None and notice.taken_down_on is None:
        notice.takedown_marked_on = today
        notice.takedown_marked_by = actor.name
        notice.takedown_reason = f"withdrawn: {reason.strip()}"
    audit.record(session, actor, "notice.withdraw", "public_notice", notice.id, company_id=company_id,
                 reason=reason.strip(), was_posted=was_posted)
    return notice


def mark_takedowns(session: Session, company_id: int, *, today: dt.date,
                   actor: Actor | None = None) -> list[PublicNotice]:
    """Mark every posted notice listing a unit that has paid since the notice's as-of date (or is
    now disputed or in a kept plan) for take-down; returns the notices marked now. Idempotent:
    call it after payments are posted and from the nightly job."""
    actor = actor or Actor.system("notice-takedown")
    marked: list[PublicNotice] = []
    notices = session.scalars(select(PublicNotice).where(
        PublicNotice.company_id == company_id, PublicNotice.status == NoticeStatus.APPROVED,
        PublicNotice.takedown_marked_on.is_(None), PublicNotice.taken_down_on.is_(None),
    ).order_by(PublicNotice.id)).all()
    for notice in notices:
        listed = {int(e["unit_id"]): e["unit"] for e in notice.entries}
        if not listed:
            continue
        blocked = _blocked_units(session, company_id, sorted(listed), notice.as_of, today)
        reasons = {unit_id: reason for unit_id, reason in blocked.items() if reason != ON_HOLD}
        if not reasons:
            continue
        notice.takedown_marked_on = today
        notice.takedown_marked_by = actor.name
        notice.takedown_units = sorted(({"unit": listed[u], "reason": r} for u, r in reasons.items()),
                                       key=lambda x: natural_key(x["unit"]))
        notice.takedown_reason = "; ".join(f"{x['unit']}: {x['reason']}" for x in notice.takedown_units)
        audit.record(session, actor, "notice.mark_takedown", "public_notice", notice.id, company_id=company_id,
                     units=notice.takedown_units)
        marked.append(notice)
    session.flush()
    return marked


def confirm_takedown(session: Session, actor: Actor, company_id: int, notice_id: int, *,
                     today: dt.date) -> PublicNotice:
    """Record that the printed notice was removed from the notice board (who and when)."""
    notice = get_notice(session, company_id, notice_id)
    if notice.approved_at is None:
        raise ServiceError(N_("notice %(ref)s was never approved or posted"), ref=notice.reference)
    if notice.taken_down_on is not None:
        raise ServiceError(N_("notice %(ref)s was already taken down on %(on)s"), ref=notice.reference,
                           on=notice.taken_down_on.isoformat())
    if notice.takedown_marked_on is None:
        notice.takedown_marked_on = today
        notice.takedown_marked_by = actor.name
        notice.takedown_reason = notice.takedown_reason or "taken down"
    notice.taken_down_on = today
    notice.taken_down_by = actor.name
    audit.record(session, actor, "notice.taken_down", "public_notice", notice.id, company_id=company_id)
    return notice


# ---------------------------------------------------------------- reading


def get_notice(session: Session, company_id: int, notice_id: int) -> PublicNotice:
    return get_scoped(session, PublicNotice, notice_id, company_id)


def list_notices(session: Session, company_id: int, *, community_id: int | None = None,
                 limit: int | None = 200) -> list[PublicNotice]:
    query = select(PublicNotice).where(PublicNotice.company_id == company_id)
    if community_id:
        query = query.where(PublicNotice.community_id == community_id)
    return list(session.scalars(query.order_by(PublicNotice.id.desc()).limit(limit)))


def notice_pdf(session: Session, company_id: int, notice_id: int) -> tuple[str, bytes]:
    """The stored PDF of an approved notice (a draft is never printed)."""
    notice = get_notice(session, company_id, notice_id)
    if notice.approved_at is None or notice.pdf_file_id is None:
        raise ServiceError(N_("notice %(ref)s is not approved: it cannot be printed"), ref=notice.reference)
    stored = get_scoped(session, StoredFile, notice.pdf_file_id, company_id)
    return stored.filename, stored.data


def public_status(notice: PublicNotice, today: dt.date) -> str:
    """current | expired | take_down | superseded | withdrawn | draft."""
    if notice.status == NoticeStatus.DRAFT:
        return "draft"
    if notice.status == NoticeStatus.SUPERSEDED:
        return "superseded"
    if notice.status == NoticeStatus.WITHDRAWN:
        return "withdrawn"
    if notice.takedown_marked_on is not None or notice.taken_down_on is not None:
        return "take_down"
    if notice.posting_until is not None and today > notice.posting_until:
        return "expired"
    return "current"


@dataclass(frozen=True)
class Verification:
    """All the public page shows: nothing personal, no amounts, no rooms."""

    community: str
    as_of: dt.date
    status: str
    posting_from: dt.date | None
    posting_until: dt.date | None

    @property
    def is_current(self) -> bool:
        return self.status == "current"


def verify_status(session: Session, content_hash: str, *, today: dt.date) -> Verification | None:
    """The public page's answer for a notice hash; None for an unknown hash or a never-approved draft."""
    value = (content_hash or "").strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        return None
    notice = session.scalar(select(PublicNotice).where(PublicNotice.content_hash == value))
    if notice is None or notice.approved_at is None:
        return None
    community = session.get(Community, notice.community_id)
    assert community is not None
    return Verification(community.name, notice.as_of, public_status(notice, today), notice.posting_from,
                        notice.posting_until)


# ---------------------------------------------------------------- the document


def verification_url(base_url: str | None, content_hash: str) -> str:
    base = (base_url or os.environ.get("ARREARS_PUBLIC_BASE_URL") or DEFAULT_PUBLIC_BASE_URL).rstrip("/")
    return f"{base}/n/{content_hash}"


def qr_data_uri(url: str) -> str:
    """The URL as a QR code, an SVG data: URI (the only kind of URL the renderer fetches)."""
    import segno

    return str(segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2, dark="#000"))


@builder(KIND)
def build_public_notice(session: Session, request: DocumentRequest) -> Built:
    """The notice as printed; a draft prints with a "not approved" banner (never for posting)."""
    notice = get_notice(session, request.company_id, request.subject_id)
    header = notice.header
    url = verification_url(request.options.get("public_base_url"), notice.content_hash)
    entries = [{"building": e["building"], "unit": e["unit"], "periods": e["periods"],
                "period_count": e["period_count"], "amount": Decimal(e["amount"])} for e in notice.entries]
    context = {
        "company_name": header["company"],
        "reference": notice.reference,
        "notice": {
            "reference": notice.reference,
            "community": header["community"],
            "as_of": notice.as_of,
            "legal_basis": header["legal_basis"],
            "contact": header["contact"],
            "posting_days": header["posting_days"],
            "posting_from": notice.posting_from,
            "posting_until": notice.posting_until,
            "approved": notice.approved_at is not None,
            "replaces": header.get("replaces"),
            "unit_count": notice.unit_count,
            "total": notice.total,
            "hash": notice.content_hash,
        },
        "entries": entries,
        "verify_url": url,
        "qr": qr_data_uri(url),
    }
    return Built(template=TEMPLATE, context=context, title=f"{header['community']}物业服务费欠费公示",
                 filename=f"public-notice-{notice.reference}.pdf", author=header["company"])


__all__ = [
    "EXCLUSION_REASONS", "KIND", "Selection", "Verification", "approve_notice", "build_public_notice",
    "confirm_takedown", "content_hash", "generate_corrected_notice", "generate_notice", "get_notice",
    "list_notices", "mark_takedowns", "notice_pdf", "period_text", "public_status", "qr_data_uri",
    "select_entries", "verification_url", "verify_status", "withdraw_notice",
]


# ---------------------------------------------------------------- Excel export of the list

NOTICE_EXPORT_COLUMNS = (
    Column(N_("Reference"), 22), Column(N_("Community"), 22), Column(N_("As of"), 12), Column(N_("Units"), 8),
    Column(N_("Total (CNY)"), 14, money=True), Column(N_("Status"), 16), Column(N_("Posted from"), 12),
    Column(N_("Posted until"), 12), Column(N_("Take-down marked on"), 12), Column(N_("Taken down on"), 12),
)


def notice_export(session: Session, company_id: int, today: dt.date, label: Callable[[str, object], str], *,
                  community_id: int | None = None) -> list[tuple[Any, ...]]:
    """Every notice the list's filter matches (no limit), in NOTICE_EXPORT_COLUMNS order."""
    names = dict(session.execute(select(Community.id, Community.name).where(Community.company_id == company_id)).all())
    return [(n.reference, names.get(n.community_id, ""), n.as_of, n.unit_count, n.total,
             label("notice_status", public_status(n, today)), n.posting_from, n.posting_until,
             n.takedown_marked_on, n.taken_down_on)
            for n in list_notices(session, company_id, community_id=community_id, limit=None)]


__all__ += ["NOTICE_EXPORT_COLUMNS", "notice_export"]
