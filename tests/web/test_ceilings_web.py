"""The small-claims ceilings editor (L11): administrators only; add, replace (the old row is
retired and kept in the history), retire; stale rows (checked > 13 months ago) are flagged."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from arrears.persistence.enums import Role
from arrears.persistence.legal import SmallClaimsCeiling
from arrears.persistence.models import AuditEntry
from tests.web.helpers import make_tenant
from tests.web.test_cases_web import login_en

ROW = {"province": "测试省", "amount": "50000.00", "wage_figure": "100000.00", "effective_from": "2025-07-01",
       "source": "测试省高级人民法院通知（2025）", "checked_on": "2024-01-10"}


@pytest.fixture
def no_csrf(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def _rows(app: Flask) -> list[SmallClaimsCeiling]:
    with app.extensions["arrears"].transaction() as session:
        return list(session.scalars(select(SmallClaimsCeiling).where(SmallClaimsCeiling.province == "测试省")
                                    .order_by(SmallClaimsCeiling.id)))


def test_only_admins_use_the_ceilings_editor(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    for role in Role:
        login_en(client, tenant.usernames[role])
        expected = 200 if role == Role.ADMIN else 403
        assert client.get("/ceilings/").status_code == expected, role
        if role != Role.ADMIN:
            assert client.post("/ceilings/", data=ROW).status_code == 403
            assert "/ceilings/" not in client.get("/").get_data(as_text=True)
        client.post("/logout")
    assert _rows(no_csrf) == []


def test_add_replace_and_history(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "a")
    login_en(client, tenant.usernames[Role.ADMIN])
    bad = client.post("/ceilings/", data={**ROW, "checked_on": "last year"})
    assert bad.status_code == 400 and "is not a date like" in bad.get_data(as_text=True)
    no_source = client.post("/ceilings/", data={**ROW, "source": " "})
    assert no_source.status_code == 400 and "needs its source" in no_source.get_data(as_text=True)
    assert _rows(no_csrf) == []
    added = client.post("/ceilings/", data=ROW)
    assert added.status_code == 302
    [first] = _rows(no_csrf)
    listing = client.get("/ceilings/").get_data(as_text=True)
    assert "测试省" in listing and "checked more than 13 months ago" in listing  # stale for a filing today
    replaced = client.post(f"/ceilings/{first.id}/replace", data={**ROW, "checked_on": "2026-11-01",
                                                                  "amount": "50500.00", "wage_figure": "101000.00"})
    assert replaced.status_code == 302, replaced.get_data(as_text=True)
    old, new = _rows(no_csrf)
    assert old.retired and not new.retired and new.replaces_id == old.id and new.amount == 50500
    page = client.get(f"/ceilings/{new.id}").get_data(as_text=True)
    assert "50,500.00" in page and "50,000.00" in page and "retired" in page  # the history
    assert "checked more than 13 months" not in page.lower().replace("checked more than 13 months ago: routing", "")
    current = client.get("/ceilings/").get_data(as_text=True)
    assert f'/ceilings/{old.id}"' not in current and f'/ceilings/{new.id}"' in current
    assert f'/ceilings/{old.id}"' in client.get("/ceilings/?history=1").get_data(as_text=True)
    # a retired row cannot be replaced again
    again = client.post(f"/ceilings/{old.id}/replace", data=ROW)
    assert again.status_code == 400 and "retired" in again.get_data(as_text=True)
    assert client.post(f"/ceilings/{new.id}/retire", data={"reason": "wrong province"}).status_code == 302
    assert all(r.retired for r in _rows(no_csrf))
    assert client.get("/ceilings/999999").status_code == 404
    with no_csrf.extensions["arrears"].transaction() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("ceiling.%"))))
    assert actions == ["ceiling.add", "ceiling.replace", "ceiling.retire"]
