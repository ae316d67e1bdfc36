"""Translated labels for stored codes (roles, policies, components, job states, aging buckets)."""

from __future__ import annotations


from flask import Flask
from flask_babel import lazy_gettext as _l

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
    "job_kind": {"billing": _l("Billing run"), "import": _l("Import")},
    "job_status": {"running": _l("running"), "done": _l("done"), "failed": _l("failed")},
    "aging": {
        "0-30": _l("0–30 days"), "31-90": _l("31–90 days"), "91-180": _l("91–180 days"),
        "181-365": _l("181–365 days"), "365+": _l("over 365 days"),
    },
    "source": {"payment": _l("payment"), "credit": _l("credit applied"), "adjustment": _l("adjustment")},
}


def label(kind: str, value: object) -> str:
    """The label of a stored code in the current language; unknown codes show as they are."""
    key = getattr(value, "value", value)
    return str(LABELS.get(kind, {}).get(str(key), key))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["job_labels"] = _job_labels


def _job_labels() -> dict[str, str]:
    return {key: str(value) for key, value in LABELS["job_status"].items()}


__all__: list[str] = ["label", "init_app"]
