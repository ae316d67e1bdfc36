"""A local HTTP server standing in for the SMS gateway (contract: docs/sms-gateway.md).

It records sends, dedups them by the request's "id" (the outbox's idempotency key: a repeated id
gets the same ref and is not sent twice), fails the next N sends with a given status on request,
can take a send and never answer (the client times out: outcome unknown), and serves receipts.

    from tests.support.sms_gateway import sms_gateway  # the fixture
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

HOST = "127.0.0.1"
KEY = "test-sms-key"


@dataclass
class _Failure:
    status: int
    body: bytes


class FakeSmsGateway:
    """State of the stand-in; every method is thread-safe."""

    def __init__(self, key: str = KEY) -> None:
        self.key = key
        self.sends: list[dict[str, Any]] = []  # distinct messages, in order ("ref" added)
        self.requests = 0  # every POST /send, duplicates and failures included
        self.receipts: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}
        self._failures: list[_Failure] = []
        self._hang = 0
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._refs = itertools.count(1)
        self._server = ThreadingHTTPServer((HOST, 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def fail_next(self, count: int, status: int, body: bytes | None = None) -> None:
        """The next `count` sends get this status (and are not sent)."""
        reply = body if body is not None else json.dumps({"error": f"simulated {status}"}).encode()
        with self._lock:
            self._failures.extend(_Failure(status, reply) for _ in range(count))

    def hang_next(self, count: int = 1) -> None:
        """The next `count` sends are taken (and sent) but never answered until the server stops."""
        with self._lock:
            self._hang += count

    def receipt(self, message_id: str, *, delivered: bool = True, at: dt.datetime | None = None,
                error: str = "") -> dict[str, Any]:
        """Make the gateway report a delivery (or failure) of a message sent with this id."""
        with self._lock:
            sent = self._by_id[message_id]
            item = {"ref": sent["ref"], "id": message_id, "status": "delivered" if delivered else "failed",
                    "at": (at or dt.datetime.now(dt.UTC)).isoformat()}
            if error:
                item["error"] = error
            self.receipts.append(item)
            return item

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # called from the server threads
    def _send(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any], bool]:
        with self._lock:
            self.requests += 1
            if self._failures:
                failure = self._failures.pop(0)
                return failure.status, {"raw": failure.body}, False
            missing = [name for name in ("id", "phone", "text") if not payload.get(name)]
            if missing:
                return 422, {"error": f"missing {', '.join(missing)}"}, False
            known = self._by_id.get(payload["id"])
            if known is None:
                known = {**payload, "ref": f"sms-{next(self._refs)}"}
                self._by_id[payload["id"]] = known
                self.sends.append(known)
            hang = self._hang > 0
            self._hang -= 1 if hang else 0
            return 200, {"status": "accepted", "ref": known["ref"]}, hang

    def _receipts_since(self, since: dt.datetime) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.receipts if dt.datetime.fromisoformat(r["at"]) >= since]


def _handler_for(gateway: FakeSmsGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            if not self._authorised():
                return
            if urlsplit(self.path).path != "/send":
                self._reply(404, {"error": "not found"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length).decode("utf-8"))
            except ValueError:
                self._reply(400, {"error": "malformed JSON"})
                return
            status, body, hang = gateway._send(payload)
            if hang:
                gateway._release.wait(timeout=30)
                return  # the connection closes without a reply
            self._reply(status, body)

        def do_GET(self) -> None:  # noqa: N802
            parts = urlsplit(self.path)
            if not self._authorised():
                return
            if parts.path != "/receipts":
                self._reply(404, {"error": "not found"})
                return
            since = parse_qs(parts.query).get("since", [""])[0]
            try:
                since_at = dt.datetime.fromisoformat(since)
            except ValueError:
                self._reply(400, {"error": "since must be an ISO date-time"})
                return
            self._reply(200, gateway._receipts_since(since_at))

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {gateway.key}":
                self._reply(401, {"error": "bad key"})
                return False
            return True

        def _reply(self, status: int, body: Any) -> None:
            raw = body["raw"] if isinstance(body, dict) and "raw" in body else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except OSError:
                pass  # the client gave up

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
            pass

    return Handler


@pytest.fixture
def sms_gateway() -> Iterator[FakeSmsGateway]:
    gateway = FakeSmsGateway()
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()
