"""The packet states the late-fee basis (L7): contract rate, or one-year LPR × 1.3."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from arrears.domain.money import amount_in_capitals, to_fen
from arrears.services.documents.packet import build_packet
from arrears.services.documents.packet_data import filing_data
from arrears.services.documents.registry import render

from .packet_world import AS_OF, build_world
from .test_packet import LATE_FEE, pdf_text

D = Decimal
LPR_RATE = D("3.00") / 100 * D("1.3") / 365
# (principal, days) to AS_OF 2026-11-22 per charge; Q1's 300.00 paid 2026-02-14
SEGMENTS = [[(D("590.70"), 30), (D("290.70"), 281)], [(D("590.70"), 221)], [(D("590.70"), 130)],
            [(D("590.70"), 38)]]
LPR_FEE = sum((to_fen(sum((LPR_RATE * p * d for p, d in s), D(0))) for s in SEGMENTS), D("0.00"))


def texts(session: Session, world, basis: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    requests = build_packet(session, world.company.id, world.case.id, route="lawsuit", as_of=AS_OF,
                            claim_late_fees=True, until_actual_payment=True, late_fee_basis=basis)
    assert all(r.options["late_fee_basis"] == basis for r in requests)
    return {r.kind: pdf_text(render(session, r)[1]) for r in requests if r.kind in ("complaint", "calculation_sheet")}


def test_lpr_basis_lines_and_documents(session: Session) -> None:
    world = build_world(session)
    filing = filing_data(session, world.company.id, world.case.id, route="lawsuit", as_of=AS_OF,
                         claim_late_fees=True, until_actual_payment=True, late_fee_basis="lpr_x1_3")
    assert filing.late_fee_basis == "lpr_x1_3" and filing.lpr_percent == D("3.00")
    assert filing.late_fee == LPR_FEE < LATE_FEE
    assert filing.total == filing.principal + LPR_FEE
    q2 = filing.lines[1]
    assert q2.late_fee == to_fen(LPR_RATE * D("590.70") * 221) and q2.segments[0].days == 221
    docs = texts(session, world, "lpr_x1_3")
    for kind, text in docs.items():
        assert "一年期贷款市场报价利率" in text and "1.3倍" in text, kind
        assert "3.00%" in text and "3.90%" in text, kind
        assert f"{LPR_FEE:,.2f}" in text, kind
    assert amount_in_capitals(LPR_FEE) in docs["complaint"]
    assert "违约金计算依据" in docs["complaint"]


def test_contract_basis_says_so(session: Session) -> None:
    world = build_world(session)
    docs = texts(session, world, "contract")
    for kind, text in docs.items():
        assert "按合同约定的违约金标准计算" in text, kind
        assert "贷款市场报价利率" not in text, kind
        assert f"{LATE_FEE:,.2f}" in text, kind
