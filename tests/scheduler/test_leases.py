"""Database leases: with several scheduler processes a job runs once (issue 3, scope 5)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from arrears.services import leases

NOW = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.timezone.utc)
TTL = dt.timedelta(minutes=10)


@pytest.fixture
def name(engine: Engine) -> Iterator[str]:
    """A fresh lease name; its row is dropped afterwards (these tests commit)."""
    lease = f"test-{uuid.uuid4().hex[:12]}"
    yield lease
    with Session(engine) as session, session.begin():
        leases.forget(session, lease)


def _acquire(engine: Engine, name: str, holder: str, now: dt.datetime = NOW) -> bool:
    with Session(engine) as session, session.begin():
        return leases.acquire(session, name, holder, now=now, ttl=TTL)


def test_of_two_holders_only_one_acquires(engine: Engine, name: str) -> None:
    assert _acquire(engine, name, "a")
    assert not _acquire(engine, name, "b")
    assert _acquire(engine, name, "a")  # the holder may take it again (re-entrant)
    with Session(engine) as session:
        assert leases.holder_of(session, name, now=NOW) == "a"


def test_expiry_lets_another_holder_take_it(engine: Engine, name: str) -> None:
    assert _acquire(engine, name, "a")
    assert not _acquire(engine, name, "b", NOW + TTL - dt.timedelta(seconds=1))
    assert _acquire(engine, name, "b", NOW + TTL + dt.timedelta(seconds=1))
    with Session(engine) as session, session.begin():
        # "a" died and came back: its heartbeat fails, it cannot release b's lease.
        assert not leases.renew(session, name, "a", now=NOW + TTL, ttl=TTL)
        assert not leases.release(session, name, "a", now=NOW + TTL)
        assert leases.holder_of(session, name, now=NOW + TTL + dt.timedelta(seconds=2)) == "b"


def test_release_frees_the_lease_and_keeps_the_note(engine: Engine, name: str) -> None:
    assert _acquire(engine, name, "a")
    with Session(engine) as session, session.begin():
        assert leases.renew(session, name, "a", now=NOW, ttl=TTL)
        assert leases.release(session, name, "a", now=NOW, detail={"finished_at": NOW.isoformat()})
    assert _acquire(engine, name, "b", NOW + dt.timedelta(seconds=1))
    with Session(engine) as session:
        assert leases.last_detail(session, name) == {"finished_at": NOW.isoformat()}
        assert leases.last_detail(session, "never-run") == {}


def test_a_lease_is_invisible_until_committed(engine: Engine, name: str) -> None:
    with Session(engine) as session, session.begin():
        assert leases.acquire(session, name, "a", now=NOW, ttl=TTL)
        session.rollback()
    assert _acquire(engine, name, "b")


@pytest.mark.parametrize("expired", [False, True], ids=["new", "expired"])
def test_concurrent_holders_race_and_exactly_one_wins(engine: Engine, name: str, expired: bool) -> None:
    if expired:
        assert _acquire(engine, name, "old", NOW - 2 * TTL)
    holders = [f"h{i}" for i in range(8)]
    start = threading.Barrier(len(holders))
    won: dict[str, bool] = {}
    failures: list[BaseException] = []

    def race(holder: str) -> None:
        try:
            start.wait()
            won[holder] = _acquire(engine, name, holder)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=race, args=(h,)) for h in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert sorted(won) == holders
    winners = [h for h, ok in won.items() if ok]
    assert len(winners) == 1
    with Session(engine) as session:
        assert leases.holder_of(session, name, now=NOW) == winners[0]
