"""SMS through an HTTP gateway (JSON contract in docs/sms-gateway.md), with stdlib urllib only.

The idempotency key travels as the request's "id": the gateway sends a repeated id only once, so
even a resend after an UNKNOWN outcome would not reach the owner twice. Outcome mapping: a failure
to connect or to write the request sent nothing (RETRY); 429/503 say "not now" (RETRY); 400/422
say "never" (REJECTED); a 500, a timeout while waiting for the reply or a reply we cannot read may
hide an accepted message (UNKNOWN).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from arrears.domain.escalation import Channel

from .base import OutgoingMessage, Receipt, SendOutcome, SendResult, utcnow

RETRY_STATUSES = frozenset({408, 425, 429, 503})
REJECTED_STATUSES = frozenset({400, 404, 405, 409, 413, 415, 422})
# anything else (401/403 included: a wrong key is our configuration, nothing was sent) — see _by_status


class SmsGatewayError(Exception):
    """Polling receipts failed; the caller tries again on its next run."""


class SmsGateway:
    channel = Channel.SMS

    def __init__(self, url: str, key: str, sign: str = "", template: str = "", timeout: float = 10) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.sign = sign
        self.template = template
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def payload(self, message: OutgoingMessage) -> dict[str, str]:
        return {"id": message.idempotency_key, "phone": message.address, "text": message.body,
                "sign": self.sign, "template": self.template}

    def send(self, message: OutgoingMessage) -> SendResult:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(f"{self.url}/send", data=body, method="POST", headers=self._headers())
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return SendResult(_by_status(exc.code), detail=f"HTTP {exc.code}: {_error_text(exc)}")
        except urllib.error.URLError as exc:  # connect refused/timed out, DNS, request not written
            return SendResult(SendOutcome.RETRY, detail=f"not sent: {exc.reason}")
        except (OSError, http.client.HTTPException) as exc:  # the request went out, the reply did not come
            return SendResult(SendOutcome.UNKNOWN, detail=f"no reply: {type(exc).__name__}: {exc}")
        return _accepted(raw)

    def poll_receipts(self, since: dt.datetime) -> list[Receipt]:
        """Receipts with `at` on or after `since` (inclusive: the caller dedups)."""
        query = urllib.parse.urlencode({"since": since.astimezone(dt.UTC).isoformat()})
        request = urllib.request.Request(f"{self.url}/receipts?{query}", headers=self._headers())
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                items = json.loads(response.read().decode("utf-8"))
            return [_receipt(item) for item in items]
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:
            raise SmsGatewayError(f"polling receipts failed: {type(exc).__name__}: {exc}") from exc

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json"}


def _by_status(status: int) -> SendOutcome:
    if status in RETRY_STATUSES or status in (401, 403):
        return SendOutcome.RETRY
    if status in REJECTED_STATUSES:
        return SendOutcome.REJECTED
    return SendOutcome.UNKNOWN  # 500, 502, 504, ...: the gateway may have taken it


def _accepted(raw: bytes) -> SendResult:
    try:
        reply: Any = json.loads(raw.decode("utf-8"))
        ref = reply["ref"] if reply.get("status") == "accepted" else None
    except (ValueError, AttributeError, KeyError, TypeError):
        ref = None
    if not isinstance(ref, str) or not ref:
        return SendResult(SendOutcome.UNKNOWN, detail=f"unreadable reply: {raw[:200]!r}")
    return SendResult(SendOutcome.ACCEPTED, gateway_ref=ref, at=utcnow())


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read()
        reply = json.loads(raw.decode("utf-8"))
        return str(reply.get("error", reply)) if isinstance(reply, dict) else str(reply)
    except (OSError, ValueError, http.client.HTTPException):
        return str(exc.reason)


def _receipt(item: dict[str, Any]) -> Receipt:
    status = item["status"]
    if status not in ("delivered", "failed"):
        raise ValueError(f"unknown receipt status {status!r}")
    at = dt.datetime.fromisoformat(item["at"])
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return Receipt(gateway_ref=str(item["ref"]), idempotency_key=str(item["id"]), delivered=status == "delivered",
                   at=at.astimezone(dt.UTC), detail=str(item.get("error") or ""))
