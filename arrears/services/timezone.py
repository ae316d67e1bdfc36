"""Business dates live in the company's time zone (default Asia/Shanghai)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from arrears.persistence.models import Company


def company_today(company: Company, now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(ZoneInfo(company.timezone or "Asia/Shanghai")).date()
