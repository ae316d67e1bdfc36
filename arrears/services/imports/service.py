"""`run_import`: read, validate everything, then write inside a savepoint (all or nothing)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from arrears.persistence.models import Company, ImportBatch
from arrears.services import audit
from arrears.services.actor import Actor
from arrears.services.errors import ServiceError

from . import validate_ledger, validate_master, world as world_mod
from .apply import ApplyError, Writer
from .reader import ReadError, read_tables
from .report import ImportReport
from .rows import Row, parse_rows
from .schema import SHEETS
from .world import World

FILE = "(file)"


def run_import(
    session: Session,
    actor: Actor,
    company_id: int,
    path: Path,
    *,
    today: dt.date,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
    steps: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import a workbook, a .zip of .csv files or a folder of them; never commits, only flushes.

    Any error leaves the session unchanged. A dry run writes inside a savepoint and rolls it
    back, so its counts (and any error a service raises while writing) are exact. `progress`
    gets readable messages (the CLI); `steps(done, total)` counts rows for a progress bar.
    """
    say = progress or (lambda _message: None)
    report = ImportReport(dry_run=dry_run)
    company = session.get(Company, company_id)
    if company is None:
        report.error(FILE, None, None, f"company {company_id} does not exist", f"公司{company_id}不存在")
        return report
    path = Path(path)
    try:
        report.sha256 = file_sha256(path)
        say(f"reading {path.name}")
        tables = read_tables(path, report)
    except (ReadError, OSError) as exc:
        en, zh = (exc.en, exc.zh) if isinstance(exc, ReadError) else (str(exc), "无法读取文件")
        report.error(FILE, None, None, en, zh)
        return report
    rows = {name: parse_rows(table, report) for name, table in tables.items()}
    tally = RowTally({name: len(sheet_rows) for name, sheet_rows in rows.items()}, steps)
    say("checking rows and references")
    world = world_mod.load_world(session, company)
    _validate(session, world, rows, report, today, tally.checked)
    report.counts = {s.name: report.counts[s.name] for s in SHEETS if s.name in report.counts}
    if not report.ok:
        say(f"{len(report.errors)} error(s) found; nothing was changed")
        tally.finish()
        return report
    report.previous_batch_id = session.scalar(
        select(ImportBatch.id).where(ImportBatch.company_id == company_id, ImportBatch.sha256 == report.sha256)
        .order_by(ImportBatch.id.desc()).limit(1)
    )
    if report.changed:
        _write(session, actor, world, path, report, today, say, tally)
    tally.finish()
    return report


class RowTally:
    """Progress in rows: each data row counts once when checked and once when written, so the
    total is twice the rows of the file (rows with nothing new count as written at once)."""

    def __init__(self, sizes: dict[str, int], steps: Callable[[int, int], None] | None) -> None:
        self.sizes, self.steps = sizes, steps
        self.total = 2 * sum(sizes.values())
        self.done = 0
        self._partial: dict[str, int] = {}
        self._report()

    def checked(self, sheet: str) -> None:
        self._add(self.sizes.get(sheet, 0))

    def written(self, sheet: str, done: int | None = None, total: int | None = None) -> None:
        """A sheet written in full, or (`done` of `total` of its writes) in part."""
        size = self.sizes.get(sheet, 0)
        if done is None or not total:
            self._add(size - self._partial.pop(sheet, 0))
            return
        part = size * done // total
        self._add(part - self._partial.get(sheet, 0))
        self._partial[sheet] = part

    def finish(self) -> None:
        self._add(self.total - self.done)

    def _add(self, n: int) -> None:
        if n > 0:
            self.done = min(self.total, self.done + n)
            self._report()

    def _report(self) -> None:
        if self.steps is not None:
            self.steps(self.done, self.total)


def _validate(session: Session, world: World, rows: dict[str, list[Row]], report: ImportReport, today: dt.date,
              checked: Callable[[str], None]) -> None:
    for name, check in (("owners", validate_master.owners), ("communities", validate_master.communities),
                        ("fee_schedules", validate_master.fee_schedules), ("units", validate_master.units),
                        ("ownerships", validate_master.ownerships)):
        check(rows.get(name, []), world, report)
        checked(name)
    scope = {_unit_key(r) for r in rows.get("charges", []) + rows.get("interruptions", [])}
    scope |= {_unit_key(r) for r in rows.get("payments", []) if r.get("designation")}
    world_mod.load_charges(session, world, scope)
    validate_ledger.charges(rows.get("charges", []), world, report)
    checked("charges")
    world_mod.load_payments(session, world, [r.get("receipt_ref") for r in rows.get("payments", []) if r.get("receipt_ref")])
    validate_ledger.payments(rows.get("payments", []), world, report, today)
    checked("payments")
    unit_ids = [world.units[k].id for k in {_unit_key(r) for r in rows.get("interruptions", [])}
                if k in world.units and world.units[k].id is not None]
    world_mod.load_interruptions(session, world, unit_ids)  # type: ignore[arg-type]
    validate_ledger.interruptions(rows.get("interruptions", []), world, report, today)
    checked("interruptions")


def _unit_key(row: Row) -> tuple[str, str]:
    return row.get("community_code", ""), row.get("unit_code", "")


def _write(session: Session, actor: Actor, world: World, path: Path, report: ImportReport, today: dt.date,
           say: Callable[[str], None], tally: RowTally) -> None:
    savepoint = session.begin_nested()
    try:
        batch = None
        if not report.dry_run:
            batch = ImportBatch(company_id=world.company.id, filename=path.name[:255], sha256=report.sha256,
                                summary={}, created_by=actor.name)
            session.add(batch)
            session.flush()
        Writer(session, actor, world, today=today, batch_id=batch and batch.id, progress=say,
               written=tally.written).run()
        if batch is not None:
            batch.summary = {sheet: dict(counts) for sheet, counts in report.counts.items()}
            audit.record(session, actor, "import.run", "import_batch", batch.id, company_id=world.company.id,
                         filename=batch.filename, sha256=report.sha256, counts=batch.summary)
            report.batch_id = batch.id
        session.flush()
    except ApplyError as exc:
        savepoint.rollback()
        report.batch_id = None
        report.error(exc.sheet, exc.row, None, f"refused while writing: {exc.message}", f"写入时被拒绝：{exc.message}")
        return
    except (ServiceError, IntegrityError, DataError) as exc:
        savepoint.rollback()
        report.batch_id = None
        message = str(exc).splitlines()[0]
        report.error(FILE, None, None, f"refused while writing: {message}", f"写入时被拒绝：{message}")
        return
    if report.dry_run:
        savepoint.rollback()
        say("dry run: rolled back")
    else:
        savepoint.commit()
        say(f"imported as batch {report.batch_id}")


def file_sha256(path: Path) -> str:
    """Hash of the file (for a folder: of its .csv files' names and contents, in name order)."""
    digest = hashlib.sha256()
    if path.is_dir():
        for item in sorted(path.glob("*.csv")):
            digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    else:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
