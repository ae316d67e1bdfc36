"""Filing packet builders (issue 4 §4): the complaint / payment-order application / arbitration
application of a collection case with its calculation sheet, evidence list, power of attorney,
legal representative certificate and court-fee estimate.

Each document is a :class:`DocumentRequest` of a CollectionCase with options ``route``
(payment_order | small_claims | lawsuit | arbitration), ``as_of`` (YYYY-MM-DD),
``claim_late_fees`` and ``until_actual_payment`` (true/false), and optionally ``late_fee_basis``
(contract | lpr_x1_3: one-year LPR × 1.3, L7; default contract), ``preservation``
(text; default 无), ``mediation`` (true/false, default true), ``agent_name``, ``agent_firm``,
``agent_title``, ``agent_phone``, ``agent_id``, ``agent_special`` (true: special authorisation),
``legal_rep_title`` (the representative's position), ``electronic_service`` (an address for
electronic service, default 否). The data comes from :mod:`.packet_data`; refusals (L2, L10–L12)
are ServiceErrors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from arrears.documents.formatting import yuan
from arrears.domain.courtfees import SHARE_TEXT
from arrears.domain.lpr import CONTRACT

from ..errors import N_, ServiceError
from ..tenancy import get_company
from ..timezone import company_today
from .packet_data import Agent, Filing, Route, filing_data, parse_route
from .registry import Built, DocumentRequest, builder

#: The documents of each route, in packet order (issue 4 §4).
ATTACHMENTS = ("calculation_sheet", "evidence_list", "power_of_attorney", "legal_rep_certificate",
               "court_fee_estimate")
MAIN_DOCUMENT = {
    Route.PAYMENT_ORDER: "payment_order_application",
    Route.SMALL_CLAIMS: "complaint",
    Route.LAWSUIT: "complaint",
    Route.ARBITRATION: "arbitration_application",
}
PACKET_KINDS = ("complaint", "payment_order_application", "arbitration_application", *ATTACHMENTS)
TITLES = {
    "complaint": "民事起诉状（物业服务合同纠纷）",
    "payment_order_application": "支付令申请书",
    "arbitration_application": "仲裁申请书",
    "calculation_sheet": "欠费及违约金计算表",
    "evidence_list": "证据目录",
    "power_of_attorney": "授权委托书",
    "legal_rep_certificate": "法定代表人身份证明书",
    "court_fee_estimate": "诉讼费用估算表",
}
#: The route a document is built for when the request names none.
DEFAULT_ROUTE = {"payment_order_application": Route.PAYMENT_ORDER, "arbitration_application": Route.ARBITRATION}


def packet_kinds(route: Route | str) -> tuple[str, ...]:
    route = parse_route(route)
    return (MAIN_DOCUMENT[route], *ATTACHMENTS)


def build_packet(
    session: Session,
    company_id: int,
    case_id: int,
    *,
    route: str,
    as_of: dt.date,
    claim_late_fees: bool,
    until_actual_payment: bool,
    options: Mapping[str, str] | None = None,
    late_fee_basis: str | None = None,
) -> list[DocumentRequest]:
    """The documents of case ``case_id``'s filing packet for ``route`` as of ``as_of``.

    Checks every precondition first (route L10–L12, a delivered demand past its deadline L2,
    something owed), so a packet that cannot be filed raises ServiceError before any rendering.
    """
    route_value = parse_route(route)
    basis = late_fee_basis or str((options or {}).get("late_fee_basis") or "") or CONTRACT
    filing_data(session, company_id, case_id, route=route_value, as_of=as_of, claim_late_fees=claim_late_fees,
                until_actual_payment=until_actual_payment, late_fee_basis=basis)
    common = {
        **{k: str(v) for k, v in (options or {}).items()},
        "route": route_value.value,
        "as_of": as_of.isoformat(),
        "claim_late_fees": "true" if claim_late_fees else "false",
        "until_actual_payment": "true" if until_actual_payment else "false",
        "late_fee_basis": basis,
    }
    return [DocumentRequest(kind, company_id, case_id, dict(common)) for kind in packet_kinds(route_value)]


def filing_of(session: Session, request: DocumentRequest) -> Filing:
    """The filing data a request asks for (the options of :func:`build_packet`)."""
    route = parse_route(request.option("route") or DEFAULT_ROUTE.get(request.kind, Route.LAWSUIT))
    today = company_today(get_company(session, request.company_id))
    agent = None
    if request.option("agent_name"):
        agent = Agent(name=request.option("agent_name"), firm=request.option("agent_firm"),
                      title=request.option("agent_title"), phone=request.option("agent_phone"),
                      id_number=request.option("agent_id"), special=request.flag_option("agent_special", False))
    return filing_data(
        session, request.company_id, request.subject_id, route=route,
        as_of=request.date_option("as_of", today),
        claim_late_fees=request.flag_option("claim_late_fees", True),
        until_actual_payment=request.flag_option("until_actual_payment", False),
        preservation=request.option("preservation") or None,
        mediation=request.flag_option("mediation", True),
        agent=agent,
        late_fee_basis=request.option("late_fee_basis", CONTRACT),
    )


def _built(kind: str, filing: Filing, request: DocumentRequest, **extra: Any) -> Built:
    title = TITLES[kind]
    if kind == "court_fee_estimate" and filing.route is Route.ARBITRATION:
        title = "仲裁及执行费用估算表"
    if kind == "calculation_sheet":
        title = filing.sheet_title
    context: dict[str, Any] = {
        "company_name": filing.plaintiff.name,
        "reference": filing.reference,
        "f": filing,
        "accrual_from": filing.as_of + dt.timedelta(days=1),
        "applicant": "申请人" if filing.route in (Route.PAYMENT_ORDER, Route.ARBITRATION) else "原告",
        "respondent": "被申请人" if filing.route in (Route.PAYMENT_ORDER, Route.ARBITRATION) else "被告",
        "legal_rep_title": request.option("legal_rep_title"),
        "electronic_service": request.option("electronic_service"),
        "title": title,
        **extra,
    }
    order = packet_kinds(filing.route).index(kind) + 1 if kind in packet_kinds(filing.route) else 0
    return Built(
        template=f"{kind}.html",
        context=context,
        title=f"{title} {filing.defendant_names} {filing.unit_label}",
        filename=f"case-{filing.case_id}-{order:02d}-{kind}.pdf",
        author=filing.plaintiff.name,
    )


def _fee_context(filing: Filing) -> dict[str, Any]:
    """The bands of the court-fee estimate as printed (L9): exact band fees, to 4 decimals."""
    fee = filing.court_fee
    if fee is None:
        return {"steps": [], "share_text": ""}
    steps = []
    for step in fee.steps:
        if step.lower == 0:
            band = f"{yuan(step.upper or 0)}元以下（含）"
        elif step.upper is not None:
            band = f"超过{yuan(step.lower)}元至{yuan(step.upper)}元的部分"
        else:
            band = f"超过{yuan(step.lower)}元的部分"
        rate = "每件" if step.rate is None else f"{(step.rate * 100).normalize():f}%"
        steps.append({"band": band, "base": yuan(step.base), "rate": rate, "fee": _four(step.fee)})
    return {"steps": steps, "share_text": SHARE_TEXT[fee.procedure]}


def _four(value: Decimal) -> str:
    """An exact band fee: to the fen when it is whole fen, else to 4 decimals (rounded once later)."""
    exact = value.quantize(Decimal("0.0001"))
    return yuan(exact) if exact == exact.quantize(Decimal("0.01")) else f"{exact:,.4f}"


def _main(kind: str, routes: tuple[Route, ...]):  # type: ignore[no-untyped-def]
    def build(session: Session, request: DocumentRequest) -> Built:
        filing = filing_of(session, request)
        if filing.route not in routes:
            raise ServiceError(N_("a %(kind)s is not a document of the %(route)s route"),
                               kind=kind, route=filing.route.value)
        return _built(kind, filing, request)

    return build


builder("complaint")(_main("complaint", (Route.SMALL_CLAIMS, Route.LAWSUIT)))
builder("payment_order_application")(_main("payment_order_application", (Route.PAYMENT_ORDER,)))
builder("arbitration_application")(_main("arbitration_application", (Route.ARBITRATION,)))


def _attachment(kind: str):  # type: ignore[no-untyped-def]
    def build(session: Session, request: DocumentRequest) -> Built:
        filing = filing_of(session, request)
        extra = _fee_context(filing) if kind == "court_fee_estimate" else {}
        return _built(kind, filing, request, **extra)

    return build


for _kind in ATTACHMENTS:
    builder(_kind)(_attachment(_kind))
