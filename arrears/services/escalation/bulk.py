"""Bulk actions on work-queue cases: hold, assign, approve prepared actions, print letters.

Each action is planned first (what will change, what is skipped and why) and the plan carries a
fingerprint; executing recomputes the plan in the same transaction and refuses with
`SelectionChanged` if the fingerprint differs, so what changes is exactly what the person
confirmed. Cases that already are in the wanted state are skipped, which makes a resubmitted
confirmation change nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from arrears.persistence.enums import ActionStatus, CaseStatus
from arrears.persistence.models import CaseHold, CollectionCase, EscalationAction, Membership
from arrears.services import audit
from arrears.services.actor import Actor
from arrears.services.documents.batch import LETTER_KINDS, PRINTABLE
from arrears.services.documents.registry import DocumentRequest
from arrears.services.errors import N_, ServiceError

from . import review
from .holds import MAX_HOLD_DAYS

ACTIONS = ("hold", "assign", "approve", "print")
CHUNK = 500
# Why a selected case is left alone (shown on the confirmation page).
NOT_OPEN, ALREADY_HELD, ALREADY_ASSIGNED, NOTHING_TO_APPROVE, NO_LETTER = (
    "not_open", "already_held", "already_assigned", "nothing_to_approve", "no_letter")


class SelectionChanged(ServiceError):
    """The cases (or what would change) differ from what the person confirmed."""


@dataclass(frozen=True)
class BulkPlan:
    action: str
    selected: int  # cases selected
    case_ids: list[int]  # cases that will change (hold, assign) or whose actions/letters are used
    action_ids: list[int] = field(default_factory=list)  # approve: the actions; print: the letters
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> number of cases
    params: tuple[str, ...] = ()  # what the counts depend on besides the cases (assign: the person)

    @property
    def changes(self) -> int:
        """What the confirmation page announces: actions to approve, letters to print, else cases."""
        return len(self.action_ids) if self.action in ("approve", "print") else len(self.case_ids)

    @property
    def fingerprint(self) -> str:
        text = "|".join([self.action, ",".join(map(str, self.case_ids)), ",".join(map(str, self.action_ids)),
                         ",".join(f"{k}={v}" for k, v in sorted(self.skipped.items())), *self.params])
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def plan(session: Session, company_id: int, action: str, case_ids: Sequence[int], *, today: dt.date,
         responsible_user_id: int | None = None) -> BulkPlan:
    """What `action` would do to the selected cases (the company's open ones; others are skipped)."""
    if action not in ACTIONS:
        raise ServiceError(N_("choose a bulk action"))
    selected = sorted({int(i) for i in case_ids})
    if not selected:
        raise ServiceError(N_("select at least one row"))
    open_ids = _open_cases(session, company_id, selected)
    skipped: dict[str, int] = {}
    _skip(skipped, NOT_OPEN, len(selected) - len(open_ids))
    if action == "hold":
        held = _held_ids(session, open_ids, today)
        _skip(skipped, ALREADY_HELD, len(held))
        return BulkPlan(action, len(selected), [i for i in open_ids if i not in held], [], skipped)
    if action == "assign":
        same = _assigned_to(session, open_ids, responsible_user_id)
        _skip(skipped, ALREADY_ASSIGNED, len(same))
        return BulkPlan(action, len(selected), [i for i in open_ids if i not in same], [], skipped,
                        (str(responsible_user_id or ""),))
    if action == "approve":
        by_case = _actions(session, company_id, open_ids, [ActionStatus.PREPARED], latest_letter_only=False)
        _skip(skipped, NOTHING_TO_APPROVE, len(open_ids) - len(by_case))
        return BulkPlan(action, len(selected), sorted(by_case), sorted(a for ids in by_case.values() for a in ids),
                        skipped)
    letters = _actions(session, company_id, open_ids, list(PRINTABLE), latest_letter_only=True)
    _skip(skipped, NO_LETTER, len(open_ids) - len(letters))
    return BulkPlan(action, len(selected), sorted(letters), sorted(a for ids in letters.values() for a in ids),
                    skipped)


def execute(session: Session, actor: Actor, company_id: int, action: str, case_ids: Sequence[int], *,
            fingerprint: str, today: dt.date, responsible_user_id: int | None = None, reason: str = "",
            ends_on: dt.date | None = None) -> BulkPlan:
    """Carry out the confirmed plan; refuses (nothing changed) when it is no longer the same."""
    if action == "hold":
        _check_hold(reason, ends_on, today)
    if action == "assign" and responsible_user_id is not None:
        _check_member(session, company_id, responsible_user_id)
    current = plan(session, company_id, action, case_ids, today=today, responsible_user_id=responsible_user_id)
    if current.fingerprint != fingerprint:
        raise SelectionChanged(N_("the selection changed since it was shown; check the numbers and confirm again"))
    if action == "hold":
        assert ends_on is not None
        _hold(session, actor, company_id, current.case_ids, reason.strip(), ends_on, today)
    elif action == "assign":
        _assign(session, actor, company_id, current.case_ids, responsible_user_id)
    elif action == "approve":
        for chunk in _chunks(current.action_ids):
            review.approve_actions(session, actor, company_id, chunk)
    if action != "print":  # printing changes nothing; the rendering itself is audited
        audit.record(session, actor, f"cases.bulk_{action}", "collection_case", None, company_id=company_id,
                     cases=len(current.case_ids), actions=len(current.action_ids), skipped=current.skipped,
                     case_ids=current.case_ids[:1000])
    session.flush()
    return current


def letter_requests(session: Session, company_id: int, action_ids: Iterable[int]) -> list[DocumentRequest]:
    """The letters to print for planned letter actions, in case order (one per case)."""
    ids = sorted(set(action_ids))
    kinds: dict[int, str] = {}
    for chunk in _chunks(ids):
        for action_id, kind in session.execute(
            select(EscalationAction.id, EscalationAction.action)
            .where(EscalationAction.company_id == company_id, EscalationAction.id.in_(chunk))
        ):
            kinds[action_id] = LETTER_KINDS[kind]
    return [DocumentRequest(kind=kinds[i], company_id=company_id, subject_id=i) for i in ids if i in kinds]


# ---------------------------------------------------------------- planning helpers


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def _skip(skipped: dict[str, int], reason: str, count: int) -> None:
    if count:
        skipped[reason] = count


def _open_cases(session: Session, company_id: int, ids: Sequence[int]) -> list[int]:
    found: list[int] = []
    for chunk in _chunks(ids):
        found += session.scalars(select(CollectionCase.id).where(
            CollectionCase.id.in_(chunk), CollectionCase.company_id == company_id,
            CollectionCase.status == CaseStatus.OPEN))
    return sorted(found)


def _held_ids(session: Session, ids: Sequence[int], today: dt.date) -> set[int]:
    held: set[int] = set()
    for chunk in _chunks(ids):
        held |= set(session.scalars(select(CaseHold.case_id).where(
            CaseHold.case_id.in_(chunk), CaseHold.released_on.is_(None), CaseHold.starts_on <= today,
            CaseHold.ends_on >= today)))
    return held


def _assigned_to(session: Session, ids: Sequence[int], user_id: int | None) -> set[int]:
    same: set[int] = set()
    target = CollectionCase.responsible_user_id
    for chunk in _chunks(ids):
        same |= set(session.scalars(select(CollectionCase.id).where(
            CollectionCase.id.in_(chunk), target.is_(None) if user_id is None else target == user_id)))
    return same


def _actions(session: Session, company_id: int, case_ids: Sequence[int], statuses: list[ActionStatus], *,
             latest_letter_only: bool) -> dict[int, list[int]]:
    """Actions of the cases in `statuses`, by case; for printing only each case's latest letter."""
    by_case: dict[int, list[int]] = {}
    for chunk in _chunks(case_ids):
        query = select(EscalationAction.case_id, EscalationAction.id).where(
            EscalationAction.company_id == company_id, EscalationAction.case_id.in_(chunk),
            EscalationAction.status.in_(statuses))
        if latest_letter_only:
            query = query.where(EscalationAction.action.in_(list(LETTER_KINDS)))
        for case_id, action_id in session.execute(query.order_by(EscalationAction.case_id, EscalationAction.id)):
            if latest_letter_only:
                by_case[case_id] = [action_id]  # ordered by id: the last one wins
            else:
                by_case.setdefault(case_id, []).append(action_id)
    return by_case


# ---------------------------------------------------------------- execution helpers


def _check_hold(reason: str, ends_on: dt.date | None, today: dt.date) -> None:
    """The rules of holds.place_hold, checked once for the whole selection."""
    if not (reason or "").strip():
        raise ServiceError(N_("a hold needs a reason"))
    if ends_on is None or ends_on < today:
        raise ServiceError(N_("a hold cannot end before today"))
    if ends_on > today + dt.timedelta(days=MAX_HOLD_DAYS):
        raise ServiceError(N_("a hold may last at most %(days)s days"), days=MAX_HOLD_DAYS)


def _check_member(session: Session, company_id: int, user_id: int) -> None:
    member = session.scalar(
        select(Membership.id).where(Membership.company_id == company_id, Membership.user_id == user_id))
    if member is None:
        raise ServiceError(N_("user %(id)s is not a member of this company"), id=user_id)


def _hold(session: Session, actor: Actor, company_id: int, case_ids: list[int], reason: str, ends_on: dt.date,
          today: dt.date) -> None:
    """One hold per case, as holds.place_hold makes it (same audit entry), in one flush."""
    holds = [CaseHold(case_id=i, reason=reason, author=actor.name, starts_on=today, ends_on=ends_on)
             for i in case_ids]
    session.add_all(holds)
    session.flush()
    for hold in holds:
        audit.record(session, actor, "hold.place", "case_hold", hold.id, company_id=company_id, message=reason,
                     case_id=hold.case_id, ends_on=ends_on)


def _assign(session: Session, actor: Actor, company_id: int, case_ids: list[int], user_id: int | None) -> None:
    """Set the responsible person (as cases.update_case does, same audit entry), one UPDATE per chunk."""
    for chunk in _chunks(case_ids):
        session.execute(update(CollectionCase).where(
            CollectionCase.company_id == company_id, CollectionCase.id.in_(chunk)
        ).values(responsible_user_id=user_id))
    for case_id in case_ids:
        audit.record(session, actor, "case.update", "collection_case", case_id, company_id=company_id,
                     responsible_user_id=user_id)


__all__ = ["ACTIONS", "BulkPlan", "SelectionChanged", "execute", "letter_requests", "plan"]
