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
from .property import Building, Community, Owner, Ownership, OwnershipParty, Unit
from .tenancy import AuditEntry, Company, LoginAttempt, Membership, User

__all__ = [
    "Adjustment", "Allocation", "AuditEntry", "BackgroundJob", "Base", "Building", "Charge",
    "Community", "Company", "FeeItem", "FeeSchedule", "ImportBatch", "Interruption",
    "InterruptionCharge", "LoginAttempt", "Membership", "Owner", "Ownership", "OwnershipParty",
    "Payment", "Reversal", "Unit", "User",
]
