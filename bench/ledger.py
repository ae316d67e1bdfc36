"""Ledger benchmark: build a synthetic portfolio, then time billing, statements and imports.

    python bench/ledger.py --units 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/arrears_bench [--months 24]

Prints (a) the billing run for one month of every unit, (b) every unit's statement as of one
date (set-based), (c) single-statement latency over random units, (d) import throughput for a
payments sheet. A local PostgreSQL bench database is dropped and created by the script (and
dropped again at the end unless --keep). See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, make_url, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from arrears.persistence.db import make_engine  # noqa: E402
from arrears.persistence.migrate import upgrade  # noqa: E402
from arrears.persistence.models import Community, Owner, Ownership, OwnershipParty, Unit  # noqa: E402
from arrears.services.actor import Actor  # noqa: E402
from arrears.services.billing import run_billing  # noqa: E402
from arrears.services.statements import company_statements, unit_statement  # noqa: E402
from bench.portfolio import Portfolio, build  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1/arrears_bench"
ACTOR = Actor.system("bench")
TARGETS = {
    "billing": "< 10 s for 100,000 units",
    "statements": "< 20 s for 100,000 units",
    "single": "p95 < 20 ms",
    "import": ">= 5,000 rows/s",
}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    url = args.database_url or os.environ.get("ARREARS_DATABASE_URL") or DEFAULT_URL
    local_pg = _is_local_postgres(url)
    if local_pg:
        _recreate(url)
    engine = make_engine(url)
    results: list[tuple[str, str, str, str]] = []
    try:
        upgrade(engine)
        _say(f"building {args.units:,} units × {args.months} months on {make_url(url).render_as_string()}")
        t0 = time.perf_counter()
        last_month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
        portfolio = build(engine, units=args.units, months=args.months, last_month=last_month, seed=args.seed,
                          say=_say)
        build_s = time.perf_counter() - t0
        rows = sum(portfolio.rows.values())
        _say(f"built in {build_s:.1f} s ({rows:,} rows, {rows / build_s:,.0f} rows/s); "
             f"{portfolio.in_arrears:,} units in arrears")
        results.append(("setup: bulk build", f"{build_s:.1f} s", f"{rows:,} rows", "-"))
        results.append(_billing(engine, portfolio, args.profile))
        results.append(_statements(engine, portfolio, args.profile))
        results.append(_single(engine, portfolio, args.samples, args.seed, args.profile))
        if args.skip_import:
            results.append(("(d) import payments sheet", "skipped", "--skip-import", TARGETS["import"]))
        else:
            results.append(_import(engine, portfolio, args.import_rows, args.seed, args.profile))
    finally:
        engine.dispose()
        if local_pg and not args.keep:
            _drop(url)
    _table(portfolio, results)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24, help="months of history; the last is billed by (a)")
    parser.add_argument("--database-url", default=None, help=f"default: $ARREARS_DATABASE_URL or {DEFAULT_URL}")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the payments sheet for (d)")
    parser.add_argument("--samples", type=int, default=200, help="units for the single-statement latency (c)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the bench database at the end")
    parser.add_argument("--profile", metavar="DIR", default=None,
                        help="write a cProfile .prof per measurement into DIR and print the top functions")
    args = parser.parse_args(argv)
    if args.months < 2 or args.units < 1:
        parser.error("--months must be at least 2 and --units at least 1")
    return args


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- database lifecycle ---------------------------------------------------------------------


def _is_local_postgres(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and parsed.host in (None, "", "127.0.0.1", "localhost", "::1")


def _admin(url: str) -> Engine:
    return make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False),
                       isolation_level="AUTOCOMMIT")


def _recreate(url: str) -> None:
    name = make_url(url).database
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _drop(url: str) -> None:
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


# --- measurements -----------------------------------------------------------------------------


@contextmanager
def _profiled(directory: str | None, name: str) -> Iterator[None]:
    if directory is None:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        Path(directory).mkdir(parents=True, exist_ok=True)
        path = Path(directory) / f"{name}.prof"
        profile.dump_stats(path)
        print(f"\n--- profile of {name} ({path}) ---", file=sys.stderr)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(30)


def _billing(engine: Engine, p: Portfolio, profile: str | None) -> tuple[str, str, str, str]:
    _say(f"(a) billing run through {p.last_month:%Y-%m}")
    with Session(engine) as session:
        t0 = time.perf_counter()
        with _profiled(profile, "billing"):
            result = run_billing(session, ACTOR, company_id=p.company_id, through=p.last_month, today=p.today)
            session.commit()
        seconds = time.perf_counter() - t0
    if result.created != p.units or result.warnings:
        raise SystemExit(f"billing created {result.created} charges for {p.units} units; warnings: {result.warnings[:3]}")
    _say(f"    {result.created:,} charges, total {result.amount}, in {seconds:.2f} s")
    return ("(a) billing run, one month", f"{seconds:.2f} s", f"{p.units / seconds:,.0f} units/s", TARGETS["billing"])


def _statements(engine: Engine, p: Portfolio, profile: str | None) -> tuple[str, str, str, str]:
    _say(f"(b) all statements as of {p.today}")
    count, arrears, in_arrears = 0, Decimal("0.00"), 0
    with Session(engine) as session:
        t0 = time.perf_counter()
        with _profiled(profile, "statements"):
            for result in company_statements(session, p.company_id, p.today):
                count += 1
                arrears += result.statement.arrears
                in_arrears += result.statement.arrears > 0
        seconds = time.perf_counter() - t0
    _say(f"    {count:,} statements, {in_arrears:,} units in arrears, arrears {arrears}, in {seconds:.2f} s")
    if in_arrears != p.in_arrears:
        _say(f"    note: the builder put {p.in_arrears:,} units in arrears")
    return ("(b) statements of all units", f"{seconds:.2f} s", f"{count / seconds:,.0f} units/s", TARGETS["statements"])


def _single(engine: Engine, p: Portfolio, samples: int, seed: int, profile: str | None) -> tuple[str, str, str, str]:
    _say(f"(c) single statements of {samples} random units (a fresh session each, as a web request)")
    rng = random.Random(seed)
    with Session(engine) as session:
        unit_ids = list(session.scalars(select(Unit.id).where(Unit.company_id == p.company_id)))
    chosen = rng.sample(unit_ids, min(samples, len(unit_ids)))
    latencies: list[float] = []
    with _profiled(profile, "single"):
        for unit_id in chosen:
            with Session(engine) as session:
                t0 = time.perf_counter()
                unit_statement(session, p.company_id, unit_id, p.today)
                latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    median = statistics.median(latencies)
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    _say(f"    median {median:.1f} ms, p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms")
    return ("(c) single statement", f"p50 {median:.1f} ms / p95 {p95:.1f} ms", f"{len(latencies)} units",
            TARGETS["single"])


def _import(engine: Engine, p: Portfolio, rows: int, seed: int, profile: str | None) -> tuple[str, str, str, str]:
    label = f"(d) import {rows:,} payment rows"
    try:
        from arrears.services.imports import run_import
    except ImportError as exc:
        _say(f"(d) skipped: arrears.services.imports.run_import is not available ({exc})")
        return (label, "skipped", "run_import missing", TARGETS["import"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "payments.xlsx"
        t0 = time.perf_counter()
        _payments_workbook(engine, p, rows, seed, path)
        _say(f"(d) wrote {path.name} with {rows:,} rows in {time.perf_counter() - t0:.1f} s; importing")
        messages: list[str] = []
        with Session(engine) as session:
            t0 = time.perf_counter()
            with _profiled(profile, "import"):
                report = run_import(session, ACTOR, p.company_id, path, today=p.today, progress=_progress(messages))
            seconds = time.perf_counter() - t0
            session.rollback()  # keep the bench database as built
    if not report.ok:
        _say(f"    import refused: {len(report.errors)} errors, e.g. {report.errors[:3]}")
        return (label, f"{seconds:.2f} s", f"FAILED ({len(report.errors)} errors)", TARGETS["import"])
    _say(f"    {rows:,} rows in {seconds:.2f} s")
    return (label, f"{seconds:.2f} s", f"{rows / seconds:,.0f} rows/s", TARGETS["import"])


def _progress(messages: list[str]) -> Callable[[str], None]:
    def report(message: str) -> None:
        messages.append(message)
        _say(f"    import: {message}")

    return report


def _payments_workbook(engine: Engine, p: Portfolio, rows: int, seed: int, path: Path) -> None:
    """A workbook with only a `payments` sheet (openpyxl write_only), one row per payment on
    random units, paid by each unit's first owner in the last days before `today`."""
    from openpyxl import Workbook

    rng = random.Random(seed + 1)
    with Session(engine) as session:
        units = session.execute(
            select(Community.code, Unit.code, Owner.id_number)
            .join(Unit, Unit.community_id == Community.id)
            .join(Ownership, Ownership.unit_id == Unit.id)
            .join(OwnershipParty, (OwnershipParty.ownership_id == Ownership.id) & (OwnershipParty.position == 0))
            .join(Owner, Owner.id == OwnershipParty.owner_id)
            .where(Unit.company_id == p.company_id)
        ).all()
    book = Workbook(write_only=True)
    sheet: Any = book.create_sheet("payments")
    sheet.append(["receipt_ref", "community_code", "unit_code", "payer_id_type", "payer_id_number", "received_on",
                  "amount", "method"])
    for n in range(rows):
        community, unit, id_number = units[rng.randrange(len(units))]
        received = p.today - dt.timedelta(days=rng.randint(0, 8))
        amount = Decimal(rng.randint(5000, 80000)) / 100
        sheet.append([f"IMP{n + 1:08d}", community, unit, "resident_id", id_number, received.isoformat(),
                      f"{amount:.2f}", "bank_transfer"])
    book.save(path)


def _table(p: Portfolio, results: list[tuple[str, str, str, str]]) -> None:
    print()
    print(f"arrears ledger benchmark — {p.units:,} units, {p.months} months, as of {p.today}")
    widths = [max(len(r[i]) for r in results + [("measurement", "result", "rate", "target")]) for i in range(4)]
    header = ("measurement", "result", "rate", "target")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in results:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    sys.exit(main())
