"""Lists benchmark: the work queue (/cases/) at 100,000 units, through the real view.

    python bench/lists.py --units 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/arrears_bench_lists

Reuses the portfolio in the bench database when it is there (a database kept by
`bench/escalation.py --keep` or by an earlier run of this script), otherwise builds it with
`bench/portfolio.py` (the same builder, imported). Runs the escalation once when no collection case
exists yet, gives a share of the cases a responsible person, a hold, a dispute (idempotent: done
once per database), then signs in an accountant with Flask's test client and times `--samples`
page requests per scenario (filters, sorts, deep pages, text search), printing p50 / p95 / max.
Also times the Excel export of every open case once. The database is kept (use --drop to drop it).
Target: p95 < 150 ms per page on PostgreSQL at 100,000 units.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, make_url, select, text, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from arrears.app import create_app  # noqa: E402
from arrears.config import Settings  # noqa: E402
from arrears.persistence.db import make_engine  # noqa: E402
from arrears.persistence.enums import CaseStatus, DisputeCategory, Role  # noqa: E402
from arrears.persistence.migrate import upgrade  # noqa: E402
from arrears.persistence.models import (  # noqa: E402
    Building,
    CaseHold,
    CollectionCase,
    Community,
    Company,
    Dispute,
    Owner,
    Unit,
    User,
)
from arrears.services.actor import Actor  # noqa: E402
from arrears.services.escalation.sweep import run_escalation  # noqa: E402
from arrears.services.users import create_user  # noqa: E402
from bench.ledger import _drop, _is_local_postgres, _say  # noqa: E402
from bench.portfolio import build  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/arrears_bench_lists"
ACTOR = Actor.system("bench")
USERNAME, PASSWORD = "bench-accountant", "bench-accountant-2026"
TARGET_MS = 150.0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    url = args.database_url or os.environ.get("ARREARS_DATABASE_URL") or DEFAULT_URL
    if _is_local_postgres(url):
        _ensure_database(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        company_id = _portfolio(engine, args)
        _cases(engine, company_id)
        user_id = _seed(engine, company_id, args.seed)
        scenarios = _scenarios(engine, company_id, user_id, args.seed)
        results = _measure(url, scenarios, args.samples)
        export_s, export_bytes = _export(url)
        cases = _count(engine, company_id)
    finally:
        engine.dispose()
        if args.drop and _is_local_postgres(url):
            _drop(url)
    _table(results, cases, export_s, export_bytes, args.samples)
    return 0 if all(r[2] < TARGET_MS for r in results) else 1


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=100_000, help="units to build when the database is empty")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--database-url", default=None, help=f"default: $ARREARS_DATABASE_URL or {DEFAULT_URL}")
    parser.add_argument("--samples", type=int, default=50, help="timed requests per scenario")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- data


def _ensure_database(url: str) -> None:
    """Create the local bench database if it does not exist (never drop: it is reused)."""
    name = make_url(url).database
    admin = make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _portfolio(engine: Engine, args: argparse.Namespace) -> int:
    with Session(engine) as session:
        units = session.scalar(text("SELECT count(*) FROM unit")) or 0
        company_id = session.scalar(select(Company.id).order_by(Company.id).limit(1))
    if units and company_id:
        _say(f"reusing the portfolio in the database: {units:,} units")
        return int(company_id)
    _say(f"building {args.units:,} units × {args.months} months")
    t0 = time.perf_counter()
    last_month = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
    portfolio = build(engine, units=args.units, months=args.months, last_month=last_month, seed=args.seed, say=_say)
    _say(f"built in {time.perf_counter() - t0:.1f} s")
    return portfolio.company_id


def _cases(engine: Engine, company_id: int) -> None:
    """Run the escalation once if no case exists yet (the queue lists collection cases)."""
    with Session(engine) as session:
        if session.scalar(select(CollectionCase.id).where(CollectionCase.company_id == company_id).limit(1)):
            return
        last_due = session.scalar(text("SELECT max(due_date) FROM charge"))
        as_of = (last_due.replace(day=1) + dt.timedelta(days=32)).replace(day=10)
        t0 = time.perf_counter()
        result = run_escalation(session, ACTOR, company_id, as_of=as_of, trigger="bench")
        session.commit()
    _say(f"escalation as of {as_of}: {result.counts} in {time.perf_counter() - t0:.1f} s")


def _seed(engine: Engine, company_id: int, seed: int) -> int:
    """The accountant who signs in; once per database: 30 % of cases assigned, 3 % held, 1 % disputed."""
    rng = random.Random(seed)
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.username == USERNAME))
        if user is None:
            company = session.get(Company, company_id)
            assert company is not None
            user = create_user(session, ACTOR, username=USERNAME, password=PASSWORD, display_name="Bench accountant",
                               memberships={company.id: Role.ACCOUNTANT})
            session.flush()
        if session.scalar(select(CaseHold.id).where(CaseHold.author == "bench").limit(1)) is None:
            ids = list(session.scalars(select(CollectionCase.id).where(CollectionCase.company_id == company_id)))
            today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
            assigned = rng.sample(ids, len(ids) * 3 // 10)
            for start in range(0, len(assigned), 1000):
                session.execute(update(CollectionCase).where(CollectionCase.id.in_(assigned[start:start + 1000]))
                                .values(responsible_user_id=user.id))
            session.add_all(CaseHold(case_id=i, reason="bench", author="bench", starts_on=today,
                                     ends_on=today + dt.timedelta(days=60)) for i in rng.sample(ids, len(ids) * 3 // 100))
            session.add_all(Dispute(case_id=i, category=DisputeCategory.OTHER, description="bench", opened_on=today,
                                    opened_by="bench") for i in rng.sample(ids, len(ids) // 100))
            _say(f"seeded: {len(assigned):,} assigned, {len(ids) * 3 // 100:,} held, {len(ids) // 100:,} disputed")
        session.commit()
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("ANALYZE collection_case, case_hold, dispute, payment_plan"))
                conn.commit()
        return int(user.id)


def _scenarios(engine: Engine, company_id: int, user_id: int, seed: int) -> list[tuple[str, list[str]]]:
    """(name, the URLs to request in turn): a representative mix of filters, sorts and pages."""
    rng = random.Random(seed + 1)
    with Session(engine) as session:
        community_ids = list(session.scalars(select(Community.id).where(Community.company_id == company_id)))
        buildings = session.execute(select(Building.community_id, Building.id)
                                    .where(Building.community_id.in_(community_ids))).all()
        names = list(session.scalars(
            select(Owner.name).join(CollectionCase, CollectionCase.owner_id == Owner.id)
            .where(Owner.company_id == company_id).limit(200)))
        unit_codes = list(session.scalars(select(Unit.code).where(Unit.company_id == company_id).limit(500)))
        stages = list(session.scalars(select(CollectionCase.stage_code).distinct()
                                      .where(CollectionCase.company_id == company_id)))
    stages = [s for s in stages if s] or [""]

    def many(make: object) -> list[str]:
        return [make() for _ in range(60)]  # type: ignore[operator]

    def page() -> int:
        return rng.randint(1, 5)

    return [
        ("default: next action, pages 1-5", many(lambda: f"/cases/?page={page()}")),
        ("sort amount desc", many(lambda: f"/cases/?sort=amount&dir=desc&page={page()}")),
        ("sort age desc, >= 180 days", many(lambda: f"/cases/?sort=age&dir=desc&age_min=180&page={page()}")),
        ("sort stage, one stage", many(lambda: f"/cases/?sort=stage&stage={rng.choice(stages)}")),
        ("community + building, sort unit", many(lambda: (lambda b: f"/cases/?community={b[0]}&building={b[1]}"
                                                                    "&sort=unit")(rng.choice(buildings)))),
        ("community, amount 1000-5000", many(lambda: f"/cases/?community={rng.choice(community_ids)}"
                                                     f"&amount_min=1000&amount_max=5000&sort=amount")),
        ("on hold", many(lambda: f"/cases/?paused=held&page={rng.randint(1, 3)}")),
        ("not paused, mine, next desc", many(lambda: f"/cases/?paused=0&responsible={user_id}&dir=desc"
                                                     f"&page={page()}")),
        ("text: an owner's name", many(lambda: f"/cases/?q={rng.choice(names)}")),
        # The bench's owners are all named 业主N: one character matches every case (the worst case).
        ("text: 1 char matching all", many(lambda: f"/cases/?q={rng.choice(names)[:1]}")),
        ("text: unit code", many(lambda: f"/cases/?q={rng.choice(unit_codes)}")),
        ("deep page (100-250)", many(lambda: f"/cases/?sort=amount&page={rng.randint(100, 250)}")),
        ("units: all, pages 1-5", many(lambda: f"/units/?page={page()}")),
        ("units: one community, in arrears", many(lambda: f"/units/?community={rng.choice(community_ids)}"
                                                          f"&arrears=1&page={page()}")),
        ("units: search a code (several)", many(lambda: f"/units/?q={rng.choice(unit_codes)[:-1]}")),
        ("units: deep page (500-1500)", many(lambda: f"/units/?page={rng.randint(500, 1500)}")),
    ]


# ---------------------------------------------------------------- measurements


def _client(url: str):  # type: ignore[no-untyped-def]
    settings = Settings(env="testing", database_url=url, scheduler_enabled=False)
    app = create_app(settings, instance_path=tempfile.mkdtemp(prefix="arrears-bench-"))
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    response = client.post("/login", data={"username": USERNAME, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in: {response.status_code}")
    return app, client


def _measure(url: str, scenarios: list[tuple[str, list[str]]], samples: int) -> list[tuple[str, float, float, float, int]]:
    app, client = _client(url)
    results = []
    try:
        for name, urls in scenarios:
            for warm in urls[:3]:
                _get(client, warm)
            timings, rows = [], 0
            for n in range(samples):
                target = urls[(n + 3) % len(urls)]
                t0 = time.perf_counter()
                body = _get(client, target)
                timings.append((time.perf_counter() - t0) * 1000)
                rows = max(rows, body.count('data-case-id="') + body.count('data-unit-id="'))
            timings.sort()
            p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
            results.append((name, statistics.median(timings), p95, timings[-1], rows))
            _say(f"{name}: p50 {results[-1][1]:.1f} ms, p95 {p95:.1f} ms, max {timings[-1]:.1f} ms")
    finally:
        app.extensions["arrears"].engine.dispose()
    return results


def _get(client, target: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(target)
    if response.status_code != 200:
        raise SystemExit(f"GET {target}: {response.status_code}")
    body = response.get_data(as_text=True)
    if 'class="flash error"' in body:
        raise SystemExit(f"GET {target}: the page reports an input error")
    return body


def _export(url: str) -> tuple[float, int]:
    app, client = _client(url)
    try:
        t0 = time.perf_counter()
        response = client.get("/cases/export.xlsx")
        seconds = time.perf_counter() - t0
        if response.status_code != 200:
            raise SystemExit(f"export: {response.status_code}")
        size = len(response.get_data())
    finally:
        app.extensions["arrears"].engine.dispose()
    _say(f"export of every open case: {seconds:.2f} s, {size:,} bytes")
    return seconds, size


def _count(engine: Engine, company_id: int) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(CollectionCase).where(
            CollectionCase.company_id == company_id, CollectionCase.status == CaseStatus.OPEN)) or 0)


def _table(results: list[tuple[str, float, float, float, int]], cases: int, export_s: float, export_bytes: int,
           samples: int) -> None:
    print()
    print(f"arrears lists benchmark — work queue, {cases:,} open cases, {samples} requests per scenario")
    header = ("scenario", "p50 ms", "p95 ms", "max ms", "rows")
    lines = [(name, f"{p50:.1f}", f"{p95:.1f}", f"{mx:.1f}", str(rows)) for name, p50, p95, mx, rows in results]
    widths = [max(len(r[i]) for r in [*lines, header]) for i in range(5)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    print(f"export of all {cases:,} open cases (.xlsx): {export_s:.2f} s, {export_bytes:,} bytes")
    print(f"target: p95 < {TARGET_MS:.0f} ms per page")


if __name__ == "__main__":
    sys.exit(main())
