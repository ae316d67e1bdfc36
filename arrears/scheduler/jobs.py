"""Job entry points: each opens its own transaction per company, so one failure spoils nothing else."""

from __future__ import annotations

import logging

from sqlalchemy import select

from arrears.persistence.models import Company
from arrears.services import billing
from arrears.services.actor import Actor
from arrears.services.runtime import Runtime
from arrears.services.timezone import company_today

log = logging.getLogger(__name__)


def nightly_billing(runtime: Runtime) -> dict[int, int]:
    """Post the charges of the current month for every company (idempotent: reruns add nothing)."""
    with runtime.transaction() as session:
        company_ids = list(session.scalars(select(Company.id).order_by(Company.id)))
    created: dict[int, int] = {}
    for company_id in company_ids:
        try:
            with runtime.transaction() as session:
                company = session.get(Company, company_id)
                assert company is not None
                today = company_today(company)
                result = billing.run_billing(
                    session, Actor.system("scheduler"), company_id=company_id, through=today, today=today
                )
                created[company_id] = result.created
        except Exception:  # one company's failure must not stop the others
            log.exception("nightly billing failed for company %s", company_id)
    return created
