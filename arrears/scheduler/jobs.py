"""Job entry points. Each owns its transactions — one per company, so one company's failure
spoils nothing else — and each is safe to repeat: the unique keys in the business tables (charge
periods, action keys, outbox claims, warning keys) do the real de-duplication; the leases in
`process.py` only spare the work when several scheduler processes run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.persistence.base import utcnow
from arrears.persistence.models import Company
from arrears.services import billing, leases
from arrears.services.actor import Actor
from arrears.services.runtime import Runtime
from arrears.services.timezone import company_today

log = logging.getLogger(__name__)
ACTOR = Actor.system("scheduler")

T = TypeVar("T")


def company_ids(runtime: Runtime) -> list[int]:
    with runtime.transaction() as session:
        return list(session.scalars(select(Company.id).order_by(Company.id)))


def for_each_company(runtime: Runtime, what: str, work: Callable[[Session, Company], T]) -> dict[int, T]:
    """Run `work` for every company, each in its own transaction; failures are logged, not raised."""
    done: dict[int, T] = {}
    for company_id in company_ids(runtime):
        try:
            with runtime.transaction() as session:
                company = session.get(Company, company_id)
                assert company is not None
                done[company_id] = work(session, company)
        except Exception:  # one company's failure must not stop the others
            log.exception("%s failed for company %s", what, company_id)
    return done


def nightly_billing(runtime: Runtime) -> dict[int, int]:
    """Post the charges of the current month for every company (idempotent: reruns add nothing)."""

    def bill(session: Session, company: Company) -> int:
        today = company_today(company)
        result = billing.run_billing(session, ACTOR, company_id=company.id, through=today, today=today)
        return result.created

    return for_each_company(runtime, "nightly billing", bill)


def nightly_escalation(runtime: Runtime, *, as_of: dt.date | None = None) -> dict[int, Any]:
    """Evaluate every company's cases as of its own today — the same service as `arrears escalate`
    (an attempt row first, so a run killed mid-way shows in the history as abandoned)."""
    done: dict[int, Any] = {}
    for company_id in company_ids(runtime):
        try:
            result = leases.escalate_company(runtime, ACTOR, company_id, as_of=as_of, dry_run=False,
                                             trigger="scheduler")
        except Exception:  # one company's failure must not stop the others
            log.exception("escalation failed for company %s", company_id)
            continue
        log.info("escalation of company %s (run %s): %s", company_id, result.run_id, result.counts)
        if result.errors:
            log.warning("escalation of company %s reported: %s", company_id, result.errors)
        done[company_id] = result
    return done


def dispatch_outbox(runtime: Runtime, gateways: Any = None, *, now: dt.datetime | None = None,
                    worker: str = "scheduler") -> dict[str, Any]:
    """Recover crashed sends, queue approved actions per company, then send in chunks."""
    from arrears.services.escalation.gateways import build_gateways
    from arrears.services.escalation.outbox import STALE_AFTER, dispatch_pending, queue_approved, recover_stale

    now = now or utcnow()
    with runtime.transaction() as session:
        # 'sending' long after its claim: left by a crash → 'unknown', for a person (never resent)
        recovered = recover_stale(session, now=now, older_than=STALE_AFTER)
    if recovered:
        log.warning("%s message(s) left 'sending' by a crash are now 'unknown' for a person to resolve",
                    recovered)
    queued = for_each_company(runtime, "queueing approved actions",
                              lambda session, company: queue_approved(session, ACTOR, company.id, now=now))
    result = dispatch_pending(runtime, gateways if gateways is not None else build_gateways(runtime.settings),
                              now=now, worker=worker, chunk=runtime.settings.dispatch_chunk)
    log.info("outbox: %s recovered, %s queued, dispatch %s", recovered, sum(queued.values()), result)
    return {"recovered": recovered, "queued": queued, "dispatch": result}


def poll_delivery(runtime: Runtime, gateways: Any = None, *, now: dt.datetime | None = None) -> int:
    """Fetch delivery receipts from the gateways (SMS receipts) and record them."""
    from arrears.services.escalation.gateways import build_gateways
    from arrears.services.escalation.outbox import poll_receipts

    count = poll_receipts(runtime, gateways if gateways is not None else build_gateways(runtime.settings),
                          now=now or utcnow())
    log.info("delivery polling: %s receipt(s) recorded", count)
    return count


def limitation_warnings(runtime: Runtime, *, today: dt.date | None = None) -> dict[int, Any]:
    """Refresh every company's limitation warnings (charges running out within 90 days, L4)."""
    from arrears.services.escalation.warnings import refresh_warnings

    def refresh(session: Session, company: Company) -> Any:
        counts = refresh_warnings(session, ACTOR, company.id, today=today or company_today(company))
        log.info("limitation warnings of company %s: %s", company.id, counts)
        return counts

    return for_each_company(runtime, "limitation warnings", refresh)


def notice_takedowns(runtime: Runtime, *, today: dt.date | None = None) -> dict[int, int]:
    """Mark approved public notices that list a unit which has paid since, for take-down (L16)."""
    from arrears.services.documents.notices import mark_takedowns

    def check(session: Session, company: Company) -> int:
        marked = mark_takedowns(session, company.id, today=today or company_today(company), actor=ACTOR)
        if marked:
            log.info("public notices of company %s marked for take-down: %s", company.id, [n.id for n in marked])
        return len(marked)

    return for_each_company(runtime, "notice take-downs", check)


def legal_payments(runtime: Runtime, *, today: dt.date | None = None) -> dict[int, int]:
    """Compare payments with awarded amounts: a case paid in full closes, or, if its debtor is
    listed as dishonest, gets its deletion request drafted the same day (L15)."""
    from arrears.services.legal.events import refresh_payments

    def check(session: Session, company: Company) -> int:
        changed = refresh_payments(session, ACTOR, company.id, today=today or company_today(company))
        if changed:
            log.info("legal cases of company %s changed by payments: %s", company.id, [c.id for c in changed])
        return len(changed)

    return for_each_company(runtime, "legal payments", check)


def collection_summary(runtime: Runtime) -> dict[int, Any]:
    """Rebuild every company's collection summaries (the dashboard's and reports' sums), each in its
    own transaction; after billing, so tonight's charges are in the sums."""
    from arrears.services.reports.summary import rebuild

    def build(session: Session, company: Company) -> Any:
        result = rebuild(session, company.id)
        log.info("collection summary of company %s: %s day rows, %s month rows, %s billed rows",
                 company.id, result.days, result.months, result.billed)
        return result

    return for_each_company(runtime, "collection summary", build)
