"""Escalation use cases: policy, the nightly sweep, review, holds/disputes/plans, outbox, delivery."""
