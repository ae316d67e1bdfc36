"""SMS through the HTTP gateway adapter against a local stand-in (docs/sms-gateway.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from arrears.channels.base import OutgoingMessage, SendOutcome
from arrears.channels.sms import SmsGateway, SmsGatewayError
from arrears.domain.escalation import Channel
from tests.support.sms_gateway import FakeSmsGateway, sms_gateway
from tests.support.smtp_server import free_port

__all__ = ["sms_gateway"]

TEXT = "【阳光物业】张三您好，您名下1-1-101尚欠物业费1,969.00元，请于12月7日前缴纳。"


def _message(key: str = "outbox:7") -> OutgoingMessage:
    return OutgoingMessage(key, Channel.SMS, "13800138000", "", TEXT, "zh_CN")


def _adapter(gateway: FakeSmsGateway, timeout: float = 5, key: str | None = None) -> SmsGateway:
    return SmsGateway(gateway.url, key or gateway.key, sign="阳光物业", template="SMS_001", timeout=timeout)


def test_accepted_send_carries_the_idempotency_key_sign_and_template(sms_gateway: FakeSmsGateway) -> None:
    result = _adapter(sms_gateway).send(_message())
    assert result.outcome == SendOutcome.ACCEPTED
    assert result.gateway_ref == "sms-1" and result.at is not None
    [sent] = sms_gateway.sends
    assert sent == {"id": "outbox:7", "phone": "13800138000", "text": TEXT, "sign": "阳光物业",
                    "template": "SMS_001", "ref": "sms-1"}


def test_a_repeated_key_is_sent_once_and_gets_the_same_ref(sms_gateway: FakeSmsGateway) -> None:
    adapter = _adapter(sms_gateway)
    first, second = adapter.send(_message()), adapter.send(_message())
    assert first.gateway_ref == second.gateway_ref == "sms-1"
    assert len(sms_gateway.sends) == 1 and sms_gateway.requests == 2
    assert adapter.send(_message("outbox:8")).gateway_ref == "sms-2"


@pytest.mark.parametrize(("status", "outcome"), [
    (429, SendOutcome.RETRY), (503, SendOutcome.RETRY),
    (400, SendOutcome.REJECTED), (422, SendOutcome.REJECTED),
    (500, SendOutcome.UNKNOWN), (502, SendOutcome.UNKNOWN),
])
def test_http_failures_map_to_outcomes(sms_gateway: FakeSmsGateway, status: int, outcome: SendOutcome) -> None:
    sms_gateway.fail_next(1, status)
    result = _adapter(sms_gateway).send(_message())
    assert result.outcome == outcome
    assert f"HTTP {status}" in result.detail and f"simulated {status}" in result.detail
    assert sms_gateway.sends == []
    # the failure was for one request only
    assert _adapter(sms_gateway).send(_message()).outcome == SendOutcome.ACCEPTED


def test_wrong_key_is_retry_not_a_final_refusal(sms_gateway: FakeSmsGateway) -> None:
    assert _adapter(sms_gateway, key="wrong").send(_message()).outcome == SendOutcome.RETRY
    assert sms_gateway.sends == []


def test_connection_refused_is_retry() -> None:
    adapter = SmsGateway(f"http://127.0.0.1:{free_port()}", "k", timeout=2)
    result = adapter.send(_message())
    assert result.outcome == SendOutcome.RETRY and "not sent" in result.detail


def test_timeout_after_the_request_was_sent_is_unknown(sms_gateway: FakeSmsGateway) -> None:
    """The gateway took the message but never answered: it may go out, so it is not retried."""
    sms_gateway.hang_next()
    result = _adapter(sms_gateway, timeout=0.5).send(_message())
    assert result.outcome == SendOutcome.UNKNOWN
    assert len(sms_gateway.sends) == 1


@pytest.mark.parametrize("body", [b"not json", b'{"status": "queued"}', b'{"status": "accepted"}', b"[]"])
def test_malformed_reply_is_unknown(sms_gateway: FakeSmsGateway, body: bytes) -> None:
    sms_gateway.fail_next(1, 200, body)
    assert _adapter(sms_gateway).send(_message()).outcome == SendOutcome.UNKNOWN


def test_receipts_are_polled_since_a_time(sms_gateway: FakeSmsGateway) -> None:
    adapter = _adapter(sms_gateway)
    adapter.send(_message("outbox:1"))
    adapter.send(_message("outbox:2"))
    adapter.send(_message("outbox:3"))
    t0 = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
    sms_gateway.receipt("outbox:1", at=t0 - dt.timedelta(hours=1))
    sms_gateway.receipt("outbox:2", at=t0 + dt.timedelta(minutes=5))
    sms_gateway.receipt("outbox:3", delivered=False, at=t0 + dt.timedelta(minutes=6), error="UNDELIV")
    receipts = adapter.poll_receipts(t0)
    assert [(r.idempotency_key, r.gateway_ref, r.delivered) for r in receipts] == [
        ("outbox:2", "sms-2", True), ("outbox:3", "sms-3", False)]
    assert receipts[0].at == t0 + dt.timedelta(minutes=5) and receipts[1].detail == "UNDELIV"
    # a local-time `since` means the same instant
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert len(adapter.poll_receipts(t0.astimezone(shanghai))) == 2


def test_polling_failure_raises() -> None:
    with pytest.raises(SmsGatewayError):
        SmsGateway(f"http://127.0.0.1:{free_port()}", "k", timeout=2).poll_receipts(dt.datetime.now(dt.UTC))
