"""Render many documents in parallel worker processes: one PDF per document, a ZIP and an index.

Used by the CLI (`flask arrears render letters|packet`) and by the web's background jobs.

* Workers are separate processes started with the "spawn" context (never fork a process that
  holds database connections or threads). Each makes its own engine from the database URL and
  renders in a read-only transaction that is always rolled back; they therefore see only what
  is committed. Workers are recycled after `RECYCLE_AFTER` documents (WeasyPrint's caches grow).
* A failure in one document is recorded (status "failed" and the error text in the result and
  in index.csv) and the others go on. A worker that dies takes its pending documents with it;
  they are reported as failed too, never silently dropped.
* Names are deterministic: `NNN-<builder's filename>.pdf` in request order, so the same batch
  gives the same ZIP listing; the ZIP's entries carry a fixed timestamp.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import io
import logging
import multiprocessing
import os
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from arrears.domain.escalation import Action
from arrears.persistence.db import make_engine, make_session_factory
from arrears.persistence.enums import ActionStatus
from arrears.persistence.models import EscalationAction, EscalationRun
from arrears.services.errors import N_, ServiceError
from arrears.services.tenancy import get_scoped

from . import registry
from .registry import DocumentRequest

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
RECYCLE_AFTER = 40
STALL_TIMEOUT = 600.0
INDEX_NAME = "index.csv"
INDEX_COLUMNS = ("document", "title", "file", "sha256", "status", "error")
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class DocumentOutcome:
    """What happened to one requested document."""

    position: int  # 1-based, in request order
    request: DocumentRequest
    status: str  # "ok" or "failed"
    filename: str = ""  # the file written in out_dir (empty when it failed)
    title: str = ""
    sha256: str = ""
    size: int = 0
    error: str = ""

    @property
    def document(self) -> str:
        return f"{self.request.kind}:{self.request.subject_id}"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class BatchResult:
    out_dir: Path
    files: list[Path]  # the PDFs written, in request order
    zip_path: Path
    index_path: Path
    outcomes: list[DocumentOutcome]
    joined_path: Path | None = None  # all documents in one PDF (when asked for and none failed)
    failures: list[DocumentOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> dict[str, Any]:
        """JSON-able, for a background job's result."""
        return {"files": len(self.files), "failed": len(self.failures),
                "failures": [f"{f.document}: {f.error}" for f in self.failures][:50]}


#: The letter each kind of action prints (a pre-due notice, a mediation referral… print nothing here).
LETTER_KINDS = {Action.REMINDER: "reminder_letter", Action.DEMAND: "demand_letter"}
#: Approved or later: a removed or still-prepared row is never printed.
PRINTABLE = (ActionStatus.APPROVED, ActionStatus.DISPATCHED, ActionStatus.DONE)


def letter_requests(session: Session, company_id: int, run_id: int) -> list[DocumentRequest]:
    """One letter per reminder/demand action of a run (the reviewed batch) that a person approved
    (or that went out since), in action order; NotFound for another company's run."""
    run = get_scoped(session, EscalationRun, run_id, company_id)
    actions = session.scalars(
        select(EscalationAction).where(
            EscalationAction.company_id == company_id, EscalationAction.run_id == run.id,
            EscalationAction.action.in_(list(LETTER_KINDS)), EscalationAction.status.in_(PRINTABLE),
        ).order_by(EscalationAction.id)
    ).all()
    if not actions:
        raise ServiceError(N_("batch %(id)s has no approved reminder or demand to print"), id=run.id)
    return [DocumentRequest(kind=LETTER_KINDS[a.action], company_id=company_id, subject_id=a.id)
            for a in actions]


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def render_batch(database_url: str, requests: Sequence[DocumentRequest], out_dir: Path, *,
                 workers: int | None = None, progress: Progress | None = None,
                 zip_name: str = "documents.zip", joined_name: str | None = None,
                 preload: Sequence[str] = (), recycle_after: int = RECYCLE_AFTER,
                 stall_timeout: float = STALL_TIMEOUT) -> BatchResult:
    """Render `requests` into `out_dir` (created if missing) with `workers` processes.

    `workers=0` renders in this process (same code, no pool: for debugging). `progress(done, total,
    filename)` is called once per finished document, failed ones included. `preload` names
    modules each worker imports first (modules that register extra builders). `joined_name`
    also writes every document, in order, as one PDF when none failed (a filing packet).
    Workers are replaced after `recycle_after` documents each; when no document finishes for
    `stall_timeout` seconds the rest are reported as failed (a job never hangs for ever).
    """
    if not requests:
        raise ValueError("no documents to render")
    _check_url(database_url)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = default_workers() if workers is None else workers
    total = len(requests)
    jobs = [(n, _plain(request)) for n, request in enumerate(requests, start=1)]
    outcomes: dict[int, DocumentOutcome] = {}

    width = max(3, len(str(total)))

    def finished(position: int, raw: Mapping[str, Any]) -> None:
        outcome = _outcome(out_dir, position, width, requests[position - 1], raw)
        outcomes[position] = outcome
        if progress is not None:
            progress(len(outcomes), total, outcome.filename or outcome.document)

    if workers <= 0:
        _init_worker(database_url, tuple(preload))
        try:
            for position, plain in jobs:
                finished(position, _render_one(position, plain, str(out_dir)))
        finally:
            _dispose_worker()
    else:
        _run_pool(database_url, jobs, out_dir, min(workers, total), tuple(preload), finished,
                  recycle_after=recycle_after, stall_timeout=stall_timeout)

    ordered = [outcomes[n] for n in range(1, total + 1)]
    files = [out_dir / o.filename for o in ordered if o.ok]
    index_path = out_dir / INDEX_NAME
    index_path.write_bytes(_index_csv(ordered))
    joined_path = None
    failures = [o for o in ordered if not o.ok]
    if joined_name and files and not failures:
        from arrears.documents.pdf import join_pdfs

        joined_path = out_dir / _safe_name(joined_name)
        joined_path.write_bytes(join_pdfs([path.read_bytes() for path in files]))
    zip_path = out_dir / _safe_name(zip_name, suffix=".zip")
    _write_zip(zip_path, [*files, *([joined_path] if joined_path else [])], index_path)
    return BatchResult(out_dir=out_dir, files=files, zip_path=zip_path, index_path=index_path,
                       outcomes=ordered, joined_path=joined_path, failures=failures)


def _run_pool(database_url: str, jobs: list[tuple[int, dict[str, Any]]], out_dir: Path, workers: int,
              preload: tuple[str, ...], finished: Callable[[int, Mapping[str, Any]], None], *,
              recycle_after: int, stall_timeout: float) -> None:
    """Fresh worker processes for every `workers × recycle_after` documents (recycling by hand:
    ProcessPoolExecutor's max_tasks_per_child deadlocks on Python 3.11 once workers exit)."""
    context = _context()
    chunk = max(1, workers * recycle_after)
    for start in range(0, len(jobs), chunk):
        part = jobs[start:start + chunk]
        pool = ProcessPoolExecutor(max_workers=min(workers, len(part)), mp_context=context,
                                   initializer=_init_worker, initargs=(database_url, preload))
        try:
            _drain(pool, part, out_dir, finished, stall_timeout)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _drain(pool: ProcessPoolExecutor, jobs: list[tuple[int, dict[str, Any]]], out_dir: Path,
           finished: Callable[[int, Mapping[str, Any]], None], stall_timeout: float) -> None:
    pending: dict[Future[dict[str, Any]], int] = {
        pool.submit(_render_one, position, plain, str(out_dir)): position for position, plain in jobs
    }
    while pending:
        done, _not_done = wait(pending, timeout=stall_timeout, return_when=FIRST_COMPLETED)
        if not done:  # nothing finished for too long: give up on the rest rather than hang the job
            log.error("no document finished for %s s; stopping %d workers", stall_timeout, len(pending))
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            for future, position in sorted(pending.items(), key=lambda item: item[1]):
                future.cancel()
                finished(position, {"error": f"timed out: no document finished for {stall_timeout:.0f} s"})
            return
        for future in sorted(done, key=lambda f: pending[f]):
            position = pending.pop(future)
            try:
                raw = future.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker: report, go on with the others
                log.error("document %s: worker failed: %r", position, exc)
                raw = {"error": f"worker process failed (while rendering this or another document): "
                                f"{type(exc).__name__}: {exc}"}
            finished(position, raw)


def _context() -> multiprocessing.context.BaseContext:
    """A fresh server process (no connections, no threads) forks the workers, with the renderer and
    the builders already imported, so starting and recycling a worker is cheap; "spawn" where
    forkserver is not available."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, *(f"{__package__}.{name}" for name in registry.BUILDER_MODULES)])
    return context


# ---------------------------------------------------------------- in the worker process

_WORKER: dict[str, Any] = {}


def _init_worker(database_url: str, preload: tuple[str, ...]) -> None:
    for name in preload:
        importlib.import_module(name)
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_only)
    _WORKER["engine"] = engine
    _WORKER["sessions"] = make_session_factory(engine)


def _dispose_worker() -> None:
    engine: Engine | None = _WORKER.pop("engine", None)
    _WORKER.pop("sessions", None)
    if engine is not None:
        engine.dispose()


def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _render_one(position: int, plain: Mapping[str, Any], out_dir: str) -> dict[str, Any]:
    """Render one document to a temporary file; the parent gives it its final name."""
    request = DocumentRequest(kind=plain["kind"], company_id=plain["company_id"],
                              subject_id=plain["subject_id"], options=dict(plain["options"]))
    sessions: sessionmaker[Session] = _WORKER["sessions"]
    session = sessions()
    try:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TRANSACTION READ ONLY"))
        built, pdf = registry.render(session, request)
    except Exception as exc:
        log.warning("document %s (%s:%s) failed: %s", position, request.kind, request.subject_id, exc,
                    exc_info=not isinstance(exc, ServiceError))
        return {"error": _error_text(exc)}
    finally:
        session.rollback()
        session.close()
    temp = Path(out_dir) / f".part-{position:05d}.pdf"
    temp.write_bytes(pdf)
    return {"temp": temp.name, "filename": built.filename, "title": built.title,
            "sha256": hashlib.sha256(pdf).hexdigest(), "size": len(pdf)}


def _error_text(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()
    first = message[0] if message else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# ---------------------------------------------------------------- names, index, ZIP


def _plain(request: DocumentRequest) -> dict[str, Any]:
    """A picklable copy (options may be a read-only mapping)."""
    return {"kind": request.kind, "company_id": int(request.company_id), "subject_id": int(request.subject_id),
            "options": {str(k): str(v) for k, v in dict(request.options or {}).items()}}


def _outcome(out_dir: Path, position: int, width: int, request: DocumentRequest,
             raw: Mapping[str, Any]) -> DocumentOutcome:
    """Give a rendered document its final name, `NNN-name.pdf` (position in request order: unique
    and stable), moving the worker's temporary file there."""
    if raw.get("error") is not None or not raw.get("temp"):
        return DocumentOutcome(position, request, "failed", error=str(raw.get("error") or "no output"))
    wanted = str(raw.get("filename") or f"{request.kind}-{request.subject_id}.pdf")
    name = f"{position:0{width}d}-{_safe_name(wanted)}"
    (out_dir / str(raw["temp"])).replace(out_dir / name)
    return DocumentOutcome(position, request, "ok", filename=name, title=str(raw.get("title", "")),
                           sha256=str(raw["sha256"]), size=int(raw["size"]))


def _safe_name(name: str, *, suffix: str = ".pdf") -> str:
    cleaned = _UNSAFE.sub("_", str(name)).strip(" ._") or "document"
    if not cleaned.lower().endswith(suffix):
        cleaned += suffix
    return cleaned


def _index_csv(outcomes: Sequence[DocumentOutcome]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(INDEX_COLUMNS)
    for o in outcomes:
        writer.writerow([o.document, o.title, o.filename, o.sha256, o.status, o.error])
    return buffer.getvalue().encode("utf-8-sig")  # a BOM, so spreadsheet programs read the Chinese


def _write_zip(zip_path: Path, files: Sequence[Path], index_path: Path) -> None:
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in [*files, index_path]:
            info = zipfile.ZipInfo(path.name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())


def read_index(zip_or_csv: Path | bytes) -> list[dict[str, str]]:
    """The rows of index.csv, from a ZIP (path or bytes) or the CSV file itself."""
    if isinstance(zip_or_csv, Path) and zip_or_csv.suffix == ".csv":
        data = zip_or_csv.read_bytes()
    else:
        source = io.BytesIO(zip_or_csv) if isinstance(zip_or_csv, bytes) else zip_or_csv
        with zipfile.ZipFile(source) as archive:
            data = archive.read(INDEX_NAME)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _check_url(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and (not url.database or url.database == ":memory:"
                                                or "mode=memory" in str(url)):
        raise ValueError("batch rendering needs a database file or server: worker processes cannot "
                         "see an in-memory SQLite database")


def store_result(session: Session, actor: Any, company_id: int, result: BatchResult, *, entity: str,
                 entity_id: int, **detail: Any) -> dict[str, Any]:
    """Keep a batch's ZIP (and its one-PDF packet, if any) as stored files for download, audit the
    rendering, and return a JSON-able summary (a background job's result)."""
    from arrears.persistence.models import StoredFile
    from arrears.services import audit

    def keep(path: Path, content_type: str) -> int:
        data = path.read_bytes()
        stored = StoredFile(company_id=company_id, filename=path.name, content_type=content_type, size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), data=data, created_by=actor.name)
        session.add(stored)
        session.flush()
        return stored.id

    summary = result.summary()
    summary["file_id"] = keep(result.zip_path, "application/zip")
    summary["filename"] = result.zip_path.name
    if result.joined_path is not None:
        summary["pdf_file_id"] = keep(result.joined_path, "application/pdf")
        summary["pdf_filename"] = result.joined_path.name
    audit.record(session, actor, "documents.rendered", entity, entity_id, company_id=company_id,
                 files=[o.filename for o in result.outcomes if o.ok],
                 failed=[f"{o.document}: {o.error}" for o in result.failures],
                 file_id=summary["file_id"], **detail)
    return summary
