"""Letters in the owner's language and with their self-service link (issue 6): English reminders,
demands and statements for owners whose language is en; the link as text and QR code on reminders
and demands; Chinese stays the default."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from arrears.domain.escalation import Action
from arrears.persistence.base import utcnow
from arrears.services.documents import DocumentRequest, render
from arrears.services.escalation.letters import letter_reference
from arrears.services.selfservice import links
from tests.documents.test_letters import ON, _flat, _text, _with_late_fee
from tests.factories import ACTOR
from tests.services.test_delivery import Demand, build_demand


def _request(demand: Demand, kind: str) -> DocumentRequest:
    subject = demand.case.id if kind == "statement_of_account" else demand.action.id
    return DocumentRequest(kind, demand.company.id, subject, {"as_of": ON.isoformat()})


def _link_url(session: Session, demand: Demand) -> str:
    link = links.issue_link(session, ACTOR, demand.company.id, demand.owner.id, demand.unit.id, now=utcnow())
    return links.default_signer().url(link)


def test_english_demand_letter_with_link_and_qr_code(session: Session) -> None:
    demand = build_demand(session, deadline_days=20, language="en")
    _with_late_fee(demand)
    session.flush()
    url = _link_url(session, demand)
    built, pdf = render(session, _request(demand, "demand_letter"))
    letter = built.context["letter"]
    flat = _flat(_text(pdf))
    assert built.template == "en/demand_letter.html" and letter.language == "en"
    for expected in ("Formal Demand for Payment", f"To {demand.owner.name}:", "2026-01, 2026-02, 2026-03 (3 periods)",
                     "RMB 600.00", "陆佰元整", "within 20 days of receiving this letter", "Article 944",
                     "How to pay", "How to dispute", "4. Online", "22 November 2026",
                     letter_reference(demand.message, ON), "Page 1 of"):
        assert _flat(expected) in flat, expected
    assert "per day" in letter.late_fee_basis and "催告函" not in flat
    assert [(link.unit, link.url) for link in letter.links] == [(f"{demand.unit.community.name} {demand.unit.code}",
                                                                 url)]
    assert letter.links[0].qr.startswith("data:image/svg+xml")
    assert _flat(url) in flat


def test_english_reminder_and_statement_of_account(session: Session) -> None:
    demand = build_demand(session, action=Action.REMINDER, language="en_US")
    built, pdf = render(session, _request(demand, "reminder_letter"))
    flat = _flat(_text(pdf))
    assert built.template == "en/reminder_letter.html"
    for expected in ("Reminder: Property Service Fees", f"Dear {demand.owner.name},", "RMB 600.00", "How to pay"):
        assert _flat(expected) in flat, expected
    assert not built.context["letter"].links and "Online" not in flat  # no link issued: none printed
    built, pdf = render(session, _request(demand, "statement_of_account"))
    flat = _flat(_text(pdf))
    assert built.template == "en/statement_of_account.html"
    for expected in ("Statement of Account", "Charges by period", "Payments", "Summary", "Arrears",
                     "principal first"):
        assert _flat(expected) in flat, expected


def test_chinese_letters_stay_chinese_and_print_the_link(session: Session) -> None:
    demand = build_demand(session, action=Action.REMINDER)
    url = _link_url(session, demand)
    built, pdf = render(session, _request(demand, "reminder_letter"))
    flat = _flat(_text(pdf))
    assert built.template == "reminder_letter.html"
    assert "物业服务费缴费提醒函" in flat and "在线办理" in flat and _flat(url) in flat
    assert built.context["letter"].links[0].qr.startswith("data:image/svg+xml")


def test_a_revoked_or_expired_link_is_not_printed(session: Session) -> None:
    demand = build_demand(session)
    link = links.issue_link(session, ACTOR, demand.company.id, demand.owner.id, demand.unit.id, now=utcnow())
    links.revoke_link(session, ACTOR, demand.company.id, link.id, now=utcnow())
    links.issue_link(session, ACTOR, demand.company.id, demand.owner.id, demand.unit.id,
                     now=utcnow() - dt.timedelta(days=61))
    built, pdf = render(session, _request(demand, "demand_letter"))
    assert built.context["letter"].links == () and "在线办理" not in _flat(_text(pdf))
