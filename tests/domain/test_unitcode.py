"""Unit codes sort as people read them (lists, exports, notices)."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from arrears.domain.unitcode import natural_key


def test_numbers_compare_as_numbers() -> None:
    codes = ["1-10-101", "2-1-101", "1-2-301", "1-2-1201", "1-2-302", "B-3", "a-12", "商铺-2", "1-2-301A"]
    assert sorted(codes, key=natural_key) == [
        "1-2-301", "1-2-301A", "1-2-302", "1-2-1201", "1-10-101", "2-1-101", "a-12", "B-3", "商铺-2"]


def test_leading_zeros_and_spaces_do_not_matter() -> None:
    assert natural_key("01-002-0301") == natural_key("1-2-301") == natural_key(" 1-2-301 ")


def _reading_order(code: str) -> list[tuple[int, object]]:
    return [(0, int(part)) if part.isdigit() else (1, part.casefold())
            for part in re.split(r"([0-9]+)", code.strip()) if part]


codes = st.lists(st.one_of(st.integers(0, 10**9 - 1).map(str), st.sampled_from(["-", "A", "b", "栋", "-", "0"])),
                 min_size=1, max_size=6).map("".join)


@given(codes, codes)
def test_the_key_orders_as_the_parts_do(a: str, b: str) -> None:
    """Numbers by value, before words; words by character; a shorter code first when it is a prefix."""
    left, right = _reading_order(a), _reading_order(b)
    assume(all(value < 10**9 for kind, value in left + right if kind == 0))  # DIGITS wide
    assert (natural_key(a) < natural_key(b)) == (left < right)
    assert (natural_key(a) == natural_key(b)) == (left == right)


@given(codes)
def test_the_key_uses_only_characters_every_collation_orders_alike(code: str) -> None:
    assert set(natural_key(code)) <= set("0123456789abcdef")

