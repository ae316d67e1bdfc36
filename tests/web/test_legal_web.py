"""Legal cases from the web (issue 5): opening a legal case (what stands against each charge, the
proposed route), access per role, the lawyers' workspace across companies (scope by assignment,
404 for anything else), a lifecycle step through its form, bulk filing, and audited downloads."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from arrears.persistence.enums import LegalState, Role
from arrears.persistence.legal import LegalCase, LegalEvent
from arrears.persistence.models import AuditEntry, Company, Interruption
from arrears.services.legal import cases as legal_cases
from arrears.services.users import create_user
from tests.factories import ACTOR, USCCS, make_user
from tests.web.helpers import PASSWORD, login
from tests.web.test_cases_web import login_en

THIRD_USCC = "91320000MA1WXY123U"  # a valid check character
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass
class World:
    company_id: int
    case_id: int  # the collection case (legal-ready: demand delivered, deadline passed)
    users: dict[Role, str]
    user_ids: dict[Role, int]


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _world(app: Flask, prefix: str, *, demand: bool = True, uscc: str = USCCS[0]) -> World:
    from tests.documents.packet_world import build_world

    with app.extensions["arrears"].transaction() as session:
        w = build_world(session, demand=demand, uscc=uscc)
        users = {role: make_user(session, w.company, role, username=f"{prefix}-{role.value}") for role in Role}
        return World(w.company.id, w.case.id, {r: u.username for r, u in users.items()},
                     {r: u.id for r, u in users.items()})


def _open(app: Flask, world: World, lawyer_id: int | None) -> int:
    with app.extensions["arrears"].transaction() as session:
        return legal_cases.open_legal_case(session, ACTOR, world.company_id, world.case_id, today=_today(),
                                           lawyer_user_id=lawyer_id).id


def _count(app: Flask, model: type, *where: object) -> int:
    with app.extensions["arrears"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _audits(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["arrears"].transaction() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_a_manager_opens_a_legal_case_from_the_collection_case(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    login_en(client, w.users[Role.MANAGER])
    case_page = client.get(f"/cases/{w.case_id}").get_data(as_text=True)
    assert f'href="/legal/open/{w.case_id}"' in case_page and "Open legal case" in case_page
    page = client.get(f"/legal/open/{w.case_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "What stands against" in text or "stands against" in text
    assert "Proposed route" in text and "Court fee (CNY)" in text
    assert "<td>2026Q1</td>" in text and "Jan 15, 2026" in text  # a charge row: period and due date
    assert f'value="{w.user_ids[Role.LAWYER]}"' in text  # the company's lawyer can be chosen
    assert f'value="{w.user_ids[Role.ACCOUNTANT]}"' not in text  # only LAWYER members
    response = client.post(f"/legal/open/{w.case_id}", data={
        "lawyer_user_id": str(w.user_ids[Role.LAWYER]), "claim_late_fees": "1", "until_actual_payment": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        legal = session.scalars(select(LegalCase)).one()
        assert legal.lawyer_user_id == w.user_ids[Role.LAWYER] and legal.state == LegalState.DRAFTED
        assert legal.proposed_route is not None and legal.claimed_charge_ids
        legal_id = legal.id
    assert response.headers["Location"].endswith(f"/legal/{legal_id}")
    shown = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert "Legal case opened." in shown and "drafted" in shown and "Record the filing" in shown
    assert f'href="/legal/{legal_id}"' in client.get(f"/cases/{w.case_id}").get_data(as_text=True)
    # a second legal case for the same collection case is refused with a readable message
    again = client.post(f"/legal/open/{w.case_id}", data={})
    assert again.status_code == 400 and "already has an open legal case" in again.get_data(as_text=True)
    assert _count(no_csrf, LegalCase) == 1


def test_opening_without_an_expired_delivered_demand_is_refused(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a", demand=False)
    login_en(client, w.users[Role.MANAGER])
    assert 'href="/legal/open/' not in client.get(f"/cases/{w.case_id}").get_data(as_text=True)
    page = client.get(f"/legal/open/{w.case_id}").get_data(as_text=True)
    assert "no delivered demand" in page  # the refusal, shown before the form
    response = client.post(f"/legal/open/{w.case_id}", data={"claim_late_fees": "1"})
    assert response.status_code == 400
    assert "no delivered demand" in response.get_data(as_text=True)
    assert _count(no_csrf, LegalCase) == 0


def test_access_per_role(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    other = _world(no_csrf, "b", uscc=USCCS[1])
    with no_csrf.extensions["arrears"].transaction() as session:
        company = session.get(Company, w.company_id)
        assert company is not None
        second_lawyer = make_user(session, company, Role.LAWYER, username="a-lawyer2").username
    legal_id = _open(no_csrf, w, w.user_ids[Role.LAWYER])
    expected = {  # (list, case page, record a step, open form)
        Role.ADMIN: (200, 200, 400, 200), Role.MANAGER: (200, 200, 400, 200),
        Role.ACCOUNTANT: (403, 403, 403, 403), Role.AUDITOR: (200, 200, 403, 403),
        Role.LAWYER: (403, 200, 400, 403),
    }
    for role, (listing, page, step, open_page) in expected.items():
        login_en(client, w.users[role])
        assert client.get("/legal/").status_code == listing, role
        assert client.get(f"/legal/{legal_id}").status_code == page, role
        # a filing without a court: writers reach the service and get a readable 400
        assert client.post(f"/legal/{legal_id}/steps/filing", data={"filed_on": "2026-11-20"}).status_code == step, role
        assert client.get(f"/legal/open/{w.case_id}").status_code == open_page, role
        assert client.get("/legal/mine").status_code == (200 if role == Role.LAWYER else 403), role
        client.post("/logout")
    auditor_page = None
    login_en(client, w.users[Role.AUDITOR])
    auditor_page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert "Record the filing" not in auditor_page and "Prepare the packet" not in auditor_page
    client.post("/logout")
    # a lawyer of the company not assigned to the case, and another company's manager and lawyer: 404
    for username in (second_lawyer, other.users[Role.MANAGER], other.users[Role.LAWYER]):
        login(client, username)
        assert client.get(f"/legal/{legal_id}").status_code == 404, username
        assert client.post(f"/legal/{legal_id}/steps/withdraw",
                           data={"on": "2026-11-20", "reason": "x"}).status_code == 404, username
        client.post("/logout")
    login(client, other.users[Role.MANAGER])
    assert f"/legal/{legal_id}\"" not in client.get("/legal/").get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.get(LegalCase, legal_id).state == LegalState.DRAFTED  # type: ignore[union-attr]


def test_a_lawyer_sees_exactly_their_cases_across_two_companies(no_csrf: Flask, client: FlaskClient) -> None:
    a = _world(no_csrf, "a")
    b = _world(no_csrf, "b", uscc=USCCS[1])
    with no_csrf.extensions["arrears"].transaction() as session:
        lawyer = create_user(session, ACTOR, username="counsel", password=PASSWORD, display_name="律师 王",
                             memberships={a.company_id: Role.LAWYER, b.company_id: Role.LAWYER})
        lawyer_id = lawyer.id
    mine_a = _open(no_csrf, a, lawyer_id)
    mine_b = _open(no_csrf, b, lawyer_id)
    # a third company's case assigned to its own lawyer; the counsel is no member there
    c = _world(no_csrf, "c", uscc=THIRD_USCC)
    theirs = _open(no_csrf, c, c.user_ids[Role.LAWYER])
    login_en(client, "counsel")
    page = client.get("/legal/mine")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'href="/legal/{mine_a}"' in text and f'href="/legal/{mine_b}"' in text
    assert f'href="/legal/{theirs}"' not in text
    assert client.get("/legal/").status_code == 403  # the company list is for managers
    assert client.get(f"/legal/{theirs}").status_code == 404
    # opening the other company's case works (scope by assignment) and makes it the current company
    with client.session_transaction() as browser:
        current = browser["company_id"]
    other = b if current == a.company_id else a
    other_case = mine_b if other is b else mine_a
    assert client.get(f"/legal/{other_case}").status_code == 200
    with client.session_transaction() as browser:
        assert browser["company_id"] == other.company_id
    # acting for the first company again, the lawyer records a step on the other company's case
    client.post("/company", data={"company_id": str(current)})
    with client.session_transaction() as browser:
        assert browser["company_id"] == current
    step = client.post(f"/legal/{other_case}/steps/route", data={"route": "ordinary", "reason": "complex case"})
    assert step.status_code == 302, step.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.get(LegalCase, other_case).route is not None  # type: ignore[union-attr]
    # reassigned away: the case disappears from the workspace and answers 404
    with no_csrf.extensions["arrears"].transaction() as session:
        legal_cases.assign_lawyer(session, ACTOR, a.company_id, mine_a, lawyer_user_id=a.user_ids[Role.LAWYER],
                                  today=_today())
    assert client.get(f"/legal/{mine_a}").status_code == 404
    assert f'href="/legal/{mine_a}"' not in client.get("/legal/mine").get_data(as_text=True)


def test_a_lawyer_records_the_filing_with_the_receipt_and_the_download_is_audited(no_csrf: Flask,
                                                                                   client: FlaskClient) -> None:
    import io

    w = _world(no_csrf, "a")
    legal_id = _open(no_csrf, w, w.user_ids[Role.LAWYER])
    login_en(client, w.users[Role.LAWYER])
    bad = client.post(f"/legal/{legal_id}/steps/filing", data={
        "court": "南京市鼓楼区人民法院", "case_number": "(2026)苏0106民初1234号", "filed_on": "20/11/2026"})
    assert bad.status_code == 400 and "is not a date like" in bad.get_data(as_text=True)
    assert client.post(f"/legal/{legal_id}/steps/route", data={"route": "teleport"}).status_code == 400
    assert client.post(f"/legal/{legal_id}/steps/route", data={"route": "simplified",
                                                               "reason": "owner may dispute"}).status_code == 302
    filed_on = _today().isoformat()
    ok = client.post(f"/legal/{legal_id}/steps/filing", data={
        "court": "南京市鼓楼区人民法院", "case_number": "(2026)苏0106民初1234号", "filed_on": filed_on,
        "file": (io.BytesIO(PDF_BYTES), "receipt.pdf", "application/pdf")}, content_type="multipart/form-data")
    assert ok.status_code == 302, ok.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        legal = session.get(LegalCase, legal_id)
        assert legal is not None and legal.state == LegalState.FILED and legal.case_number == "(2026)苏0106民初1234号"
        event = session.scalars(select(LegalEvent).where(LegalEvent.legal_case_id == legal_id,
                                                         LegalEvent.file_id.is_not(None))).one()
        event_id = event.id
    assert _count(no_csrf, Interruption) >= 2  # the demand's and the filing's (L5)
    page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    link = f"/legal/{legal_id}/events/{event_id}/file"
    assert link in page and "(2026)苏0106民初1234号" in page
    download = client.get(link)
    assert download.status_code == 200 and download.data == PDF_BYTES
    [entry] = _audits(no_csrf, "legal.download")
    assert entry.entity == "legal_case" and entry.entity_id == legal_id and entry.actor == w.users[Role.LAWYER]
    # another company's user cannot fetch the file
    client.post("/logout")
    other = _world(no_csrf, "b", uscc=USCCS[1])
    login(client, other.users[Role.MANAGER])
    assert client.get(link).status_code == 404
    assert len(_audits(no_csrf, "legal.download")) == 1


def test_the_title_and_withdrawal_through_their_forms(no_csrf: Flask, client: FlaskClient) -> None:
    from arrears.services.legal import events

    w = _world(no_csrf, "a")
    legal_id = _open(no_csrf, w, w.user_ids[Role.LAWYER])
    today = _today()
    with no_csrf.extensions["arrears"].transaction() as session:
        events.set_route(session, ACTOR, w.company_id, legal_id, route="simplified", reason="simple", today=today)
        events.record_filing(session, ACTOR, w.company_id, legal_id, court="南京市鼓楼区人民法院",
                             case_number="(2026)苏0106民初2号", filed_on=today, today=today)
    login_en(client, w.users[Role.LAWYER])
    form = {"kind": "judgement", "effective_on": today.isoformat(), "principal": "2,062.80", "late_fee": "100",
            "costs": "50.00", "performance_deadline": (today + dt.timedelta(days=15)).isoformat()}
    bad = client.post(f"/legal/{legal_id}/steps/title", data={**form, "principal": "12.345"})
    assert bad.status_code == 400 and "12.345" in bad.get_data(as_text=True)
    assert client.post(f"/legal/{legal_id}/steps/title", data={**form, "kind": "verdict"}).status_code == 400
    assert client.post(f"/legal/{legal_id}/steps/title", data=form).status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        legal = session.get(LegalCase, legal_id)
        assert legal is not None and legal.state == LegalState.TITLE_EFFECTIVE
        assert (legal.awarded_principal, legal.awarded_costs) == (Decimal("2062.80"), Decimal("50.00"))
    page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert "2,212.80" in page and "last day of the performance period" in page
    assert client.post(f"/legal/{legal_id}/steps/nonsense", data={}).status_code == 404
    assert client.post(f"/legal/{legal_id}/steps/withdraw", data={"on": today.isoformat()}).status_code == 400
    assert client.post(f"/legal/{legal_id}/steps/withdraw",
                       data={"on": today.isoformat(), "reason": "owner paid the company directly"}).status_code == 302
    page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert "withdrawn" in page and "Record a step" not in page


def test_bulk_filing_confirms_the_count_then_opens_and_assigns(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    with no_csrf.extensions["arrears"].transaction() as session:
        from arrears.persistence.models import CollectionCase

        community_id = session.get(CollectionCase, w.case_id).community_id  # type: ignore[union-attr]
    login_en(client, w.users[Role.MANAGER])
    page = client.get(f"/legal/bulk?community={community_id}").get_data(as_text=True)
    assert f'name="case_id" value="{w.case_id}"' in page
    no_lawyer = client.post("/legal/bulk", data={"community": community_id, "case_id": [str(w.case_id)]})
    assert no_lawyer.status_code == 400 and "Choose a lawyer" in no_lawyer.get_data(as_text=True)
    confirm = client.post("/legal/bulk", data={"community": community_id, "case_id": [str(w.case_id)],
                                               "lawyer_user_id": str(w.user_ids[Role.LAWYER])})
    assert confirm.status_code == 200 and "1 legal case will be opened" in confirm.get_data(as_text=True)
    assert _count(no_csrf, LegalCase) == 0
    done = client.post("/legal/bulk", data={"community": community_id, "case_id": [str(w.case_id)], "confirm": "1",
                                            "lawyer_user_id": str(w.user_ids[Role.LAWYER])})
    assert done.status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        legal = session.scalars(select(LegalCase)).one()
        assert legal.lawyer_user_id == w.user_ids[Role.LAWYER]
    listing = client.get("/legal/").get_data(as_text=True)
    assert "1 legal cases opened." in listing and f'href="/legal/{legal.id}"' in listing
    assert "Amount claimed (CNY)" in listing
    # the case is no longer offered for bulk filing; another company's case id is not found
    assert f'name="case_id" value="{w.case_id}"' not in client.get(
        f"/legal/bulk?community={community_id}").get_data(as_text=True)
    other = _world(no_csrf, "b", uscc=USCCS[1])
    assert client.post("/legal/bulk", data={"community": community_id, "case_id": [str(other.case_id)],
                                            "lawyer_user_id": str(w.user_ids[Role.LAWYER])}).status_code == 404


def test_legal_forms_require_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    w = _world(app, "a")
    legal_id = _open(app, w, w.user_ids[Role.LAWYER])
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, w.users[Role.MANAGER])
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/legal/{legal_id}/steps/withdraw", data={"on": "2026-11-20", "reason": "x"}).status_code == 400
    assert client.post(f"/legal/open/{w.case_id}", data={}).status_code == 400


def _to_title(app: Flask, world: World, legal_id: int) -> None:
    """Route confirmed, filed and judged (the services the forms call), the performance period over:
    opened 20 days ago, filed 18, title effective 15 days ago, performance deadline 5 days ago."""
    from arrears.services.legal import events

    today = _today()
    with app.extensions["arrears"].transaction() as session:
        legal = session.get(LegalCase, legal_id)
        assert legal is not None
        legal.opened_on = today - dt.timedelta(days=20)
        events.set_route(session, ACTOR, world.company_id, legal_id, route="simplified",
                         reason="the court finds it simple", today=today)
        events.record_filing(session, ACTOR, world.company_id, legal_id, court="南京市鼓楼区人民法院",
                             case_number="(2026)苏0106民初1号", filed_on=today - dt.timedelta(days=18), today=today)
        events.record_title(session, ACTOR, world.company_id, legal_id, kind="judgement",
                            effective_on=today - dt.timedelta(days=15), principal="2062.80", late_fee="100.00",
                            costs="50.00", performance_deadline=today - dt.timedelta(days=5), today=today)


def test_the_title_form_and_the_enforcement_application_download_is_audited(no_csrf: Flask,
                                                                           client: FlaskClient) -> None:
    import io

    from pypdf import PdfReader

    w = _world(no_csrf, "a")
    legal_id = _open(no_csrf, w, w.user_ids[Role.LAWYER])
    _to_title(no_csrf, w, legal_id)
    login_en(client, w.users[Role.MANAGER])
    page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert "title effective" in page and "2,212.80" in page  # awarded total in the figures
    assert "last day to apply for enforcement" in page  # the deadline list
    assert "Record the enforcement application" in page
    assert "/documents/enforcement_application" in page and "/documents/deletion_request" not in page
    download = client.get(f"/legal/{legal_id}/documents/enforcement_application")
    if download.status_code != 200:
        flashed = re.findall(r"flash error[^>]*>([^<]*)<", client.get(f"/legal/{legal_id}").get_data(as_text=True))
        raise AssertionError(flashed)
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(download.data)).pages).replace(" ", "")
    assert "强制执行申请书" in text
    [entry] = _audits(no_csrf, "legal.download")
    assert entry.entity_id == legal_id and entry.detail["what"] == "enforcement_application"
    assert client.get(f"/legal/{legal_id}/documents/nonsense").status_code == 404
    today = _today().isoformat()
    assert client.post(f"/legal/{legal_id}/steps/enforcement", data={
        "court": "南京市鼓楼区人民法院", "case_number": "(2026)苏0106执100号", "applied_on": today}).status_code == 302
    page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert "Not a candidate for the dishonest-debtor list" in page and "Apply for the dishonest-debtor list" not in page
    assert client.post(f"/legal/{legal_id}/steps/dishonest_ground", data={"text": " "}).status_code == 400
    assert client.post(f"/legal/{legal_id}/steps/dishonest_ground",
                       data={"text": "owns the unit and has a salary"}).status_code == 302
    page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert "is a candidate for the dishonest-debtor list" in page and "Apply for the dishonest-debtor list" in page
    assert "/documents/dishonest_list_application" in page
    client.post("/logout")
    login(client, w.users[Role.AUDITOR])  # auditors read, but do not download
    assert client.get(f"/legal/{legal_id}/documents/enforcement_application").status_code == 403
    assert len(_audits(no_csrf, "legal.download")) == 1


def test_the_filing_packet_renders_in_a_job_and_downloads_are_audited(no_csrf: Flask, client: FlaskClient) -> None:
    import threading

    from arrears.persistence.models import BackgroundJob
    from arrears.services.documents.batch import read_index

    w = _world(no_csrf, "a")
    legal_id = _open(no_csrf, w, w.user_ids[Role.LAWYER])
    login_en(client, w.users[Role.LAWYER])
    response = client.post(f"/legal/{legal_id}/packet")
    assert response.status_code == 302 and f"/legal/{legal_id}" in response.headers["Location"]
    with no_csrf.extensions["arrears"].transaction() as session:
        job_id = session.scalars(select(BackgroundJob.id)).one()
    for thread in threading.enumerate():
        if thread.name == f"job-{job_id}":
            thread.join(timeout=300)
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["status"] == "done" and status["result"]["files"] >= 5, status
    page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert f"/legal/jobs/{job_id}/zip" in page and f"/legal/jobs/{job_id}/pdf" in page
    zipped = client.get(f"/legal/jobs/{job_id}/zip")
    assert zipped.status_code == 200 and {r["status"] for r in read_index(zipped.data)} == {"ok"}
    assert client.get(f"/legal/jobs/{job_id}/pdf").mimetype == "application/pdf"
    assert [e.detail["what"] for e in _audits(no_csrf, "legal.download")] == ["packet_zip", "packet_pdf"]
    # not through the documents' job route (which knows no assignment), nor for an accountant
    assert client.get(f"/documents/jobs/{job_id}/zip").status_code == 403
    client.post("/logout")
    login(client, w.users[Role.ACCOUNTANT])
    assert client.get(f"/legal/jobs/{job_id}/zip").status_code == 403
    assert len(_audits(no_csrf, "legal.download")) == 2


def test_a_lawyer_downloads_the_packets_of_their_cases_as_one_zip(no_csrf: Flask, client: FlaskClient) -> None:
    import threading

    from arrears.persistence.models import BackgroundJob
    from arrears.services.documents.batch import read_index

    w = _world(no_csrf, "a")
    legal_id = _open(no_csrf, w, w.user_ids[Role.LAWYER])
    login_en(client, w.users[Role.LAWYER])
    page = client.get("/legal/mine").get_data(as_text=True)
    assert f'name="legal_case_id" value="{legal_id}"' in page and "Deadlines" in page
    assert client.post("/legal/mine/packets", data={}).status_code == 302  # nothing selected: refused
    response = client.post("/legal/mine/packets", data={"legal_case_id": [str(legal_id)]})
    assert response.status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        job = session.scalars(select(BackgroundJob)).one()
        job_id = job.id
    for thread in threading.enumerate():
        if thread.name == f"job-{job_id}":
            thread.join(timeout=300)
    assert f"/legal/jobs/{job_id}/zip" in client.get("/legal/mine").get_data(as_text=True)
    zipped = client.get(f"/legal/jobs/{job_id}/zip")
    assert zipped.status_code == 200
    rows = read_index(zipped.data)
    assert len(rows) >= 5 and {r["status"] for r in rows} == {"ok"}
    [entry] = _audits(no_csrf, "legal.download")
    assert entry.entity == "background_job" and entry.entity_id == job_id
    client.post("/logout")
    with no_csrf.extensions["arrears"].transaction() as session:
        company = session.get(Company, w.company_id)
        assert company is not None
        make_user(session, company, Role.LAWYER, username="a-lawyer2")
    login(client, "a-lawyer2")
    assert client.get(f"/legal/jobs/{job_id}/zip").status_code == 404


def test_a_lawyer_role_elsewhere_opens_only_the_lawyer_views(no_csrf: Flask, client: FlaskClient) -> None:
    """access.allow(any_membership=True): a LAWYER membership in another company lets the user into
    the lawyer views (scoped by assignment); every other view still checks the current company's role."""
    a = _world(no_csrf, "a")
    b = _world(no_csrf, "b", uscc=USCCS[1])
    with no_csrf.extensions["arrears"].transaction() as session:
        user = create_user(session, ACTOR, username="dual", password=PASSWORD, display_name="dual",
                           memberships={a.company_id: Role.ACCOUNTANT, b.company_id: Role.LAWYER})
        user_id = user.id
    in_b = _open(no_csrf, b, user_id)
    in_a = _open(no_csrf, a, a.user_ids[Role.LAWYER])
    login_en(client, "dual")
    client.post("/company", data={"company_id": str(a.company_id)})  # act as the accountant of A
    assert client.get("/legal/").status_code == 403
    assert client.get(f"/legal/open/{a.case_id}").status_code == 403
    assert client.get(f"/legal/{in_a}").status_code == 404  # A's case: an accountant has no legal pages
    mine = client.get("/legal/mine").get_data(as_text=True)
    assert f'href="/legal/{in_b}"' in mine and f'href="/legal/{in_a}"' not in mine
    assert "My legal cases" in client.get("/cases/").get_data(as_text=True)  # the nav link, on A's pages
    assert client.get(f"/legal/{in_b}").status_code == 200  # B's case, assigned: B becomes current
    with client.session_transaction() as browser:
        assert browser["company_id"] == b.company_id
