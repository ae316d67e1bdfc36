"""Unit codes in the order people read them: 1-2-301 before 1-10-101 (numbers compare as numbers).

``natural_key`` turns a code into text that sorts that way with a plain string comparison, so the
database can order and index it: every run of ASCII digits is left-padded to a fixed width, the rest
is case-folded. Codes that differ only in leading zeros ("01" and "1") get the same key; a query
breaks such ties by the code itself. Runs longer than ``DIGITS`` compare as text.
"""

from __future__ import annotations

import re

DIGITS = 9  # building, entrance and room numbers are far shorter
_RUNS = re.compile(r"([0-9]+)")


def natural_key(code: str) -> str:
    parts = _RUNS.split(code.strip())
    # split() with a capturing group puts the digit runs at the odd positions
    return "".join((part.lstrip("0") or "0").zfill(DIGITS) if index % 2 else part.casefold()
                   for index, part in enumerate(parts))
