"""Every model, importable from one place (Alembic's env and the services use this)."""

from .base import Base
from .ledger import (
    Adjustment,
    Allocation,
    BackgroundJob,
    Charge,
    FeeItem,
    FeeSchedule,
    ImportBatch,
    Interruption,
    InterruptionCharge,
    Payment,
    Reversal,
)
from .documents import NoticeStatus, PublicNotice
from .escalation import (
    CaseHold,
    CaseStage,
    CollectionCase,
    Dispute,
    EscalationAction,
    EscalationPolicy,
    EscalationRun,
    EscalationStage,
    LimitationWarning,
    MediationSession,
    PaymentPlan,
    PlanInstalment,
)
from .legal import LegalCase, LegalEvent, SmallClaimsCeiling
from .messaging import (
    ContactStop,
    Delivery,
    LetterBatch,
    MessageAction,
    OutboundMessage,
    SchedulerLease,
    StoredFile,
)
from .property import Building, Community, Owner, Ownership, OwnershipParty, Unit
from .reporting import BilledSummary, CollectionSummary, CollectionSummaryDay, SummaryBuild
from .tenancy import AuditEntry, Company, LoginAttempt, Membership, User
from .workspace import OwnerLink, OwnerRequest, OwnerRequestKind, OwnerRequestStatus, SavedFilter

__all__ = [
    "LegalCase", "LegalEvent", "SmallClaimsCeiling",
    "CaseHold", "CaseStage", "CollectionCase", "ContactStop", "Delivery", "Dispute",
    "EscalationAction", "EscalationPolicy", "EscalationRun", "EscalationStage", "LetterBatch",
    "LimitationWarning", "MediationSession", "MessageAction", "OutboundMessage", "PaymentPlan",
    "PlanInstalment", "SchedulerLease", "StoredFile",
    "NoticeStatus", "PublicNotice",
    "Adjustment", "Allocation", "AuditEntry", "BackgroundJob", "Base", "Building", "Charge",
    "Community", "Company", "FeeItem", "FeeSchedule", "ImportBatch", "Interruption",
    "InterruptionCharge", "LoginAttempt", "Membership", "Owner", "Ownership", "OwnershipParty",
    "Payment", "Reversal", "Unit", "User",
    "OwnerLink", "OwnerRequest", "OwnerRequestKind", "OwnerRequestStatus", "SavedFilter",
    "BilledSummary", "CollectionSummary", "CollectionSummaryDay", "SummaryBuild",
]
