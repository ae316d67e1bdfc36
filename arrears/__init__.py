"""arrears: fee-arrears collection and legal escalation for property-management companies."""

__version__ = "0.1.0"
