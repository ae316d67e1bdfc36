"""The import pages: sign-in and a writer role, a dry-run preview with located errors, confirm."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from arrears.persistence.enums import Role
from arrears.persistence.models import Unit
from tests.factories import make_company, make_user
from tests.services.test_imports import good_sheets, write_xlsx

PASSWORD = "correct horse battery"


def _setup(app: Flask, role: Role = Role.ACCOUNTANT) -> int:
    app.config["WTF_CSRF_ENABLED"] = False
    with app.extensions["arrears"].transaction() as session:
        company = make_company(session)
        make_user(session, company, role, username=f"importer_{role.value}", password=PASSWORD)
        return company.id


def _login(client: FlaskClient, role: Role = Role.ACCOUNTANT) -> None:
    response = client.post("/login", data={"username": f"importer_{role.value}", "password": PASSWORD})
    assert response.status_code == 302


def _upload(client: FlaskClient, path: Path):  # type: ignore[no-untyped-def]
    return client.post("/imports/", data={"file": (io.BytesIO(path.read_bytes()), path.name)},
                       content_type="multipart/form-data")


def _units(app: Flask, company_id: int) -> int:
    with app.extensions["arrears"].transaction() as session:
        return session.scalar(select(func.count()).select_from(Unit).where(Unit.company_id == company_id)) or 0


def test_upload_page_requires_sign_in_and_a_writer(app: Flask, client: FlaskClient) -> None:
    _setup(app, Role.AUDITOR)
    response = client.get("/imports/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    _login(client, Role.AUDITOR)
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/template.xlsx").status_code == 403


def test_dry_run_preview_shows_errors_with_row_and_column(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    company_id = _setup(app)
    _login(client)
    sheets = good_sheets()
    sheets["units"][2][2] = "-5"
    response = _upload(client, write_xlsx(tmp_path / "bad.xlsx", sheets))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r"<td>units</td><td class=\"num\">3</td><td>area</td>", html)
    assert 'name="token"' not in html
    assert _units(app, company_id) == 0


def test_preview_then_confirm_imports(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    company_id = _setup(app)
    _login(client)
    response = _upload(client, write_xlsx(tmp_path / "good.xlsx", good_sheets()))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<td>units</td><td class=\"num\">2</td>" in html
    assert _units(app, company_id) == 0  # the preview wrote nothing
    token = re.search(r'name="token" value="([^"]+)"', html)
    assert token is not None
    response = client.post("/imports/confirm", data={"token": token.group(1)})
    assert response.status_code == 302
    assert _units(app, company_id) == 2
    # The stored copy is gone: the token cannot be replayed.
    assert client.post("/imports/confirm", data={"token": token.group(1)}).status_code == 404


def test_confirm_refuses_a_forged_token(app: Flask, client: FlaskClient) -> None:
    _setup(app)
    _login(client)
    assert client.post("/imports/confirm", data={"token": "../../etc/passwd"}).status_code == 404
    assert client.post("/imports/confirm", data={"token": "A" * 43}).status_code == 404


def test_template_download_is_an_xlsx(app: Flask, client: FlaskClient) -> None:
    _setup(app)
    _login(client)
    response = client.get("/imports/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames[0] == "README" and "payments" in workbook.sheetnames
    assert [c.value for c in workbook["units"][1]][:3] == ["community_code", "unit_code", "building"]


def test_upload_rejects_other_file_types(app: Flask, client: FlaskClient) -> None:
    _setup(app)
    _login(client)
    response = client.post("/imports/", data={"file": (io.BytesIO(b"x"), "data.txt")}, content_type="multipart/form-data")
    assert response.status_code == 400


