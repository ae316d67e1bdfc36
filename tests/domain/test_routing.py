"""routing: route choice with reasons (L10, L11, L12), ceilings in force on the filing date, fees (L9, E5, E6)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from arrears.domain import routing as r
from arrears.domain.courtfees import Procedure, court_fee
from arrears.domain.routing import (
    Ceiling,
    RouteFacts,
    RouteName,
    ceiling_in_force,
    ceiling_warnings,
    is_stale,
    load_published_ceilings,
    months_before,
    parse_ceilings_csv,
    propose_route,
    province_key,
)

D = Decimal
PO, SC, SIMP, ORD, ARB = (RouteName.PAYMENT_ORDER, RouteName.SMALL_CLAIMS, RouteName.SIMPLIFIED,
                          RouteName.ORDINARY, RouteName.ARBITRATION)

JIANGSU_2024 = Ceiling("江苏", D("60862.00"), D("121724.00"), date(2024, 1, 6), "苏高法电〔2024〕9号",
                       date(2026, 11, 22))
JIANGSU_2026 = Ceiling("江苏", D("64610.00"), D("129220.00"), date(2026, 1, 4), "xingkong.net 2026-01-05",
                       date(2026, 2, 1))
HUNAN = Ceiling("湖南", D("45707.00"), D("91414.00"), date(2023, 11, 1), "office369", date(2026, 2, 1))
CEILINGS = (JIANGSU_2024, JIANGSU_2026, HUNAN)
FILING = date(2026, 3, 1)


def facts(claim: str = "12345.60", **kw: object) -> RouteFacts:
    """E6: a Jiangsu community, filing 2026-03-01, no arbitration clause, no dispute, owner reachable."""
    base = RouteFacts(claim=D(claim), filing_date=FILING, province="江苏", ceilings=CEILINGS,
                      arbitration_commission=None, open_dispute=False, ever_disputed=False,
                      owner_reachable=True, whereabouts_unknown=False, foreign_related=False)
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def allowed(proposal: r.RouteProposal) -> dict[str, bool]:
    return {name: verdict.allowed for name, verdict in proposal.options.items()}


# E6 as a truth table: (facts, proposed route, suit route, allowed per option, a reason that must be given).
# E6's outcome for the 80 000 and 300 000 claims is the lawsuit track (``suit_route``); each is shown
# undisputed (a payment order is then still possible) and disputed (the suit track is the proposal).
E6 = [
    pytest.param(
        facts("12345.60"), PO, SC,
        {"payment_order": True, "small_claims": True, "simplified": True, "ordinary": True, "arbitration": False},
        r.PAYMENT_ORDER_AVAILABLE, id="12345.60 reachable, no dispute: payment order; small claims if suing"),
    pytest.param(
        facts("80000.00"), PO, SIMP,
        {"payment_order": True, "small_claims": True, "simplified": True, "ordinary": True, "arbitration": False},
        r.SMALL_CLAIMS_BY_AGREEMENT, id="80000 undisputed: payment order; if suing simplified"),
    pytest.param(
        facts("80000.00", open_dispute=True), SIMP, SIMP,
        {"payment_order": False, "small_claims": True, "simplified": True, "ordinary": True, "arbitration": False},
        r.SMALL_CLAIMS_BY_AGREEMENT, id="80000 above ceiling, below twice wage: small claims by agreement, simplified"),
    pytest.param(
        facts("300000.00"), PO, ORD,
        {"payment_order": True, "small_claims": False, "simplified": True, "ordinary": True, "arbitration": False},
        r.ORDINARY_ABOVE_TWICE_WAGE, id="300000 undisputed: payment order; if suing ordinary"),
    pytest.param(
        facts("300000.00", ever_disputed=True), ORD, ORD,
        {"payment_order": False, "small_claims": False, "simplified": True, "ordinary": True, "arbitration": False},
        r.ORDINARY_ABOVE_TWICE_WAGE, id="300000: ordinary, simplified if the court finds it simple"),
    pytest.param(
        facts("12345.60", open_dispute=True, ever_disputed=True), SC, SC,
        {"payment_order": False, "small_claims": True, "simplified": True, "ordinary": True, "arbitration": False},
        r.SMALL_CLAIMS_MANDATORY, id="open dispute: no payment order, small claims mandatory"),
    pytest.param(
        facts("12345.60", whereabouts_unknown=True, owner_reachable=False), ORD, ORD,
        {"payment_order": False, "small_claims": False, "simplified": False, "ordinary": True, "arbitration": False},
        r.SMALL_CLAIMS_MISSING, id="whereabouts unknown: neither small claims nor simplified"),
    pytest.param(
        facts("12345.60", arbitration_commission="南京仲裁委员会"), ARB, None,
        {"payment_order": False, "small_claims": False, "simplified": False, "ordinary": False, "arbitration": True},
        r.ARBITRATION_CLAUSE, id="arbitration commission named: arbitration only"),
]


@pytest.mark.parametrize(("given", "route", "suit", "options", "reason"), E6)
def test_e6_route_choice(given: RouteFacts, route: RouteName, suit: RouteName | None,
                         options: dict[str, bool], reason: str) -> None:
    proposal = propose_route(given)
    assert proposal.route is route
    assert proposal.suit_route == suit
    assert allowed(proposal) == options
    assert reason in proposal.reasons or any(reason in v.reasons for v in proposal.options.values())
    assert proposal.ceiling == JIANGSU_2026
    assert proposal.warnings == ((r.WARN_ARBITRATION_FEE,) if route is ARB else ())


def test_e6_bounds_are_the_ceiling_and_twice_the_wage_figure() -> None:
    """Inclusive bounds: 64 610.00 mandatory, 64 610.01 by agreement, 258 440.00 by agreement,
    258 440.01 ordinary (CPL art. 165: "以下" includes the figure)."""
    cases = [("64610.00", SC, False), ("64610.01", SIMP, True), ("258440.00", SIMP, True), ("258440.01", ORD, None)]
    for claim, route, by_agreement in cases:
        proposal = propose_route(facts(claim, open_dispute=True))
        assert proposal.route is route, claim
        small = proposal.options["small_claims"]
        assert small.allowed is (by_agreement is not None), claim
        if by_agreement is not None:
            assert small.by_agreement is by_agreement, claim


def test_e6_reasons_for_the_mandatory_track_and_payment_order() -> None:
    proposal = propose_route(facts("12345.60"))
    assert proposal.reasons == (r.PAYMENT_ORDER_AVAILABLE, r.PAYMENT_ORDER_OBJECTION)
    assert proposal.options["small_claims"].reasons == (r.SMALL_CLAIMS_MANDATORY,)
    assert not proposal.options["small_claims"].by_agreement


@pytest.mark.parametrize("open_dispute", [True, False])
def test_open_or_past_dispute_blocks_the_payment_order(open_dispute: bool) -> None:
    proposal = propose_route(facts(open_dispute=open_dispute, ever_disputed=True))
    verdict = proposal.options["payment_order"]
    assert not verdict.allowed
    assert verdict.reasons == ((r.PAYMENT_ORDER_OPEN_DISPUTE,) if open_dispute else (r.PAYMENT_ORDER_PAST_DISPUTE,))
    assert proposal.route is SC


@pytest.mark.parametrize(("kw", "reason"), [
    ({"amount_fixed": False}, r.PAYMENT_ORDER_NOT_FIXED),
    ({"owner_reachable": False}, r.PAYMENT_ORDER_UNREACHABLE),
    ({"whereabouts_unknown": True}, r.PAYMENT_ORDER_MISSING),
])
def test_other_payment_order_conditions(kw: dict[str, object], reason: str) -> None:
    verdict = propose_route(facts(**kw)).options["payment_order"]
    assert not verdict.allowed and reason in verdict.reasons


@pytest.mark.parametrize("claim", ["8000.00", "64610.00", "100000.00"])
def test_foreign_hk_macao_taiwan_owner_never_gets_small_claims(claim: str) -> None:
    """L11: foreign-related cases are excluded from small claims, within the ceiling too."""
    proposal = propose_route(facts(claim, foreign_related=True, ever_disputed=True))
    verdict = proposal.options["small_claims"]
    assert not verdict.allowed and verdict.decidable
    assert verdict.reasons == (r.SMALL_CLAIMS_FOREIGN,)
    assert proposal.route is SIMP
    assert proposal.options["simplified"].allowed


def test_foreign_related_owner_may_get_a_payment_order_with_a_warning() -> None:
    proposal = propose_route(facts(foreign_related=True))
    assert proposal.route is PO and proposal.suit_route is SIMP
    assert r.WARN_FOREIGN_PAYMENT_ORDER in proposal.warnings


@pytest.mark.parametrize("claim", ["8000.00", "80000.00", "300000.00"])
def test_whereabouts_unknown_means_neither_small_claims_nor_simplified(claim: str) -> None:
    proposal = propose_route(facts(claim, whereabouts_unknown=True))
    assert allowed(proposal) == {"payment_order": False, "small_claims": False, "simplified": False,
                                 "ordinary": True, "arbitration": False}
    assert proposal.route is ORD and proposal.suit_route is ORD
    assert r.ORDINARY_MISSING in proposal.reasons


@pytest.mark.parametrize("kw", [{}, {"open_dispute": True, "whereabouts_unknown": True, "foreign_related": True}])
def test_arbitration_clause_means_arbitration_only(kw: dict[str, object]) -> None:
    proposal = propose_route(facts(arbitration_commission="上海仲裁委员会", **kw))
    assert proposal.route is ARB and proposal.suit_route is None
    assert [name for name, v in proposal.options.items() if v.allowed] == ["arbitration"]
    for name in ("payment_order", "small_claims", "simplified", "ordinary"):
        assert proposal.options[name].reasons == (r.COURTS_EXCLUDED_BY_ARBITRATION,)


def test_blank_arbitration_commission_is_no_clause() -> None:
    assert propose_route(facts(arbitration_commission="  ")).route is PO


@pytest.mark.parametrize("claim", ["8000.00", "80000.00", "300000.00"])
def test_no_ceiling_row_warns_and_small_claims_is_not_decidable(claim: str) -> None:
    proposal = propose_route(facts(claim, province="广东", ever_disputed=True))
    verdict = proposal.options["small_claims"]
    assert (verdict.allowed, verdict.decidable, verdict.reasons) == (False, False, (r.SMALL_CLAIMS_UNDECIDABLE,))
    assert proposal.warnings == (r.WARN_NO_CEILING,)
    assert proposal.ceiling is None
    # without the wage figure the simplified procedure stays the default, never small claims
    assert proposal.route is SIMP
    assert r.SMALL_CLAIMS_UNDECIDABLE in proposal.reasons


def test_ceilings_all_later_than_the_filing_date_are_not_decidable() -> None:
    proposal = propose_route(facts(filing_date=date(2024, 1, 5), ceilings=(JIANGSU_2024, JIANGSU_2026),
                                   open_dispute=True))
    assert proposal.ceiling is None
    assert proposal.warnings == (r.WARN_NO_CEILING_IN_FORCE,)
    assert not proposal.options["small_claims"].decidable


def test_stale_ceiling_warns_but_is_used() -> None:
    """A row checked more than 13 months before the filing date; exactly 13 months is not stale."""
    old = dataclasses.replace(JIANGSU_2026, checked_on=date(2025, 1, 31))
    proposal = propose_route(facts(ceilings=(old,), open_dispute=True))
    assert proposal.warnings == (r.WARN_STALE_CEILING,)
    assert proposal.ceiling == old and proposal.route is SC
    edge = dataclasses.replace(JIANGSU_2026, checked_on=date(2025, 2, 1))
    assert propose_route(facts(ceilings=(edge,))).warnings == ()
    assert is_stale(old, FILING) and not is_stale(edge, FILING)


@pytest.mark.parametrize(("filing_date", "amount"), [
    (date(2026, 1, 3), D("60862.00")),
    (date(2026, 1, 4), D("64610.00")),
    (date(2024, 1, 6), D("60862.00")),
    (date(2027, 6, 1), D("64610.00")),
])
def test_the_ceiling_in_force_on_the_filing_date_is_chosen(filing_date: date, amount: Decimal) -> None:
    ceiling = ceiling_in_force(CEILINGS, "江苏", filing_date)
    assert ceiling is not None and ceiling.amount == amount
    assert propose_route(facts(filing_date=filing_date)).ceiling == ceiling


def test_ceiling_change_moves_a_claim_between_tracks() -> None:
    """62 000.00 is above the 2024 Jiangsu ceiling and within the 2026 one."""
    before = propose_route(facts("62000.00", filing_date=date(2026, 1, 3), open_dispute=True))
    after = propose_route(facts("62000.00", filing_date=date(2026, 1, 4), open_dispute=True))
    assert (before.route, before.options["small_claims"].by_agreement) == (SIMP, True)
    assert (after.route, after.options["small_claims"].by_agreement) == (SC, False)


def test_other_provinces_rows_are_ignored_and_names_match_with_suffixes() -> None:
    assert ceiling_in_force(CEILINGS, "湖南省", FILING) == HUNAN
    proposal = propose_route(facts("50000.00", province="湖南省", open_dispute=True))
    assert proposal.ceiling == HUNAN and proposal.route is SIMP
    assert province_key("广西壮族自治区") == "广西"
    assert province_key(" 上海市 ") == "上海"
    assert province_key("江苏") == "江苏"


@pytest.mark.parametrize("claim", ["8000.00", "12345.60", "64610.00", "150000.00", "300000.00"])
def test_court_fee_per_route_is_the_courtfees_estimate(claim: str) -> None:
    """L9, E5: payment order one third, small claims and simplified half, ordinary in full."""
    fees = propose_route(facts(claim)).fees
    assert fees == {
        "payment_order": court_fee(D(claim), Procedure.PAYMENT_ORDER).fee,
        "small_claims": court_fee(D(claim), Procedure.SMALL_CLAIMS).fee,
        "simplified": court_fee(D(claim), Procedure.SIMPLIFIED).fee,
        "ordinary": court_fee(D(claim), Procedure.ORDINARY).fee,
    }


def test_e5_fees_in_the_proposal() -> None:
    fees = propose_route(facts("64610.00")).fees
    assert fees == {"payment_order": D("471.75"), "small_claims": D("707.63"), "simplified": D("707.63"),
                    "ordinary": D("1415.25")}


@pytest.mark.parametrize("claim", [D("0.00"), D("-1.00"), D("1.234")])
def test_bad_claims_are_refused(claim: Decimal) -> None:
    with pytest.raises(ValueError, match="claim"):
        propose_route(dataclasses.replace(facts(), claim=claim))


def test_route_values_match_the_persistence_enum() -> None:
    from arrears.persistence.enums import LegalRoute

    assert {m.value for m in RouteName} == {m.value for m in LegalRoute}


def test_published_ceilings_file() -> None:
    rows = load_published_ceilings()
    assert {(c.province, c.amount, c.effective_from) for c in rows} >= {
        ("江苏", D("64610.00"), date(2026, 1, 4)), ("湖南", D("45707.00"), date(2023, 11, 1)),
        ("上海", D("68378.50"), date(2022, 8, 23)), ("浙江", D("54323.00"), date(2022, 1, 11))}
    for c in rows:
        assert c.source and c.checked_on and ceiling_warnings(c.amount, c.wage_figure) == ()


def test_ceiling_plausibility_warnings() -> None:
    assert ceiling_warnings(D("64610.00"), D("129220.00")) == ()
    assert ceiling_warnings(D("64610.01"), D("129220.00")) == ()
    assert ceiling_warnings(D("64611.00"), D("129220.00")) == (r.WARN_CEILING_NOT_HALF_WAGE,)
    assert ceiling_warnings(D("200000.00"), D("129220.00")) == (r.WARN_CEILING_ABOVE_WAGE,)


def test_parse_ceilings_csv_optional_basis() -> None:
    text = ("province,ceiling_cny,wage_figure_cny,effective_from,basis,source,checked_on\n"
            "湖北,1.00,2.00,2025-01-01,,somewhere,2025-02-01\n")
    (row,) = parse_ceilings_csv(text)
    assert row == Ceiling("湖北", D("1.00"), D("2.00"), date(2025, 1, 1), "somewhere", date(2025, 2, 1), None)


@pytest.mark.parametrize(("d", "months", "expected"), [
    (date(2026, 3, 1), 13, date(2025, 2, 1)),
    (date(2026, 3, 31), 13, date(2025, 2, 28)),
    (date(2024, 3, 31), 1, date(2024, 2, 29)),
    (date(2026, 1, 15), 1, date(2025, 12, 15)),
])
def test_months_before(d: date, months: int, expected: date) -> None:
    assert months_before(d, months) == expected


def test_options_are_listed_in_route_order() -> None:
    for given in (facts(), facts(arbitration_commission="南京仲裁委员会")):
        assert list(propose_route(given).options) == [m.value for m in RouteName]
