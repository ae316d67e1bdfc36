"""Late-fee basis on the open form (L7) and the editable .docx of a legal case's main filing
document (issue 5 §9): managers and the assigned lawyer download it, audited like the PDFs."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from arrears.persistence.enums import Role
from arrears.persistence.legal import LegalCase
from tests.web.helpers import login
from tests.web.test_cases_web import login_en
from tests.web.test_legal_web import _audits, _open, _world

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_the_open_form_chooses_the_late_fee_basis(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    login_en(client, w.users[Role.MANAGER])
    page = client.get(f"/legal/open/{w.case_id}").get_data(as_text=True)
    assert 'name="late_fee_basis"' in page and 'value="lpr_x1_3"' in page
    contract = re.search(r"Late fee claimed \(CNY\)</dt><dd>([^<]*)<", page)
    lpr_page = client.get(f"/legal/open/{w.case_id}?claim_late_fees=1&late_fee_basis=lpr_x1_3").get_data(as_text=True)
    lpr = re.search(r"Late fee claimed \(CNY\)</dt><dd>([^<]*)<", lpr_page)
    assert contract and lpr and contract.group(1) != lpr.group(1)
    assert re.search(r'value="lpr_x1_3" selected', lpr_page)
    response = client.post(f"/legal/open/{w.case_id}", data={
        "claim_late_fees": "1", "until_actual_payment": "1", "late_fee_basis": "lpr_x1_3"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with no_csrf.extensions["arrears"].transaction() as session:
        legal = session.scalars(select(LegalCase)).one()
        assert legal.late_fee_basis == "lpr_x1_3"
        legal_id = legal.id
    assert "one-year LPR × 1.3" in client.get(f"/legal/{legal_id}").get_data(as_text=True)


def test_the_assigned_lawyer_and_managers_download_the_editable_copy(no_csrf: Flask,
                                                                          client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    legal_id = _open(no_csrf, w, w.user_ids[Role.LAWYER])
    login_en(client, w.users[Role.LAWYER])
    page = client.get(f"/legal/{legal_id}").get_data(as_text=True)
    assert f"/legal/{legal_id}/editable.docx" in page and "editable (.docx)" in page
    assert "Payment-order application, editable (.docx)" in page or "Complaint, editable (.docx)" in page
    response = client.get(f"/legal/{legal_id}/editable.docx")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == DOCX and response.headers["Content-Disposition"].startswith("attachment")
    text = "".join(c.text for t in Document(io.BytesIO(response.data)).tables for r in t.rows for c in r.cells)
    assert "李明" in text and "赵丽" in text
    [entry] = _audits(no_csrf, "legal.download")
    # the main document of the proposed route (here a payment order: fixed amount, no dispute)
    assert entry.entity_id == legal_id
    assert entry.detail["what"] in ("complaint_docx", "payment_order_application_docx")
    assert entry.detail["filename"].endswith(".docx") and entry.detail["sha256"]
    client.post("/logout")
    login_en(client, w.users[Role.MANAGER])
    assert client.get(f"/legal/{legal_id}/editable.docx").status_code == 200
    client.post("/logout")
    login(client, w.users[Role.AUDITOR])  # auditors read, but do not download
    assert client.get(f"/legal/{legal_id}/editable.docx").status_code == 403
    client.post("/logout")
    login(client, w.users[Role.ACCOUNTANT])
    assert client.get(f"/legal/{legal_id}/editable.docx").status_code == 403
    assert len(_audits(no_csrf, "legal.download")) == 2


def test_a_lawyer_not_assigned_gets_404(no_csrf: Flask, client: FlaskClient) -> None:
    w = _world(no_csrf, "a")
    legal_id = _open(no_csrf, w, None)
    login_en(client, w.users[Role.LAWYER])
    assert client.get(f"/legal/{legal_id}/editable.docx").status_code == 404
    assert _audits(no_csrf, "legal.download") == []
