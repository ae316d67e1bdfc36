"""Owners' self-service: signed links (links), what owners ask and staff triage (requests), and
what an owner sees (statement)."""
