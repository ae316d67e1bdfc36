"""The import pages: sign-in and a writer role, a dry-run preview with located errors, then the
confirmed import as a background job (/jobs/<id>) that runs once per upload and changes nothing
when it fails."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path
from typing import Any

import openpyxl
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import arrears.web.imports as imports_web
from arrears.persistence.enums import Role
from arrears.persistence.models import BackgroundJob, ImportBatch, Unit
from arrears.services.imports import run_import
from tests.factories import ACTOR, make_company, make_user
from tests.services.test_imports import TODAY, good_sheets, write_xlsx

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
    return _count(app, Unit, Unit.company_id == company_id)


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.extensions["arrears"].transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _token(response: Any) -> str:
    found = re.search(r'name="token" value="([^"]+)"', response.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _job_id(response: Any) -> int:
    assert response.status_code == 302
    found = re.fullmatch(r".*/jobs/(\d+)", response.headers["Location"])
    assert found is not None, response.headers["Location"]
    return int(found.group(1))


def _wait_for_job(job_id: int) -> None:
    for thread in threading.enumerate():
        if thread.name == f"job-{job_id}":
            thread.join(timeout=120)


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
    token = _token(response)
    job_id = _job_id(client.post("/imports/confirm", data={"token": token}))
    _wait_for_job(job_id)
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["kind"] == "import" and status["status"] == "done", status
    assert status["done"] == status["total"] > 0
    result = status["result"]
    assert result["imported"] == 18 and result["unchanged"] == 0  # good_sheets(): 18 rows, all new
    assert result["sheets"]["units"] == {"new": 2} and result["batch_id"] is not None
    assert _units(app, company_id) == 2
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'href="/units/"' in page and "<dd>18</dd>" in page
    # The stored copy is gone: the token cannot be replayed.
    assert client.post("/imports/confirm", data={"token": token}).status_code == 404
    assert not list((Path(app.instance_path) / "imports").iterdir())


def test_a_token_confirmed_twice_imports_once_even_while_the_job_runs(
    app: Flask, client: FlaskClient, tmp_path: Path, monkeypatch: Any,
) -> None:
    company_id = _setup(app)
    _login(client)
    token = _token(_upload(client, write_xlsx(tmp_path / "good.xlsx", good_sheets())))
    release, started = threading.Event(), threading.Event()

    def slow_import(*args: Any, **kwargs: Any) -> Any:
        started.set()
        assert release.wait(timeout=60)
        return run_import(*args, **kwargs)

    monkeypatch.setattr(imports_web, "run_import", slow_import)
    job_id = _job_id(client.post("/imports/confirm", data={"token": token}))
    try:
        assert started.wait(timeout=60)
        assert client.get(f"/jobs/{job_id}.json").get_json()["status"] == "running"
        # a double click, or the back button and "Import" again: the same job, not a second one
        assert _job_id(client.post("/imports/confirm", data={"token": token})) == job_id
    finally:
        release.set()
        _wait_for_job(job_id)
    assert client.get(f"/jobs/{job_id}.json").get_json()["status"] == "done"
    assert client.post("/imports/confirm", data={"token": token}).status_code == 404
    assert _units(app, company_id) == 2
    assert _count(app, ImportBatch, ImportBatch.company_id == company_id) == 1
    assert _count(app, BackgroundJob, BackgroundJob.company_id == company_id, BackgroundJob.kind == "import") == 1


def test_data_changed_since_the_preview_fails_the_job_and_imports_nothing(
    app: Flask, client: FlaskClient, tmp_path: Path,
) -> None:
    company_id = _setup(app)
    _login(client)
    client.post("/language", data={"lang": "en", "next": "/imports/"})
    changed = good_sheets()
    changed["units"][1][2] = "101.00"
    token = _token(_upload(client, write_xlsx(tmp_path / "changed.xlsx", changed)))
    # meanwhile the same units are recorded with another area (say, by a colleague's import)
    with app.extensions["arrears"].transaction() as session:
        assert run_import(session, ACTOR, company_id, write_xlsx(tmp_path / "good.xlsx", good_sheets()), today=TODAY).ok
    job_id = _job_id(client.post("/imports/confirm", data={"token": token}))
    _wait_for_job(job_id)
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["status"] == "failed" and status["result"] == {}
    assert status["message"].startswith("Nothing was imported. Errors in the file: 1.")
    assert "units, row 2, column area:" in status["message"]
    assert _count(app, ImportBatch, ImportBatch.company_id == company_id) == 1  # only the colleague's
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "units, row 2, column area:" in page and 'href="/imports/"' in page
    # the upload is gone: the corrected file has to be checked again
    assert client.post("/imports/confirm", data={"token": token}).status_code == 404


def test_confirm_refuses_a_forged_token(app: Flask, client: FlaskClient) -> None:
    _setup(app)
    _login(client)
    assert client.post("/imports/confirm", data={"token": "../../etc/passwd"}).status_code == 404
    assert client.post("/imports/confirm", data={"token": "A" * 43}).status_code == 404
    assert client.post("/imports/confirm", data={"token": "A" * 43 + ".claimed"}).status_code == 404
    assert _count(app, BackgroundJob) == 0


def test_another_user_cannot_confirm_or_follow_an_upload(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    company_id = _setup(app)
    with app.extensions["arrears"].transaction() as session:
        from arrears.persistence.models import Company

        company = session.get(Company, company_id)
        assert company is not None
        make_user(session, company, Role.MANAGER, username="other_writer", password=PASSWORD)
    _login(client)
    token = _token(_upload(client, write_xlsx(tmp_path / "good.xlsx", good_sheets())))
    client.post("/logout")
    assert client.post("/login", data={"username": "other_writer", "password": PASSWORD}).status_code == 302
    assert client.post("/imports/confirm", data={"token": token}).status_code == 404
    client.post("/logout")
    _login(client)
    job_id = _job_id(client.post("/imports/confirm", data={"token": token}))
    _wait_for_job(job_id)
    client.post("/logout")
    client.post("/login", data={"username": "other_writer", "password": PASSWORD})
    assert client.post("/imports/confirm", data={"token": token}).status_code == 404
    assert _units(app, company_id) == 2


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


