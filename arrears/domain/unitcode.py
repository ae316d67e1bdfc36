"""Unit codes in the order people read them: 1-2-301 before 1-10-101 (numbers compare as numbers).

``natural_key`` turns a code into text that sorts that way with a plain string comparison, so the
database can order and index it. The code is cut into runs of ASCII digits and runs of anything
else; each run becomes a tagged token made only of the characters 0-9 and a-f, so every database
collation orders the keys the same way:

* a number: ``1`` and the number padded to ``DIGITS`` places (numbers sort before words);
* a word: ``2``, then ``1`` and six hex digits per character (case-folded), then ``0`` — the end mark
  sorts before any further character, so "-" comes before "--".

Codes that differ only in leading zeros ("01" and "1") get the same key; a query breaks such ties by
id. Numbers longer than ``DIGITS`` compare as text.
"""

from __future__ import annotations

import re

DIGITS = 9  # building, entrance and room numbers are far shorter
_RUNS = re.compile(r"([0-9]+)")


def natural_key(code: str) -> str:
    # split() with a capturing group puts the digit runs at the odd positions (words may be empty)
    parts = _RUNS.split(code.strip())
    return "".join(_number(part) if index % 2 else _word(part) for index, part in enumerate(parts) if part)


def _number(run: str) -> str:
    return "1" + (run.lstrip("0") or "0").zfill(DIGITS)


def _word(run: str) -> str:
    return "2" + "".join(f"1{ord(char):06x}" for char in run.casefold()) + "0"
