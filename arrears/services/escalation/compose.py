"""Message texts: subject and body of one owner's bundled message, in the owner's language.

Templates live in ``templates/messages/<language>/`` and are rendered with plain Jinja2 (services
do not import Flask):

* ``<template>.<kind>.txt`` — the section for the actions of one template (reminder, demand,
  pre_due), looping over ``items`` (one per unit); ``kind`` is ``sms`` for SMS and ``email`` for
  the long form (e-mail, letter, hand delivery);
* ``<template>.subject.txt`` — the subject when this template is the most serious in the message;
* ``bundle.<kind>.txt`` — the layout around the sections: greeting, how to pay, how to dispute,
  the company's contact and ``links`` — (unit, self-service URL) pairs, one per unit that has a
  link (``Item.link_url``). One owner's actions across all their units go out as one message (L17).

An unknown language falls back to its base language (en_US → en), then zh_CN; a template name
with no files (e.g. one typed in the policy editor) falls back to the file for its action.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from arrears.domain.escalation import Action, Channel

MESSAGES_DIR = Path(__file__).resolve().parents[3] / "templates" / "messages"
DEFAULT_LANGUAGE = "zh_CN"
#: Most serious first: it sets the subject and the order of sections.
SEVERITY = (Action.LEGAL_READY, Action.MEDIATION_REFERRAL, Action.NOTICE_CANDIDATE, Action.DEMAND,
            Action.REMINDER, Action.PRE_DUE_NOTICE)
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(_[A-Za-z0-9]+)*")  # a locale name, never a path
_BY_ACTION = {Action.DEMAND: "demand", Action.PRE_DUE_NOTICE: "pre_due"}


@dataclass(frozen=True)
class ChargeLine:
    period: str
    due: str
    outstanding: Decimal


@dataclass(frozen=True)
class Item:
    """One prepared action as a message shows it: one unit's debt."""

    action: Action
    template: str
    unit_label: str
    arrears: Decimal
    charges: tuple[ChargeLine, ...] = ()
    deadline_days: int | None = None
    link_url: str = ""  # the owner's self-service link for this unit ('' = none)

    @property
    def periods(self) -> list[str]:
        return [c.period for c in self.charges if c.period]


@dataclass(frozen=True)
class Sender:
    name: str
    address: str
    contact: str


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str
    templates: tuple[str, ...] = field(default=())


def compose(items: Sequence[Item], *, channel: Channel, language: str, owner_name: str,
            sender: Sender, as_of: dt.date) -> Composed:
    """Subject and body for one owner on one channel; sections ordered most serious first."""
    if not items:
        raise ValueError("a message needs at least one item")
    language = message_language(language)
    env = _environment(language)
    kind = "sms" if channel == Channel.SMS else "email"
    groups = _groups(env, items, kind)
    context = {"owner_name": owner_name, "sender": sender, "as_of": as_of.isoformat(), "links": _links(items)}
    sections = [env.get_template(name).render(items=group, **context).strip() for name, group in groups]
    body = env.get_template(f"bundle.{kind}.txt").render(sections=sections, **context)
    subject_name = groups[0][0].replace(f".{kind}.txt", ".subject.txt")
    subject = " ".join(env.get_template(subject_name).render(**context).split())
    body = _one_line(body, language) if kind == "sms" else _tidy(body)
    return Composed(subject, body, tuple(name.split(".")[0] for name, _ in groups))


def message_language(language: str | None) -> str:
    """The template directory for a language: exact (en), then its base (en_US → en), else zh_CN."""
    for candidate in (language or "", (language or "").replace("-", "_").split("_")[0]):
        if _LANGUAGE.fullmatch(candidate) and (MESSAGES_DIR / candidate).is_dir():
            return candidate
    return DEFAULT_LANGUAGE


def _groups(env: Environment, items: Sequence[Item], kind: str) -> list[tuple[str, list[Item]]]:
    grouped: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda i: (_rank(i.action), i.unit_label)):
        grouped.setdefault(_template_file(env, item, kind), []).append(item)
    return list(grouped.items())


def _links(items: Sequence[Item]) -> list[tuple[str, str]]:
    """One (unit, URL) pair per unit with a link, in unit order."""
    links = {i.unit_label: i.link_url for i in sorted(items, key=lambda i: i.unit_label) if i.link_url}
    return list(links.items())


def _rank(action: Action) -> int:
    return SEVERITY.index(action) if action in SEVERITY else len(SEVERITY)


def _template_file(env: Environment, item: Item, kind: str) -> str:
    names = env.list_templates()
    for template in (item.template, _BY_ACTION.get(item.action, "reminder")):
        name = f"{template}.{kind}.txt"
        if template and name in names:
            return name
    return f"reminder.{kind}.txt"


@lru_cache(maxsize=8)
def _environment(language: str) -> Environment:
    env = Environment(loader=FileSystemLoader(str(MESSAGES_DIR / language)), autoescape=False,
                      trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined,
                      keep_trailing_newline=False)
    env.filters["money"] = money
    return env


def money(value: Decimal) -> str:
    return f"{Decimal(value):,.2f}"


def _tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _one_line(text: str, language: str) -> str:
    """SMS text on one line; Chinese needs no space between sentences."""
    joiner = "" if language.startswith("zh") else " "
    return re.sub(r"\s*\n\s*", joiner, text.strip())


def items_from_charges(charges: Sequence[dict[str, object]]) -> tuple[ChargeLine, ...]:
    """The frozen charge list of an action ({"id", "period", "due", "outstanding"})."""
    return tuple(ChargeLine(str(c.get("period") or ""), str(c.get("due") or ""),
                            Decimal(str(c.get("outstanding") or "0"))) for c in charges)
