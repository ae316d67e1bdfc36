"""Escalation benchmark: the nightly run over a synthetic portfolio (issue 3 §8).

    python bench/escalation.py --units 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/arrears_bench_escalation

Builds the portfolio of `bench/portfolio.py` (about 15 % of units in arrears, some for almost two
years), then prints (a) the floor: ONE SQL aggregate of arrears per ownership over the open
charges only (partial index `ix_charge_open`), (b) the first nightly run, which opens every case
and prepares its first action, and (c) a repeated run with no changes (must open, advance and
prepare nothing), and (d) a run 30 days later (cases advance, the rest only refresh their caches).
A local PostgreSQL database is dropped and created by the script (and dropped again at the end
unless --keep; --reuse measures again on a kept database after emptying the escalation tables).
Targets at 100,000 units on PostgreSQL: (b) < 15 s, (c) < 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, make_url, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from arrears.persistence.db import make_engine  # noqa: E402
from arrears.persistence.migrate import upgrade  # noqa: E402
from arrears.persistence.models import CaseStage, CollectionCase, EscalationAction  # noqa: E402
from arrears.services.actor import Actor  # noqa: E402
from arrears.services.escalation.debts import arrears_aggregate  # noqa: E402
from arrears.services.escalation.sweep import RunResult, run_escalation  # noqa: E402
from bench.ledger import _drop, _is_local_postgres, _profiled, _recreate, _say  # noqa: E402
from bench.portfolio import Portfolio, add_months, build  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/arrears_bench_escalation"
ACTOR = Actor.system("bench")
TARGETS = {"floor": "-", "first": "< 15 s for 100,000 units", "repeat": "< 2 s for 100,000 units", "later": "-"}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    url = args.database_url or os.environ.get("ARREARS_DATABASE_URL") or DEFAULT_URL
    local_pg = _is_local_postgres(url)
    if local_pg and not args.reuse:
        _recreate(url)
    engine = make_engine(url)
    results: list[tuple[str, str, str, str]] = []
    try:
        if args.reuse:
            portfolio = _reused(engine, args)
        else:
            upgrade(engine)
            _say(f"building {args.units:,} units × {args.months} months on {make_url(url).render_as_string()}")
            t0 = time.perf_counter()
            last_month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
            portfolio = build(engine, units=args.units, months=args.months, last_month=last_month,
                              seed=args.seed, say=_say)
            build_s = time.perf_counter() - t0
            _say(f"built in {build_s:.1f} s; {portfolio.in_arrears:,} units in arrears")
            results.append(("setup: bulk build", f"{build_s:.1f} s", f"{sum(portfolio.rows.values()):,} rows",
                            "-"))
        results.append(_floor(engine, portfolio))
        first = _run(engine, portfolio, "first", args.profile)
        results.append(first[0])
        repeat = _run(engine, portfolio, "repeat", args.profile)
        results.append(repeat[0])
        if any(repeat[1].counts[k] for k in ("opened", "reopened", "advanced", "closed", "prepared")):
            raise SystemExit(f"the repeated run changed something: {repeat[1].counts}")
        results.append(_run(engine, replace(portfolio, today=portfolio.today + dt.timedelta(days=30)), "later",
                            args.profile)[0])
        _say(f"    rows: {_rows(engine)}")
    finally:
        engine.dispose()
        if local_pg and not (args.keep or args.reuse):
            _drop(url)
    _table(portfolio, results)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24, help="months of history (the last is not billed)")
    parser.add_argument("--database-url", default=None, help=f"default: $ARREARS_DATABASE_URL or {DEFAULT_URL}")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the bench database at the end")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse a kept bench database: empty the escalation tables, do not rebuild")
    parser.add_argument("--profile", metavar="DIR", default=None,
                        help="write a cProfile .prof per run into DIR and print the top functions")
    args = parser.parse_args(argv)
    if args.months < 2 or args.units < 1:
        parser.error("--months must be at least 2 and --units at least 1")
    return args


def _reused(engine: Engine, args: argparse.Namespace) -> Portfolio:
    """The portfolio of a database kept by --keep, with every escalation row removed."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE escalation_action, case_stage, collection_case, escalation_run, "
                          "escalation_stage, escalation_policy, audit_log CASCADE"))
        conn.execute(text("ANALYZE"))
        company_id = conn.scalar(text("SELECT min(id) FROM company"))
        units = conn.scalar(text("SELECT count(*) FROM unit"))
        last_due = conn.scalar(text("SELECT max(due_date) FROM charge"))
    last_month = add_months(last_due.replace(day=1), 1)
    _say(f"reusing {units:,} units; last billed {last_due}")
    return Portfolio(company_id, units, args.months, add_months(last_month, -(args.months - 1)), last_month,
                     last_month.replace(day=10), -1, {})


def _floor(engine: Engine, p: Portfolio) -> tuple[str, str, str, str]:
    """The one aggregate the run is built on, alone: best of three, rows fetched."""
    query = arrears_aggregate(p.company_id, p.today)
    timings, rows = [], 0
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = session.execute(text("EXPLAIN " + sql))
            _say("    plan: " + " | ".join(line for (line,) in plan if "Index" in line or "Scan" in line))
        for _ in range(3):
            t0 = time.perf_counter()
            rows = len(session.execute(query).all())
            timings.append(time.perf_counter() - t0)
    best = min(timings)
    _say(f"(a) one aggregate of arrears per ownership: {rows:,} rows in {best * 1000:.0f} ms "
         f"(runs: {', '.join(f'{t * 1000:.0f}' for t in timings)} ms)")
    return ("(a) floor: one SQL aggregate, open charges", f"{best:.3f} s", f"{rows:,} ownerships", TARGETS["floor"])


def _run(engine: Engine, p: Portfolio, name: str, profile: str | None) -> tuple[tuple[str, str, str, str], RunResult]:
    label = {"first": "(b) first nightly run", "repeat": "(c) repeated run, no changes",
             "later": "(d) a run 30 days later"}[name]
    _say(f"{label} as of {p.today}")
    with Session(engine) as session:
        t0 = time.perf_counter()
        with _profiled(profile, f"escalation_{name}"):
            result = run_escalation(session, ACTOR, p.company_id, as_of=p.today, trigger="bench")
            session.commit()
        seconds = time.perf_counter() - t0
    counts = result.counts
    _say(f"    {seconds:.2f} s: {counts}")
    detail = (f"{counts['evaluated']:,} evaluated, {counts['opened']:,} opened, "
              f"{counts['advanced']:,} advanced, {counts['prepared']:,} prepared")
    return (label, f"{seconds:.2f} s", detail, TARGETS[name]), result


def _rows(engine: Engine) -> str:
    with Session(engine) as session:
        return ", ".join(f"{m.__tablename__} {session.scalar(select(func.count()).select_from(m)):,}"
                         for m in (CollectionCase, CaseStage, EscalationAction))


def _table(p: Portfolio, results: list[tuple[str, str, str, str]]) -> None:
    print()
    print(f"arrears escalation benchmark — {p.units:,} units, {p.months} months, as of {p.today}")
    header = ("measurement", "result", "detail", "target")
    widths = [max(len(r[i]) for r in [*results, header]) for i in range(4)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in results:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))


if __name__ == "__main__":
    sys.exit(main())
