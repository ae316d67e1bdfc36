"""Editable copies (.docx) of the filing documents (issue 5 §9), for lawyers who must adapt the
wording before filing.

A .docx is rendered from exactly the context dict the HTML template gets: the template is rendered
to HTML (:func:`render_html`, the same text as the PDF) and that HTML is laid out as Word blocks —
``h1``–``h4`` as headings, ``p``/``div``/``li`` as paragraphs (list items numbered), ``table`` as a
grid table (``th`` bold, ``colspan`` merged), ``br`` as a line break and ``span.blank`` as a blank
to fill in. The running company/reference line goes into the page header. Pure: no database.

Fonts: every run carries the East Asian font ``Noto Serif CJK SC`` (the font of the PDFs); the
document's styles carry 宋体 (SimSun), which word processors without Noto fall back to.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from docx import Document as new_document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from .pdf import render_html

CJK_FONT = "Noto Serif CJK SC"
FALLBACK_FONT = "宋体"
LATIN_FONT = "Times New Roman"
BLANK = "＿＿＿＿"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

_SPACE = re.compile(r"[ \t\r\n\f\v]+")  # not \s: keep the ideographic space (U+3000) of the forms
_SKIP = {"head", "style", "script", "title"}


@dataclass
class Para:
    text: str
    heading: int = 0  # 1..4 for h1..h4
    classes: tuple[str, ...] = ()
    bold: bool = False


@dataclass
class Cell:
    header: bool
    colspan: int
    paras: list[Para] = field(default_factory=list)


@dataclass
class Table:
    rows: list[list[Cell]]


Block = Para | Table


class _Collector(HTMLParser):
    """HTML of a document template → a flat list of paragraphs and tables (no nesting of tables)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.running: list[str] = []
        self.buf: list[str] = []
        self.skip = 0
        self.heading = 0
        self.classes: tuple[str, ...] = ()
        self.lists: list[list[int]] = []  # [ordered, counter]
        self.table: list[list[Cell]] | None = None
        self.row: list[Cell] | None = None
        self.cell: Cell | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        attr = dict(attrs)
        classes = tuple((attr.get("class") or "").split())
        if tag in ("h1", "h2", "h3", "h4"):
            self._flush()
            self.heading, self.classes = int(tag[1]), classes
        elif tag in ("p", "div"):
            self._flush()
            self.classes = classes
        elif tag in ("ol", "ul"):
            self._flush()
            self.lists.append([tag == "ol", 0])
        elif tag == "li":
            self._flush()
            marker = "• "
            if self.lists:
                self.lists[-1][1] += 1
                marker = f"{self.lists[-1][1]}. " if self.lists[-1][0] else "• "
            self.buf.append(marker)
        elif tag == "table":
            self._flush()
            self.table = []
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self._flush()
            span = attr.get("colspan") or "1"
            self.cell = Cell(header=tag == "th", colspan=int(span) if span.isdigit() else 1)
        elif tag == "br":
            self.buf.append("\n")
        elif tag == "span" and "blank" in classes:
            self.buf.append(BLANK)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(self.skip - 1, 0)
            return
        if self.skip:
            return
        if tag in ("h1", "h2", "h3", "h4", "p", "div", "li"):
            self._flush()
        elif tag in ("ol", "ul"):
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag in ("td", "th"):
            self._flush()
            if self.cell is not None and self.row is not None:
                self.row.append(self.cell)
            self.cell = None
        elif tag == "tr":
            if self.row is not None and self.table is not None and self.row:
                self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self._flush()
            if self.table:
                self.blocks.append(Table(self.table))
            self.table = None

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        text = "\n".join(_SPACE.sub(" ", part).strip() for part in "".join(self.buf).split("\n")).strip()
        self.buf = []
        heading, classes = self.heading, self.classes
        self.heading, self.classes = 0, ()
        if not text:
            return
        if any(c.startswith("running-") for c in classes) and self.table is None:
            self.running.append(text)
            return
        para = Para(text, heading, classes, bold=self.cell is not None and self.cell.header)
        if self.cell is not None:
            self.cell.paras.append(para)
        else:
            self.blocks.append(para)


def html_blocks(html: str) -> tuple[list[Block], list[str]]:
    """The blocks of a rendered document template, and its running header lines."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.blocks, collector.running


def render_docx(template: str, context: Mapping[str, Any], *, title: str, author: str,
                created: dt.datetime | None = None) -> bytes:
    """The .docx of templates/documents/<template> with ``context`` (the PDF's context)."""
    blocks, running = html_blocks(render_html(template, context))
    document = new_document()
    _styles(document)
    props = document.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    if created is not None:
        props.created = props.modified = created.replace(tzinfo=None)
    section = document.sections[0]
    if running:
        header = section.header.paragraphs[0]
        _runs(header, "　　".join(running), size=9)
    for block in blocks:
        if isinstance(block, Table):
            _table(document, block)
        else:
            _paragraph(document, block)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _styles(document: Any) -> None:
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "Table Grid"):
        try:
            style = document.styles[name]
        except KeyError:
            continue
        style.font.name = LATIN_FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert(0, fonts)
        fonts.set(qn("w:eastAsia"), FALLBACK_FONT)
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)
        if name.startswith("Heading"):
            style.font.color.rgb = RGBColor(0, 0, 0)
    document.styles["Normal"].font.size = Pt(12)


def _paragraph(document: Any, block: Para) -> None:
    if block.heading:
        paragraph = document.add_heading(level=min(block.heading, 4))
        if block.heading == 1:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _runs(paragraph, block.text, bold=True, size=18 if block.heading == 1 else 14)
        return
    paragraph = document.add_paragraph()
    _runs(paragraph, block.text, bold=block.bold or "em" in block.classes,
          size=10 if {"muted", "note"} & set(block.classes) else None)


def _table(document: Any, block: Table) -> None:
    width = max(sum(c.colspan for c in row) for row in block.rows)
    table = document.add_table(rows=len(block.rows), cols=width)
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, row in enumerate(block.rows):
        column = 0
        for i, cell in enumerate(row):
            span = cell.colspan if i < len(row) - 1 else max(width - column, 1)
            target = table.cell(r, column)
            if span > 1:
                target = target.merge(table.cell(r, column + span - 1))
            paras = cell.paras or [Para("")]
            for k, para in enumerate(paras):
                paragraph = target.paragraphs[0] if k == 0 else target.add_paragraph()
                _runs(paragraph, para.text, bold=cell.header or para.bold,
                      size=10 if {"muted", "note"} & set(para.classes) else None)
            column += span


def _runs(paragraph: Any, text: str, *, bold: bool = False, size: int | None = None) -> None:
    for i, line in enumerate(text.split("\n")):
        run = paragraph.add_run()
        if i:
            run.add_break()  # a <br>: the line starts after the break
        run.add_text(line)
        run.bold = bold or None
        if size:
            run.font.size = Pt(size)
        run.font.name = LATIN_FONT
        rpr = run._element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert(0, fonts)
        fonts.set(qn("w:eastAsia"), CJK_FONT)


__all__ = ["CJK_FONT", "DOCX", "FALLBACK_FONT", "html_blocks", "render_docx"]
