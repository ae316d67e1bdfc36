"""Document batches as background jobs: render in worker processes, keep the ZIP as a stored file.

One place for the letters of a run, the letters of selected cases, a legal case's filing packet and
a lawyer's bulk packets, so they report progress, failures and results the same way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from arrears.services.documents.batch import render_batch, store_result
from arrears.services.jobs import start_job

from .transaction import runtime


def database_url() -> str:
    """The URL the worker processes connect with (they read what the request committed)."""
    return runtime().engine.url.render_as_string(hide_password=False)


def render_and_store(session: Session, actor: Any, company_id: int, url: str, requests: list[Any], progress: Any,
                     *, zip_name: str, entity: str, entity_id: int | None, joined_name: str | None = None,
                     **detail: Any) -> dict[str, Any]:
    """A job's work: render, then keep the ZIP (and the joined PDF) in the job's transaction.

    The read transaction that listed the documents ends before rendering: on SQLite a transaction
    that read before a long pause could not write afterwards if anyone else wrote meanwhile."""
    session.rollback()  # only reads so far
    progress(0, len(requests))
    with tempfile.TemporaryDirectory(prefix="arrears-documents-") as folder:
        result = render_batch(url, requests, Path(folder), progress=lambda done, total, _name: progress(done, total),
                              zip_name=zip_name, joined_name=joined_name)
        summary = store_result(session, actor, company_id, result, entity=entity, entity_id=entity_id, **detail)
    summary["warnings"] = summary.pop("failures")  # the job page lists them
    if "legal_case_ids" in detail:
        summary["legal_case_ids"] = detail["legal_case_ids"]
    return summary


def start_render_job(company_id: int, kind: str, actor: Any,
                     list_requests: Callable[[Session], list[Any]], **options: Any) -> int:
    """Start a job that lists its documents in its own session, renders and stores them; its id."""
    url = database_url()

    def work(session: Session, progress: Any) -> dict[str, Any]:
        return render_and_store(session, actor, company_id, url, list_requests(session), progress, **options)

    return start_job(runtime(), company_id, kind, actor.name, work)
