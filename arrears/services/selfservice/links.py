"""Self-service links: one signed, expiring, revocable URL per owner and unit.

* The token is ``URLSafeSerializer(secret)`` over ``[link id, nonce]``; the row decides validity
  (revoked, expired), so a good signature alone opens nothing. Every refusal — bad signature,
  unknown row, wrong nonce, revoked, expired — is the same :class:`LinkRefused`, so a guesser
  learns nothing about which links exist.
* Before anything is shown the owner types the last four digits of their phone number or ID
  number (a final X in any case). Wrong answers count on the row; the fifth locks the link for
  15 minutes (``locked_until``, shared by every web worker) and each further failure before a
  success locks it again. A success resets the counter.
* Independently, failed checks from one remote address across all links are counted in
  ``login_attempt`` under the key ``link:<address>`` (the sign-in throttle's table, so no new
  table and no extra dependency); 20 in 15 minutes refuse that address for a while.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from dataclasses import dataclass

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.config import Settings
from arrears.persistence.models import LoginAttempt, Owner, Ownership, OwnershipParty, Unit
from arrears.persistence.workspace import OwnerLink

from .. import audit
from ..actor import Actor
from ..errors import N_, ServiceError
from ..tenancy import get_scoped

DEFAULT_DAYS = 60
MAX_DAYS = 366
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)
IP_MAX_FAILURES = 20
IP_WINDOW = dt.timedelta(minutes=15)
#: A link is reused for a new message only while it has at least this long left to live, so an
#: owner never receives a letter whose link dies a few days later.
REUSE_MIN_REMAINING = dt.timedelta(days=14)
SALT = "arrears.owner-link"
_ANSWER = re.compile(r"[0-9X]{4}")


class LinkRefused(ServiceError):
    """Any reason a link cannot be used; deliberately one message for all of them."""

    def __init__(self) -> None:
        super().__init__(N_("This link is not valid or no longer works. Please contact the property "
                            "management office for a new one."))


class CheckFailed(ServiceError):
    """The last four digits did not match."""


class LinkLocked(ServiceError):
    """Too many wrong answers on this link, or from this address: try again later."""


@dataclass(frozen=True)
class LinkSigner:
    """Makes and reads link tokens: the app's secret key and the public base URL."""

    secret: str
    base_url: str

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=SALT)

    def token(self, link: OwnerLink) -> str:
        return str(self._serializer().dumps([link.id, link.nonce]))

    def url(self, link: OwnerLink) -> str:
        return f"{self.base_url.rstrip('/')}/o/{self.token(link)}"

    def load(self, token: str) -> tuple[int, str] | None:
        """(link id, nonce) from a token with a good signature, else None."""
        try:
            value = self._serializer().loads(token or "")
        except BadData:
            return None
        if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int)
                or isinstance(value[0], bool) or not isinstance(value[1], str)):
            return None
        return value[0], value[1]


def signer_from(settings: Settings) -> LinkSigner:
    return LinkSigner(settings.secret_key, settings.public_base_url)


def default_signer() -> LinkSigner:
    """The signer from the environment (ARREARS_SECRET_KEY, ARREARS_PUBLIC_BASE_URL) — the same
    settings ``create_app`` reads — for callers (nightly outbox, letter rendering in worker
    processes) that hold no app."""
    return signer_from(Settings.from_env())


# --------------------------------------------------------------------------- issuing


def owns_or_owned(session: Session, owner_id: int, unit_id: int) -> bool:
    """Whether the owner is (or was) a party of an ownership record of the unit."""
    return session.scalar(
        select(func.count(OwnershipParty.id)).join(Ownership, Ownership.id == OwnershipParty.ownership_id)
        .where(Ownership.unit_id == unit_id, OwnershipParty.owner_id == owner_id)) != 0


def issue_link(session: Session, actor: Actor, company_id: int, owner_id: int, unit_id: int, *,
               now: dt.datetime, days: int = DEFAULT_DAYS, message_id: int | None = None) -> OwnerLink:
    """A new link for the owner and unit, valid for ``days`` (audited)."""
    owner = get_scoped(session, Owner, owner_id, company_id)
    unit = get_scoped(session, Unit, unit_id, company_id)
    if not 1 <= days <= MAX_DAYS:
        raise ServiceError(N_("a link must be valid for 1 to %(max)d days"), max=MAX_DAYS)
    if not owns_or_owned(session, owner.id, unit.id):
        raise ServiceError(N_("%(owner)s has no ownership record for unit %(unit)s"), owner=owner.name,
                           unit=unit.code)
    link = OwnerLink(company_id=company_id, owner_id=owner.id, unit_id=unit.id, nonce=secrets.token_urlsafe(32),
                     expires_at=now + dt.timedelta(days=days), failed_checks=0, message_id=message_id,
                     created_by=actor.name)
    session.add(link)
    session.flush()
    audit.record(session, actor, "owner_link.issue", "owner_link", link.id, company_id=company_id,
                 owner_id=owner.id, unit_id=unit.id, expires_at=link.expires_at, message_id=message_id)
    return link


def active_link(session: Session, owner_id: int, unit_id: int, *, now: dt.datetime,
                min_remaining: dt.timedelta = dt.timedelta(0)) -> OwnerLink | None:
    """The newest unrevoked link of the owner and unit still valid for ``min_remaining``."""
    return session.scalar(
        select(OwnerLink).where(OwnerLink.owner_id == owner_id, OwnerLink.unit_id == unit_id,
                                OwnerLink.revoked_at.is_(None), OwnerLink.expires_at > now + min_remaining)
        .order_by(OwnerLink.expires_at.desc(), OwnerLink.id.desc()).limit(1))


def link_for_message(session: Session, actor: Actor, company_id: int, owner_id: int, unit_id: int, *,
                     now: dt.datetime) -> OwnerLink:
    """The link a new message carries: a valid one of the owner and unit, else a new one."""
    link = active_link(session, owner_id, unit_id, now=now, min_remaining=REUSE_MIN_REMAINING)
    return link or issue_link(session, actor, company_id, owner_id, unit_id, now=now)


def revoke_link(session: Session, actor: Actor, company_id: int, link_id: int, *, now: dt.datetime) -> OwnerLink:
    link = get_scoped(session, OwnerLink, link_id, company_id)
    if link.revoked_at is not None:
        raise ServiceError(N_("link %(id)s is already revoked"), id=link.id)
    link.revoked_at, link.revoked_by = now, actor.name
    session.flush()
    audit.record(session, actor, "owner_link.revoke", "owner_link", link.id, company_id=company_id,
                 owner_id=link.owner_id, unit_id=link.unit_id)
    return link


def owner_links(session: Session, company_id: int, owner_id: int, unit_id: int | None = None) -> list[OwnerLink]:
    """The owner's links (optionally for one unit), newest first."""
    statement = select(OwnerLink).where(OwnerLink.company_id == company_id, OwnerLink.owner_id == owner_id)
    if unit_id is not None:
        statement = statement.where(OwnerLink.unit_id == unit_id)
    return list(session.scalars(statement.order_by(OwnerLink.id.desc())))


def link_state(link: OwnerLink, now: dt.datetime) -> str:
    """revoked | expired | locked | active (for staff pages)."""
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= now:
        return "expired"
    if link.locked_until is not None and link.locked_until > now:
        return "locked"
    return "active"


# --------------------------------------------------------------------------- opening


def resolve(session: Session, signer: LinkSigner, token: str, *, now: dt.datetime, lock: bool = False) -> OwnerLink:
    """The link a token names, if it may be used now; else :class:`LinkRefused` (one reason for all)."""
    loaded = signer.load(token)
    if loaded is None:
        raise LinkRefused()
    link_id, nonce = loaded
    statement = select(OwnerLink).where(OwnerLink.id == link_id)
    if lock:  # serialise the failure counter of one link across workers (PostgreSQL)
        statement = statement.with_for_update()
    link = session.scalar(statement)
    if (link is None or not hmac.compare_digest(link.nonce.encode(), nonce.encode())
            or link.revoked_at is not None or link.expires_at <= now):
        raise LinkRefused()
    return link


def address_throttled(session: Session, remote_addr: str | None, *, now: dt.datetime) -> bool:
    """Whether this remote address made too many wrong checks lately (across every link)."""
    failures = session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.username == _address_key(remote_addr),
                                                  LoginAttempt.succeeded.is_(False),
                                                  LoginAttempt.at >= now - IP_WINDOW))
    return (failures or 0) >= IP_MAX_FAILURES


def verify(session: Session, link: OwnerLink, answer: str, *, now: dt.datetime, remote_addr: str | None) -> OwnerLink:
    """Check the last four digits. Raises :class:`LinkLocked` or :class:`CheckFailed`; the caller
    must commit even then (the failure is what stops guessing)."""
    if address_throttled(session, remote_addr, now=now) or (
            link.locked_until is not None and link.locked_until > now):
        raise LinkLocked(N_("Too many wrong answers. Please try again in 15 minutes."))
    owner = session.get(Owner, link.owner_id)
    assert owner is not None
    given = (answer or "").strip().upper()
    ok = False
    for expected in expected_answers(owner):  # compare with every candidate, always
        ok = hmac.compare_digest(given.encode(), expected.encode()) | ok
    ok = ok and bool(_ANSWER.fullmatch(given))
    actor = Actor(f"owner link {link.id}")
    if ok:
        link.failed_checks, link.locked_until, link.last_opened_at = 0, None, now
        session.flush()
        audit.record(session, actor, "owner_link.open", "owner_link", link.id, company_id=link.company_id,
                     remote_addr=remote_addr)
        return link
    link.failed_checks += 1
    if link.failed_checks >= MAX_FAILURES:
        link.locked_until = now + LOCK_FOR
    session.add(LoginAttempt(username=_address_key(remote_addr), remote_addr=(remote_addr or "")[:64] or None,
                             succeeded=False, at=now))
    session.flush()
    audit.record(session, actor, "owner_link.check_failed", "owner_link", link.id, company_id=link.company_id,
                 failed_checks=link.failed_checks, locked=link.locked_until is not None, remote_addr=remote_addr)
    if link.locked_until is not None:
        raise LinkLocked(N_("Too many wrong answers. Please try again in 15 minutes."))
    raise CheckFailed(N_("Those digits do not match our records."))


def expected_answers(owner: Owner) -> list[str]:
    """The last four digits of the phone number and the last four characters of the ID number."""
    answers = []
    digits = re.sub(r"\D", "", owner.phone or "")
    if len(digits) >= 4:
        answers.append(digits[-4:])
    id_number = re.sub(r"\s", "", owner.id_number or "").upper()
    if len(id_number) >= 4:
        answers.append(id_number[-4:])
    return answers


def _address_key(remote_addr: str | None) -> str:
    return f"link:{remote_addr or 'unknown'}"[:80]
