"""Loopback stand-ins for the outside world (an SMTP server, an SMS gateway) and their fixtures.

Import the fixtures where they are used: ``from tests.support.smtp_server import smtp_server``.
"""
