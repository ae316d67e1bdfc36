"""Translated labels for stored codes (roles, policies, components, job states, aging buckets)."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Flask
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l

from .formatting import money

# The sweep writes an action's reason in one fixed form (services/escalation/sweep.py) so that the
# stored record reads the same in every language; it is translated for display only.
_SWEEP_REASON = re.compile(r"^(\d+) days overdue; (\d+) periods?; ¥([\d,]+\.\d\d)(?: \(after (.+)\))?$")

LABELS: dict[str, dict[str, object]] = {
    "role": {
        "admin": _l("Administrator"), "manager": _l("Manager"), "accountant": _l("Accountant"),
        "lawyer": _l("Lawyer"), "auditor": _l("Auditor"),
    },
    "policy": {
        "principal_first": _l("principal first, late fees last"),
        "statutory": _l("statutory order: costs, late fee, principal"),
    },
    "component": {"principal": _l("principal"), "late_fee": _l("late fee"), "cost": _l("costs")},
    "job_kind": {"billing": _l("Billing run"), "import": _l("Import"),
                 "render_letters": _l("Letters of a batch"), "render_packet": _l("Filing packet")},
    "filing_route": {"payment_order": _l("payment order"), "small_claims": _l("small claims"),
                     "lawsuit": _l("lawsuit (simplified or ordinary procedure)"), "arbitration": _l("arbitration")},
    "job_status": {"running": _l("running"), "done": _l("done"), "failed": _l("failed")},
    "aging": {
        "0-30": _l("0–30 days"), "31-90": _l("31–90 days"), "91-180": _l("91–180 days"),
        "181-365": _l("181–365 days"), "365+": _l("over 365 days"),
    },
    # the dashboard's buckets (arrears.domain.reporting.AGING_BUCKETS): overdue only, up to "over 3 years"
    "report_aging": {
        "d1_30": _l("1–30 days"), "d31_90": _l("31–90 days"), "d91_180": _l("91–180 days"),
        "d181_365": _l("181–365 days"), "y1_3": _l("1–3 years"), "y3_plus": _l("over 3 years"),
    },
    "source": {"payment": _l("payment"), "credit": _l("credit applied"), "adjustment": _l("adjustment")},
    # escalation (issue 3)
    "esc_action": {
        "pre_due_notice": _l("pre-due notice"), "reminder": _l("reminder"), "demand": _l("formal written demand"),
        "notice_candidate": _l("public notice candidate"), "mediation_referral": _l("mediation referral"),
        "legal_ready": _l("ready for legal filing"),
    },
    # owners' self-service requests and links
    "owner_request_status": {
        "submitted": _l("waiting for staff"), "accepted": _l("accepted"), "offered": _l("schedule offered"),
        "confirmed": _l("confirmed"), "rejected": _l("rejected"), "withdrawn": _l("withdrawn"),
        "expired": _l("expired"),
    },
    "owner_request_kind": {"dispute": _l("dispute"), "plan": _l("payment plan proposal")},
    "owner_link_state": {"active": _l("active"), "revoked": _l("revoked"), "expired": _l("expired"),
                         "locked": _l("locked after wrong answers")},
    # the stage codes of the default policy (a company's own codes show as they are)
    "stage_code": {
        "pre_due": _l("pre-due notice"), "reminder_1": _l("First reminder"), "reminder_2": _l("Second reminder"),
        "demand": _l("formal written demand"), "public_notice": _l("public notice candidate"),
        "mediation": _l("mediation referral"), "legal_ready": _l("ready for legal filing"),
    },
    "channel": {"email": _l("e-mail"), "sms": _l("SMS"), "letter": _l("printed letter"),
                "hand": _l("hand delivery"), "": _l("all channels")},
    "action_status": {"prepared": _l("prepared"), "approved": _l("approved"), "removed": _l("removed"),
                      "dispatched": _l("dispatched"), "done": _l("done")},
    "message_status": {"queued": _l("queued"), "sending": _l("sending"), "sent": _l("sent"),
                       "delivered": _l("delivered"), "failed": _l("failed"), "unknown": _l("unknown"),
                       "cancelled": _l("cancelled")},
    "case_status": {"open": _l("open"), "closed": _l("closed")},
    "run_status": {"running": _l("running"), "succeeded": _l("succeeded"), "failed": _l("failed")},
    "dispute_category": {
        "service_quality": _l("service quality"), "leak": _l("leak"), "vacancy": _l("vacancy"),
        "amount_error": _l("amount error"), "developer_defect": _l("developer defect"), "other": _l("other"),
    },
    "dispute_outcome": {"withdrawn": _l("withdrawn"), "fee_adjusted": _l("fee adjusted by a credit entry"),
                        "upheld": _l("upheld"), "open": _l("open")},
    "plan_status": {"active": _l("active"), "completed": _l("completed"), "broken": _l("broken"),
                    "cancelled": _l("cancelled")},
    "delivery_result": {
        "signed_by_owner": _l("signed by the owner"),
        "signed_by_household_adult": _l("signed by an adult of the household"),
        "signed_by_authorised": _l("signed by an authorised recipient"),
        "refused_at_given_address": _l("refused at the address the owner gave"),
        "returned_from_given_address": _l("returned from the address the owner gave"),
        "signed_by_locker_or_reception": _l("signed by a parcel locker or reception"),
        "signed_by_company_staff": _l("signed by our own staff"),
        "returned_address_unknown": _l("returned: address unknown"),
        "sms_receipt": _l("SMS delivery receipt"),
    },
    "case_reason": {
        "below_tolerance": _l("below tolerance"), "paused": _l("paused"), "disputed": _l("disputed"),
        "awaiting_demand_delivery": _l("awaiting delivery of the demand"),
        "demand_deadline_running": _l("demand deadline running"), "min_gap": _l("too soon after the previous stage"),
        "not_due_yet": _l("not due yet"), "final_stage": _l("final stage"), "advanced": _l("advanced"),
    },
    "run_count": {
        "evaluated": _l("evaluated"), "opened": _l("opened"), "reopened": _l("reopened"),
        "advanced": _l("advanced"), "closed": _l("closed"), "stayed": _l("stayed"), "paused": _l("paused"),
        "prepared": _l("prepared"), "pre_due": _l("pre-due notices"), "sent": _l("sent"), "failed": _l("failed"),
    },
    # the same names as the templates' macros (notices/_status.html, legal/_labels.html), for exports
    "notice_status": {
        "current": _l("Current"), "expired": _l("Posting period over"), "take_down": _l("To be taken down"),
        "superseded": _l("Superseded"), "withdrawn": _l("Withdrawn"), "draft": _l("Draft (not approved)"),
    },
    "legal_state": {
        "drafted": _l("drafted"), "filed": _l("filed"), "mediation": _l("in mediation"),
        "payment_order_issued": _l("payment order issued"), "objection_raised": _l("objection raised"),
        "title_effective": _l("title effective"), "enforcement_applied": _l("enforcement applied"),
        "dishonest_applied": _l("dishonest-list application filed"), "listed": _l("listed as dishonest debtor"),
        "deletion_requested": _l("deletion requested"), "deleted": _l("deleted from the list"),
        "paid": _l("paid (closed)"), "withdrawn": _l("withdrawn"), "dismissed": _l("dismissed"),
    },
    "legal_route": {
        "payment_order": _l("payment order"), "small_claims": _l("small claims"),
        "simplified": _l("simplified procedure"), "ordinary": _l("ordinary procedure"), "arbitration": _l("arbitration"),
    },
    "ceiling_status": {"current": _l("current"), "retired": _l("retired")},
    "timeline": {
        "charge": _l("charge"), "payment": _l("payment"), "stage": _l("stage entered"), "action": _l("action"),
        "message": _l("message"), "delivery": _l("delivery"), "hold": _l("hold"), "dispute": _l("dispute"),
        "mediation": _l("mediation session"), "resolution": _l("dispute resolved"), "plan": _l("payment plan"),
        "instalment": _l("instalment"),
    },
}


def label(kind: str, value: object) -> str:
    """The label of a stored code in the current language; unknown codes show as they are."""
    key = getattr(value, "value", value)
    return str(LABELS.get(kind, {}).get(str(key), key))


def action_reason(reason: str | None) -> str:
    """An escalation action's stored reason in the current language, line by line; a line that is
    not in the sweep's form (a person's note, an outbox note) shows as it was written."""
    return "\n".join(_reason_line(line) for line in (reason or "").splitlines())


def _reason_line(line: str) -> str:
    found = _SWEEP_REASON.match(line)
    if found is None:
        return line
    days, periods, amount, skipped = found.groups()
    text = ngettext("%(days)s days overdue; %(num)d overdue period; %(amount)s yuan",
                    "%(days)s days overdue; %(num)d overdue periods; %(amount)s yuan", int(periods),
                    days=days, amount=money(Decimal(amount.replace(",", ""))))
    if skipped:
        stages = "、".join(label("stage_code", code.strip()) for code in skipped.split(","))
        text += " " + _("(after %(stages)s)", stages=stages)
    return text


def init_app(app: Flask) -> None:
    app.jinja_env.globals["label"] = label
    app.jinja_env.filters["action_reason"] = action_reason
    app.jinja_env.globals["job_labels"] = _job_labels


def _job_labels() -> dict[str, str]:
    return {key: str(value) for key, value in LABELS["job_status"].items()}


__all__: list[str] = ["action_reason", "label", "init_app"]
