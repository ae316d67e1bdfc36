"""The render core: Jinja templates in templates/documents → HTML → PDF with WeasyPrint.

* Templates get plain data only (dataclasses, mappings, Decimals, dates) and extend ``base.html``
  (A4, running header with the company name, "第 X 页 共 Y 页", the shared ``print.css``).
* The URL fetcher refuses everything except ``data:`` URLs and files inside templates/documents
  and the app's static folder, so text from owners or a careless template can never make the
  renderer read local files or call the network; a refused URL stops the rendering (DocumentError).
* Chinese text needs a CJK font (Noto CJK from the Debian package fonts-noto-cjk, embedded as a
  subset). Without it the text would silently print as empty boxes, so rendering fails loudly.
* PDF metadata: title, author (the company) and creation date.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .formatting import FILTERS

ROOT = Path(__file__).resolve().parent.parent.parent
DOCUMENTS = ROOT / "templates" / "documents"
STATIC = ROOT / "static"
ALLOWED_DIRS = (DOCUMENTS, STATIC)
CJK_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")


class DocumentError(RuntimeError):
    """A document cannot be rendered correctly (no CJK font, a refused resource, bad data)."""


class RefusedURL(FatalURLFetchingError):
    """A template asked for a resource outside the allowed folders (stops WeasyPrint at once;
    :func:`render_pdf` reports it as a :class:`DocumentError`)."""


class _LocalOnlyFetcher(URLFetcher):
    """data: URLs and files inside the allowed folders; anything else stops the rendering."""

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme == "file" and not parts.netloc:
            path = Path(unquote(parts.path)).resolve()
            if path.is_file() and any(path.is_relative_to(folder.resolve()) for folder in ALLOWED_DIRS):
                return URLFetcherResponse(path.as_uri(), path.read_bytes(), _content_type(path))
        raise RefusedURL(f"refused to fetch {url!r} while rendering a document")


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
        raise DocumentError(f"cannot list fonts with fc-list: {exc}") from exc
    return frozenset(name.strip() for line in out.splitlines() for name in line.split(","))


def require_cjk_font() -> None:
    """Raise DocumentError unless a Noto CJK SC family is installed."""
    if not any(family in installed_cjk_families() for family in CJK_FAMILIES):
        raise DocumentError(
            "no CJK font (Noto Serif/Sans CJK SC) is installed: install the Debian package fonts-noto-cjk")


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(DOCUMENTS)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    return env


def render_html(template: str, context: Mapping[str, Any]) -> str:
    """The HTML of templates/documents/<template> (autoescaped; a missing variable is an error)."""
    try:
        return environment().get_template(template).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise DocumentError(f"no document template {template!r}") from exc
    except jinja2.UndefinedError as exc:
        raise DocumentError(f"document template {template!r}: {exc}") from exc


def _layout(template: str, context: Mapping[str, Any], *, title: str, fonts: FontConfiguration,
            fetcher: URLFetcher) -> Document:
    html = render_html(template, {"document_title": title, **context})
    try:
        return HTML(string=html, base_url=DOCUMENTS.as_uri() + "/", url_fetcher=fetcher).render(font_config=fonts)
    except FatalURLFetchingError as exc:
        raise DocumentError(str(exc)) from exc


def _write(document: Document, *, title: str, author: str, created: dt.datetime | None) -> bytes:
    when = created or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    stamp = when.isoformat(timespec="seconds")
    document.metadata.title = title
    document.metadata.authors = [author]
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.metadata.lang = "zh-CN"
    data = document.write_pdf()
    if data is None:  # pragma: no cover - write_pdf without a target always returns bytes
        raise DocumentError("WeasyPrint produced no PDF")
    return bytes(data)


def render_pdf(template: str, context: Mapping[str, Any], *, title: str, author: str,
               created: dt.datetime | None = None) -> bytes:
    """One document as PDF: templates/documents/<template> with ``context`` (which must hold
    ``company_name`` for the running header), metadata title/author/creation date."""
    require_cjk_font()  # before anything else: without it the document would be unreadable
    document = _layout(template, context, title=title, fonts=FontConfiguration(), fetcher=_LocalOnlyFetcher())
    return _write(document, title=title, author=author, created=created)


def render_pdfs(parts: Iterable[tuple[str, Mapping[str, Any]]], *, title: str, author: str,
                created: dt.datetime | None = None) -> bytes:
    """Several documents in one PDF for the printer: each is laid out on its own (so it starts on
    a new page and "第 X 页 共 Y 页" counts its own pages), then the pages are joined."""
    require_cjk_font()
    fonts, fetcher = FontConfiguration(), _LocalOnlyFetcher()
    documents = [_layout(template, context, title=title, fonts=fonts, fetcher=fetcher) for template, context in parts]
    if not documents:
        raise DocumentError("no documents to render")
    pages = [page for document in documents for page in document.pages]
    return _write(documents[0].copy(pages), title=title, author=author, created=created)


def join_pdfs(parts: Sequence[bytes], *, title: str | None = None, author: str | None = None) -> bytes:
    """Concatenate finished PDFs (e.g. a filing packet); metadata from the first part unless given."""
    from pypdf import PdfReader, PdfWriter

    if not parts:
        raise DocumentError("no PDFs to join")
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    info = dict(PdfReader(io.BytesIO(parts[0])).metadata or {})
    if title is not None:
        info["/Title"] = title
    if author is not None:
        info["/Author"] = author
    writer.add_metadata({str(key): str(value) for key, value in info.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
