"""Which route to a title a legal case should take, with reasons (L10, L11, L12; fees L9; E6).

Pure: the caller gathers the facts (:class:`RouteFacts`, built by
``arrears.services.legal.routing.route_facts``) and gets a :class:`RouteProposal`: the proposed
route, every option with its verdict and reasons, warnings, the small-claims ceiling used and the
court fee per court route (L9, E5).

Order of the decision:

1. **Arbitration (L12)** — the contract names an arbitration commission: the courts will not take
   the suit, so arbitration is the only route.
2. **Payment order (L10; CPL 2023 arts. 225–228, 2022 interpretation arts. 427–439)** — possible
   when the amount is due and fixed, the parties have no dispute (an open one blocks it; a past one,
   even resolved, makes the claim disputed too), and the owner can be served in China and is not
   missing. When possible it is proposed (quickest, one third of the fee); after an objection the
   matter becomes a lawsuit on the ``suit_route``.
3. **Suit (L11; CPL 2023 arts. 160, 165–166; 2022 interpretation art. 257)** — small claims are
   mandatory up to the province's ceiling **in force on the filing date**, possible by agreement up
   to twice the wage figure; never for a foreign-related owner (a foreign national or a holder of a
   Hong Kong, Macao or Taiwan document) nor when the owner's whereabouts are unknown. Otherwise the
   simplified procedure (not when the whereabouts are unknown), and ordinary procedure above twice
   the wage figure ("simplified if the court finds it simple", E6).

Ceilings are data with a source and a date (``data/small_claims_ceilings.csv``, then the
``small_claims_ceiling`` table). A province without a ceiling row makes the small-claims option
undecidable (said so, with a warning); a row last checked more than 13 months before the filing
date is used with a warning.

Reasons and warnings are English msgids (constants below, marked with ``N_`` for extraction); the
service and web layers translate them. They carry no placeholders: the figures they speak of are in
the proposal (``ceiling``, ``fees``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from importlib import resources

from .calendar import month_end
from .courtfees import Procedure, court_fee
from .money import is_fen


def N_(message: str) -> str:  # the gettext marker pybabel extracts (-k N_)
    """Mark a msgid for extraction; the service/web layer translates it where it is shown."""
    return message


CEILING_FILE = "small_claims_ceilings.csv"
#: a ceiling row checked longer ago than this before the filing date is used with a warning
STALE_AFTER_MONTHS = 13


class RouteName(StrEnum):
    """The routes to a title; the values are those of ``arrears.persistence.enums.LegalRoute``."""

    PAYMENT_ORDER = "payment_order"
    SMALL_CLAIMS = "small_claims"
    SIMPLIFIED = "simplified"
    ORDINARY = "ordinary"
    ARBITRATION = "arbitration"


LegalRouteName = RouteName
#: routes heard by a court, with the procedure whose fee they pay (L9)
COURT_ROUTES: dict[RouteName, Procedure] = {
    RouteName.PAYMENT_ORDER: Procedure.PAYMENT_ORDER,
    RouteName.SMALL_CLAIMS: Procedure.SMALL_CLAIMS,
    RouteName.SIMPLIFIED: Procedure.SIMPLIFIED,
    RouteName.ORDINARY: Procedure.ORDINARY,
}

# --- msgids ---------------------------------------------------------------------------------------
# arbitration (L12)
ARBITRATION_CLAUSE = N_("the contract names an arbitration commission: apply for arbitration (L12)")
COURTS_EXCLUDED_BY_ARBITRATION = N_(
    "the contract has an arbitration clause: the courts will not take the case (L12)")
NO_ARBITRATION_CLAUSE = N_("the contract names no arbitration commission (L12)")
# payment order (L10)
PAYMENT_ORDER_AVAILABLE = N_(
    "the amount is due and fixed, there is no dispute and the owner can be served: "
    "a payment order is available (L10)")
PAYMENT_ORDER_OPEN_DISPUTE = N_("a dispute with the owner is open: no payment order (L10)")
PAYMENT_ORDER_PAST_DISPUTE = N_("the owner disputed the claim before: no payment order (L10)")
PAYMENT_ORDER_NOT_FIXED = N_("the amount is not fixed: no payment order (L10)")
PAYMENT_ORDER_UNREACHABLE = N_("the owner cannot be served (no address or phone): no payment order (L10)")
PAYMENT_ORDER_MISSING = N_("the owner's whereabouts are unknown: no payment order (L10)")
PAYMENT_ORDER_OBJECTION = N_(
    "if the owner objects, the matter becomes a lawsuit unless the company declines within 7 days (L10)")
# small claims (L11)
SMALL_CLAIMS_MANDATORY = N_(
    "the claim is within the province's small-claims ceiling in force on the filing date: "
    "small claims is mandatory if the company sues (L11)")
SMALL_CLAIMS_BY_AGREEMENT = N_(
    "the claim is above the small-claims ceiling but not above twice the wage figure: "
    "small claims only by agreement of the parties (L11)")
SMALL_CLAIMS_TOO_HIGH = N_("the claim is above twice the wage figure: no small claims (L11)")
SMALL_CLAIMS_FOREIGN = N_(
    "an owner is a foreign national or holds a Hong Kong, Macao or Taiwan document: "
    "no small claims (L11)")
SMALL_CLAIMS_MISSING = N_("the owner's whereabouts are unknown: no small claims (L11)")
SMALL_CLAIMS_UNDECIDABLE = N_(
    "no small-claims ceiling is recorded for the province on the filing date: "
    "whether small claims applies cannot be decided (L11)")
# simplified and ordinary procedure
SIMPLIFIED_DEFAULT = N_("the simplified procedure is the default for a claim of this size (L11)")
SIMPLIFIED_IF_SIMPLE = N_("simplified procedure only if the court finds the case simple (L11)")
SIMPLIFIED_MISSING = N_("the owner's whereabouts are unknown: no simplified procedure (L11)")
ORDINARY_AVAILABLE = N_("ordinary first-instance procedure is always available (L11)")
ORDINARY_ABOVE_TWICE_WAGE = N_(
    "the claim is above twice the wage figure: ordinary first-instance procedure (L11)")
ORDINARY_MISSING = N_(
    "the owner's whereabouts are unknown: ordinary procedure with service by public notice (L11)")
# warnings
WARN_NO_CEILING = N_(
    "no small-claims ceiling is recorded for the province: add the figure published by its High "
    "Court before filing (L11)")
WARN_NO_CEILING_IN_FORCE = N_(
    "the province's small-claims ceilings all take effect after the filing date: "
    "add the ceiling in force on the filing date (L11)")
WARN_STALE_CEILING = N_(
    "the province's small-claims ceiling was last checked more than 13 months before the filing "
    "date: check the High Court's current figure (L11)")
WARN_FOREIGN_PAYMENT_ORDER = N_(
    "an owner is foreign-related: a payment order needs the owner to be in mainland China; "
    "confirm before applying (L10)")
WARN_ARBITRATION_FEE = N_("arbitration fees follow the commission's own schedule and are not estimated (L9)")
WARN_CEILING_NOT_HALF_WAGE = N_(
    "the ceiling is not half of the wage figure: check the published figures (L11)")
WARN_CEILING_ABOVE_WAGE = N_("the ceiling is above the wage figure (L11)")


@dataclass(frozen=True)
class Ceiling:
    """A province's small-claims ceiling as published (L11): 50 % of ``wage_figure``."""

    province: str
    amount: Decimal
    wage_figure: Decimal
    effective_from: date
    source: str
    checked_on: date
    basis: str | None = None

    @property
    def agreement_limit(self) -> Decimal:
        """Twice the wage figure: the limit of small claims by agreement (CPL art. 165 ¶2)."""
        return self.wage_figure * 2


@dataclass(frozen=True)
class RouteFacts:
    """What the routing rules look at (gathered by the service layer)."""

    claim: Decimal
    filing_date: date
    province: str
    ceilings: Sequence[Ceiling]
    arbitration_commission: str | None
    open_dispute: bool
    ever_disputed: bool
    owner_reachable: bool
    whereabouts_unknown: bool
    foreign_related: bool
    amount_fixed: bool = True


@dataclass(frozen=True)
class OptionVerdict:
    """Whether a route is open, and why. ``decidable`` is False when the data to decide is missing
    (no ceiling row): then ``allowed`` is False and the reasons say so. ``by_agreement``: only if
    the parties agree (small claims above the ceiling)."""

    allowed: bool
    reasons: tuple[str, ...]
    decidable: bool = True
    by_agreement: bool = False


@dataclass(frozen=True)
class RouteProposal:
    """The proposed route with its reasons; every option's verdict; warnings; the ceiling used;
    the court fee per court route (L9: payment order, small claims, simplified, ordinary — always
    all four; arbitration is not estimated). ``suit_route`` is the lawsuit track if the company
    sues instead of (or after an objection to) a payment order; None under arbitration."""

    route: RouteName
    reasons: tuple[str, ...]
    options: dict[str, OptionVerdict]
    warnings: tuple[str, ...]
    ceiling: Ceiling | None
    fees: dict[str, Decimal]
    suit_route: RouteName | None = None


# --- provinces and ceilings -----------------------------------------------------------------------

_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市")


def province_key(name: str) -> str:
    """The short name a province is matched by: 江苏省 → 江苏, 广西壮族自治区 → 广西, 上海市 → 上海."""
    text = "".join(name.split())
    for suffix in _PROVINCE_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def ceiling_in_force(ceilings: Sequence[Ceiling], province: str, on: date) -> Ceiling | None:
    """The province's ceiling in force on ``on``: the latest ``effective_from`` not after it (L11).

    Jiangsu: 2026-01-03 → 60 862 (from 2024-01-06), 2026-01-04 → 64 610 (from 2026-01-04)."""
    key = province_key(province)
    current = [c for c in ceilings if province_key(c.province) == key and c.effective_from <= on]
    return max(current, key=lambda c: (c.effective_from, c.checked_on), default=None)


def months_before(d: date, months: int) -> date:
    """The same day ``months`` earlier, or that month's last day if it has none."""
    index = d.year * 12 + d.month - 1 - months
    year, month0 = divmod(index, 12)
    last = month_end(year, month0 + 1)
    return last.replace(day=min(d.day, last.day))


def is_stale(ceiling: Ceiling, filing_date: date) -> bool:
    """Checked more than 13 months before the filing date (L11: the figures change every year)."""
    return ceiling.checked_on < months_before(filing_date, STALE_AFTER_MONTHS)


def ceiling_warnings(amount: Decimal, wage_figure: Decimal) -> tuple[str, ...]:
    """Plausibility of a ceiling row as entered: published ceilings are 50 % of the wage figure
    (within a fen); anything else is suspicious but may be how a court published it."""
    if amount > wage_figure:
        return (WARN_CEILING_ABOVE_WAGE,)
    if abs(amount - wage_figure / 2) > Decimal("0.01"):
        return (WARN_CEILING_NOT_HALF_WAGE,)
    return ()


def parse_ceilings_csv(text: str) -> list[Ceiling]:
    """Rows ``province,ceiling_cny,wage_figure_cny,effective_from,basis,source,checked_on``."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        rows.append(Ceiling(
            province=row["province"].strip(),
            amount=Decimal(row["ceiling_cny"]),
            wage_figure=Decimal(row["wage_figure_cny"]),
            effective_from=date.fromisoformat(row["effective_from"]),
            source=row["source"].strip(),
            checked_on=date.fromisoformat(row["checked_on"]),
            basis=(row.get("basis") or "").strip() or None,
        ))
    return rows


def load_published_ceilings() -> list[Ceiling]:
    """The packaged published ceilings (``data/small_claims_ceilings.csv``), seeded into the table."""
    text = resources.files(__package__).joinpath("data", CEILING_FILE).read_text(encoding="utf-8")
    return parse_ceilings_csv(text)


# --- the decision ---------------------------------------------------------------------------------


@dataclass
class _Draft:
    options: dict[str, OptionVerdict] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def set(self, route: RouteName, allowed: bool, *reasons: str, decidable: bool = True,
            by_agreement: bool = False) -> None:
        self.options[route.value] = OptionVerdict(allowed, tuple(reasons), decidable, by_agreement)

    def ordered(self) -> dict[str, OptionVerdict]:
        """The options in the order a screen lists them: payment order … arbitration."""
        return {route.value: self.options[route.value] for route in RouteName if route.value in self.options}

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def court_fees(claim: Decimal) -> dict[str, Decimal]:
    """The court fee of each court route on ``claim`` (L9, E5)."""
    return {route.value: court_fee(claim, procedure).fee for route, procedure in COURT_ROUTES.items()}


def propose_route(facts: RouteFacts) -> RouteProposal:
    """Propose a route with its reasons (L10, L11, L12; E6). Raises ValueError for a claim that is
    not a positive amount in fen."""
    claim = facts.claim
    if not isinstance(claim, Decimal) or not is_fen(claim) or claim <= 0:
        raise ValueError(f"claim must be a positive Decimal amount in fen: {claim!r}")
    draft = _Draft()
    fees = court_fees(claim)
    ceiling = _ceiling(facts, draft)
    if facts.arbitration_commission and facts.arbitration_commission.strip():
        return _arbitration(draft, ceiling, fees)
    draft.set(RouteName.ARBITRATION, False, NO_ARBITRATION_CLAUSE)
    payment_order = _payment_order(facts, draft)
    suit_route, suit_reasons = _suit(facts, ceiling, draft)
    if payment_order:
        route, reasons = RouteName.PAYMENT_ORDER, (PAYMENT_ORDER_AVAILABLE, PAYMENT_ORDER_OBJECTION)
    else:
        route, reasons = suit_route, suit_reasons
    return RouteProposal(route=route, reasons=reasons, options=draft.ordered(), warnings=tuple(draft.warnings),
                         ceiling=ceiling, fees=fees, suit_route=suit_route)


def _ceiling(facts: RouteFacts, draft: _Draft) -> Ceiling | None:
    key = province_key(facts.province)
    rows = [c for c in facts.ceilings if province_key(c.province) == key]
    ceiling = ceiling_in_force(rows, facts.province, facts.filing_date)
    if not rows:
        draft.warn(WARN_NO_CEILING)
    elif ceiling is None:
        draft.warn(WARN_NO_CEILING_IN_FORCE)
    elif is_stale(ceiling, facts.filing_date):
        draft.warn(WARN_STALE_CEILING)
    return ceiling


def _arbitration(draft: _Draft, ceiling: Ceiling | None, fees: dict[str, Decimal]) -> RouteProposal:
    draft.set(RouteName.ARBITRATION, True, ARBITRATION_CLAUSE)
    for route in COURT_ROUTES:
        draft.set(route, False, COURTS_EXCLUDED_BY_ARBITRATION)
    draft.warn(WARN_ARBITRATION_FEE)
    return RouteProposal(route=RouteName.ARBITRATION, reasons=(ARBITRATION_CLAUSE,), options=draft.ordered(),
                         warnings=tuple(draft.warnings), ceiling=ceiling, fees=fees, suit_route=None)


def _payment_order(facts: RouteFacts, draft: _Draft) -> bool:
    blocks = []
    if not facts.amount_fixed:
        blocks.append(PAYMENT_ORDER_NOT_FIXED)
    if facts.open_dispute:
        blocks.append(PAYMENT_ORDER_OPEN_DISPUTE)
    elif facts.ever_disputed:
        blocks.append(PAYMENT_ORDER_PAST_DISPUTE)
    if facts.whereabouts_unknown:
        blocks.append(PAYMENT_ORDER_MISSING)
    if not facts.owner_reachable:
        blocks.append(PAYMENT_ORDER_UNREACHABLE)
    if blocks:
        draft.set(RouteName.PAYMENT_ORDER, False, *blocks)
        return False
    draft.set(RouteName.PAYMENT_ORDER, True, PAYMENT_ORDER_AVAILABLE, PAYMENT_ORDER_OBJECTION)
    if facts.foreign_related:
        draft.warn(WARN_FOREIGN_PAYMENT_ORDER)
    return True


def _suit(facts: RouteFacts, ceiling: Ceiling | None, draft: _Draft) -> tuple[RouteName, tuple[str, ...]]:
    """The lawsuit track: small claims, simplified or ordinary (L11), with every option's verdict."""
    claim = facts.claim
    within_ceiling = ceiling is not None and claim <= ceiling.amount
    within_agreement = ceiling is not None and claim <= ceiling.agreement_limit
    # small claims
    if facts.whereabouts_unknown or facts.foreign_related:
        blocks = [SMALL_CLAIMS_MISSING] if facts.whereabouts_unknown else []
        blocks += [SMALL_CLAIMS_FOREIGN] if facts.foreign_related else []
        draft.set(RouteName.SMALL_CLAIMS, False, *blocks)
    elif ceiling is None:
        draft.set(RouteName.SMALL_CLAIMS, False, SMALL_CLAIMS_UNDECIDABLE, decidable=False)
    elif within_ceiling:
        draft.set(RouteName.SMALL_CLAIMS, True, SMALL_CLAIMS_MANDATORY)
    elif within_agreement:
        draft.set(RouteName.SMALL_CLAIMS, True, SMALL_CLAIMS_BY_AGREEMENT, by_agreement=True)
    else:
        draft.set(RouteName.SMALL_CLAIMS, False, SMALL_CLAIMS_TOO_HIGH)
    # simplified and ordinary
    if facts.whereabouts_unknown:
        draft.set(RouteName.SIMPLIFIED, False, SIMPLIFIED_MISSING)
        draft.set(RouteName.ORDINARY, True, ORDINARY_MISSING)
        return RouteName.ORDINARY, (ORDINARY_MISSING, SMALL_CLAIMS_MISSING, SIMPLIFIED_MISSING)
    draft.set(RouteName.ORDINARY, True, ORDINARY_AVAILABLE)
    if ceiling is not None and not within_agreement:
        draft.set(RouteName.SIMPLIFIED, True, SIMPLIFIED_IF_SIMPLE)
        draft.set(RouteName.ORDINARY, True, ORDINARY_ABOVE_TWICE_WAGE)
        return RouteName.ORDINARY, (ORDINARY_ABOVE_TWICE_WAGE, SIMPLIFIED_IF_SIMPLE)
    draft.set(RouteName.SIMPLIFIED, True, SIMPLIFIED_DEFAULT)
    small = draft.options[RouteName.SMALL_CLAIMS.value]
    if small.allowed and not small.by_agreement:
        return RouteName.SMALL_CLAIMS, (SMALL_CLAIMS_MANDATORY,)
    return RouteName.SIMPLIFIED, (*small.reasons, SIMPLIFIED_DEFAULT)
