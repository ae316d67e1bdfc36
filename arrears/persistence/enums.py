"""Enumerations stored in the database (as CHECK-constrained strings, portable to SQLite)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum


def db_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    ACCOUNTANT = "accountant"
    LAWYER = "lawyer"
    AUDITOR = "auditor"


class OwnerKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class UnitType(StrEnum):
    RESIDENTIAL = "residential"
    COMMERCIAL = "commercial"
    PARKING = "parking"
    STORAGE = "storage"
    OTHER = "other"


class FeeBasis(StrEnum):
    PER_M2 = "per_m2"
    PER_UNIT = "per_unit"


class FeeKind(StrEnum):
    FEE = "fee"
    COST = "cost"


class ChargeSource(StrEnum):
    BILLING = "billing"
    IMPORT = "import"
    MANUAL = "manual"
    REPOST = "repost"
    COST = "cost"


class AdjustmentReason(StrEnum):
    VACANCY_DISCOUNT = "vacancy_discount"
    SETTLEMENT = "settlement"
    COURT_REDUCTION = "court_reduction"
    LATE_FEE_WAIVER = "late_fee_waiver"
    DISPUTE_CREDIT = "dispute_credit"
    OTHER = "other"


class InterruptionKind(StrEnum):
    DEMAND_DELIVERED = "demand_delivered"
    ACKNOWLEDGEMENT = "acknowledgement"
    PAYMENT_PLAN = "payment_plan"
    FILING = "filing"
    MEDIATION_REQUEST = "mediation_request"


def values(enum_cls: type[StrEnum]) -> list[Any]:
    return [member.value for member in enum_cls]


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class DisputeCategory(StrEnum):
    SERVICE_QUALITY = "service_quality"
    LEAK = "leak"
    VACANCY = "vacancy"
    AMOUNT_ERROR = "amount_error"
    DEVELOPER_DEFECT = "developer_defect"
    OTHER = "other"


class DisputeOutcome(StrEnum):
    WITHDRAWN = "withdrawn"
    FEE_ADJUSTED = "fee_adjusted"
    UPHELD = "upheld"


class PlanStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ActionStatus(StrEnum):
    """A prepared action waits for review, then goes out (or is removed by a person)."""

    PREPARED = "prepared"
    APPROVED = "approved"
    REMOVED = "removed"
    DISPATCHED = "dispatched"
    DONE = "done"


class MessageStatus(StrEnum):
    """Outbox states. `unknown` is final until a person resolves it: it is never resent by itself."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


class LegalRoute(StrEnum):
    """How a title is sought (L10–L12). Simplified and ordinary are both filed as a lawsuit."""

    PAYMENT_ORDER = "payment_order"
    SMALL_CLAIMS = "small_claims"
    SIMPLIFIED = "simplified"
    ORDINARY = "ordinary"
    ARBITRATION = "arbitration"


class LegalState(StrEnum):
    """The life of a legal case; withdrawal and dismissal can end it at any point."""

    DRAFTED = "drafted"
    FILED = "filed"
    MEDIATION = "mediation"
    PAYMENT_ORDER_ISSUED = "payment_order_issued"
    OBJECTION_RAISED = "objection_raised"
    TITLE_EFFECTIVE = "title_effective"  # judgement, mediation document, unopposed order or award
    ENFORCEMENT_APPLIED = "enforcement_applied"
    DISHONEST_APPLIED = "dishonest_applied"
    LISTED = "listed"
    DELETION_REQUESTED = "deletion_requested"
    DELETED = "deleted"
    PAID = "paid"
    WITHDRAWN = "withdrawn"
    DISMISSED = "dismissed"
