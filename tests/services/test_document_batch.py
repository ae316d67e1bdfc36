"""Batch rendering (issue 4, scope 6): documents render in parallel worker processes, a failing
document is reported without stopping the others, and the output is one PDF per document, a ZIP
and an index.csv with names, hashes, statuses and errors.

The worker processes are spawned: they import this module (``preload``) to get the test-only
builders below, and read the committed test data through their own engine (so the data is
committed with the ``runtime`` fixture, which empties the tables afterwards).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from arrears.domain.escalation import Action
from arrears.persistence.base import utcnow
from arrears.persistence.enums import ActionStatus, RunStatus
from arrears.persistence.models import Company, EscalationAction, EscalationRun
from arrears.services.documents import registry
from arrears.services.documents.batch import letter_requests, read_index, render_batch
from arrears.services.errors import NotFound, ServiceError
from arrears.services.runtime import Runtime
from tests.factories import make_community, make_ownership, make_unit

PRELOAD = (__name__,)
BROKEN = 13


@registry.builder("test_doc")
def _test_doc(session, request):  # type: ignore[no-untyped-def]
    """A tiny document that reads the database (the company's name) and fails for subject 13."""
    company = session.get(Company, request.company_id)
    if company is None:
        raise ServiceError("company %(id)s not found", id=request.company_id)
    if request.subject_id == BROKEN:
        raise ServiceError("document %(n)s cannot be built: no address", n=request.subject_id)
    return registry.Built(template="base.html",
                          context={"company_name": company.name, "reference": f"TEST-{request.subject_id:04d}"},
                          title=f"测试文书 {request.subject_id}", filename=f"测试/文书 {request.subject_id}.pdf",
                          author=company.name)


@registry.builder("test_slow")
def _test_slow(session, request):  # type: ignore[no-untyped-def]
    time.sleep(60)
    raise AssertionError("not reached: the batch gives up first")


@registry.builder("test_crash")
def _test_crash(session, request):  # type: ignore[no-untyped-def]
    os._exit(3)  # a worker that dies (segfault, OOM kill) in the middle of a document


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _company(runtime: Runtime) -> int:
    with runtime.transaction() as session:
        return make_community(session, name="批量花园").company_id


def _text(path: Path) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(path).pages)


def _requests(company_id: int, subjects: list[int]) -> list[registry.DocumentRequest]:
    return [registry.DocumentRequest("test_doc", company_id, n, {"as_of": "2026-11-22"}) for n in subjects]


def test_parallel_batch_reports_a_failure_and_writes_the_others(runtime: Runtime, engine: Engine,
                                                                  tmp_path: Path) -> None:
    company_id = _company(runtime)
    calls: list[tuple[int, int, str]] = []
    result = render_batch(_url(engine), _requests(company_id, [1, 2, BROKEN, 4, 5]), tmp_path / "out", workers=2,
                          progress=lambda done, total, name: calls.append((done, total, name)),
                          zip_name="letters.zip", preload=PRELOAD)

    # the progress callback: once per document, failures included, counting up to the total
    assert [(done, total) for done, total, _name in calls] == [(n, 5) for n in range(1, 6)]
    assert sorted(name for _d, _t, name in calls) == sorted(
        ["001-测试_文书 1.pdf", "002-测试_文书 2.pdf", "test_doc:13", "004-测试_文书 4.pdf", "005-测试_文书 5.pdf"])

    # one PDF per document that could be built, named in request order, read back
    assert [p.name for p in result.files] == ["001-测试_文书 1.pdf", "002-测试_文书 2.pdf",
                                              "004-测试_文书 4.pdf", "005-测试_文书 5.pdf"]
    for path, n in zip(result.files, [1, 2, 4, 5]):
        text = _text(path)
        assert f"TEST-{n:04d}" in text and "测试物业服务有限公司" in text
    assert not list((tmp_path / "out").glob(".part-*"))

    # the failure: in the result, not raised, with the builder's message
    assert not result.ok and [f.document for f in result.failures] == ["test_doc:13"]
    assert "no address" in result.failures[0].error and result.failures[0].error.startswith("ServiceError")
    assert result.summary()["files"] == 4 and result.summary()["failed"] == 1

    # the ZIP: the PDFs and index.csv, listing every document with its hash, status and error
    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
        assert names == [p.name for p in result.files] + ["index.csv"]
        assert all(info.date_time == (2000, 1, 1, 0, 0, 0) for info in archive.infolist())
        assert archive.read("001-测试_文书 1.pdf") == result.files[0].read_bytes()
    rows = read_index(result.zip_path)
    assert rows == read_index(result.index_path)
    assert [(r["document"], r["status"]) for r in rows] == [
        ("test_doc:1", "ok"), ("test_doc:2", "ok"), ("test_doc:13", "failed"), ("test_doc:4", "ok"),
        ("test_doc:5", "ok")]
    broken = rows[2]
    assert broken["file"] == "" and broken["sha256"] == "" and "no address" in broken["error"]
    for row, path in zip([r for r in rows if r["status"] == "ok"], result.files):
        assert row["file"] == path.name and row["error"] == ""
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert row["title"].startswith("测试文书 ")


def test_a_rerun_gives_the_same_names_and_in_process_rendering_the_same_result(runtime: Runtime, engine: Engine,
                                                                                tmp_path: Path) -> None:
    company_id = _company(runtime)
    first = render_batch(_url(engine), _requests(company_id, [7, 3]), tmp_path / "a", workers=2, preload=PRELOAD)
    second = render_batch(_url(engine), _requests(company_id, [7, 3]), tmp_path / "b", workers=0)
    assert [p.name for p in first.files] == [p.name for p in second.files] == ["001-测试_文书 7.pdf",
                                                                              "002-测试_文书 3.pdf"]
    assert first.ok and second.ok
    assert [r["document"] for r in read_index(first.zip_path)] == ["test_doc:7", "test_doc:3"]


def test_a_packet_is_also_joined_into_one_pdf_unless_something_failed(runtime: Runtime, engine: Engine,
                                                                      tmp_path: Path) -> None:
    company_id = _company(runtime)
    whole = render_batch(_url(engine), _requests(company_id, [1, 2]), tmp_path / "ok", workers=1,
                         joined_name="packet.pdf", preload=PRELOAD)
    assert whole.joined_path == tmp_path / "ok" / "packet.pdf"
    assert len(PdfReader(whole.joined_path).pages) == 2 and "TEST-0002" in _text(whole.joined_path)
    assert "packet.pdf" in zipfile.ZipFile(whole.zip_path).namelist()
    broken = render_batch(_url(engine), _requests(company_id, [1, BROKEN]), tmp_path / "broken", workers=1,
                          joined_name="packet.pdf", preload=PRELOAD)
    assert broken.joined_path is None and not (tmp_path / "broken" / "packet.pdf").exists()


def test_a_worker_that_dies_is_reported_and_the_batch_still_finishes(runtime: Runtime, engine: Engine,
                                                                     tmp_path: Path) -> None:
    company_id = _company(runtime)
    requests = [registry.DocumentRequest("test_crash", company_id, 1)]
    result = render_batch(_url(engine), requests, tmp_path / "out", workers=1, preload=PRELOAD)
    assert [f.document for f in result.failures] == ["test_crash:1"]
    assert "worker process failed" in result.failures[0].error
    assert [r["status"] for r in read_index(result.zip_path)] == ["failed"]


def test_workers_are_replaced_after_some_documents_and_the_batch_finishes(runtime: Runtime, engine: Engine,
                                                                          tmp_path: Path) -> None:
    company_id = _company(runtime)
    calls: list[int] = []
    result = render_batch(_url(engine), _requests(company_id, [1, 2, 3, 4, 5]), tmp_path, workers=2,
                          recycle_after=1, preload=PRELOAD, progress=lambda done, _t, _n: calls.append(done))
    assert result.ok and len(result.files) == 5 and calls == [1, 2, 3, 4, 5]


def test_a_stalled_batch_gives_up_and_reports_instead_of_hanging(runtime: Runtime, engine: Engine,
                                                                 tmp_path: Path) -> None:
    company_id = _company(runtime)
    requests = [registry.DocumentRequest("test_slow", company_id, 1), registry.DocumentRequest("test_slow", company_id, 2)]
    started = time.monotonic()
    result = render_batch(_url(engine), requests, tmp_path, workers=2, preload=PRELOAD, stall_timeout=8)
    assert time.monotonic() - started < 40
    assert [f.error for f in result.failures] == ["timed out: no document finished for 8 s"] * 2


def test_an_unknown_kind_fails_that_document_only(runtime: Runtime, engine: Engine, tmp_path: Path) -> None:
    company_id = _company(runtime)
    requests = [registry.DocumentRequest("no_such_kind", company_id, 1), *_requests(company_id, [2])]
    result = render_batch(_url(engine), requests, tmp_path, workers=2, preload=PRELOAD)
    assert [f.document for f in result.failures] == ["no_such_kind:1"]
    assert "unknown kind of document" in result.failures[0].error
    assert [p.name for p in result.files] == ["002-测试_文书 2.pdf"]


def test_bad_input_is_refused_before_any_work(tmp_path: Path) -> None:
    request = registry.DocumentRequest("test_doc", 1, 1)
    with pytest.raises(ValueError, match="no documents"):
        render_batch(f"sqlite:///{tmp_path / 'x.sqlite3'}", [], tmp_path)
    with pytest.raises(ValueError, match="in-memory"):
        render_batch("sqlite://", [request], tmp_path)
    with pytest.raises(ValueError, match="in-memory"):
        render_batch("sqlite:///:memory:", [request], tmp_path)


def test_the_letters_of_a_batch_are_its_approved_reminders_and_demands(runtime: Runtime) -> None:
    with runtime.transaction() as session:
        community = make_community(session)
        unit = make_unit(session, community, area=Decimal("90.00"))
        ownership = make_ownership(session, unit)
        owner_id = ownership.parties[0].owner_id
        other_company = make_community(session).company_id
        run = EscalationRun(company_id=community.company_id, as_of=dt.date(2026, 11, 22), trigger="cli",
                            actor="tester", status=RunStatus.SUCCEEDED, started_at=utcnow(), finished_at=utcnow())
        empty = EscalationRun(company_id=community.company_id, as_of=dt.date(2026, 11, 23), trigger="cli",
                              actor="tester", status=RunStatus.SUCCEEDED, started_at=utcnow())
        session.add_all([run, empty])
        session.flush()
        ids = {}
        for n, (action, status) in enumerate([
            (Action.DEMAND, ActionStatus.APPROVED), (Action.REMINDER, ActionStatus.DISPATCHED),
            (Action.REMINDER, ActionStatus.DONE), (Action.REMINDER, ActionStatus.PREPARED),
            (Action.DEMAND, ActionStatus.REMOVED), (Action.NOTICE_CANDIDATE, ActionStatus.APPROVED),
            (Action.PRE_DUE_NOTICE, ActionStatus.APPROVED),
        ]):
            row = EscalationAction(key=f"t:{run.id}:{n}", company_id=community.company_id, run_id=run.id,
                                   ownership_id=ownership.id, unit_id=unit.id, owner_id=owner_id,
                                   stage_code=f"s{n}", action=action, prepared_on=dt.date(2026, 11, 22),
                                   status=status, arrears=Decimal("100.00"))
            session.add(row)
            session.flush()
            ids[n] = row.id
        company_id, run_id, empty_id = community.company_id, run.id, empty.id
    with runtime.transaction() as session:
        requests = letter_requests(session, company_id, run_id)
        assert [(r.kind, r.subject_id, r.company_id) for r in requests] == [
            ("demand_letter", ids[0], company_id), ("reminder_letter", ids[1], company_id),
            ("reminder_letter", ids[2], company_id)]
        with pytest.raises(NotFound):
            letter_requests(session, other_company, run_id)
        with pytest.raises(ServiceError, match="no approved reminder or demand"):
            letter_requests(session, company_id, empty_id)


def test_index_rows_survive_commas_quotes_and_chinese(runtime: Runtime, engine: Engine, tmp_path: Path) -> None:
    company_id = _company(runtime)
    result = render_batch(_url(engine), _requests(company_id, [BROKEN]), tmp_path, workers=0, preload=PRELOAD)
    data = result.index_path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheet programs read the Chinese
    [row] = read_index(result.zip_path.read_bytes())
    assert row["status"] == "failed" and "no address" in row["error"]
