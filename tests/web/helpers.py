"""Helpers for web tests: committed test data and signing in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient

from arrears.persistence.enums import Role
from arrears.services import billing
from tests.factories import ACTOR, make_community, make_ownership, make_schedule, make_unit, make_user

PASSWORD = "correct horse battery"


@dataclass
class Tenant:
    company_id: int
    unit_id: int
    owner_id: int
    usernames: dict[Role, str]


def make_tenant(app: Flask, prefix: str) -> Tenant:
    """A company with one billed unit and a user per role, committed."""
    with app.extensions["arrears"].transaction() as session:
        community = make_community(session)
        make_schedule(session, community, valid_from=dt.date(2026, 1, 1))
        unit = make_unit(session, community, area=Decimal("89.50"))
        record = make_ownership(session, unit)
        billing.run_billing(session, ACTOR, company_id=community.company_id, through=dt.date(2026, 3, 1),
                            today=dt.date(2026, 11, 22))
        company = community.company_id
        from arrears.persistence.models import Company

        company_obj = session.get(Company, company)
        assert company_obj is not None
        names = {}
        for role in Role:
            user = make_user(session, company_obj, role, username=f"{prefix}-{role.value}")
            names[role] = user.username
        return Tenant(company, unit.id, record.parties[0].owner_id, names)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.data
