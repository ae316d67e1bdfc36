"""E-mail over SMTP against a real server on loopback; the outcome mapping decides retries."""

from __future__ import annotations

import datetime as dt

import pytest

from arrears.channels.base import OutgoingMessage, SendOutcome
from arrears.channels.email import SmtpGateway, message_id
from arrears.domain.escalation import Channel
from tests.support.smtp_server import LoopbackSmtpServer, free_port, smtp_server

__all__ = ["smtp_server"]

BODY = "张三您好：\n\n截至2026年11月22日，您名下阳光花园1-1-101尚欠物业服务费 1,969.00 元。\n.这一行以句点开头。\n"


def _message(key: str = "outbox:42", address: str = "owner@example.com") -> OutgoingMessage:
    return OutgoingMessage(key, Channel.EMAIL, address, "物业费催缴通知（阳光花园1-1-101）", BODY, "zh_CN")


def _gateway(server: LoopbackSmtpServer, timeout: float = 5) -> SmtpGateway:
    return SmtpGateway(server.host, server.port, mail_from="wuye@example.com", timeout=timeout)


def test_message_arrives_with_utf8_subject_body_and_idempotency_headers(smtp_server: LoopbackSmtpServer) -> None:
    before = dt.datetime.now(dt.UTC)
    result = _gateway(smtp_server).send(_message())
    assert result.outcome == SendOutcome.ACCEPTED
    assert result.at is not None and result.at >= before and result.at.tzinfo is not None
    [mail] = smtp_server.messages
    assert mail.mail_from == "wuye@example.com" and mail.rcpt_tos == ["owner@example.com"]
    assert mail.message["Subject"] == "物业费催缴通知（阳光花园1-1-101）"
    assert mail.message["X-Arrears-Message"] == "outbox:42"
    assert mail.message["Message-ID"] == "<arrears.outbox.42@example.com>" == result.gateway_ref
    assert mail.message.get_content_charset() == "utf-8"
    assert mail.message.get_content() == BODY  # dot-stuffing undone by the server, text intact
    assert "250" in result.detail


def test_message_id_is_stable_per_key_and_safe() -> None:
    assert message_id("outbox:7", "a@b.cn") == message_id("outbox:7", "a@b.cn") == "<arrears.outbox.7@b.cn>"
    assert message_id("x y<z>", "noreply") == "<arrears.x.y.z@localhost>"
    assert message_id("outbox:7", "物业 <wuye@wy.cn>") == "<arrears.outbox.7@wy.cn>"


def test_refused_recipient_is_rejected_and_nothing_is_received(smtp_server: LoopbackSmtpServer) -> None:
    smtp_server.refuse("nobody@example.com")
    result = _gateway(smtp_server).send(_message(address="nobody@example.com"))
    assert result.outcome == SendOutcome.REJECTED
    assert "550" in result.detail
    assert smtp_server.messages == []


def test_closed_port_is_retry() -> None:
    result = SmtpGateway("127.0.0.1", free_port(), mail_from="wuye@example.com", timeout=2).send(_message())
    assert result.outcome == SendOutcome.RETRY
    assert "connect" in result.detail


@pytest.mark.parametrize(("reply", "outcome"), [
    ("554 5.6.0 message refused", SendOutcome.REJECTED),
    ("451 4.3.0 try again later", SendOutcome.RETRY),
])
def test_refusal_at_end_of_data_is_known(smtp_server: LoopbackSmtpServer, reply: str, outcome: SendOutcome) -> None:
    smtp_server.reply_to_data(reply)
    result = _gateway(smtp_server).send(_message())
    assert result.outcome == outcome
    assert reply[:3] in result.detail


def test_no_final_reply_after_data_is_unknown(smtp_server: LoopbackSmtpServer) -> None:
    """The server has the message but the client never hears so: it must not be resent blindly."""
    smtp_server.stall_after_data()
    result = _gateway(smtp_server, timeout=0.5).send(_message())
    assert result.outcome == SendOutcome.UNKNOWN
    assert len(smtp_server.messages) == 1


def test_login_refused_is_retry(smtp_server: LoopbackSmtpServer) -> None:
    """The loopback server offers no AUTH: logging in fails before anything is sent."""
    gateway = SmtpGateway(smtp_server.host, smtp_server.port, user="u", password="p",
                          mail_from="wuye@example.com", timeout=5)
    result = gateway.send(_message())
    assert result.outcome == SendOutcome.RETRY
    assert smtp_server.messages == []
