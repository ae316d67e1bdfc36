"""Progress of background jobs, as a page and as JSON for polling."""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, render_template
from sqlalchemy import select

from arrears.persistence.models import BackgroundJob
from arrears.services.jobs import live_progress

from .access import EVERYONE, allow, current_company_id
from .transaction import db

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _job(job_id: int) -> BackgroundJob:
    job = db().get(BackgroundJob, job_id)
    if job is None or job.company_id != current_company_id():
        abort(404)
    return job


@bp.get("/")
@allow(EVERYONE)
def index():  # type: ignore[no-untyped-def]
    """The user's own recent jobs in this company: where to find work they left running."""
    jobs = db().scalars(
        select(BackgroundJob).where(BackgroundJob.company_id == current_company_id(),
                                    BackgroundJob.created_by == g.user.username)
        .order_by(BackgroundJob.id.desc()).limit(30)
    ).all()
    return render_template("web/jobs/index.html", jobs=jobs)


@bp.get("/<int:job_id>")
@allow(EVERYONE)
def show(job_id: int):  # type: ignore[no-untyped-def]
    return render_template("web/jobs/show.html", job=_job(job_id))


@bp.get("/<int:job_id>.json")
@allow(EVERYONE)
def status(job_id: int):  # type: ignore[no-untyped-def]
    job = _job(job_id)
    done, total = live_progress(job.id) or (job.done, job.total)
    return jsonify(id=job.id, kind=job.kind, status=job.status, done=done, total=total,
                   message=job.message, result=job.result)
