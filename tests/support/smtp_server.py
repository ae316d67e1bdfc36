"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for e-mail tests.

    from tests.support.smtp_server import smtp_server  # the fixture

    def test_x(smtp_server):
        gateway = SmtpGateway(smtp_server.host, smtp_server.port, mail_from="a@example.com")
        ...
        assert smtp_server.messages[0].message["Subject"] == "..."
"""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class _Handler:
    messages: list[ReceivedMail] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # RCPT TO answered 550
    data_reply: str | None = None  # e.g. "554 5.6.0 rejected" instead of 250
    stall: asyncio.Event | None = None  # keep the DATA reply back (the client times out)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.refused:
            return "550 5.1.1 <%s>: recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content)
        if self.data_reply is not None:
            return self.data_reply
        message = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw, message))
        if self.stall is not None:  # the server has the message, but the client never hears so
            try:
                await asyncio.wait_for(self.stall.wait(), timeout=10)
            except asyncio.TimeoutError:
                pass
        return "250 2.0.0 Ok: queued"


class LoopbackSmtpServer:
    """The running server: `host`, `port`, `messages`, and knobs to make it misbehave."""

    def __init__(self) -> None:
        self.handler = _Handler()
        self.host = HOST
        self.port = free_port()
        self._controller = Controller(self.handler, hostname=HOST, port=self.port, ready_timeout=10)

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.handler.messages

    def refuse(self, address: str) -> None:
        """Answer RCPT TO for this address with 550."""
        self.handler.refused.add(address.lower())

    def reply_to_data(self, reply: str | None) -> None:
        """Answer the end of DATA with this line (e.g. "451 4.3.0 try later"); None for 250."""
        self.handler.data_reply = reply

    def stall_after_data(self) -> None:
        """Take the message but hold the final reply back, as a server that dies mid-reply."""
        self.handler.stall = asyncio.Event()  # bound to the server's loop on first wait

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        if self.handler.stall is not None:
            self._controller.loop.call_soon_threadsafe(self.handler.stall.set)
        self._controller.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[LoopbackSmtpServer]:
    server = LoopbackSmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
