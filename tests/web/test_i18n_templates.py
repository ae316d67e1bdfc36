"""Every piece of UI text in the web templates is marked for translation, and each language really
shows on the main staff pages.

The first test lexes each template under templates/web with the app's own Jinja environment and
looks at what is left of the literal HTML (the ``data`` tokens) once tags, comments, entities,
punctuation and numbers are gone: any Latin word of two or more letters, or any Chinese
character, is text nobody marked with ``_()``. Translatable attributes (placeholder, title,
aria-label, alt) are checked the same way. Court documents (templates/documents) are Chinese only
and messages (templates/messages) are rendered in the recipient's language, so neither is checked.

The page tests catch the other way translations silently fail: a catalogue gettext never reads
(e.g. a ``translations/zh_CN`` folder; Babel looks for ``zh_Hans_CN``) leaves every page English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import Environment

from arrears.persistence.enums import Role
from tests.web.helpers import login, make_tenant

ROOT = Path(__file__).resolve().parents[2]
WEB_TEMPLATES = ROOT / "templates" / "web"
# Not UI text: the product name, the names of the languages in the switch (each in its own
# language), file formats that read the same in both languages, and HTML boolean attributes that a
# macro writes into a tag ({% if on %}checked{% endif %}).
ALLOWED = {"arrears", "中文", "English", "PDF", "CSV", "JSON", "ZIP", "Excel", "QR",
           "checked", "selected", "disabled", "required"}
ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
HOLE = "\x00"  # stands for a Jinja tag or expression inside the literal HTML
WORD = re.compile(r"[A-Za-z][A-Za-z'’]+|[\u3400-\u9fff\uf900-\ufaff]+")
ENTITY = re.compile(r"&(?:[A-Za-z]+|#\d+|#x[0-9A-Fa-f]+);")
# Flask's Jinja settings (default delimiters) with the i18n extension Flask-Babel adds; standalone so
# that the check needs no database and runs even when the app cannot start.
LEXER = Environment(extensions=["jinja2.ext.i18n"])
ATTRIBUTE = re.compile(r"""\s(%s)\s*=\s*(?:"([^"]*)"|'([^']*)')""" % "|".join(ATTRIBUTES), re.IGNORECASE)


@dataclass(frozen=True)
class Unmarked:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def _words(text: str) -> list[str]:
    return [w for w in WORD.findall(ENTITY.sub(" ", text)) if w not in ALLOWED]


def _literal_html(path: Path) -> tuple[str, list[int]]:
    """The template's literal HTML with every Jinja part replaced by HOLE, and each character's line.
    Text between {% trans %} and {% endtrans %} is marked, so it becomes a HOLE too."""
    source = path.read_text(encoding="utf-8")
    chars: list[str] = []
    lines: list[int] = []
    in_trans = False
    last_name = ""
    for lineno, kind, value in LEXER.lex(source, path.name, str(path)):
        if kind == "name" and last_name == "block_begin":
            in_trans = value == "trans" or (in_trans and value != "endtrans")
        last_name = kind
        if kind == "data" and not in_trans:
            for offset, ch in enumerate(value):
                chars.append(ch)
                lines.append(lineno + value.count("\n", 0, offset))
        elif kind in ("variable_begin", "block_begin") or (kind == "data" and in_trans):
            chars.append(HOLE)
            lines.append(lineno)
    return "".join(chars), lines


def unmarked_in(path: Path) -> list[Unmarked]:
    """Unmarked text in one template: outside tags, and in translatable attributes."""
    html, lines = _literal_html(path)
    name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
    found: list[Unmarked] = []
    html_without_comments = re.sub(r"<!--.*?-->", lambda m: " " * len(m.group()), html, flags=re.DOTALL)
    position, text_start = 0, 0
    while position < len(html_without_comments):
        ch = html_without_comments[position]
        if ch == "<" and re.match(r"</?[A-Za-z!]", html_without_comments[position:position + 3]):
            _report_text(html_without_comments[text_start:position], text_start, lines, name, found)
            end = _tag_end(html_without_comments, position)
            tag = html_without_comments[position:end]
            for match in ATTRIBUTE.finditer(tag):
                value = match.group(2) if match.group(2) is not None else match.group(3)
                if _words(value):
                    found.append(Unmarked(name, lines[position + match.start()], f"{match.group(1)}={value!r}"))
            skip = re.match(r"<(script|style)\b", tag, re.IGNORECASE)
            if skip:  # code, not text
                close = html_without_comments.lower().find(f"</{skip.group(1).lower()}", end)
                end = len(html_without_comments) if close < 0 else _tag_end(html_without_comments, close)
            position = text_start = end
            continue
        position += 1
    _report_text(html_without_comments[text_start:], text_start, lines, name, found)
    return found


def _tag_end(html: str, start: int) -> int:
    """Index just after the ``>`` that closes the tag opened at ``start`` (quotes respected)."""
    quote = ""
    for index in range(start + 1, len(html)):
        ch = html[index]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == ">":
            return index + 1
    return len(html)


def _report_text(text: str, start: int, lines: list[int], name: str, found: list[Unmarked]) -> None:
    for piece in re.finditer(r"[^\x00]+", text):
        words = _words(piece.group())
        if words:
            first = piece.start() + piece.group().find(words[0])
            found.append(Unmarked(name, lines[start + first], " ".join(piece.group().split())))


def _templates() -> list[Path]:
    return sorted(WEB_TEMPLATES.rglob("*.html"))


def test_the_checker_finds_unmarked_text(tmp_path: Path) -> None:
    sample = tmp_path / "sample.html"
    sample.write_text(
        "{% block x %}<p class=\"muted\">{{ _('Marked') }} · 12.50</p>\n"
        "<h2>Unmarked heading</h2> <!-- a comment is fine -->\n"
        "<input placeholder=\"search here\" title=\"{{ _('ok') }}\" value=\"{{ v }}\">\n"
        "<span>未翻译</span>{% if a %}<b>{{ b }}</b>{% endif %} &nbsp; arrears\n"
        "<script>var notText = 1;</script>{% endblock %}\n", encoding="utf-8")
    found = unmarked_in(sample)
    assert [(u.line, u.text) for u in found] == [
        (2, "Unmarked heading"), (3, "placeholder='search here'"), (4, "未翻译")]


def test_every_web_template_string_is_marked_for_translation() -> None:
    found = [problem for path in _templates() for problem in unmarked_in(path)]
    assert not found, (
        f"{len(found)} piece(s) of template text are not marked for translation; wrap them in "
        "{{ _('...') }} (and add the Chinese to the catalogue):\n" + "\n".join(f"  {p}" for p in found))


# ---------------------------------------------------------------- each language shows

STAFF_PAGES = {  # page -> a Chinese string it shows (its title or heading)
    "/units/": "房屋",
    "/cases/": "待办案件",
    "/runs/": "催缴运行记录",
    "/deliveries/": "信函与送达",
    "/notices/": "欠费公示",
    "/legal/": "法律案件",
    "/billing/": "计费",
    "/imports/": "导入",
}
CJK = re.compile(r"[\u3400-\u9fff]")


def _visible(html: str) -> str:
    """What a reader sees: text outside tags, without the names of the languages in the switch and
    without data (community names, owners) that is Chinese in any language."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL | re.IGNORECASE)
    text = re.sub(r"<[^>]*>", " ", text)
    return text.replace("中文", " ")


@pytest.fixture
def staff_client(app: Flask, client: FlaskClient) -> FlaskClient:
    """A signed-in manager of a company with no Chinese data (so any Chinese on a page is UI text)."""
    app.config["WTF_CSRF_ENABLED"] = False
    tenant = make_tenant(app, "i18n")
    with app.extensions["arrears"].transaction() as session:
        from arrears.persistence.models import Community, Company, Owner, Unit

        unit = session.get(Unit, tenant.unit_id)
        assert unit is not None
        company = session.get(Company, tenant.company_id)
        assert company is not None
        company.name = "Acme Property Services"
        unit.community.name = "Sunny Garden"
        for owner in session.query(Owner).filter(Owner.company_id == tenant.company_id):
            owner.name = "Zhang San"
        for community in session.query(Community).filter(Community.company_id == tenant.company_id):
            community.name = "Sunny Garden"
            community.address = "1 Zhongshan Road"
    login(client, tenant.usernames[Role.MANAGER])
    return client


def test_the_main_staff_pages_show_no_chinese_in_english(staff_client: FlaskClient) -> None:
    staff_client.post("/language", data={"lang": "en", "next": "/"})
    problems = {}
    for url in STAFF_PAGES:
        response = staff_client.get(url)
        assert response.status_code == 200, url
        chinese = CJK.findall(_visible(response.get_data(as_text=True)))
        if chinese:
            problems[url] = "".join(chinese)[:80]
    assert not problems, f"Chinese text on English pages: {problems}"


def test_the_main_staff_pages_show_chinese_in_chinese(staff_client: FlaskClient) -> None:
    staff_client.post("/language", data={"lang": "zh_CN", "next": "/"})
    for url, expected in STAFF_PAGES.items():
        response = staff_client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert expected in html, f"{url} does not show {expected!r}: is the catalogue found?"
        assert '<html lang="zh' in html
