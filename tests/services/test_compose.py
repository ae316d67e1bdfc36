"""Message texts: one bundled message per owner (L17), demands carry art. 944 and the deadline (L2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arrears.domain.escalation import Action, Channel
from arrears.services.escalation.compose import Composed, Item, Sender, compose, items_from_charges

SENDER = Sender("阳光物业服务有限公司", "南京市鼓楼区中山路1号", "025-88888888")
AS_OF = dt.date(2026, 11, 29)
CHARGES = [{"id": 1, "period": "2026-01", "due": "2026-01-15", "outstanding": "200.00"},
           {"id": 2, "period": "2026-02", "due": "2026-02-15", "outstanding": "1200.50"}]


def _item(action: Action = Action.REMINDER, template: str = "reminder", unit: str = "阳光花园 1-1-101",
          deadline_days: int | None = None) -> Item:
    return Item(action, template, unit, Decimal("1400.50"), items_from_charges(CHARGES), deadline_days)


def _compose(items: list[Item], channel: Channel = Channel.EMAIL, language: str = "zh_CN") -> Composed:
    return compose(items, channel=channel, language=language, owner_name="张三", sender=SENDER, as_of=AS_OF)


def test_reminder_email_lists_unit_amount_periods_and_contact() -> None:
    message = _compose([_item()])
    assert message.subject == "物业服务费缴费提醒"
    for text in ("尊敬的张三", "阳光花园 1-1-101", "1,400.50", "2026-01、2026-02", "025-88888888",
                 "缴费方式", "异议"):
        assert text in message.body


def test_l2_demand_cites_art_944_deadline_from_receipt_and_every_charge() -> None:
    message = _compose([_item(Action.DEMAND, "demand", deadline_days=20)])
    assert "催缴通知" in message.subject
    assert "第九百四十四条" in message.body
    assert "自收到本通知之日起 20 日内" in message.body
    assert "2026-01（2026-01-15 到期）：200.00 元" in message.body
    assert "2026-02（2026-02-15 到期）：1,200.50 元" in message.body
    assert "南京市鼓楼区中山路1号" in message.body  # how to pay


def test_l17_bundle_puts_every_unit_in_one_message_most_serious_first() -> None:
    message = _compose([_item(unit="A栋 101"), _item(Action.DEMAND, "demand", unit="B栋 202", deadline_days=15)])
    assert message.templates == ("demand", "reminder")
    assert "催缴通知" in message.subject
    assert message.body.index("B栋 202") < message.body.index("A栋 101")
    assert message.body.count("尊敬的张三") == 1


def test_sms_is_one_short_line() -> None:
    message = _compose([_item(), _item(unit="阳光花园 2-2-202")], channel=Channel.SMS)
    assert "\n" not in message.body
    assert "阳光花园 1-1-101" in message.body and "阳光花园 2-2-202" in message.body
    assert len(message.body) < 200


def test_english_and_unknown_language_falls_back_to_chinese() -> None:
    english = _compose([_item(Action.DEMAND, "demand", deadline_days=15)], language="en")
    assert "Article 944" in english.body and "within 15 days of receipt" in english.body
    assert english.subject.startswith("Demand for payment")
    assert _compose([_item()], language="fr").subject == "物业服务费缴费提醒"
    assert _compose([_item()], language="en_US").subject.startswith("Reminder")
    assert _compose([_item()], language="../messages/en").subject == "物业服务费缴费提醒"  # never a path


def test_pre_due_notice_and_unknown_template_falls_back_by_action() -> None:
    notice = _compose([_item(Action.PRE_DUE_NOTICE, "pre_due")], channel=Channel.SMS)
    assert "将于2026-01-15到期" in notice.body
    custom = _compose([_item(Action.DEMAND, "my_custom_demand", deadline_days=15)])
    assert custom.templates == ("demand",)
    other = _compose([_item(Action.REMINDER, "")])
    assert other.templates == ("reminder",)


def test_an_empty_message_is_refused() -> None:
    with pytest.raises(ValueError):
        _compose([])
