"""Small-claims ceilings per province (L11): data with a source and a date, with history.

Ceilings are global (the same law for every company): rows are seeded from the published figures in
``arrears/domain/data/small_claims_ceilings.csv`` and then maintained by administrators (the web
layer allows only ADMIN users). A row is never edited: a correction or a re-check is a new row that
names the one it replaces (``replaces_id``), and the old row is retired. Retiring without a
replacement removes a wrong row from routing while keeping it in the history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.documents.xlsx import Column
from arrears.domain.money import MoneyError, parse_money
from arrears.domain.routing import (
    Ceiling,
    ceiling_warnings,
    is_stale,
    load_published_ceilings,
    province_key,
)
from arrears.persistence.legal import SmallClaimsCeiling

from .. import audit
from ..actor import Actor
from ..errors import N_, NotFound, ServiceError, invalid_amount

SEED_ACTOR = Actor.system("seed: arrears/domain/data/small_claims_ceilings.csv")
FIELDS = ("province", "amount", "wage_figure", "effective_from", "source", "checked_on", "basis")


def seed_ceilings(session: Session) -> int:
    """Insert the published ceilings when the table is empty (idempotent); returns rows inserted."""
    if session.scalar(select(func.count()).select_from(SmallClaimsCeiling)):
        return 0
    rows = [
        SmallClaimsCeiling(province=c.province, amount=c.amount, wage_figure=c.wage_figure,
                           effective_from=c.effective_from, basis=c.basis, source=c.source,
                           checked_on=c.checked_on, created_by=SEED_ACTOR.name)
        for c in load_published_ceilings()
    ]
    session.add_all(rows)
    session.flush()
    audit.record(session, SEED_ACTOR, "ceiling.seed", "small_claims_ceiling", None, company_id=None,
                 ids=[row.id for row in rows])
    return len(rows)


def list_ceilings(session: Session, province: str | None = None, include_retired: bool = False
                  ) -> list[SmallClaimsCeiling]:
    """Rows by province and effective date (newest first within a province); retired rows only
    when asked (the history view)."""
    query = select(SmallClaimsCeiling)
    if not include_retired:
        query = query.where(SmallClaimsCeiling.retired.is_(False))
    rows = list(session.scalars(query))
    if province is not None:
        key = province_key(province)
        rows = [row for row in rows if province_key(row.province) == key]
    return sorted(rows, key=lambda row: (row.province, -row.effective_from.toordinal(), -row.id))


def get_ceiling(session: Session, ceiling_id: int) -> SmallClaimsCeiling:
    row = session.get(SmallClaimsCeiling, ceiling_id)
    if row is None:
        raise NotFound(N_("small-claims ceiling %(id)s not found"), id=ceiling_id)
    return row


def history(session: Session, ceiling_id: int) -> list[SmallClaimsCeiling]:
    """The row and the rows it replaced, newest first."""
    chain = [get_ceiling(session, ceiling_id)]
    while chain[-1].replaces_id is not None:
        chain.append(get_ceiling(session, chain[-1].replaces_id))
    return chain


def ceilings_for(session: Session, province: str) -> list[Ceiling]:
    """The province's current (not retired) ceilings as domain values, for routing (L11)."""
    return [to_domain(row) for row in list_ceilings(session, province)]


def to_domain(row: SmallClaimsCeiling) -> Ceiling:
    return Ceiling(province=row.province, amount=row.amount, wage_figure=row.wage_figure,
                   effective_from=row.effective_from, source=row.source, checked_on=row.checked_on,
                   basis=row.basis)


def warnings_for(row: SmallClaimsCeiling) -> tuple[str, ...]:
    """Plausibility warnings (msgids) for a row: not half of the wage figure (published figures are)."""
    return ceiling_warnings(row.amount, row.wage_figure)


def add_ceiling(
    session: Session, actor: Actor, *, province: str, amount: Decimal | str, wage_figure: Decimal | str,
    effective_from: dt.date, source: str, checked_on: dt.date, basis: str | None = None,
) -> SmallClaimsCeiling:
    """A new ceiling for a province from a date. Refused when the province already has a current row
    for that date (replace it instead). A ceiling that is not 50 % of the wage figure is accepted with
    a warning (``warnings_for``; also in the audit entry)."""
    values = _validated(province=province, amount=amount, wage_figure=wage_figure, effective_from=effective_from,
                        source=source, checked_on=checked_on, basis=basis)
    _check_unique(session, values, replacing=None)
    row = _insert(session, actor, values, replaces=None)
    return row


def replace_ceiling(session: Session, actor: Actor, ceiling_id: int, **fields: Any) -> SmallClaimsCeiling:
    """Correct or re-check a row: a new row with the given fields changed (the others copied), naming
    the old one in ``replaces_id``; the old row is retired. Only a current row can be replaced."""
    old = get_ceiling(session, ceiling_id)
    if old.retired:
        raise ServiceError(N_("small-claims ceiling %(id)s is retired; replace the current row"), id=old.id)
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ServiceError(N_("unknown ceiling field %(field)s"), field=", ".join(unknown))
    current = {name: getattr(old, name) for name in FIELDS}
    values = _validated(**{**current, **fields})
    if all(values[name] == current[name] for name in FIELDS):
        raise ServiceError(N_("nothing to change in small-claims ceiling %(id)s"), id=old.id)
    _check_unique(session, values, replacing=old)
    old.retired = True
    session.flush()
    row = _insert(session, actor, values, replaces=old)
    return row


def retire_ceiling(session: Session, actor: Actor, ceiling_id: int, *, reason: str | None = None
                   ) -> SmallClaimsCeiling:
    """Take a wrong row out of routing without a replacement; it stays in the history."""
    row = get_ceiling(session, ceiling_id)
    if row.retired:
        raise ServiceError(N_("small-claims ceiling %(id)s is already retired"), id=row.id)
    row.retired = True
    session.flush()
    audit.record(session, actor, "ceiling.retire", "small_claims_ceiling", row.id, company_id=None,
                 message=(reason or "").strip() or None, province=row.province,
                 effective_from=row.effective_from)
    return row


retire = retire_ceiling


# --- helpers --------------------------------------------------------------------------------------


def _validated(*, province: Any, amount: Any, wage_figure: Any, effective_from: Any, source: Any,
               checked_on: Any, basis: Any) -> dict[str, Any]:
    name = " ".join(str(province or "").split())
    if not name:
        raise ServiceError(N_("a ceiling needs a province"))
    if len(name) > 40:
        raise ServiceError(N_("the province name is too long (at most 40 characters)"))
    ceiling = _money(amount)
    wage = _money(wage_figure)
    if ceiling <= 0 or wage <= 0:
        raise ServiceError(N_("the ceiling and the wage figure must be positive"))
    if ceiling > wage:
        raise ServiceError(N_("the ceiling cannot exceed the wage figure (it is half of it)"))
    for value, what in ((effective_from, "effective from"), (checked_on, "checked on")):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise ServiceError(N_("a ceiling needs a date for %(field)s"), field=what)
    text = (source or "").strip()
    if not text:
        raise ServiceError(N_("a ceiling needs its source (the High Court's notice or where it was published)"))
    return {"province": name, "amount": ceiling, "wage_figure": wage, "effective_from": effective_from,
            "source": text, "checked_on": checked_on, "basis": (basis or "").strip() or None}


def _money(value: Any) -> Decimal:
    try:
        return parse_money(value)
    except (MoneyError, TypeError) as exc:
        raise invalid_amount(value) from exc


def _check_unique(session: Session, values: dict[str, Any], *, replacing: SmallClaimsCeiling | None) -> None:
    for row in list_ceilings(session, values["province"]):
        if row.effective_from == values["effective_from"] and (replacing is None or row.id != replacing.id):
            raise ServiceError(
                N_("%(province)s already has a ceiling from %(date)s (row %(id)s); replace that row instead"),
                province=row.province, date=row.effective_from.isoformat(), id=row.id)


def _insert(session: Session, actor: Actor, values: dict[str, Any], *, replaces: SmallClaimsCeiling | None
            ) -> SmallClaimsCeiling:
    row = SmallClaimsCeiling(**values, created_by=actor.name, replaces_id=replaces.id if replaces else None)
    session.add(row)
    session.flush()
    warnings = list(warnings_for(row))
    action = "ceiling.replace" if replaces else "ceiling.add"
    audit.record(session, actor, action, "small_claims_ceiling", row.id, company_id=None,
                 province=row.province, amount=row.amount, wage_figure=row.wage_figure,
                 effective_from=row.effective_from, checked_on=row.checked_on, source=row.source,
                 replaces_id=row.replaces_id, warnings=warnings)
    return row


# ---------------------------------------------------------------- Excel export of the list

CEILING_EXPORT_COLUMNS = (
    Column(N_("Province"), 12), Column(N_("Ceiling (CNY)"), 14, money=True),
    Column(N_("Wage figure (CNY)"), 16, money=True), Column(N_("Effective from"), 12), Column(N_("Source"), 50),
    Column(N_("Checked on"), 12), Column(N_("Status"), 10), Column(N_("Replaces row"), 10),
    Column(N_("Checked more than 13 months ago"), 12),
)


def ceiling_export(session: Session, today: dt.date, label: Callable[[str, object], str], *,
                   include_retired: bool = False) -> list[tuple[Any, ...]]:
    """The rows the list shows (current, or the whole history), in CEILING_EXPORT_COLUMNS order."""
    return [(row.province, row.amount, row.wage_figure, row.effective_from, row.source, row.checked_on,
             label("ceiling_status", "retired" if row.retired else "current"), row.replaces_id,
             not row.retired and is_stale(to_domain(row), today))
            for row in list_ceilings(session, include_retired=include_retired)]
