"""The render core (issue 4 §1): templates → PDF with page numbers, running header, repeated table
headers, metadata, an embedded CJK font, a URL fetcher that refuses everything but our own files."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal

import jinja2
import pytest
from pypdf import PdfReader

from arrears.documents import (
    DocumentError,
    RefusedURL,
    join_pdfs,
    render_html,
    render_pdf,
    render_pdfs,
)
from arrears.documents import pdf as pdf_module
from arrears.documents.formatting import capitals, cn_date, period, yuan, yuan_both
from arrears.domain.money import MoneyError
from arrears.services.documents.letters import (
    ARTICLE_944,
    LEGAL_BASIS,
    Letter,
    LetterRow,
    Sender,
)

COMPANY = "阳光物业服务有限公司"
CREATED = dt.datetime(2026, 11, 22, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
TEST_TEMPLATES = {
    "_test_table.html": """{% extends "base.html" %}{% block body %}
<h1>测试表格</h1>
<table class="grid"><colgroup><col style="width: 30%"><col style="width: 70%"></colgroup>
<thead><tr><th>期间</th><th>金额（元）</th></tr></thead>
<tbody>{% for n in range(rows) %}<tr><td>第{{ n + 1 }}期</td><td class="num">{{ amount|yuan }}</td></tr>{% endfor %}</tbody>
</table>{% endblock %}""",
    "_test_url.html": """{% extends "base.html" %}{% block body %}<p>{{ name }}</p>
{% if url %}<img src="{{ url }}">{% endif %}{% if css %}<link rel="stylesheet" href="{{ css }}">{% endif %}
{% endblock %}""",
}


@pytest.fixture(autouse=True)
def test_templates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Templates for these tests beside the real ones in templates/documents."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.DictLoader(TEST_TEMPLATES), jinja2.FileSystemLoader(str(pdf_module.DOCUMENTS))]),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pdf_module.environment().filters)
    monkeypatch.setattr(pdf_module, "environment", lambda: env)
    yield


def _pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _table(rows: int = 3, **kw: object) -> bytes:
    return render_pdf("_test_table.html", {"company_name": COMPANY, "reference": "ARR-2026-000123", "rows": rows,
                                           "amount": Decimal("1234.56")}, title="测试文书", author=COMPANY, **kw)


# --- formatting -------------------------------------------------------------------------------

def test_dates_amounts_capitals_and_periods() -> None:
    assert cn_date(dt.date(2026, 11, 22)) == "2026年11月22日" == cn_date("2026-11-22")
    assert cn_date(dt.date(2026, 1, 5)) == "2026年1月5日" and cn_date(None) == ""
    assert yuan(Decimal("1234.56")) == "1,234.56" and yuan(Decimal(5)) == "5.00" and yuan(0) == "0.00"
    assert capitals(Decimal("1234.56")) == "壹仟贰佰叁拾肆元伍角陆分"
    assert capitals(Decimal("600.00")) == "陆佰元整" and capitals(Decimal("100.05")) == "壹佰元零伍分"
    assert yuan_both(Decimal(600)) == "人民币600.00元（大写：陆佰元整）"
    for bad in (Decimal("1.005"), Decimal("NaN")):
        with pytest.raises(MoneyError):
            yuan(bad)
        with pytest.raises(MoneyError):
            capitals(bad)
    with pytest.raises(MoneyError):
        yuan(1.5)  # type: ignore[arg-type]  # floats cannot hold fen exactly
    assert period("2026-01") == "2026年1月" and period("2026-11-05") == "2026年11月5日"
    assert period("2026-01~2026-03") == "2026年1月至2026年3月" and period("2026年第一季度") == "2026年第一季度"
    assert period(None) == ""


# --- rendering --------------------------------------------------------------------------------

def test_page_numbers_running_header_repeated_table_header_and_metadata() -> None:
    pdf = _table(rows=90, created=CREATED)
    pages = _pages(pdf)
    assert len(pages) >= 3
    for number, text in enumerate(pages, 1):
        assert f"第 {number} 页 共 {len(pages)} 页" in text
        assert COMPANY in text and "编号：ARR-2026-000123" in text  # running header on every page
        assert "期间" in text and "金额（元）" in text  # the table header repeats on every page
    assert "第90期" in pages[-1] and "1,234.56" in pages[-1]
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert meta is not None and meta.title == "测试文书" and meta.author == COMPANY
    assert meta.creation_date is not None and meta.creation_date.astimezone(dt.UTC) == CREATED


def test_the_cjk_font_is_embedded_as_a_subset() -> None:
    reader = PdfReader(io.BytesIO(_table()))
    fonts = {str(font.get_object()["/BaseFont"]) for font in reader.pages[0]["/Resources"]["/Font"].values()}
    assert fonts and all("+" in name for name in fonts)  # ABCDEF+Name: a subset
    assert any("CJK" in name for name in fonts)
    descriptor = next(iter(reader.pages[0]["/Resources"]["/Font"].values())).get_object()
    assert "/DescendantFonts" in descriptor or "/FontDescriptor" in descriptor


def test_missing_cjk_font_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "installed_cjk_families", lambda: frozenset({"DejaVu Sans"}))
    with pytest.raises(DocumentError, match="fonts-noto-cjk"):
        _table()
    with pytest.raises(DocumentError, match="fonts-noto-cjk"):
        render_pdfs([("_test_table.html", {"company_name": COMPANY, "rows": 1, "amount": Decimal(1)})],
                    title="t", author=COMPANY)


def test_installed_fonts_include_noto_cjk() -> None:
    assert {"Noto Sans CJK SC", "Noto Serif CJK SC"} & pdf_module.installed_cjk_families()


@pytest.mark.parametrize("context", [
    {"url": "http://127.0.0.1:9/logo.png", "css": ""},
    {"url": "https://example.com/logo.png", "css": ""},
    {"url": "file:///etc/passwd", "css": ""},
    {"url": "", "css": "http://127.0.0.1:9/x.css"},
    {"url": "", "css": "../../arrears/__init__.py"},
])
def test_a_url_outside_our_files_in_the_context_is_refused(context: dict[str, str]) -> None:
    with pytest.raises(DocumentError, match="refused to fetch"):
        render_pdf("_test_url.html", {"company_name": COMPANY, "name": "张三", **context}, title="t", author=COMPANY)


def test_data_urls_and_our_static_files_are_allowed() -> None:
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAA"
             "AABJRU5ErkJggg==")
    pdf = render_pdf("_test_url.html", {"company_name": COMPANY, "name": "张三", "url": pixel,
                                        "css": (pdf_module.STATIC / "app.css").as_uri()}, title="t", author=COMPANY)
    assert "张三" in _pages(pdf)[0]


def test_fetcher_refuses_anything_outside_the_document_folders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fetcher = pdf_module._LocalOnlyFetcher()
    for url in ("http://127.0.0.1/x.css", "ftp://example.com/x", "file:///etc/passwd",
                (pdf_module.DOCUMENTS / "../web/x").as_uri(), (pdf_module.DOCUMENTS / "../../pyproject.toml").as_uri(),
                (tmp_path / "a.css").as_uri(), "file://otherhost/templates/documents/print.css"):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert b"A4" in fetcher.fetch((pdf_module.DOCUMENTS / "print.css").as_uri()).read()
    assert fetcher.fetch("data:text/plain,hi").read() == b"hi"


def test_text_from_the_context_is_escaped_not_interpreted() -> None:
    html = render_html("_test_url.html", {"company_name": COMPANY, "name": '<img src="file:///etc/passwd">赵六',
                                          "url": "", "css": ""})
    assert '<img src="file:///etc/passwd">' not in html and "&lt;img" in html
    pdf = render_pdf("_test_url.html", {"company_name": COMPANY, "name": '<img src="file:///etc/passwd">赵六',
                                        "url": "", "css": ""}, title="t", author=COMPANY)
    assert "赵六" in _pages(pdf)[0]


def test_a_missing_variable_or_template_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="company_name"):
        render_html("_test_table.html", {"rows": 1, "amount": Decimal(1)})
    with pytest.raises(DocumentError):
        render_html("no_such_template.html", {})


def test_render_pdfs_lays_out_each_document_on_its_own_and_join_pdfs_concatenates() -> None:
    parts = [("_test_table.html", {"company_name": COMPANY, "reference": f"ARR-{n}", "rows": rows,
                                   "amount": Decimal("1.00")}) for n, rows in ((1, 3), (2, 90), (3, 3))]
    pages = _pages(render_pdfs(parts, title="批次", author=COMPANY))
    starts = [i for i, text in enumerate(pages) if "测试表格" in text]
    assert starts[0] == 0 and len(starts) == 3
    middle = pages[starts[1]:starts[2]]
    assert all(f"第 {n} 页 共 {len(middle)} 页" in text for n, text in enumerate(middle, 1))
    assert "第 1 页 共 1 页" in pages[starts[2]]
    with pytest.raises(DocumentError):
        render_pdfs([], title="t", author=COMPANY)

    joined = join_pdfs([_table(rows=3), _table(rows=90)], title="合并", author=COMPANY)
    reader = PdfReader(io.BytesIO(joined))
    assert len(reader.pages) == 1 + len(_pages(_table(rows=90)))
    assert reader.metadata is not None and reader.metadata.title == "合并" and reader.metadata.author == COMPANY
    with pytest.raises(DocumentError):
        join_pdfs([])


# --- the letters from plain data (no database) ------------------------------------------------

SENDER = Sender(name=COMPANY, address="南京市鼓楼区中山路1号", phone="025-12345678", contact="催缴专线 025-12345678")


def _letter(kind: str, rows: int = 3, claim: bool = True) -> Letter:
    return Letter(
        kind=kind, title="催告函" if kind == "demand_letter" else "物业服务费缴费提醒函",
        reference="ARR-2026-000123", case_ids=(42,), date=dt.date(2026, 11, 22), sender=SENDER,
        recipient_name="张三", address_lines=("南京市鼓楼区中山路1号", "阳光花园1幢101室"), units=("阳光花园 1-1-101",),
        rows=tuple(LetterRow("阳光花园 1-1-101", f"{2024 + m // 12}-{m % 12 + 1:02d}",
                             dt.date(2024 + m // 12, m % 12 + 1, 28), Decimal("1234.50"),
                             Decimal("12.34") if claim else None) for m in range(rows)),
        deadline_days=15, claim_late_fee=claim, late_fee_basis="按逾期未付本金每日0.05%计收违约金",
        contract_name="前期物业服务合同")


def _render_letter(letter: Letter) -> list[str]:
    return _pages(render_pdf(f"{letter.kind}.html", {"company_name": COMPANY, "reference": letter.reference,
                                                      "letter": letter, "legal_basis": LEGAL_BASIS,
                                                      "article_944": ARTICLE_944},
                             title=letter.title, author=COMPANY))


def test_demand_letter_from_plain_data() -> None:
    pages = _render_letter(_letter("demand_letter"))
    flat = "".join("".join(pages).split())
    for expected in ("催告函", "张三", "阳光花园1-1-101", "ARR-2026-000123", "案件编号：42", "2026年11月22日",
                     "2024年1月", "2024年3月", "（共3期）", "2024年1月28日", "1,234.50", "3,703.50",
                     "叁仟柒佰零叁元伍角", "37.02", "叁拾柒元零贰分", "自收到本函之日起15日内", "缴费方式", "异议方式",
                     "法律依据", "《中华人民共和国民法典》第九百四十四条", "催缴专线025-12345678", "前期物业服务合同"):
        assert expected in flat, expected
    assert f"第 1 页 共 {len(pages)} 页" in pages[0]


def test_a_long_demand_repeats_its_table_header_and_numbers_its_pages() -> None:
    pages = _render_letter(_letter("demand_letter", rows=60))
    assert len(pages) >= 3
    assert all(f"第 {n} 页 共 {len(pages)} 页" in text for n, text in enumerate(pages, 1))
    table_pages = [text for text in pages if "1,234.50" in text]
    assert len(table_pages) >= 2 and all("欠费本金（元）" in text for text in table_pages)
    assert "74,070.00" in "".join(pages) and "2028年12月" in "".join(pages)
    assert "2024年1月至2028年12月期间（共60期）" in "".join("".join(pages).split())
    assert COMPANY in pages[1] and "编号：ARR-2026-000123" in pages[1]  # running header after page 1


def test_reminder_letter_from_plain_data_has_no_late_fee() -> None:
    [text] = _render_letter(_letter("reminder_letter", claim=False))
    flat = "".join(text.split())
    for expected in ("物业服务费缴费提醒函", "张三", "3,703.50", "叁仟柒佰零叁元伍角", "ARR-2026-000123", "第1页共1页"):
        assert expected in flat, expected
    assert "违约金（元）" not in flat
