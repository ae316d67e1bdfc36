"""The statement as plain JSON-ready data (documented in docs/statement-json.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arrears.domain.statement import Statement, StatementLine

from .statements import UnitStatement

SCHEMA_VERSION = 1


def statement_to_json(result: UnitStatement) -> dict[str, Any]:
    unit, statement = result.unit, result.statement
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": result.as_of.isoformat(),
        "currency": "CNY",
        "allocation_policy": str(statement.policy),
        "community": {"id": unit.community.id, "code": unit.community.code, "name": unit.community.name},
        "unit": {"id": unit.id, "code": unit.code, "area": _money(unit.area), "type": str(unit.unit_type)},
        "debtors": [
            {
                "ownership_id": debtor.ownership_id,
                "names": list(debtor.names),
                "from": debtor.valid_from.isoformat(),
                "to": debtor.valid_to.isoformat() if debtor.valid_to else None,
                "arrears": _money(result.by_debtor[debtor.ownership_id].arrears)
                if debtor.ownership_id in result.by_debtor else "0.00",
            }
            for debtor in result.debtors.values()
        ],
        "lines": [_line(line, result.ownership_of.get(line.key)) for line in statement.lines],
        "totals": _totals(statement),
        "aging": {bucket: _money(value) for bucket, value in statement.aging.items()},
    }


def _line(line: StatementLine, ownership_id: int | None) -> dict[str, Any]:
    return {
        "charge_id": line.key,
        "ownership_id": ownership_id,
        "fee_item": line.fee_item,
        "period": line.label,
        "period_start": line.period_start.isoformat(),
        "period_end": line.period_end.isoformat(),
        "due_date": line.due_date.isoformat(),
        "amount": _money(line.amount),
        "paid": _money(line.paid),
        "adjusted": _money(line.adjusted),
        "outstanding": _money(line.outstanding),
        "overdue": line.overdue,
        "days_overdue": line.days_overdue,
        "late_fee": {
            "accrued": _money(line.late_fee.accrued),
            "paid": _money(line.late_fee.paid),
            "outstanding": _money(line.late_fee.outstanding),
            "capped": line.late_fee.capped,
        },
        "limitation": {
            "end": line.limitation.end.isoformat(),
            "unmoved_end": line.limitation.unmoved.isoformat(),
            "provisional": line.limitation.provisional,
        },
        "time_barred": line.time_barred,
        "applications": [
            {
                "date": app.on.isoformat(),
                "component": str(app.component),
                "amount": _money(app.amount),
                "source": app.source,
                "reference": app.ref,
            }
            for app in line.applications
        ],
    }


def _totals(statement: Statement) -> dict[str, Any]:
    return {
        "amount": _money(statement.total_amount),
        "paid": _money(statement.total_paid),
        "adjusted": _money(statement.total_adjusted),
        "outstanding": _money(statement.total_outstanding),
        "overdue_outstanding": _money(statement.overdue_outstanding),
        "upcoming_outstanding": _money(statement.upcoming_outstanding),
        "time_barred_outstanding": _money(statement.time_barred_outstanding),
        "late_fee_outstanding": _money(statement.late_fee_outstanding),
        "credit": _money(statement.credit),
        "arrears": _money(statement.arrears),
    }


def _money(value: Decimal) -> str:
    return f"{value:.2f}"
