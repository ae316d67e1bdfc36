"""Applying a payment to open charges (L6, Civil Code arts. 560–561; E4, E4b).

Order: (1) the charges the payer designated, in the order given, each paid in full before the
next; (2) the law: costs first, due before not-yet-due, among due the heavier burden (not
time-barred) before the lighter (time-barred), then the earliest due date; equal rank shares pro
rata. Within that order the community's policy decides where late fees go:

- ``principal_first`` (default): costs, principal of due charges, principal of not-yet-due
  charges, then late fees (same order) — "late fees last";
- ``statutory``: costs, then for each due rank its late fees then its principal, then
  not-yet-due principal (art. 561: costs → interest → principal).

A charge due *on* the payment date counts as due here: the debt is payable that day (art. 560
"已到期"), although for arrears it becomes overdue only the day after (LEGAL definitions).
Whatever is left is an unapplied credit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import groupby

from .money import ZERO, is_fen, split_pro_rata


class AllocationPolicy(StrEnum):
    PRINCIPAL_FIRST = "principal_first"
    STATUTORY = "statutory"


class Component(StrEnum):
    COST = "cost"
    LATE_FEE = "late_fee"
    PRINCIPAL = "principal"


@dataclass(frozen=True)
class OpenCharge:
    """What a charge still owes on the payment date.

    ``principal`` is the outstanding principal (for a cost charge, the outstanding costs);
    ``late_fee`` the outstanding late fee accrued to the payment date, rounded to the fen.
    """

    key: int
    due_date: date
    principal: Decimal
    late_fee: Decimal = ZERO
    is_cost: bool = False
    time_barred: bool = False

    @property
    def principal_component(self) -> Component:
        return Component.COST if self.is_cost else Component.PRINCIPAL


@dataclass(frozen=True)
class Allocation:
    key: int
    component: Component
    amount: Decimal


@dataclass(frozen=True)
class AllocationResult:
    allocations: tuple[Allocation, ...]
    credit: Decimal


_Item = tuple[int, Component]


def allocate(
    amount: Decimal,
    charges: Sequence[OpenCharge],
    *,
    on: date,
    policy: AllocationPolicy,
    designated: Sequence[int] = (),
) -> AllocationResult:
    """Apply ``amount`` paid on ``on`` to ``charges`` (L6; E4, E4b). See the module docstring."""
    _validate(amount, charges, designated)
    by_key = {c.key: c for c in charges}
    outstanding: dict[_Item, Decimal] = {}
    for c in charges:
        outstanding[(c.key, c.principal_component)] = c.principal
        outstanding[(c.key, Component.LATE_FEE)] = c.late_fee
    paid: dict[_Item, Decimal] = {}
    left = amount
    for group in _plan(charges, by_key, on, policy, designated):
        left = _pay_group(left, group, outstanding, paid)
        if left == 0:
            break
    allocations = tuple(Allocation(k, comp, a) for (k, comp), a in paid.items() if a > 0)
    return AllocationResult(allocations, left)


def _validate(amount: Decimal, charges: Sequence[OpenCharge], designated: Sequence[int]) -> None:
    if amount <= 0:
        raise ValueError(f"payment amount must be positive: {amount}")
    if not is_fen(amount):
        raise ValueError(f"payment amount must be a whole number of fen: {amount}")
    keys = [c.key for c in charges]
    if len(set(keys)) != len(keys):
        raise ValueError("charge keys must be unique")
    for c in charges:
        if c.principal < 0 or c.late_fee < 0 or not (is_fen(c.principal) and is_fen(c.late_fee)):
            raise ValueError(f"charge {c.key}: outstanding amounts must be non-negative fen")
    unknown = set(designated) - set(keys)
    if unknown:
        raise ValueError(f"designated charges are not open: {sorted(unknown)}")


def _plan(
    charges: Sequence[OpenCharge],
    by_key: dict[int, OpenCharge],
    on: date,
    policy: AllocationPolicy,
    designated: Sequence[int],
) -> Iterator[list[_Item]]:
    """Groups of (charge, component) in paying order; a group shares pro rata."""
    for key in dict.fromkeys(designated):
        for component in _components(by_key[key], policy):
            yield [(key, component)]
    due = [c for c in charges if c.due_date <= on]
    not_due = [c for c in charges if c.due_date > on]
    yield from _by_rank([c for c in due if c.is_cost], Component.COST)
    if policy is AllocationPolicy.STATUTORY:
        yield from _statutory_plan(due, not_due)
    else:
        yield from _principal_first_plan(due, not_due)


def _statutory_plan(due: list[OpenCharge], not_due: list[OpenCharge]) -> Iterator[list[_Item]]:
    """After costs: each due rank's late fees then its principal, then the not-yet-due."""
    for rank in _ranks([c for c in due if not c.is_cost]):
        yield [(c.key, Component.LATE_FEE) for c in rank]
        yield [(c.key, Component.PRINCIPAL) for c in rank]
    yield from _by_rank([c for c in due if c.is_cost], Component.LATE_FEE)
    for rank in _ranks(not_due):
        yield [(c.key, Component.LATE_FEE) for c in rank]
        yield [(c.key, c.principal_component) for c in rank]


def _principal_first_plan(
    due: list[OpenCharge], not_due: list[OpenCharge]
) -> Iterator[list[_Item]]:
    """After costs: due principal, not-yet-due principal, then late fees ("late fees last")."""
    for rank in _ranks([c for c in due if not c.is_cost]) + _ranks(not_due):
        yield [(c.key, c.principal_component) for c in rank]
    yield from _by_rank(due, Component.LATE_FEE)
    yield from _by_rank(not_due, Component.LATE_FEE)


def _components(charge: OpenCharge, policy: AllocationPolicy) -> tuple[Component, ...]:
    """One charge's components in the policy's order (a cost charge: costs first either way)."""
    if charge.is_cost:
        return (Component.COST, Component.LATE_FEE)
    if policy is AllocationPolicy.STATUTORY:
        return (Component.LATE_FEE, Component.PRINCIPAL)
    return (Component.PRINCIPAL, Component.LATE_FEE)


def _rank_key(c: OpenCharge) -> tuple[bool, date]:
    """Heavier burden first (not time-barred), then earliest due date."""
    return (c.time_barred, c.due_date)


def _ranks(charges: Sequence[OpenCharge]) -> list[list[OpenCharge]]:
    ordered = sorted(charges, key=_rank_key)
    return [list(group) for _, group in groupby(ordered, key=_rank_key)]


def _by_rank(charges: Sequence[OpenCharge], component: Component) -> Iterator[list[_Item]]:
    for rank in _ranks(charges):
        yield [(c.key, component) for c in rank]


def _pay_group(
    left: Decimal,
    group: list[_Item],
    outstanding: dict[_Item, Decimal],
    paid: dict[_Item, Decimal],
) -> Decimal:
    """Pay a group in full, or share what is left pro rata to each item's outstanding amount."""
    items = [item for item in group if outstanding.get(item, ZERO) > 0]
    if not items:
        return left
    owed = [outstanding[item] for item in items]
    total = sum(owed, ZERO)
    shares = owed if total <= left else split_pro_rata(left, owed)
    for item, share in zip(items, shares, strict=True):
        outstanding[item] -= share
        paid[item] = paid.get(item, ZERO) + share
    return left - sum(shares, ZERO)
