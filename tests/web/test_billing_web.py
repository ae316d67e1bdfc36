"""A manager starts a billing run from the web; it runs in the background with progress."""

from __future__ import annotations

import json
import threading

from flask import Flask
from flask.testing import FlaskClient

from arrears.persistence.enums import Role
from tests.web.helpers import login, make_tenant


def _wait_for_job(job_id: int) -> None:
    for thread in threading.enumerate():
        if thread.name == f"job-{job_id}":
            thread.join(timeout=120)


def test_manager_runs_billing_and_sees_the_result(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    tenant = make_tenant(app, "bill")
    login(client, tenant.usernames[Role.MANAGER])
    response = client.post("/billing/", data={"through": "2026-05"})
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    _wait_for_job(job_id)
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["status"] == "done"
    assert status["result"]["created"] == 2  # April and May; January to March were billed before
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    # the result labels are in the user's language (JSON-escaped inside a data attribute)
    assert json.dumps("已生成应收")[1:-1] in page and "Charges posted" not in page
    again = client.post("/billing/", data={"through": "2026-05"})
    job_again = int(again.headers["Location"].rstrip("/").split("/")[-1])
    _wait_for_job(job_again)
    assert client.get(f"/jobs/{job_again}.json").get_json()["result"]["created"] == 0


def test_bad_month_and_role_are_refused(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    tenant = make_tenant(app, "bill")
    login(client, tenant.usernames[Role.MANAGER])
    assert client.post("/billing/", data={"through": "May 2026"}).status_code == 400
    client.post("/logout")
    login(client, tenant.usernames[Role.ACCOUNTANT])
    assert client.post("/billing/", data={"through": "2026-05"}).status_code == 403


def test_another_companys_job_is_not_found(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    mine, theirs = make_tenant(app, "a"), make_tenant(app, "b")
    login(client, theirs.usernames[Role.MANAGER])
    job_id = int(client.post("/billing/", data={"through": "2026-04"}).headers["Location"].split("/")[-1])
    _wait_for_job(job_id)
    client.post("/logout")
    login(client, mine.usernames[Role.MANAGER])
    assert client.get(f"/jobs/{job_id}.json").status_code == 404
