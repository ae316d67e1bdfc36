"""Stored reasons and codes read in the UI's language."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale

from arrears.web.labels import action_reason

SWEEP = "229 days overdue; 8 periods; ¥12,000.50 (after reminder_1, reminder_2)"


def test_the_sweeps_reason_in_english(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        assert action_reason(SWEEP) == (
            "229 days overdue; 8 overdue periods; 12,000.50 yuan (after First reminder、Second reminder)")


def test_the_sweeps_reason_in_chinese(app: Flask) -> None:
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        text = action_reason(SWEEP + "\n[outbox] not sent: no usable channel")
    first, second = text.splitlines()
    assert "229" in first and "12,000.50" in first and "第一次催缴提醒" in first and "days" not in first
    assert second == "[outbox] not sent: no usable channel"  # not in the sweep's form: as written


def test_one_period_and_no_skipped_stages(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        assert action_reason("20 days overdue; 1 period; ¥250.00") == "20 days overdue; 1 overdue period; 250.00 yuan"
        assert action_reason(None) == ""
