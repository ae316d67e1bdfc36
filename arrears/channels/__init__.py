"""Outgoing channels (e-mail over SMTP, an SMS HTTP gateway, printed letters): one interface each,
no database access; the outbox service decides what to send and records the results."""
