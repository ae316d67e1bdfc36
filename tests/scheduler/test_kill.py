"""A run killed mid-way (SIGKILL) and restarted completes without duplicates and without losing
actions; the run history shows the abandoned attempt; concurrent runs on PostgreSQL prepare each
action once (issue 3, scope 4 and "Done means").

These tests start `flask --app wsgi arrears escalate` as a real process against the test database
and kill it; no test hook exists in the product code. Where the process is stopped:
- PostgreSQL: the test holds `LOCK TABLE escalation_action IN SHARE MODE`, so the run blocks on
  inserting its actions after it has written its cases and stage rows (uncommitted) — it is killed
  there, deterministically;
- SQLite (one writer, no table locks): the test freezes the process (SIGSTOP) as soon as its
  attempt row is committed, i.e. inside the run's transaction, and kills it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Connection, delete, func, select, text

from arrears.persistence.enums import RunStatus
from arrears.persistence.models import (
    CaseStage,
    CollectionCase,
    Delivery,
    EscalationAction,
    EscalationRun,
    LetterBatch,
    MessageAction,
    OutboundMessage,
    OwnerLink,
    OwnerRequest,
)
from arrears.services import leases
from arrears.services.actor import Actor
from arrears.services.demo import load_demo

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 20)
SCALE = 0.5  # about 750 units, a few hundred in arrears
TIMEOUT = 120


def _escalate(database_url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ARREARS_DATABASE_URL": database_url, "ARREARS_ENV": "development"}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "arrears", "escalate", "--as-of", TODAY.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, out
    return out


@pytest.fixture
def portfolio(app: Flask) -> set[tuple[int, str]]:
    """The demo portfolio; returns what a complete run must prepare: {(ownership, stage)}."""
    runtime = app.extensions["arrears"]
    with runtime.transaction() as session:
        load_demo(session, today=TODAY, scale=SCALE)
        # The demo ends with an escalation run: start from the ledger alone.
        for model in (OwnerRequest, OwnerLink, Delivery, MessageAction, OutboundMessage, LetterBatch, EscalationAction, CaseStage,
                      CollectionCase, EscalationRun):
            session.execute(delete(model))
    company_id = _company_id(app)
    preview = leases.escalate_company(runtime, Actor.system("test"), company_id, as_of=TODAY, dry_run=True,
                                      trigger="test")
    expected = {(d.ownership_id, d.stage_code) for d in preview.decisions if d.stage_code}
    assert len(expected) > 100  # a portfolio big enough for a run to take a while
    return expected


def _company_id(app: Flask) -> int:
    with app.extensions["arrears"].transaction() as session:
        return session.execute(text("SELECT min(id) FROM company")).scalar_one()


def _attempts(app: Flask) -> list[EscalationRun]:
    with app.extensions["arrears"].transaction() as session:
        return list(session.scalars(select(EscalationRun).order_by(EscalationRun.id)))


def _assert_complete(app: Flask, expected: set[tuple[int, str]]) -> None:
    """Every expected action exists, once; every case once."""
    with app.extensions["arrears"].transaction() as session:
        keys = session.scalars(select(EscalationAction.key)).all()
        assert len(keys) == len(set(keys))
        pairs = session.execute(select(EscalationAction.ownership_id, EscalationAction.stage_code)
                                .where(EscalationAction.case_id.is_not(None))).all()
        counted = Counter((o, s) for o, s in pairs)
        assert set(counted) == expected
        assert max(counted.values()) == 1  # one action per case and stage on the first cycle
        cases = session.scalars(select(CollectionCase.ownership_id)).all()
        assert len(cases) == len(set(cases)) == len({o for o, _ in expected})


def _wait_for(condition, what: str, timeout: float = TIMEOUT) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def _running_attempt(conn: Connection) -> bool:
    """Is an attempt row committed and still 'running'? (Ends the read, so the next call sees news.)"""
    found = conn.execute(select(func.count()).select_from(EscalationRun)
                         .where(EscalationRun.status == RunStatus.RUNNING)).scalar_one()
    conn.rollback()
    return bool(found)


def _kill_mid_run_sqlite(app: Flask, database_url: str) -> None:
    process = _escalate(database_url)
    engine = app.extensions["arrears"].engine
    try:
        with engine.connect() as conn:
            _wait_for(lambda: _running_attempt(conn) or process.poll() is not None, "the attempt row")
        assert process.poll() is None, process.communicate()[0]
        os.kill(process.pid, signal.SIGSTOP)
        with engine.connect() as conn:
            # The attempt row is deleted in the run's own transaction: still there = not committed.
            assert _running_attempt(conn), "the run finished before it could be stopped; use a larger portfolio"
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)
        if process.stdout:
            process.stdout.close()


def _kill_mid_run_postgres(app: Flask, database_url: str) -> None:
    engine = app.extensions["arrears"].engine
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE escalation_action IN SHARE MODE"))
        process = _escalate(database_url)
        try:
            with engine.connect() as conn:
                _wait_for(lambda: _blocked_backend(conn) is not None or process.poll() is not None,
                          "the run to block on inserting its actions")
                backend = _blocked_backend(conn)
                assert backend is not None, process.communicate()[0]
                assert _running_attempt(conn)
                assert conn.execute(select(func.count()).select_from(CollectionCase)).scalar_one() == 0
        finally:
            process.kill()
            process.wait(timeout=TIMEOUT)
            if process.stdout:
                process.stdout.close()
        blocker.rollback()  # the orphaned server backend now fails to answer its dead client
    with engine.connect() as conn:
        _wait_for(lambda: not _backend_alive(conn, backend), "the killed run's backend to end")


def _backend_alive(conn: Connection, pid: int) -> bool:
    alive = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar_one()
    conn.rollback()
    return bool(alive)


def _blocked_backend(conn: Connection) -> int | None:
    pid = conn.execute(text(
        "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'escalation_action'::regclass LIMIT 1"
    )).scalar()
    conn.rollback()
    return pid


def test_a_run_killed_mid_way_and_restarted_completes_without_duplicates(
    app: Flask, database_url: str, portfolio: set[tuple[int, str]]
) -> None:
    if database_url.startswith("postgresql"):
        _kill_mid_run_postgres(app, database_url)
    else:
        _kill_mid_run_sqlite(app, database_url)
    (killed,) = _attempts(app)
    assert killed.status == RunStatus.RUNNING  # what the dead process left
    with app.extensions["arrears"].transaction() as session:
        assert session.scalar(select(func.count()).select_from(EscalationAction)) == 0  # nothing half-done

    out = _finish(_escalate(database_url))
    assert "opened" in out
    _assert_complete(app, portfolio)
    history = _attempts(app)
    assert [(r.id, r.status) for r in history] == [(killed.id, RunStatus.FAILED), (history[1].id, RunStatus.SUCCEEDED)]
    assert history[0].errors == [leases.ABANDONED]
    assert history[1].counts["opened"] == len({o for o, _ in portfolio})

    again = _finish(_escalate(database_url))  # and a rerun prepares nothing
    assert "opened 0" in again and "prepared 0" in again
    _assert_complete(app, portfolio)


def test_runs_killed_at_random_moments_never_duplicate_or_lose_actions(
    app: Flask, database_url: str, portfolio: set[tuple[int, str]]
) -> None:
    rng = random.Random(int(os.environ.get("ARREARS_TEST_SEED", time.time())))
    for _ in range(3):
        process = _escalate(database_url)
        time.sleep(rng.uniform(0.2, 2.5))  # anywhere from start-up to after the commit
        process.kill()
        process.communicate(timeout=TIMEOUT)
    _finish(_escalate(database_url))
    _assert_complete(app, portfolio)
    assert all(r.status != RunStatus.RUNNING for r in _attempts(app))
    opened = [r.counts["opened"] for r in _attempts(app) if r.status == RunStatus.SUCCEEDED and r.counts["opened"]]
    assert opened == [len({o for o, _ in portfolio})]  # the cases were opened by exactly one run


@pytest.fixture
def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent runs need PostgreSQL (SQLite has one writer; `make run` runs one scheduler)")


@pytest.mark.postgres
def test_concurrent_runs_on_postgresql_prepare_each_action_once(
    postgresql_only: None, app: Flask, database_url: str, portfolio: set[tuple[int, str]]
) -> None:
    processes = [_escalate(database_url) for _ in range(3)]
    outputs = [_finish(p) for p in processes]
    _assert_complete(app, portfolio)
    runs = _attempts(app)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 3
    assert sorted(r.counts["opened"] for r in runs) == [0, 0, len({o for o, _ in portfolio})]
    assert sum("prepared 0" in out for out in outputs) == 2
