"""Access is denied by default; one company never sees another's data (web and API)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from arrears.config import ConfigError, Settings
from arrears.persistence.enums import Role
from arrears.web.access import declared_policy
from tests.web.helpers import login, make_tenant


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_every_route_declares_who_may_use_it(app: Flask) -> None:
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if rule.endpoint != "static" and declared_policy(app.view_functions[rule.endpoint]) is None]
    assert missing == []


def test_pages_require_sign_in(client: FlaskClient) -> None:
    response = client.get("/units/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/v1/units/1/statement").status_code == 401


def test_another_companys_unit_is_not_found(no_csrf: Flask, client: FlaskClient) -> None:
    mine = make_tenant(no_csrf, "a")
    theirs = make_tenant(no_csrf, "b")
    login(client, mine.usernames[Role.ACCOUNTANT])
    assert client.get(f"/units/{mine.unit_id}").status_code == 200
    assert client.get(f"/units/{theirs.unit_id}").status_code == 404
    assert client.get(f"/api/v1/units/{theirs.unit_id}/statement").status_code == 404
    assert client.get(f"/units/{theirs.unit_id}/payments/new").status_code == 404
    listing = client.get("/units/").get_data(as_text=True)
    assert f"/units/{theirs.unit_id}\"" not in listing


def test_api_statement_as_of(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    login(client, tenant.usernames[Role.AUDITOR])
    data = client.get(f"/api/v1/units/{tenant.unit_id}/statement?as_of=2026-02-20").get_json()
    assert [line["period"] for line in data["lines"]] == ["2026-01", "2026-02", "2026-03"]
    assert data["totals"]["arrears"] == "393.80"  # Jan and Feb (196.90 each) are overdue on 02-20
    assert data["lines"][0]["days_overdue"] == 36
    assert client.get(f"/api/v1/units/{tenant.unit_id}/statement?as_of=20260220").status_code == 400


def test_auditor_may_read_but_not_record_payments(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    login(client, tenant.usernames[Role.AUDITOR])
    assert client.get(f"/units/{tenant.unit_id}").status_code == 200
    assert client.get(f"/units/{tenant.unit_id}/payments/new").status_code == 403
    assert client.get("/billing/").status_code == 403


def test_accountant_records_a_payment(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    login(client, tenant.usernames[Role.ACCOUNTANT])
    response = client.post(f"/units/{tenant.unit_id}/payments/new", data={
        "payer_id": tenant.owner_id, "receipt_ref": "R-77", "received_on": "2026-02-01", "amount": "196.90",
    })
    assert response.status_code == 302
    data = client.get(f"/api/v1/units/{tenant.unit_id}/statement?as_of=2026-11-22").get_json()
    assert data["lines"][0]["paid"] == "196.90"
    bad = client.post(f"/units/{tenant.unit_id}/payments/new", data={
        "payer_id": tenant.owner_id, "receipt_ref": "R-78", "received_on": "2026-02-01", "amount": "-3",
    })
    assert bad.status_code == 400


def test_failed_logins_are_throttled(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    name = tenant.usernames[Role.MANAGER]
    for _ in range(5):
        assert client.post("/login", data={"username": name, "password": "wrong password"}).status_code == 401
    assert client.post("/login", data={"username": name, "password": "correct horse battery"}).status_code == 429


def test_forms_require_a_csrf_token(app: Flask, client: FlaskClient) -> None:
    make_tenant(app, "a")
    assert client.post("/login", data={"username": "a-admin", "password": "x"}).status_code == 400


def test_production_refuses_the_demo_secret_key() -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({"ARREARS_ENV": "production", "ARREARS_DATABASE_URL": "postgresql://x/y"})
    ok = Settings.from_env({"ARREARS_ENV": "production", "ARREARS_DATABASE_URL": "postgresql://x/y",
                            "ARREARS_SECRET_KEY": "k" * 40})
    assert ok.is_production


def test_session_cookie_flags(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    response = client.post("/login", data={"username": tenant.usernames[Role.ADMIN], "password": "correct horse battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_lawyer_reaches_no_company_data_outside_their_legal_cases(no_csrf: Flask, client: FlaskClient) -> None:
    """Lawyers are not staff: units, collection cases and the API answer 403; they start on their cases."""
    tenant = make_tenant(no_csrf, "a")
    login(client, tenant.usernames[Role.LAWYER])
    assert client.get(f"/api/v1/units/{tenant.unit_id}/statement").status_code == 403
    for path in ("/units/", f"/units/{tenant.unit_id}", "/cases/", "/runs/", "/deliveries/", "/notices/"):
        assert client.get(path).status_code == 403, path
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/legal/mine")


def test_an_unknown_address_shows_the_signed_in_menu(no_csrf: Flask, client: FlaskClient) -> None:
    mine = make_tenant(no_csrf, "a")
    assert "logout" not in client.get("/no-such-page").get_data(as_text=True)
    login(client, mine.usernames[Role.ACCOUNTANT])
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "/units/" in page and "logout" in page  # the staff menu and the sign-out form
