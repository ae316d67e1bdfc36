"""E-mail over SMTP.

The outcome mapping is what makes retries safe: everything that fails before the message content
was handed to the server (connect, greeting, TLS, login, MAIL FROM, RCPT TO, the DATA command
itself) sent nothing; an explicit SMTP reply refusing the message is a known refusal (4xx
transient, 5xx final); but once the content was written, a lost connection or a timeout waiting
for the final reply leaves the outcome UNKNOWN — the server may already have queued the message.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr

from arrears.domain.escalation import Channel

from .base import OutgoingMessage, SendOutcome, SendResult, utcnow

CRLF = b"\r\n"
HEADER = "X-Arrears-Message"


class _Refused(Exception):
    def __init__(self, outcome: SendOutcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


class SmtpGateway:
    """Sends one message per connection; `send` never raises for delivery problems."""

    channel = Channel.EMAIL

    def __init__(self, host: str, port: int, user: str | None = None, password: str | None = None,
                 starttls: bool = False, mail_from: str = "arrears@localhost", timeout: float = 30) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.starttls = starttls
        self.mail_from = mail_from
        self.timeout = timeout

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The MIME message: UTF-8, Message-ID derived from the idempotency key (so a receiving
        server or a person can recognise a duplicate), and the key itself in a header."""
        mail = EmailMessage()
        mail["From"] = self.mail_from
        mail["To"] = message.address
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(utcnow())
        mail["Message-ID"] = message_id(message.idempotency_key, self.mail_from)
        mail[HEADER] = message.idempotency_key
        mail["Content-Language"] = message.language.replace("_", "-")
        mail.set_content(message.body, charset="utf-8")
        return mail

    def send(self, message: OutgoingMessage) -> SendResult:
        mail = self.build(message)
        ref = str(mail["Message-ID"])
        try:
            smtp = self._connect()
        except _Refused as refused:
            return SendResult(refused.outcome, detail=refused.detail)
        try:
            reply = self._transmit(smtp, message.address, mail)
        except _Refused as refused:
            return SendResult(refused.outcome, gateway_ref=None, detail=refused.detail)
        finally:
            _close(smtp)
        return SendResult(SendOutcome.ACCEPTED, gateway_ref=ref, detail=reply, at=utcnow())

    def _connect(self) -> smtplib.SMTP:
        """Connect, greet, TLS, log in. Any failure here sent nothing: RETRY."""
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        except (OSError, smtplib.SMTPException) as exc:  # refused, timeout, SMTPConnectError
            raise _Refused(SendOutcome.RETRY, f"connect: {_describe(exc)}") from exc
        try:
            smtp.ehlo_or_helo_if_needed()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
        except (OSError, smtplib.SMTPException) as exc:  # SMTPHeloError, SMTPAuthenticationError, ...
            _close(smtp)
            raise _Refused(SendOutcome.RETRY, f"session: {_describe(exc)}") from exc
        return smtp

    def _transmit(self, smtp: smtplib.SMTP, recipient: str, mail: EmailMessage) -> str:
        try:
            code, reply = smtp.mail(parseaddr(self.mail_from)[1])
            if code != 250:  # sender refused: our side, nothing sent
                raise _Refused(SendOutcome.RETRY, f"MAIL FROM refused: {code} {_text(reply)}")
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise _Refused(_by_code(code), f"recipient refused: {code} {_text(reply)}")
            code, reply = smtp.docmd("DATA")
            if code != 354:
                raise _Refused(_by_code(code), f"DATA refused: {code} {_text(reply)}")
        except (OSError, smtplib.SMTPException) as exc:
            raise _Refused(SendOutcome.RETRY, f"before DATA: {_describe(exc)}") from exc
        try:  # from here on the server may have the message
            smtp.send(_dot_stuffed(mail.as_bytes(policy=SMTP_POLICY)))
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            raise _Refused(SendOutcome.UNKNOWN, f"after DATA: {_describe(exc)}") from exc
        if code != 250:
            raise _Refused(_by_code(code), f"message refused: {code} {_text(reply)}")
        return f"{code} {_text(reply)}"


def message_id(idempotency_key: str, mail_from: str) -> str:
    """`<arrears.{key}@{sender domain}>` with the key reduced to msg-id-safe characters."""
    safe = re.sub(r"[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]", ".", idempotency_key).strip(".") or "message"
    address = parseaddr(mail_from)[1]
    domain = address.rpartition("@")[2] if "@" in address else "localhost"
    return f"<arrears.{safe}@{domain}>"


def _by_code(code: int) -> SendOutcome:
    """4xx: transient refusal (retry); 5xx (or anything else unexpected): final refusal."""
    return SendOutcome.RETRY if 400 <= code < 500 else SendOutcome.REJECTED


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload as smtplib.SMTP.data sends it: CRLF lines, leading dots doubled, '.' end."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", CRLF, data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(CRLF):
        data += CRLF
    return data + b"." + CRLF


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
