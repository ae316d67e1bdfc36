"""Letters and deliveries: making a letter batch and downloading its PDF and CSV, entering a
postal result with a scan (L5 proof), resolving 'unknown' messages, and the stop list."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from arrears.persistence.enums import MessageStatus, Role
from arrears.persistence.models import ContactStop, Delivery, LetterBatch, OutboundMessage, Owner, StoredFile
from tests.web.helpers import login, make_tenant
from tests.web.test_cases_web import _today, build_case, build_run, login_en

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _message(app: Flask, message_id: int) -> OutboundMessage:
    with app.extensions["arrears"].transaction() as session:
        message = session.get(OutboundMessage, message_id)
        assert message is not None
        session.expunge(message)
        return message


def test_make_a_letter_batch_and_download_pdf_and_csv(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=1, messages=(MessageStatus.QUEUED,))
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    assert "1 letters are waiting to be printed." in client.get("/deliveries/").get_data(as_text=True)
    response = client.post("/deliveries/letters/batch")
    assert response.status_code == 302, response.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        batch = session.scalars(select(LetterBatch)).one()
        batch_id = batch.id
    assert response.headers["Location"].endswith(f"/deliveries/letters/{batch_id}")
    assert _message(no_csrf, built.message_ids[0]).letter_batch_id == batch_id
    page = client.get(f"/deliveries/letters/{batch_id}").get_data(as_text=True)
    assert f"#{built.message_ids[0]}" in page and "Enter result" in page
    pdf = client.get(f"/deliveries/letters/{batch_id}/letters.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    csv = client.get(f"/deliveries/letters/{batch_id}/mailing-list.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"] and ".csv" in csv.headers["Content-Disposition"]
    # nothing left to print: a second batch is not made
    again = client.post("/deliveries/letters/batch")
    assert again.status_code == 302 and again.headers["Location"].endswith("/deliveries/")
    with no_csrf.extensions["arrears"].transaction() as session:
        assert len(session.scalars(select(LetterBatch)).all()) == 1


def test_batch_files_are_readable_in_the_company_only(no_csrf: Flask, client: FlaskClient) -> None:
    mine, theirs = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    build_run(no_csrf, theirs, build_case(no_csrf, theirs), actions=1, messages=(MessageStatus.QUEUED,))
    login(client, theirs.usernames[Role.ACCOUNTANT])
    assert client.post("/deliveries/letters/batch").status_code == 302
    client.post("/logout")
    with no_csrf.extensions["arrears"].transaction() as session:
        batch = session.scalars(select(LetterBatch)).one()
        batch_id, pdf_id = batch.id, batch.pdf_file_id
    login(client, theirs.usernames[Role.AUDITOR])
    assert client.get(f"/deliveries/letters/{batch_id}").status_code == 200
    assert client.get(f"/deliveries/letters/{batch_id}/letters.pdf").status_code == 200  # reading evidence
    assert client.post("/deliveries/letters/batch").status_code == 403
    client.post("/logout")
    login(client, mine.usernames[Role.MANAGER])
    assert client.get(f"/deliveries/letters/{batch_id}").status_code == 404
    assert client.get(f"/deliveries/letters/{batch_id}/letters.pdf").status_code == 404
    assert client.get(f"/deliveries/letters/{batch_id}/mailing-list.csv").status_code == 404
    assert client.get(f"/deliveries/files/{pdf_id}").status_code == 404


def test_delivery_result_with_scan_and_bad_input(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=1, messages=(MessageStatus.SENT,))
    message_id = built.message_ids[0]
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    index = client.get("/deliveries/").get_data(as_text=True)
    assert f"/deliveries/messages/{message_id}/delivery" in index  # awaiting a result
    assert client.get(f"/deliveries/messages/{message_id}/delivery").status_code == 200
    url = f"/deliveries/messages/{message_id}/delivery"
    today = _today().isoformat()
    base = {"result": "signed_by_owner", "occurred_on": today, "tracking_number": "EA123456789CN",
            "signed_by": "张三"}
    cases = [
        ({**base, "result": "posted"}, "Choose a result from the list."),
        ({**base, "occurred_on": (_today() + dt.timedelta(days=2)).isoformat()}, "cannot be in the future"),
        ({**base, "occurred_on": "yesterday"}, "is not a date"),
    ]
    for data, error in cases:
        response = client.post(url, data=data)
        assert response.status_code == 400 and error in response.get_data(as_text=True), error
    wrong_file = client.post(url, data={**base, "proof": (io.BytesIO(b"hello"), "receipt.txt")},
                             content_type="multipart/form-data")
    assert wrong_file.status_code == 400 and "PDF, JPEG or PNG" in wrong_file.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.scalars(select(Delivery)).all() == []
        assert session.scalars(select(StoredFile)).all() == []
    ok = client.post(url, data={**base, "proof": (io.BytesIO(PNG), "receipt.png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302, ok.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.result.value, delivery.tracking_number, delivery.signed_by) == (
            "signed_by_owner", "EA123456789CN", "张三")
        proof_id = delivery.proof_file_id
    assert proof_id is not None
    scan = client.get(f"/deliveries/files/{proof_id}")
    assert scan.status_code == 200 and scan.mimetype == "image/png" and scan.data == PNG
    assert scan.headers["Content-Disposition"].startswith("attachment")
    case_page = client.get(f"/cases/{built.case_id}").get_data(as_text=True)
    assert "signed by the owner" in case_page and "EA123456789CN" in case_page


def test_delivery_entry_is_for_writers_in_the_same_company(no_csrf: Flask, client: FlaskClient) -> None:
    mine, theirs = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    built = build_run(no_csrf, theirs, build_case(no_csrf, theirs), actions=1, messages=(MessageStatus.SENT,))
    url = f"/deliveries/messages/{built.message_ids[0]}/delivery"
    data = {"result": "signed_by_owner", "occurred_on": _today().isoformat()}
    login(client, theirs.usernames[Role.LAWYER])
    assert client.post(url, data=data).status_code == 403
    client.post("/logout")
    login(client, mine.usernames[Role.ACCOUNTANT])
    assert client.get(url).status_code == 404
    assert client.post(url, data=data).status_code == 404
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.scalars(select(Delivery)).all() == []


def test_unknown_messages_are_resolved_by_a_person(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    built = build_run(no_csrf, tenant, build_case(no_csrf, tenant), actions=1,
                      messages=(MessageStatus.UNKNOWN, MessageStatus.UNKNOWN))
    first, second = built.message_ids
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    page = client.get("/deliveries/").get_data(as_text=True)
    assert f"/deliveries/messages/{first}/resolve" in page and f"/deliveries/messages/{second}/resolve" in page
    missing = client.post(f"/deliveries/messages/{first}/resolve", data={"note": "checked"})
    assert missing.status_code == 400 and "Say whether the message was sent." in missing.get_data(as_text=True)
    no_note = client.post(f"/deliveries/messages/{first}/resolve", data={"was_sent": "sent", "note": ""})
    assert no_note.status_code == 400
    assert _message(no_csrf, first).status == MessageStatus.UNKNOWN
    ok = client.post(f"/deliveries/messages/{first}/resolve",
                     data={"was_sent": "sent", "note": "post office confirms posting"})
    assert ok.status_code == 302
    resolved = _message(no_csrf, first)
    assert resolved.status == MessageStatus.SENT and resolved.resolution == "post office confirms posting"
    assert _message(no_csrf, second).status == MessageStatus.UNKNOWN  # the other one is untouched
    assert client.post(f"/deliveries/messages/{first}/resolve",
                       data={"was_sent": "sent", "note": "again"}).status_code == 400


def test_stop_list_is_managed_by_managers(no_csrf: Flask, client: FlaskClient) -> None:
    mine, theirs = make_tenant(no_csrf, "a"), make_tenant(no_csrf, "b")
    login_en(client, mine.usernames[Role.ACCOUNTANT])
    assert client.get("/deliveries/stops").status_code == 200
    assert client.post("/deliveries/stops", data={"owner_id": mine.owner_id, "reason": "x"}).status_code == 403
    client.post("/logout")
    login_en(client, mine.usernames[Role.MANAGER])
    assert client.post("/deliveries/stops", data={"owner_id": "abc", "reason": "x"}).status_code == 400
    other = client.post("/deliveries/stops", data={"owner_id": theirs.owner_id, "reason": "asked"})
    assert other.status_code == 400 and "No owner" in other.get_data(as_text=True)
    assert client.post("/deliveries/stops", data={"owner_id": mine.owner_id, "reason": " "}).status_code == 400
    assert client.post("/deliveries/stops", data={"owner_id": mine.owner_id, "channel": "fax",
                                                  "reason": "asked"}).status_code == 400
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.scalars(select(ContactStop)).all() == []
    ok = client.post("/deliveries/stops", data={"owner_id": mine.owner_id, "channel": "sms",
                                                "reason": "owner asked in writing"})
    assert ok.status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        stop = session.scalars(select(ContactStop)).one()
        owner = session.get(Owner, mine.owner_id)
        assert owner is not None
        stop_id, name = stop.id, owner.name
    page = client.get("/deliveries/stops").get_data(as_text=True)
    assert name in page and "owner asked in writing" in page
    client.post("/logout")
    login(client, theirs.usernames[Role.MANAGER])
    assert client.post(f"/deliveries/stops/{stop_id}/lift").status_code == 404
    client.post("/logout")
    login(client, mine.usernames[Role.MANAGER])
    assert client.post(f"/deliveries/stops/{stop_id}/lift").status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.get(ContactStop, stop_id).lifted_on is not None  # type: ignore[union-attr]


def test_delivery_forms_require_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(app, "a")
    build_run(app, tenant, build_case(app, tenant), actions=1, messages=(MessageStatus.QUEUED,))
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, tenant.usernames[Role.MANAGER])
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/deliveries/letters/batch").status_code == 400
    assert client.post("/deliveries/stops", data={"owner_id": tenant.owner_id, "reason": "x"}).status_code == 400
    with app.extensions["arrears"].transaction() as session:
        assert session.scalars(select(LetterBatch)).all() == []
        assert session.scalars(select(ContactStop)).all() == []
