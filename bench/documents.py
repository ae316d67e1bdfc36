"""Documents benchmark (issue 4 §8): the app's rendering against plain WeasyPrint on the same HTML.

    .venv/bin/python bench/documents.py [--packets 200] [--notice-rows 500] [--repeats 3]

Prints, each next to plain ``weasyprint.HTML(string=html, base_url=...).write_pdf()`` of the SAME
HTML in the same run (overhead % = app time / plain time − 1):

(1) pages per second for a public arrears notice of ``--notice-rows`` rows (``public_notice.html``
    through ``arrears.documents.pdf.render_pdf`` with plain data shaped like
    ``notices.build_public_notice`` builds it; no database);
(2) seconds per filing packet: the 6 documents of a small_claims packet of the case in
    ``tests/documents/packet_world.py`` (``packet.build_packet`` + ``registry.render``, which also
    reads the database; the plain side gets the HTML the builders produced);
(3) a batch of ``--packets`` packets (one case each, 6 documents per packet) through
    ``batch.render_batch`` on 1 and on ``--workers`` (2) worker processes, and the same HTML through
    plain WeasyPrint in 1 process and in a pool of ``--workers`` processes.

Everything runs on a temporary SQLite file database (``--keep`` leaves it and the PDFs in --dir).
Timings of (1) and (2) are medians of ``--repeats`` / ``--packet-repeats`` runs, app and plain alternating, after a warm-up of each.
Targets: app overhead < 10 % of plain WeasyPrint; batch speed-up >= 1.6x from 2 workers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import importlib
import io
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import weasyprint
from pypdf import PdfReader

from arrears.documents import pdf as app_pdf

BASE_URL = app_pdf.DOCUMENTS.as_uri() + "/"
CREATED = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------- helpers


def plain_pdf(html: str) -> bytes:
    """What WeasyPrint does with no app around it."""
    return bytes(weasyprint.HTML(string=html, base_url=BASE_URL).write_pdf())


def _plain_job(job: tuple[str, str]) -> int:
    """A plain-WeasyPrint pool worker: one HTML to one PDF file (as the app's batch writes files)."""
    html, path = job
    data = plain_pdf(html)
    Path(path).write_bytes(data)
    return len(data)


def _serial(job: Callable[[tuple[str, str]], int], jobs: Sequence[tuple[str, str]]) -> None:
    for one in jobs:
        job(one)


def _pooled(context: Any, workers: int, job: Callable[[tuple[str, str]], int], jobs: Sequence[tuple[str, str]]) -> None:
    with context.Pool(workers) as pool:
        pool.map(job, jobs, chunksize=1)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()  # no run pays for the garbage of the one before
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def alternate(app: Callable[[], Any], plain: Callable[[], Any], repeats: int) -> tuple[list[float], list[float], Any]:
    """Warm both up once, then time app and plain alternately (`repeats` each)."""
    app()
    plain()
    app_times: list[float] = []
    plain_times: list[float] = []
    result = None
    for _ in range(repeats):
        gc.collect()
        cpu = time.process_time()
        t, result = timed(app)
        app_times.append(t)
        CPU["app"].append(time.process_time() - cpu)
        gc.collect()
        cpu = time.process_time()
        t, _ = timed(plain)
        plain_times.append(t)
        CPU["plain"].append(time.process_time() - cpu)
    return app_times, plain_times, result


#: CPU seconds of this process for each timed run of alternate() (robust when other jobs share the cores)
CPU: dict[str, list[float]] = {"app": [], "plain": []}


def take_cpu() -> tuple[float, float]:
    """Median CPU seconds (app, plain) of the runs since the last call."""
    app, plain = statistics.median(CPU["app"]), statistics.median(CPU["plain"])
    CPU["app"].clear()
    CPU["plain"].clear()
    return app, plain


def load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def overhead(app: float, plain: float) -> str:
    return f"{(app / plain - 1) * 100:+.1f} %"


def machine_facts() -> list[str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [f"cores (os.cpu_count): {os.cpu_count()}; usable: {len(os.sched_getaffinity(0))}; CPU: {cpu or '?'}",
            (f"Python {platform.python_version()}; WeasyPrint {weasyprint.__version__}; "
             f"pydyf {_version('pydyf')}; pypdf {_version('pypdf')}; {platform.platform()}")]


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# ---------------------------------------------------------------- (1) the public notice


def notice_context(rows: int) -> dict[str, Any]:
    """Plain data in the shape of notices.build_public_notice (500 rooms in 10 buildings)."""
    from arrears.services.documents.notices import (
        period_text,
        qr_data_uri,
        verification_url,
    )

    entries = []
    total = Decimal("0.00")
    for n in range(rows):
        building, floor, room = n // 50 + 1, (n % 50) // 4 + 1, n % 4 + 1
        months = 1 + n % 17
        first = dt.date(2025, 1 + n % 6, 1)
        ranges = []
        for m in range(months):
            start = dt.date(first.year + (first.month - 1 + m) // 12, (first.month - 1 + m) % 12 + 1, 1)
            nxt = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
            if m != 5:  # a gap in some runs: "2025年1月至2025年5月、2025年7月至…"
                ranges.append((start, nxt - dt.timedelta(days=1)))
        amount = (Decimal("196.90") * len(ranges)).quantize(Decimal("0.01"))
        total += amount
        entries.append({"building": f"{building}号楼", "unit": f"{building}-{floor}-{floor}0{room}",
                        "periods": period_text(ranges), "period_count": len(ranges), "amount": amount})
    content_hash = "3f" * 32
    url = verification_url("https://wy.example.cn", content_hash)
    return {
        "company_name": "金陵物业服务有限公司",
        "reference": "GS-YGHY-20261122-01",
        "notice": {
            "reference": "GS-YGHY-20261122-01", "community": "阳光花园", "as_of": dt.date(2026, 11, 22),
            "legal_basis": "《物业管理条例》第四十一条、《江苏省物业管理条例》第六十七条",
            "contact": "物业服务中心 025-83000000（工作日9:00–17:00）", "posting_days": 15,
            "posting_from": dt.date(2026, 11, 25), "posting_until": dt.date(2026, 12, 9), "approved": True,
            "replaces": None, "unit_count": rows, "total": total, "hash": content_hash,
        },
        "entries": entries,
        "verify_url": url,
        "qr": qr_data_uri(url),
    }


def bench_notice(rows: int, repeats: int) -> dict[str, Any]:
    context = notice_context(rows)
    title = "阳光花园物业服务费欠费公示"
    html = app_pdf.render_html("public_notice.html", {"document_title": title, **context})

    def app() -> bytes:
        return app_pdf.render_pdf("public_notice.html", context, title=title, author="金陵物业服务有限公司",
                                  created=CREATED)

    app_times, plain_times, pdf = alternate(app, lambda: plain_pdf(html), repeats)
    count = pages(pdf)
    if count != pages(plain_pdf(html)):
        raise SystemExit("the app and plain WeasyPrint gave different page counts for the notice")
    cpu_app, cpu_plain = take_cpu()
    return {"pages": count, "app": statistics.median(app_times), "plain": statistics.median(plain_times),
            "app_times": app_times, "plain_times": plain_times, "cpu_app": cpu_app, "cpu_plain": cpu_plain}


# ---------------------------------------------------------------- the database


def build_database(url: str, cases: int) -> list[tuple[int, int]]:
    """`cases` copies of the packet test's world (one company each: the USCC is unique), committed;
    returns (company_id, case_id) of each."""
    from arrears.domain.identity import uscc_check_char
    from arrears.persistence.db import make_engine, make_session_factory
    from arrears.persistence.migrate import upgrade
    from tests.documents.packet_world import build_world

    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    ids = []
    with sessions() as session:
        for n in range(cases):
            body = f"9132010077578{n:04d}"
            world = build_world(session, uscc=body + uscc_check_char(body))
            ids.append((world.company.id, world.case.id))
        session.commit()
    engine.dispose()
    return ids


def packet_requests(session: Any, company_id: int, case_id: int) -> list[Any]:
    from arrears.services.documents.packet import build_packet
    from tests.documents.packet_world import AS_OF

    return build_packet(session, company_id, case_id, route="small_claims", as_of=AS_OF, claim_late_fees=True,
                        until_actual_payment=True)


def packet_htmls(session: Any, requests: Sequence[Any]) -> list[str]:
    """The HTML the app lays out for each request (the builders read the database, Jinja renders)."""
    from arrears.services.documents import registry

    htmls = []
    for request in requests:
        built = registry.build(session, request)
        htmls.append(app_pdf.render_html(built.template, {"document_title": built.title, **built.context}))
    return htmls


# ---------------------------------------------------------------- (2) one filing packet


def bench_packet(url: str, ids: tuple[int, int], repeats: int) -> dict[str, Any]:
    from arrears.persistence.db import make_engine, make_session_factory
    from arrears.services.documents import registry

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        requests = packet_requests(session, *ids)
        htmls = packet_htmls(session, requests)
        state: dict[str, Any] = {}

        def app() -> list[bytes]:
            reqs = packet_requests(session, *ids)  # the route and precondition checks are part of it
            return [registry.render(session, r, created=CREATED)[1] for r in reqs]

        def build_only() -> None:
            packet_htmls(session, packet_requests(session, *ids))

        def plain() -> list[bytes]:
            return [plain_pdf(h) for h in htmls]

        app_times, plain_times, pdfs = alternate(app, plain, repeats)
        state["cpu_app"], state["cpu_plain"] = take_cpu()
        build_times = [timed(build_only)[0] for _ in range(repeats)]
        state.update(kinds=[r.kind for r in requests], pages=sum(pages(p) for p in pdfs))
        session.rollback()
    engine.dispose()
    return {**state, "app": statistics.median(app_times), "plain": statistics.median(plain_times),
            "build": statistics.median(build_times), "app_times": app_times, "plain_times": plain_times}


# ---------------------------------------------------------------- (3) a batch of packets


def bench_batch(url: str, ids: Sequence[tuple[int, int]], workers: int, work: Path) -> dict[str, Any]:
    from arrears.persistence.db import make_engine, make_session_factory
    from arrears.services.documents.batch import _context, render_batch

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        requests = [r for company_id, case_id in ids for r in packet_requests(session, company_id, case_id)]
        htmls = packet_htmls(session, requests)
        session.rollback()
    engine.dispose()
    docs = len(requests)
    out: dict[str, Any] = {"packets": len(ids), "documents": docs, "loads": []}

    for n in (1, workers):
        target = work / f"app-{n}"
        seconds, result = timed(functools.partial(render_batch, url, requests, target, workers=n))
        if result.failures:
            raise SystemExit(f"batch on {n} worker(s): {len(result.failures)} failed, "
                             f"e.g. {result.failures[0].document}: {result.failures[0].error}")
        out[f"app_{n}"] = seconds
        out["loads"].append(f"app {n}w: {load()}")

    # the pool pickles the job function by its module name: not "__main__" when run as a script
    job = importlib.import_module("bench.documents")._plain_job
    context = _context()  # the same process start method as the app's batch (forkserver, preloaded)
    for n in (1, workers):
        target = work / f"plain-{n}"
        target.mkdir(parents=True, exist_ok=True)
        jobs = [(html, str(target / f"{i:05d}.pdf")) for i, html in enumerate(htmls, start=1)]
        if n == 1:
            seconds, _ = timed(functools.partial(_serial, job, jobs))
        else:
            seconds, _ = timed(functools.partial(_pooled, context, n, job, jobs))
        out[f"plain_{n}"] = seconds
        out["loads"].append(f"plain {n}w: {load()}")
    return out


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notice-rows", type=int, default=500)
    parser.add_argument("--packets", type=int, default=200, help="packets in the batch (6 documents each)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of (1), median taken")
    parser.add_argument("--packet-repeats", type=int, default=5, help="timed runs of (2), median taken")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the PDFs")
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args(argv)

    app_pdf.require_cjk_font()
    work = Path(tempfile.mkdtemp(prefix="arrears-bench-docs-")) if args.dir is None else args.dir
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    started = time.perf_counter()
    for line in machine_facts():
        print(line)
    print(f"load average at start: {load()} (1/5/15 min; other jobs on the machine slow every wall-clock "
          f"figure, app and plain alike)")
    try:
        print(f"(1) public notice, {args.notice_rows} rows ... (load {load()})", flush=True)
        notice = bench_notice(args.notice_rows, args.repeats)
        cases = max(1, args.packets if not args.skip_batch else 1)
        print(f"    building {cases} filing cases in {url} ...", flush=True)
        ids = build_database(url, cases)
        print(f"(2) one small_claims packet ... (load {load()})", flush=True)
        packet = bench_packet(url, ids[0], args.packet_repeats)
        batch = None
        if not args.skip_batch:
            print(f"(3) batch of {len(ids)} packets on 1 and {args.workers} workers ... (load {load()})",
                  flush=True)
            batch = bench_batch(url, ids, args.workers, work)
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)

    rows = [
        ("(1) public notice, {} rows, {} pages".format(args.notice_rows, notice["pages"]),
         f"{notice['pages'] / notice['app']:.2f} pages/s ({notice['app']:.2f} s)",
         f"{notice['pages'] / notice['plain']:.2f} pages/s ({notice['plain']:.2f} s)",
         overhead(notice["app"], notice["plain"]), "overhead < 10 %"),
        (f"(2) small_claims packet, 6 docs, {packet['pages']} pages",
         f"{packet['app']:.2f} s/packet", f"{packet['plain']:.2f} s/packet",
         overhead(packet["app"], packet["plain"]), "overhead < 10 %"),
    ]
    if batch is not None:
        w = args.workers
        rows += [
            (f"(3) batch {batch['packets']} packets, 1 worker",
             f"{batch['packets'] / batch['app_1']:.2f} packets/s ({batch['app_1']:.1f} s)",
             f"{batch['packets'] / batch['plain_1']:.2f} packets/s ({batch['plain_1']:.1f} s)",
             overhead(batch["app_1"], batch["plain_1"]), "overhead < 10 %"),
            (f"(3) batch {batch['packets']} packets, {w} workers",
             f"{batch['packets'] / batch[f'app_{w}']:.2f} packets/s ({batch[f'app_{w}']:.1f} s)",
             f"{batch['packets'] / batch[f'plain_{w}']:.2f} packets/s ({batch[f'plain_{w}']:.1f} s)",
             overhead(batch[f"app_{w}"], batch[f"plain_{w}"]), "overhead < 10 %"),
            (f"(3) speed-up {w} workers vs 1",
             f"{batch['app_1'] / batch[f'app_{w}']:.2f}x", f"{batch['plain_1'] / batch[f'plain_{w}']:.2f}x",
             "", ">= 1.6x"),
        ]
    header = ("measurement", "app", "plain WeasyPrint", "overhead", "target")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print()
    print(f"notice runs (s): app {_fmt(notice['app_times'])}; plain {_fmt(notice['plain_times'])}")
    print(f"packet runs (s): app {_fmt(packet['app_times'])}; plain {_fmt(packet['plain_times'])}; "
          f"of the app's time, build_packet + builders + Jinja: {packet['build']:.3f} s")
    if batch is not None:
        print(f"batch: {batch['documents']} documents; load average after each: {'; '.join(batch['loads'])}")
    print(f"paired overhead (median of app/plain per alternating pair): notice {paired(notice)}; "
          f"packet {paired(packet)}")
    print(f"CPU seconds of this process (median): notice app {notice['cpu_app']:.2f} / plain "
          f"{notice['cpu_plain']:.2f} ({overhead(notice['cpu_app'], notice['cpu_plain'])}); packet app "
          f"{packet['cpu_app']:.2f} / plain {packet['cpu_plain']:.2f} ({overhead(packet['cpu_app'], packet['cpu_plain'])})")
    print(f"load average at the end: {load()}; total run time {time.perf_counter() - started:.0f} s")
    return 0


def paired(result: dict[str, Any]) -> str:
    ratios = [a / p for a, p in zip(result["app_times"], result["plain_times"], strict=True)]
    return f"{(statistics.median(ratios) - 1) * 100:+.1f} %"


def _fmt(values: Sequence[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
