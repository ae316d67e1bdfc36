"""The interface every outgoing channel implements.

A gateway says precisely what it knows about a send, because the outbox acts on it: RETRY and
REJECTED promise that nothing reached the owner (safe to retry / fall back to the next channel);
UNKNOWN means the message may have gone out, so it is never resent by itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from arrears.domain.escalation import Channel


class SendOutcome(StrEnum):
    ACCEPTED = "accepted"  # the gateway took the message
    RETRY = "retry"  # known: nothing sent, the failure is transient
    REJECTED = "rejected"  # known: nothing sent, the failure is final (fall back)
    UNKNOWN = "unknown"  # may have been sent: a person resolves it


@dataclass(frozen=True)
class OutgoingMessage:
    """What the outbox hands a gateway; `idempotency_key` is derived from the outbox id."""

    idempotency_key: str
    channel: Channel
    address: str
    subject: str
    body: str
    language: str = "zh_CN"


@dataclass(frozen=True)
class SendResult:
    outcome: SendOutcome
    gateway_ref: str | None = None
    detail: str = ""
    at: dt.datetime | None = None


class Gateway(Protocol):
    channel: Channel

    def send(self, message: OutgoingMessage) -> SendResult: ...


@dataclass(frozen=True)
class Receipt:
    """A delivery report polled from a gateway (the SMS gateway's receipts)."""

    gateway_ref: str
    idempotency_key: str
    delivered: bool
    at: dt.datetime
    detail: str = ""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
