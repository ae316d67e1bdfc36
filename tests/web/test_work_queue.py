"""The work queue page: query parameters, bad input, saved filters, bulk actions, Excel export."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from arrears.persistence.enums import ActionStatus, Role
from arrears.persistence.models import AuditEntry, CaseHold, CollectionCase, EscalationAction, Owner, SavedFilter
from tests.web.helpers import make_tenant
from tests.web.test_cases_web import _count, _today, build_case, build_run, login_en, no_csrf  # noqa: F401


def _rows(body: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-case-id="(\d+)"', body)]


def _confirm_fields(body: str) -> dict[str, object]:
    """The hidden fields of the confirmation form, as a POST would send them."""
    fields: dict[str, object] = {}
    form = body[body.index('id="bulk-confirm"'):]
    for name, value in re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form):
        if name == "csrf_token":
            continue
        if name == "case_id":
            fields.setdefault("case_id", []).append(value)  # type: ignore[union-attr]
        else:
            fields[name] = value
    return fields


def test_query_parameters_sort_links_and_bad_input(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "q")
    first = build_case(no_csrf, tenant, next_action_on=dt.date(2026, 12, 1))
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    page = client.get("/cases/?sort=amount&dir=desc").get_data(as_text=True)
    assert _rows(page) == [first]
    assert re.search(r'aria-sort="descending" data-sort="amount"', page)
    assert re.search(r'aria-sort="none" data-sort="unit"', page)
    assert "sort=amount&amp;dir=asc" in page  # clicking the sorted column again reverses it
    for bad in ("sort=owner", "dir=up", "amount_min=abc", "amount_min=-5", "age_min=1.5", "age_min=-1",
                "community=999999", "building=abc", "paused=maybe", "responsible=42x", "page=two",
                "amount_min=500&amount_max=100", "stage=nope"):
        response = client.get(f"/cases/?{bad}")
        body = response.get_data(as_text=True)
        assert response.status_code == 200, bad
        assert 'class="flash error"' in body, bad
        assert _rows(body) == [first], bad  # the bad parameter is ignored, the list still shows
    assert client.get("/cases/?q=%25%25%25").status_code == 200
    assert _rows(client.get("/cases/?amount_min=590.70&amount_max=590.70&age_min=1").get_data(as_text=True)) == [first]
    assert _rows(client.get("/cases/?amount_min=590.71").get_data(as_text=True)) == []
    # the export refuses bad parameters rather than export something else
    assert client.get("/cases/export.xlsx?sort=owner").status_code == 302


def test_saved_filters_on_the_page(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "s")
    build_case(no_csrf, tenant)
    login_en(client, tenant.usernames[Role.AUDITOR])  # read-only staff may keep filters too
    response = client.post("/cases/filters", data={"name": "Big", "query": "sort=amount&dir=desc&bogus=1&page=4"})
    assert response.status_code == 302
    page = client.get("/cases/").get_data(as_text=True)
    assert "/cases/?sort=amount&amp;dir=desc" in page and ">Big</a>" in page
    again = client.post("/cases/filters", data={"name": "big", "query": ""}, follow_redirects=True)
    assert "already have a filter" in again.get_data(as_text=True)
    assert _count(no_csrf, SavedFilter) == 1
    with no_csrf.extensions["arrears"].transaction() as session:
        filter_id = session.scalar(select(SavedFilter.id))
    login_en(client, tenant.usernames[Role.ACCOUNTANT])  # another user's filter is not found
    assert client.post(f"/cases/filters/{filter_id}/delete").status_code == 404
    login_en(client, tenant.usernames[Role.AUDITOR])
    assert client.post(f"/cases/filters/{filter_id}/delete").status_code == 302
    assert _count(no_csrf, SavedFilter) == 0


def test_bulk_hold_confirms_the_count_then_executes_once(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "h")
    case_id = build_case(no_csrf, tenant)
    login_en(client, tenant.usernames[Role.AUDITOR])
    assert client.post("/cases/bulk", data={"action": "hold", "case_id": [str(case_id)]}).status_code == 403
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    preview = client.post("/cases/bulk", data={"action": "hold", "scope": "all", "query": "sort=amount"})
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'data-changes="1"' in body and 'data-selected="1"' in body
    assert _count(no_csrf, CaseHold) == 0  # the preview changes nothing
    fields = _confirm_fields(body)
    ends = (_today() + dt.timedelta(days=10)).isoformat()
    bad = client.post("/cases/bulk", data={**fields, "confirm": "1", "reason": "", "ends_on": ends})
    assert bad.status_code == 400 and _count(no_csrf, CaseHold) == 0
    ok = client.post("/cases/bulk", data={**fields, "confirm": "1", "reason": "owners abroad", "ends_on": ends})
    assert ok.status_code == 302 and _count(no_csrf, CaseHold) == 1
    again = client.post("/cases/bulk", data={**fields, "confirm": "1", "reason": "owners abroad", "ends_on": ends})
    assert again.status_code == 302 and _count(no_csrf, CaseHold) == 1  # the resubmit changes nothing
    fresh = client.post("/cases/bulk", data={"action": "hold", "case_id": [str(case_id)]}).get_data(as_text=True)
    assert 'data-changes="0"' in fresh and 'data-reason="already_held" data-count="1"' in fresh
    assert _count(no_csrf, AuditEntry, AuditEntry.action == "cases.bulk_hold") == 1


def test_bulk_assign_and_approve(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "b")
    case_id = build_case(no_csrf, tenant)
    built = build_run(no_csrf, tenant, case_id, actions=3)
    with no_csrf.extensions["arrears"].transaction() as session:
        session.execute(update(EscalationAction).where(EscalationAction.id == built.action_ids[0])
                        .values(status=ActionStatus.REMOVED))
    login_en(client, tenant.usernames[Role.ACCOUNTANT])
    with no_csrf.extensions["arrears"].transaction() as session:
        from arrears.persistence.models import User

        manager_id = session.scalar(select(User.id).where(User.username == tenant.usernames[Role.MANAGER]))
    preview = client.post("/cases/bulk", data={"action": "assign", "case_id": [str(case_id)],
                                               "responsible_user_id": str(manager_id)}).get_data(as_text=True)
    assert 'data-changes="1"' in preview
    fields = _confirm_fields(preview)
    assert client.post("/cases/bulk", data={**fields, "confirm": "1", "responsible_user_id": str(manager_id)}
                       ).status_code == 302
    with no_csrf.extensions["arrears"].transaction() as session:
        assert session.get(CollectionCase, case_id).responsible_user_id == manager_id  # type: ignore[union-attr]
    # approve: only the two actions still awaiting approval
    preview = client.post("/cases/bulk", data={"action": "approve", "case_id": [str(case_id)]}).get_data(as_text=True)
    assert 'data-changes="2"' in preview
    fields = _confirm_fields(preview)
    assert client.post("/cases/bulk", data={**fields, "confirm": "1"}).status_code == 302
    assert _count(no_csrf, EscalationAction, EscalationAction.status == ActionStatus.APPROVED) == 2
    assert _count(no_csrf, EscalationAction, EscalationAction.status == ActionStatus.REMOVED) == 1
    # a stale confirmation (the plan changed meanwhile) is refused and changes nothing
    fields["token"] = "another"
    stale = client.post("/cases/bulk", data={**fields, "confirm": "1"})
    assert stale.status_code == 400
    assert _count(no_csrf, AuditEntry, AuditEntry.action == "escalation_action.approve") == 2


def test_export_is_every_matching_row_with_numbers_and_neutralised_text(no_csrf: Flask, client: FlaskClient) -> None:
    tenant = make_tenant(no_csrf, "x")
    case_id = build_case(no_csrf, tenant)
    with no_csrf.extensions["arrears"].transaction() as session:
        session.execute(update(Owner).where(Owner.id == tenant.owner_id).values(name="=HYPERLINK(\"x\")"))
    login_en(client, tenant.usernames[Role.AUDITOR])
    response = client.get("/cases/export.xlsx?sort=amount&dir=desc")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # header + the one open case
    community, building, unit, owners, arrears, oldest, days, stage, paused, responsible, next_on = rows[1]
    assert owners == "'=HYPERLINK(\"x\")"
    assert arrears == Decimal("590.70") or arrears == 590.7
    assert isinstance(oldest, dt.datetime) and oldest.date() == dt.date(2026, 1, 31)
    assert days == (_today() - dt.date(2026, 1, 31)).days
    assert stage == "reminder_1"
    assert _count(no_csrf, AuditEntry, AuditEntry.action == "cases.export") == 1
    assert case_id
