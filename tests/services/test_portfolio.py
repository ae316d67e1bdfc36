"""The units list reads its page from unit alone and orders codes as people read them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from arrears.domain.unitcode import natural_key
from arrears.persistence.models import Unit
from arrears.services import portfolio
from tests.factories import make_community, make_unit

TODAY = dt.date(2026, 11, 29)


def test_unit_codes_in_natural_order_across_pages(session: Session) -> None:
    community = make_community(session)
    for code in ("1-10-101", "2-1-101", "1-2-1201", "1-2-301", "1-2-302"):
        make_unit(session, community, code=code)
    first, total = portfolio.units(session, community.company_id, TODAY, page=1, per_page=3)
    second, _ = portfolio.units(session, community.company_id, TODAY, page=2, per_page=3)
    assert total == 5
    assert [r.unit.code for r in first + second] == ["1-2-301", "1-2-302", "1-2-1201", "1-10-101", "2-1-101"]


def test_a_core_insert_fills_the_sort_key(session: Session) -> None:
    """Imports insert units with Core statements that give only the code."""
    unit = make_unit(session)
    session.execute(insert(Unit), [{"company_id": unit.company_id, "community_id": unit.community_id,
                                    "building_id": unit.building_id, "code": "3-04-0501", "area": unit.area}])
    key = session.scalar(select(Unit.sort_key).where(Unit.code == "3-04-0501"))
    assert key == natural_key("3-4-501") and key < natural_key("3-10-1")


def test_the_longest_key_fits_its_column() -> None:
    """unit.code is 40 characters; the worst case alternates one-digit numbers and one-letter words."""
    longest = max(len(natural_key(code)) for code in ("1-" * 20, "栋" * 40, "1" * 40, "-1" * 20))
    assert longest <= Unit.__table__.c.sort_key.type.length == 400
