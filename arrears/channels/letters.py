"""Printed letters: one PDF per batch (each letter starts a new page and numbers its own pages)
and a CSV mailing list for the post office.

Rendered with WeasyPrint from plain data through jinja2 templates in templates/documents. The URL
fetcher refuses everything except data: URLs and files inside templates/documents and static, so
owner-supplied text can never make the renderer read local files or call the network. Without a
CJK font the Chinese text would silently come out as empty boxes, so rendering fails loudly.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

ROOT = Path(__file__).resolve().parent.parent.parent
DOCUMENTS = ROOT / "templates" / "documents"
STATIC = ROOT / "static"
ALLOWED_DIRS = (DOCUMENTS, STATIC)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC")
TEMPLATE = "letter_simple.html"
MAILING_COLUMNS = ("reference", "recipient", "address", "postcode", "unit", "mail_class", "tracking_number")


class LetterRenderError(RuntimeError):
    """The letters cannot be rendered correctly (no CJK font, a refused resource)."""


class RefusedURL(FatalURLFetchingError):
    """A template asked for a resource outside the allowed directories."""


@dataclass(frozen=True)
class LetterRow:
    """One period of the debt the letter lists (frozen from the action's charges)."""

    period: str
    due: dt.date | None
    amount: Decimal
    item: str = ""

    @property
    def due_text(self) -> str:
        return chinese_date(self.due) if self.due else ""

    @property
    def amount_text(self) -> str:
        return money(self.amount)


@dataclass(frozen=True)
class LetterContent:
    reference: str
    recipient_name: str
    address_lines: tuple[str, ...]
    unit_label: str
    title: str
    date: dt.date
    body_paragraphs: tuple[str, ...]
    rows: tuple[LetterRow, ...] = ()
    sender: str = ""  # contact line under the company name
    signature: bool = True  # company name and date at the end (off when the body signs itself)
    table_title: str = "欠费明细"
    item_header: str = "项目"  # the second column: fee item, or the unit when a letter covers several

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal("0.00"))


@dataclass(frozen=True)
class MailingRow:
    reference: str
    recipient: str
    address: str
    unit: str
    mail_class: str = "挂号"  # registered letter; "EMS" for demands
    postcode: str = field(default="")
    tracking_number: str = ""  # filled in by hand after posting


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):,.2f}"


_POSTCODE_LABELLED = re.compile(r"邮编\s*[:：]?\s*(\d{6})(?!\d)")
_POSTCODE_EDGE = re.compile(r"^\s*[（(]?(\d{6})[)）]?(?!\d)|(?<!\d)[（(]?(\d{6})[)）]?\s*$")


def parse_postcode(address: str) -> str:
    """A six-digit postcode labelled 邮编 or standing at the start or end of the address, else ''."""
    match = _POSTCODE_LABELLED.search(address)
    if match:
        return match.group(1)
    match = _POSTCODE_EDGE.search(address)
    return (match.group(1) or match.group(2)) if match else ""


def mailing_list_csv(rows: Sequence[MailingRow]) -> bytes:
    """UTF-8 with BOM (so spreadsheet programs show the Chinese), one row per letter."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(MAILING_COLUMNS)
    for row in rows:
        postcode = row.postcode or parse_postcode(row.address)
        writer.writerow([row.reference, row.recipient, row.address.replace("\n", " "), postcode, row.unit,
                         row.mail_class, row.tracking_number])
    return buffer.getvalue().encode("utf-8-sig")


class _LocalOnlyFetcher(URLFetcher):
    """data: URLs and files inside the allowed directories; anything else stops the rendering."""

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme == "file" and not parts.netloc:
            path = Path(unquote(parts.path)).resolve()
            if path.is_file() and any(path.is_relative_to(folder.resolve()) for folder in ALLOWED_DIRS):
                return URLFetcherResponse(path.as_uri(), path.read_bytes(), _content_type(path))
        raise RefusedURL(f"refused to fetch {url!r} while rendering a letter")


def _content_type(path: Path) -> dict[str, str]:
    types = {".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml",
             ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".woff2": "font/woff2"}
    return {"Content-Type": types.get(path.suffix.lower(), "application/octet-stream")}


@functools.cache
def installed_cjk_families() -> frozenset[str]:
    """CJK font families fontconfig knows (asked once per process)."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise LetterRenderError(f"cannot list fonts with fc-list: {exc}") from exc
    return frozenset(name.strip() for line in out.splitlines() for name in line.split(","))


def require_cjk_font() -> None:
    if not any(family in installed_cjk_families() for family in CJK_FAMILIES):
        raise LetterRenderError(
            "no CJK font (Noto Sans/Serif CJK SC) is installed: install the Debian package fonts-noto-cjk")


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(DOCUMENTS)), autoescape=True,
                              undefined=jinja2.StrictUndefined)


def render_letter_html(letter: LetterContent, *, company_name: str) -> str:
    return _environment().get_template(TEMPLATE).render(
        letter=letter, company_name=company_name, date_text=chinese_date(letter.date),
        total_text=money(letter.total))


def render_letters_pdf(letters: Sequence[LetterContent], *, company_name: str) -> bytes:
    """One PDF for the printer. Each letter is laid out on its own (so it starts on a new page and
    "第 X 页 共 Y 页" counts its own pages), then the pages are joined into one document."""
    if not letters:
        raise ValueError("no letters to render")
    require_cjk_font()  # before anything else: without it the letters would be unreadable
    fonts = FontConfiguration()
    fetcher = _LocalOnlyFetcher()
    base_url = DOCUMENTS.as_uri() + "/"
    documents = [
        HTML(string=render_letter_html(letter, company_name=company_name), base_url=base_url,
             url_fetcher=fetcher).render(font_config=fonts)
        for letter in letters
    ]
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()
