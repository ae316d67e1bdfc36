"""Documents from the web (issue 4): the letters of a reviewed batch and a case's filing packet
render in a background job (worker processes) into a ZIP to download; one letter and a case's
statement of account render inline; access by role; every download is audited."""

from __future__ import annotations

import datetime as dt
import io
import threading
import zipfile
from dataclasses import dataclass
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from arrears.domain.escalation import Action
from arrears.persistence.base import utcnow
from arrears.persistence.enums import ActionStatus, Role, RunStatus
from arrears.persistence.models import (
    AuditEntry,
    BackgroundJob,
    EscalationAction,
    EscalationRun,
    StoredFile,
)
from arrears.services.documents.batch import read_index
from tests.factories import make_user
from tests.web.helpers import login
from tests.web.test_cases_web import login_en


@dataclass
class World:
    company_id: int
    case_id: int
    run_id: int
    action_ids: list[int]
    users: dict[Role, str]


def _world(app: Flask, prefix: str, *, demand: bool = True) -> World:
    """A case ready for filing (tests.documents.packet_world) and a reviewed run with two approved
    letters (a demand, a reminder) and one still prepared; a user per role."""
    from tests.documents.packet_world import build_world

    with app.extensions["arrears"].transaction() as session:
        w = build_world(session, demand=demand)
        run = EscalationRun(company_id=w.company.id, as_of=dt.date(2026, 11, 22), trigger="cli", actor="tester",
                            status=RunStatus.SUCCEEDED, started_at=utcnow(), finished_at=utcnow())
        session.add(run)
        session.flush()
        ids = []
        for n, (action, status) in enumerate([(Action.DEMAND, ActionStatus.APPROVED),
                                              (Action.REMINDER, ActionStatus.APPROVED),
                                              (Action.REMINDER, ActionStatus.PREPARED)]):
            row = EscalationAction(
                key=f"web:{run.id}:{n}", company_id=w.company.id, case_id=w.case.id, run_id=run.id,
                ownership_id=w.case.ownership_id, unit_id=w.unit.id, owner_id=w.owners[0].id, stage_code=f"s{n}",
                action=action, prepared_on=dt.date(2026, 11, 22), status=status, channels=["letter"],
                arrears=sum((c.principal_outstanding for c in w.charges), Decimal("0.00")),
                deadline_days=15 if action == Action.DEMAND else None,
                charges=[{"id": c.id, "period": c.period_label, "due": c.due_date.isoformat(),
                          "outstanding": str(c.principal_outstanding)} for c in w.charges])
            session.add(row)
            session.flush()
            ids.append(row.id)
        users = {role: make_user(session, w.company, role, username=f"{prefix}-{role.value}").username
                 for role in Role}
        return World(w.company.id, w.case.id, run.id, ids, users)


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _job_of(response) -> int:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert "/jobs/" in location, location
    job_id = int(location.rstrip("/").split("/")[-1])
    for thread in threading.enumerate():
        if thread.name == f"job-{job_id}":
            thread.join(timeout=300)
    return job_id


def _audits(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["arrears"].transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def _pdf_text(data: bytes) -> str:
    return "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages).replace(" ", "")


def test_an_accountant_prints_the_letters_of_a_batch_and_downloads_the_zip(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    login_en(client, w.users[Role.ACCOUNTANT])
    page = client.get(f"/runs/{w.run_id}").get_data(as_text=True)
    assert f'action="/documents/runs/{w.run_id}/letters"' in page and "Print letters for this batch" in page
    assert f"/documents/actions/{w.action_ids[0]}/letter" in page  # approved rows: one letter inline
    assert f"/documents/actions/{w.action_ids[2]}/letter" not in page  # still prepared
    job_id = _job_of(client.post(f"/documents/runs/{w.run_id}/letters"))

    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["status"] == "done", status
    assert status["kind"] == "render_letters" and status["done"] == status["total"] == 2
    assert status["result"]["files"] == 2 and status["result"]["failed"] == 0
    job_page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"/documents/jobs/{job_id}/zip" in job_page and "Letters of a batch" in job_page

    download = client.get(f"/documents/jobs/{job_id}/zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert f"letters-batch-{w.run_id}.zip" in download.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    rows = read_index(download.data)
    assert [r["document"] for r in rows] == [f"demand_letter:{w.action_ids[0]}", f"reminder_letter:{w.action_ids[1]}"]
    assert "催告" in _pdf_text(archive.read(rows[0]["file"]))
    [rendered] = _audits(no_csrf, "documents.rendered")
    assert rendered.entity == "escalation_run" and rendered.entity_id == w.run_id
    [downloaded] = _audits(no_csrf, "documents.downloaded")
    assert downloaded.entity == "background_job" and downloaded.entity_id == job_id
    assert downloaded.actor == w.users[Role.ACCOUNTANT]
    assert client.get(f"/documents/jobs/{job_id}/pdf").status_code == 404  # letters have no joined packet


def test_a_manager_downloads_the_filing_packet_as_zip_and_one_pdf(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    login_en(client, w.users[Role.MANAGER])
    page = client.get(f"/cases/{w.case_id}").get_data(as_text=True)
    assert f'action="/documents/cases/{w.case_id}/packet"' in page and 'value="small_claims"' in page
    job_id = _job_of(client.post(f"/documents/cases/{w.case_id}/packet",
                                 data={"route": "small_claims", "as_of": "2026-11-22", "claim_late_fees": "1"}))
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["status"] == "done" and status["result"]["files"] == 6, status
    zipped = client.get(f"/documents/jobs/{job_id}/zip")
    assert zipped.status_code == 200
    assert {r["status"] for r in read_index(zipped.data)} == {"ok"}
    whole = client.get(f"/documents/jobs/{job_id}/pdf")
    assert whole.status_code == 200 and whole.mimetype == "application/pdf"
    text = _pdf_text(whole.data)
    assert "民事起诉状" in text and "欠费及违约金计算表" in text and "证据目录" in text
    assert len(_audits(no_csrf, "documents.downloaded")) == 2
    with no_csrf.extensions["arrears"].transaction() as session:
        job = session.get(BackgroundJob, job_id)
        assert job is not None and session.get(StoredFile, job.result["pdf_file_id"]) is not None
    # an accountant may neither start a packet nor download one; a lawyer only through a legal
    # case assigned to them (arrears.web.legal), never for any collection case
    for role in (Role.ACCOUNTANT, Role.LAWYER):
        client.post("/logout")
        login(client, w.users[role])
        assert client.get(f"/documents/jobs/{job_id}/zip").status_code == 403
        assert client.post(f"/documents/cases/{w.case_id}/packet", data={"route": "lawsuit"}).status_code == 403


def test_a_packet_that_cannot_be_filed_or_a_bad_route_is_refused_before_a_job(no_csrf: Flask,
                                                                             client: FlaskClient) -> None:
    w = _world(no_csrf, "a", demand=False)
    login_en(client, w.users[Role.MANAGER])
    for data in ({"route": "mediation"}, {"route": "lawsuit", "as_of": "yesterday"},
                 {"route": "lawsuit", "as_of": "2026-11-22"}):
        response = client.post(f"/documents/cases/{w.case_id}/packet", data=data)
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{w.case_id}")
    page = client.get(f"/cases/{w.case_id}").get_data(as_text=True)
    assert "Choose a filing route." in page and "is not a date like" in page
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.scalar(select(BackgroundJob.id)) is None


def test_one_letter_and_a_statement_render_inline_and_are_audited(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    login_en(client, w.users[Role.ACCOUNTANT])
    letter = client.get(f"/documents/actions/{w.action_ids[0]}/letter")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert "attachment" in letter.headers["Content-Disposition"]
    assert "催告" in _pdf_text(letter.data)
    prepared = client.get(f"/documents/actions/{w.action_ids[2]}/letter")
    assert prepared.status_code == 302  # not approved: not printed
    statement = client.get(f"/documents/cases/{w.case_id}/statement?as_of=2026-11-22")
    assert statement.status_code == 200 and statement.mimetype == "application/pdf"
    assert "3-2-1101" in _pdf_text(statement.data)
    audits = _audits(no_csrf, "documents.downloaded")
    assert [(a.entity, a.entity_id, a.detail["kind"]) for a in audits] == [
        ("escalation_action", w.action_ids[0], "demand_letter"),
        ("collection_case", w.case_id, "statement_of_account")]
    client.post("/logout")
    login(client, w.users[Role.LAWYER])
    assert client.get(f"/documents/cases/{w.case_id}/statement").status_code == 403
    assert client.get(f"/documents/actions/{w.action_ids[0]}/letter").status_code == 403
    client.post("/logout")
    login(client, w.users[Role.AUDITOR])
    assert client.get(f"/documents/cases/{w.case_id}/statement").status_code == 403
    assert client.post(f"/documents/runs/{w.run_id}/letters").status_code == 403


def test_another_companys_batches_cases_and_files_are_not_found(no_csrf: Flask, client: FlaskClient) -> None:
    mine = _world(no_csrf, "a")
    login(client, mine.users[Role.MANAGER])
    job_id = _job_of(client.post(f"/documents/runs/{mine.run_id}/letters"))
    client.post("/logout")
    with no_csrf.extensions["arrears"].transaction() as session:
        from tests.factories import make_company

        other = make_company(session)
        make_user(session, other, Role.MANAGER, username="b-manager")
    login(client, "b-manager")
    assert client.get(f"/documents/jobs/{job_id}/zip").status_code == 404
    assert client.post(f"/documents/runs/{mine.run_id}/letters").status_code == 404
    assert client.post(f"/documents/cases/{mine.case_id}/packet", data={"route": "lawsuit"}).status_code == 404
    assert client.get(f"/documents/actions/{mine.action_ids[0]}/letter").status_code == 404
    assert client.get(f"/documents/cases/{mine.case_id}/statement").status_code == 404
