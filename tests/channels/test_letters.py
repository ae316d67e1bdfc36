"""Printed letters: a real PDF (text read back with pypdf), per-letter page numbers, the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from arrears.channels import letters as letters_module
from arrears.channels.letters import (
    MAILING_COLUMNS,
    LetterContent,
    LetterRenderError,
    LetterRow,
    MailingRow,
    RefusedURL,
    mailing_list_csv,
    parse_postcode,
    render_letters_pdf,
)

COMPANY = "阳光物业服务有限公司"


def _letter(reference: str, name: str = "张三", periods: int = 3, amount: str = "196.90") -> LetterContent:
    rows = tuple(
        LetterRow(f"{2024 + m // 12}-{m % 12 + 1:02d}", dt.date(2024 + m // 12, m % 12 + 1, 15), Decimal(amount), "物业服务费")
        for m in range(periods)
    )
    return LetterContent(
        reference=reference, recipient_name=name, address_lines=("南京市鼓楼区中山路1号", "阳光花园1幢101室"),
        unit_label="阳光花园 1-1-101", title="催告函", date=dt.date(2026, 11, 22),
        body_paragraphs=(f"尊敬的{name}：", "经核查，您名下房屋尚欠物业服务费如下。", "请您于收到本函之日起十五日内缴清。"),
        rows=rows, sender="催缴专线：025-12345678",
    )


def _pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_letter_pdf_has_the_chinese_text_amounts_reference_and_page_number() -> None:
    [text] = _pages(render_letters_pdf([_letter("ARR-2026-000123")], company_name=COMPANY))
    for expected in (COMPANY, "张三", "南京市鼓楼区中山路1号", "催 告 函", "2026年11月22日", "ARR-2026-000123",
                     "经核查，您名下房屋尚欠物业服务费如下。", "2024-03", "2024年3月15日", "196.90", "590.70",
                     "欠费金额（元）", "第 1 页 共 1 页", "催缴专线：025-12345678"):
        assert expected in text, expected


def test_each_letter_of_a_batch_starts_a_new_page_and_counts_its_own_pages() -> None:
    batch = [_letter("ARR-1", "张三"), _letter("ARR-2", "李四", periods=60, amount="1234.50"), _letter("ARR-3", "王五")]
    pages = _pages(render_letters_pdf(batch, company_name=COMPANY))
    assert len(pages) >= 5
    starts = [i for i, text in enumerate(pages) if "催 告 函" in text]
    assert starts[0] == 0 and len(starts) == 3
    assert "张三" in pages[starts[0]] and "李四" in pages[starts[1]] and "王五" in pages[starts[2]]
    long = pages[starts[1]:starts[2]]
    assert all(f"第 {n} 页 共 {len(long)} 页" in text for n, text in enumerate(long, 1))
    assert all("欠费金额（元）" in text for text in long)  # the table header repeats on every page
    assert "74,070.00" in long[-1]  # 60 × 1,234.50, with thousands separators
    assert "第 1 页 共 1 页" in pages[starts[2]]


def test_owner_text_is_escaped_not_interpreted() -> None:
    letter = _letter("ARR-9", name='<img src="file:///etc/passwd">赵六')
    [text] = _pages(render_letters_pdf([letter], company_name=COMPANY))
    assert "赵六" in text


def test_fetcher_refuses_anything_outside_the_document_folders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fetcher = letters_module._LocalOnlyFetcher()
    for url in ("http://127.0.0.1/x.css", "file:///etc/passwd", (letters_module.DOCUMENTS / "../web/x").as_uri(),
                (tmp_path / "a.css").as_uri()):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert b"A4" in fetcher.fetch((letters_module.DOCUMENTS / "print.css").as_uri()).read()
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"


def test_a_template_asking_for_the_network_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    original = letters_module.render_letter_html
    monkeypatch.setattr(letters_module, "render_letter_html",
                        lambda letter, **kw: original(letter, **kw).replace(
                            "</head>", '<link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head>'))
    with pytest.raises(RefusedURL):
        render_letters_pdf([_letter("ARR-1")], company_name=COMPANY)


def test_missing_cjk_font_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(letters_module, "installed_cjk_families", lambda: frozenset({"DejaVu Sans"}))
    with pytest.raises(LetterRenderError, match="fonts-noto-cjk"):
        render_letters_pdf([_letter("ARR-1")], company_name=COMPANY)


def test_installed_fonts_include_noto_cjk() -> None:
    assert {"Noto Sans CJK SC", "Noto Serif CJK SC"} & letters_module.installed_cjk_families()


@pytest.mark.parametrize(("address", "postcode"), [
    ("南京市鼓楼区中山路1号 邮编：210008", "210008"),
    ("210008 南京市鼓楼区中山路1号", "210008"),
    ("南京市鼓楼区中山路1号（210008）", "210008"),
    ("南京市鼓楼区中山路100号", ""),
    ("上海市浦东新区世纪大道1000001号", ""),
])
def test_postcode_is_parsed_only_when_unambiguous(address: str, postcode: str) -> None:
    assert parse_postcode(address) == postcode


def test_mailing_list_csv_columns_and_utf8() -> None:
    rows = [MailingRow("ARR-1", "张三", "南京市鼓楼区中山路1号\n阳光花园1幢101室 邮编 210008", "阳光花园 1-1-101", "EMS"),
            MailingRow("ARR-2", "李四", "南京市鼓楼区中山路2号", "阳光花园 1-1-102")]
    data = mailing_list_csv(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(table[0]) == MAILING_COLUMNS == (
        "reference", "recipient", "address", "postcode", "unit", "mail_class", "tracking_number")
    assert table[1] == ["ARR-1", "张三", "南京市鼓楼区中山路1号 阳光花园1幢101室 邮编 210008", "210008",
                        "阳光花园 1-1-101", "EMS", ""]
    assert table[2] == ["ARR-2", "李四", "南京市鼓楼区中山路2号", "", "阳光花园 1-1-102", "挂号", ""]
