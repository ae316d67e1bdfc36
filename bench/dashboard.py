"""Dashboard benchmark: the collection figures (收缴率) at 100,000 units, with and without summaries.

    python bench/dashboard.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/arrears_bench_lists

Needs a portfolio already in the database (built by `bench/lists.py` or `bench/ledger.py --keep`);
upgrades its schema, never drops it. Times, for the first company as of its today:

* the figures summed from the ledger alone (no summary build: the state before the summaries),
* the rebuild of the summaries (`services.reports.summary.rebuild`, committed),
* the same through the summaries: `collection.by_community` for the dashboard's four windows, the
  whole dashboard service (`services.reports.dashboard.build`) and the monthly report of the
  current and of the previous month,

and checks that both ways give the same figures. Leaves the summary built.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from arrears.domain.reporting import last_year, month_window, year_to_date_window  # noqa: E402
from arrears.persistence.db import make_engine  # noqa: E402
from arrears.persistence.migrate import upgrade  # noqa: E402
from arrears.persistence.models import Company, SummaryBuild  # noqa: E402
from arrears.services.reports import collection, dashboard, monthly  # noqa: E402
from arrears.services.reports.summary import rebuild  # noqa: E402
from arrears.services.timezone import company_today  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/arrears_bench_lists"
TARGET_MS = 300.0


def _times(work: Callable[[], Any], samples: int) -> list[float]:
    result = []
    for _ in range(samples):
        started = time.perf_counter()
        work()
        result.append((time.perf_counter() - started) * 1000)
    return result


def _line(name: str, ms: list[float]) -> str:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{name:<44} p50 {statistics.median(ordered):8.1f} ms  p95 {p95:8.1f} ms  ({len(ms)} runs)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("ARREARS_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--live-samples", type=int, default=3, help="runs summed from the ledger alone (slow)")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url)
    upgrade(engine)
    with Session(engine) as session:
        company = session.scalars(select(Company).order_by(Company.id)).first()
        if company is None:
            print("no company in the database: build a portfolio first (bench/lists.py)")
            return 1
        company_id, today = company.id, company_today(company)
        session.execute(delete(SummaryBuild).where(SummaryBuild.company_id == company_id))
        session.commit()
    print(f"company {company_id}, today {today}, load average {os.getloadavg()[0]:.2f} (nproc {os.cpu_count()})")
    ytd, month = year_to_date_window(today), month_window(today)
    windows = [ytd, last_year(ytd), month, last_year(month)]
    previous = (today.replace(day=1) - dt.timedelta(days=1))

    def runs(session: Session, samples: int) -> dict[str, list[float]]:
        return {
            "collection.by_community (4 windows)": _times(
                lambda: collection.by_community(session, company_id, windows), samples),
            "dashboard.build": _times(lambda: dashboard.build(session, company_id, today), samples),
            "monthly report, current month": _times(
                lambda: monthly.monthly_report(session, company_id, today.year, today.month, today=today),
                max(1, samples // 4)),
            "monthly report, previous month": _times(
                lambda: monthly.monthly_report(session, company_id, previous.year, previous.month, today=today),
                max(1, samples // 4)),
        }

    with Session(engine) as session:
        live_figures = collection.by_community(session, company_id, windows)
        live = runs(session, args.live_samples)
    with Session(engine) as session:
        started = time.perf_counter()
        built = rebuild(session, company_id)
        session.commit()
        rebuild_s = time.perf_counter() - started
    with Session(engine) as session:
        summary_figures = collection.by_community(session, company_id, windows)
        summed = runs(session, args.samples)
    print(f"rebuild: {rebuild_s:.2f} s ({built.days:,} day rows, {built.months:,} month rows, "
          f"{built.billed:,} billed rows)")
    print("from the ledger alone (no summary):")
    for name, ms in live.items():
        print("  " + _line(name, ms))
    print("through the summary:")
    for name, ms in summed.items():
        print("  " + _line(name, ms))
    same = live_figures == summary_figures
    print(f"figures identical with and without the summary: {same}")
    print(f"load average after: {os.getloadavg()[0]:.2f}; target: dashboard.build p95 < {TARGET_MS:.0f} ms")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
