"""The public arrears notice as printed (issue 4 §3, §7; L16/L18): the PDF text has the rooms,
periods and amounts — and no name, ID number or phone number of any owner in the community."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from arrears.domain.identity import mask_id, mask_phone
from arrears.persistence.models import Owner, Ownership, OwnershipParty, Unit
from arrears.services.actor import Actor
from arrears.services.documents import DocumentRequest, notices, render
from tests.services.test_notices import (
    AS_OF,
    CONTACT,
    LEGAL_BASIS,
    TODAY,
    approved_notice,
    build_world,
)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def printed(session: Session):  # type: ignore[no-untyped-def]
    world = build_world(session)
    notice = approved_notice(session, world)
    _, pdf = notices.notice_pdf(session, world.company_id, notice.id)
    return world, notice, pdf


def test_notice_pdf_lists_rooms_periods_and_amounts(printed) -> None:  # type: ignore[no-untyped-def]
    _world, notice, pdf = printed
    text = _flat(_text(pdf))
    for expected in ("物业服务费欠费情况公示", "金陵花园", "1-1-101", "1-1-102", "2026年1月至2026年4月",
                     "2026年2月至2026年4月", "800.00", "600.00", "1,400.00", "壹仟肆佰元整", "2026年5月1日",
                     _flat(LEGAL_BASIS), _flat(CONTACT), "2026年5月10日至2026年5月24日", notice.reference,
                     notice.content_hash[:16], "第1页共1页"):
        assert expected in text, expected
    assert "草稿" not in text
    # left out: the former owner's unit, the disputed one, the plan, the one that paid since, the
    # one on hold, and cases not approved at the notice stage
    for absent in ("1-1-201", "1-1-202", "2-1-101", "2-1-102", "2-1-201", "2-1-202", "2-2-301"):
        assert absent not in text, absent


def test_notice_pdf_has_no_personal_data_of_any_owner(printed, session: Session) -> None:  # type: ignore[no-untyped-def]
    """L16/L18: checked against the whole owner list of the community (every unit, every ownership,
    former owners included), in full and in the masked forms used elsewhere."""
    world, _, pdf = printed
    raw = _text(pdf)
    text, digits = _flat(raw), re.sub(r"\D", "", raw)
    owners = _community_owners(session, world.community.id)
    assert len(owners) == 10
    for owner in owners:
        assert owner.name not in text, owner.name
        assert owner.name[:2] not in text, owner.name  # not even surname + first character
        assert owner.id_number not in text and owner.id_number[-6:] not in text
        assert mask_id(owner.id_number) not in text
        assert owner.phone and owner.phone not in digits and mask_phone(owner.phone) not in text
        assert owner.email and owner.email not in text


def _community_owners(session: Session, community_id: int) -> list[Owner]:
    return list(session.scalars(
        select(Owner).where(Owner.id.in_(
            select(OwnershipParty.owner_id).join(Ownership, Ownership.id == OwnershipParty.ownership_id)
            .join(Unit, Unit.id == Ownership.unit_id).where(Unit.community_id == community_id)
        )).order_by(Owner.id)
    ))


def test_pdf_metadata_and_qr_code(printed) -> None:  # type: ignore[no-untyped-def]
    world, notice, pdf = printed
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == "金陵花园物业服务费欠费公示"
    assert reader.metadata.author == world.company.name
    url = notices.verification_url("https://wy.example.cn", notice.content_hash)
    assert url == f"https://wy.example.cn/n/{notice.content_hash}"
    assert notices.qr_data_uri(url).startswith("data:image/svg+xml")


def test_a_draft_prints_with_a_not_approved_banner(session: Session) -> None:
    world = build_world(session)
    draft = notices.generate_notice(session, Actor("manager"), world.company_id, world.community.id,
                                    as_of=AS_OF, today=TODAY)
    built, pdf = render(session, DocumentRequest("public_notice", world.company_id, draft.id))
    text = _flat(_text(pdf))
    assert "草稿·未经审批，不得张贴" in text
    assert built.filename == f"public-notice-{draft.reference}.pdf"
    assert "1-1-101" in text and "800.00" in text


def test_many_rows_repeat_the_header_on_every_page(session: Session) -> None:
    """A long notice spans pages; each page has the table header and the page count."""
    world = build_world(session)
    notice = notices.generate_notice(session, Actor("manager"), world.company_id, world.community.id,
                                     as_of=AS_OF, today=TODAY)
    row = notice.entries[0]
    notice.entries = [dict(row, unit=f"9-9-{n:03d}") for n in range(1, 61)]
    _built, pdf = render(session, DocumentRequest("public_notice", world.company_id, notice.id))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = _flat(page.extract_text() or "")
        assert "欠费期间" in text and f"第{number}页共{len(reader.pages)}页" in text
