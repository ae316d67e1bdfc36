"""The escalation policy editor: the company default and per-community overrides, stage by stage.

Everyone may read the policy; managers change it. L3: there is no action that cuts or limits
utilities or access, and the editor cannot offer one (the Action enum has none).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from arrears.domain.escalation import Action, Channel, default_policy_stages
from arrears.persistence.models import Community, EscalationPolicy, EscalationStage
from arrears.services.errors import NotFound, ServiceError
from arrears.services.escalation import policy as policies
from arrears.services.tenancy import get_scoped

from .access import MANAGERS, STAFF, allow, current_actor, current_company_id
from .forms import InputError, parse_amount, parse_int
from .messages import error_text
from .transaction import db

bp = Blueprint("escalation", __name__, url_prefix="/escalation")
CHANNEL_SLOTS = 4


@bp.get("/")
@allow(STAFF)
def index():  # type: ignore[no-untyped-def]
    company_id = current_company_id()
    default = policies.default_policy(db(), company_id)
    overrides = db().scalars(
        select(EscalationPolicy).where(EscalationPolicy.company_id == company_id,
                                       EscalationPolicy.community_id.is_not(None))
        .order_by(EscalationPolicy.community_id)
    ).all()
    communities = {c.id: c for c in db().scalars(select(Community).where(Community.company_id == company_id))}
    without = [c for c in sorted(communities.values(), key=lambda c: c.code)
               if c.id not in {o.community_id for o in overrides}]
    return render_template(
        "web/escalation/index.html", default=default, overrides=overrides, communities=communities,
        without_override=without, shipped=default_policy_stages(),
        warnings={p.id: policies.policy_warnings(p) for p in ([default] if default else []) + list(overrides)},
    )


@bp.post("/setup")
@allow(MANAGERS)
def setup():  # type: ignore[no-untyped-def]
    """Save the shipped default as the company's policy so it can be edited."""
    policies.ensure_policy(db(), current_actor(), current_company_id())
    flash(_("The default policy is saved and can now be edited."), "success")
    return redirect(url_for("escalation.index"))


@bp.post("/overrides")
@allow(MANAGERS)
def create_override():  # type: ignore[no-untyped-def]
    community_id = request.form.get("community_id", type=int)
    if community_id is None:
        flash(_("Choose a community."), "error")
        return redirect(url_for("escalation.index"))
    return _do(lambda: policies.create_override(db(), current_actor(), current_company_id(), community_id),
               _("The community now has its own policy, copied from the default."))


@bp.post("/policies/<int:policy_id>/delete")
@allow(MANAGERS)
def delete_override(policy_id: int):  # type: ignore[no-untyped-def]
    return _do(lambda: policies.delete_override(db(), current_actor(), current_company_id(), policy_id),
               _("Override deleted; the community follows the default policy again."))


@bp.route("/policies/<int:policy_id>/stages/new", methods=["GET", "POST"])
@allow(MANAGERS)
def new_stage(policy_id: int):  # type: ignore[no-untyped-def]
    policy = _policy(policy_id)
    return _stage_form(policy, None)


@bp.route("/stages/<int:stage_id>/edit", methods=["GET", "POST"])
@allow(MANAGERS)
def edit_stage(stage_id: int):  # type: ignore[no-untyped-def]
    stage = _stage(stage_id)
    return _stage_form(stage.policy, stage)


@bp.post("/stages/<int:stage_id>/delete")
@allow(MANAGERS)
def delete_stage(stage_id: int):  # type: ignore[no-untyped-def]
    _stage(stage_id)
    return _do(lambda: policies.delete_stage(db(), current_actor(), current_company_id(), stage_id),
               _("Stage deleted."))


@bp.post("/stages/<int:stage_id>/move")
@allow(MANAGERS)
def move_stage(stage_id: int):  # type: ignore[no-untyped-def]
    _stage(stage_id)
    direction = -1 if request.form.get("direction") == "up" else 1
    return _do(lambda: policies.move_stage(db(), current_actor(), current_company_id(), stage_id, direction),
               _("Stage moved."))


# ---------------------------------------------------------------- helpers


def _stage_form(policy: EscalationPolicy, stage: EscalationStage | None):  # type: ignore[no-untyped-def]
    if request.method == "GET":
        return _render_form(policy, stage, _values(stage))
    form = request.form
    try:
        data = _stage_input(form)
        policies.save_stage(db(), current_actor(), current_company_id(), policy.id, data,
                            stage_id=stage.id if stage else None)
    except InputError as exc:
        flash(str(exc), "error")
        return _render_form(policy, stage, _form_values(form)), 400
    except ServiceError as exc:
        flash(error_text(exc), "error")
        return _render_form(policy, stage, _form_values(form)), 400
    flash(_("Stage saved."), "success")
    return redirect(url_for("escalation.index", _anchor=f"policy-{policy.id}"))


def _render_form(policy: EscalationPolicy, stage: EscalationStage | None, values: dict[str, Any]) -> str:
    community = db().get(Community, policy.community_id) if policy.community_id else None
    return render_template("web/escalation/stage.html", policy=policy, stage=stage, v=values,
                           community=community, actions=list(Action), channels=list(Channel),
                           slots=range(CHANNEL_SLOTS))


def _values(stage: EscalationStage | None) -> dict[str, Any]:
    if stage is None:
        return {"code": "", "name": "", "action": Action.REMINDER.value, "min_days_overdue": "",
                "min_amount": "0.00", "min_periods": "1", "min_days_since_previous": "0", "channels": [],
                "template": "", "needs_approval": True, "deadline_days": ""}
    return {"code": stage.code, "name": stage.name, "action": stage.action.value,
            "min_days_overdue": stage.min_days_overdue, "min_amount": f"{stage.min_amount:.2f}",
            "min_periods": stage.min_periods, "min_days_since_previous": stage.min_days_since_previous,
            "channels": list(stage.channels or []), "template": stage.template,
            "needs_approval": stage.needs_approval, "deadline_days": stage.deadline_days or ""}


def _form_values(form: Any) -> dict[str, Any]:
    values = {key: form.get(key, "") for key in ("code", "name", "action", "min_days_overdue", "min_amount",
                                                  "min_periods", "min_days_since_previous", "template",
                                                  "deadline_days")}
    values["channels"] = [c for c in form.getlist("channel") if c]
    values["needs_approval"] = form.get("needs_approval") == "1"
    return values


def _stage_input(form: Any) -> policies.StageInput:
    try:
        action = Action(form.get("action", ""))
    except ValueError:
        raise InputError(_("Choose an action from the list.")) from None
    try:
        channels = tuple(Channel(c) for c in form.getlist("channel") if c)
    except ValueError:
        raise InputError(_("Choose channels from the list.")) from None
    deadline = form.get("deadline_days", "").strip()
    return policies.StageInput(
        code=form.get("code", "").strip(), name=form.get("name", "").strip(), action=action,
        min_days_overdue=parse_int(form.get("min_days_overdue"), _("Days overdue")),
        min_amount=parse_amount(form.get("min_amount", "") or "0"),
        min_periods=parse_int(form.get("min_periods"), _("Overdue periods")),
        min_days_since_previous=parse_int(form.get("min_days_since_previous"), _("Days since the previous stage")),
        channels=channels, template=form.get("template", "").strip(),
        needs_approval=form.get("needs_approval") == "1",
        deadline_days=parse_int(deadline, _("Deadline (days)")) if deadline else None,
    )


def _do(act: Any, success: str):  # type: ignore[no-untyped-def]
    try:
        act()
    except NotFound:
        abort(404)
    except ServiceError as exc:
        db().rollback()  # the redirect would commit: make sure a refused change leaves nothing behind
        flash(error_text(exc), "error")
        return redirect(url_for("escalation.index"))
    flash(success, "success")
    return redirect(url_for("escalation.index"))


def _policy(policy_id: int) -> EscalationPolicy:
    try:
        return get_scoped(db(), EscalationPolicy, policy_id, current_company_id())
    except NotFound:
        abort(404)


def _stage(stage_id: int) -> EscalationStage:
    stage = db().get(EscalationStage, stage_id)
    if stage is None or stage.policy.company_id != current_company_id():
        abort(404)
    return stage
