"""The lawyers' side of legal cases (issue 5 §5): a lawyer sees only the cases assigned to them, in
the companies that instruct them (a LAWYER membership) — never another company's or colleague's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.enums import Role
from arrears.persistence.legal import LegalCase
from arrears.persistence.tenancy import Membership, User

from ..errors import N_, ServiceError


def lawyer_company_ids(session: Session, lawyer_user_id: int) -> list[int]:
    """The companies where the user is a LAWYER member."""
    return list(session.scalars(select(Membership.company_id).where(
        Membership.user_id == lawyer_user_id, Membership.role == Role.LAWYER).order_by(Membership.company_id)))


def lawyer_cases(session: Session, lawyer_user_id: int, *, include_closed: bool = True) -> list[LegalCase]:
    """The legal cases assigned to the lawyer across the companies where they are a LAWYER member."""
    companies = lawyer_company_ids(session, lawyer_user_id)
    if not companies:
        return []
    query = select(LegalCase).where(LegalCase.lawyer_user_id == lawyer_user_id,
                                    LegalCase.company_id.in_(companies))
    if not include_closed:
        query = query.where(LegalCase.closed_on.is_(None))
    return list(session.scalars(query.order_by(LegalCase.company_id, LegalCase.id)))


def can_see(session: Session, lawyer_user_id: int, case: LegalCase) -> bool:
    """Whether the lawyer may see this case (assigned to them, in a company that instructs them)."""
    return case.lawyer_user_id == lawyer_user_id and case.company_id in lawyer_company_ids(session, lawyer_user_id)


def check_lawyer(session: Session, company_id: int, user_id: int) -> User:
    """The user, if active and a LAWYER member of the company; else ServiceError."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise ServiceError(N_("user %(id)s not found"), id=user_id)
    role = session.scalar(select(Membership.role).where(Membership.user_id == user_id,
                                                        Membership.company_id == company_id))
    if role != Role.LAWYER:
        raise ServiceError(N_("%(user)s is not a lawyer of this company: only a user with the lawyer role "
                              "can be assigned a legal case"), user=user.username)
    return user
