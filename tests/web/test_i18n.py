"""The Chinese catalogue is found, complete and consistent; English is the fallback.

The .mo files are not committed (see .gitignore), so a session fixture compiles every catalogue
whose .mo is missing or older than its .po before any test here runs.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from arrears.web.i18n import SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "arrears" / "translations"
DOMAIN = "messages"
# Babel parses zh_CN as zh_Hans_CN and gettext looks for that folder (or "zh"), never for "zh_CN".
ZH_FOLDER = str(Locale.parse("zh_CN"))
ZH_PO = TRANSLATIONS / ZH_FOLDER / "LC_MESSAGES" / f"{DOMAIN}.po"
# The same keywords as the extraction command: pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_
# (N_ marks service error messages, see arrears/services/errors.py).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
# printf-style placeholders, named or not; "%%" is a literal percent sign and counts too.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _compile(po_path: Path) -> None:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=po_path.parent.parent.name, domain=DOMAIN)
    # Write beside the target, then rename, so parallel workers never read a half-written file.
    fd, tmp = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    for po_path in TRANSLATIONS.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        _compile(po_path)


def _read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def _extract_from_source() -> Catalog:
    """What `pybabel extract -F babel.cfg` would write now, read from the current source."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalog = Catalog(domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS,
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _where(message: Message) -> str:
    return ", ".join(f"{f}:{n}" for f, n in message.locations[:3])


def _placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text))


# --- the catalogue is where gettext looks --------------------------------------------------------

def test_catalogue_folder_is_the_one_gettext_looks_for() -> None:
    assert "zh_CN" in SUPPORTED
    assert ZH_FOLDER == "zh_Hans_CN"
    assert ZH_PO.is_file(), f"expected the Chinese catalogue at {ZH_PO.relative_to(ROOT)}"
    assert not (TRANSLATIONS / "zh_CN").exists(), "a zh_CN folder is never read by gettext; use zh_Hans_CN"
    assert ZH_PO.with_suffix(".mo").is_file()


# --- the UI in each language ---------------------------------------------------------------------

def test_login_is_chinese_by_default(client: FlaskClient) -> None:
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "登录" in html
    assert "Sign in" not in html
    assert "用户名" in html and "密码" in html


def test_english_is_chosen_from_the_browser(client: FlaskClient) -> None:
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert "Sign in" in html
    assert "登录" not in html


def test_choosing_english_shows_english(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.status_code == 302
    html = client.get("/login").get_data(as_text=True)
    assert "Sign in" in html
    assert "User name" in html
    assert "登录" not in html
    assert '<html lang="en">' in html


def test_choosing_chinese_again_shows_chinese(app: Flask, client: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/language", data={"lang": "en", "next": "/login"})
    client.post("/language", data={"lang": "zh_CN", "next": "/login"})
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "登录" in html
    assert "Sign in" not in html


def test_translated_flash_message(app: Flask, client: FlaskClient) -> None:
    """A gettext() call in Python code (not only in templates) is translated too."""
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/login", data={"username": "nobody", "password": "wrong"})
    assert response.status_code == 401
    assert "用户名或密码错误。" in response.get_data(as_text=True)


# --- the catalogue is complete and consistent ----------------------------------------------------

def test_every_message_in_the_source_is_translated() -> None:
    extracted = _extract_from_source()
    assert len(extracted) > 50, "extraction found almost nothing; is babel.cfg still right?"
    catalogue = _read_catalogue(ZH_PO)
    problems = []
    for message in extracted:
        if not message.id:
            continue
        entry = catalogue.get(message.id, context=message.context)
        if entry is None:
            problems.append(f"  missing:   {message.id!r}  ({_where(message)})")
        elif entry.fuzzy:
            problems.append(f"  fuzzy:     {message.id!r}  ({_where(message)})")
        elif not _forms(entry.string) or not all(s.strip() for s in _forms(entry.string)):
            problems.append(f"  empty:     {message.id!r}  ({_where(message)})")
        elif message.pluralizable and len(_forms(entry.string)) != catalogue.num_plurals:
            problems.append(f"  plural:    {message.id!r} needs {catalogue.num_plurals} form(s)")
    assert not problems, (
        f"{len(problems)} message(s) lack a Chinese translation in {ZH_PO.relative_to(ROOT)}.\n"
        "Run: .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o arrears/translations/messages.pot"
        " --no-location --sort-output --project arrears .\n"
        "     .venv/bin/pybabel update -i arrears/translations/messages.pot -d arrears/translations\n"
        "then translate these (and clear any fuzzy flag):\n" + "\n".join(problems)
    )


def test_placeholders_match() -> None:
    catalogue = _read_catalogue(ZH_PO)
    problems = []
    for entry in catalogue:
        if not entry.id or not entry.string:
            continue
        wanted = Counter[str]()
        for source in _forms(entry.id):
            wanted |= _placeholders(source)
        for index, translation in enumerate(_forms(entry.string)):
            if not translation:
                continue
            got = _placeholders(translation)
            if got != wanted:
                problems.append(f"  {entry.id!r} [{index}]: expected {sorted(wanted.elements())}, "
                                f"got {sorted(got.elements())} in {translation!r}")
    assert not problems, "placeholders differ from the msgid:\n" + "\n".join(problems)


def test_translations_are_simplified_chinese() -> None:
    """A cheap guard against Traditional characters slipping in from copy-and-paste."""
    traditional = set("費應實繳違約訴訟時業戶區標準預餘額帳齡減調與開發單據記錄號碼錯誤權為這個們會")
    catalogue = _read_catalogue(ZH_PO)
    bad = [entry.id for entry in catalogue if entry.id
           for s in _forms(entry.string) if traditional & set(s)]
    assert not bad, f"Traditional characters in: {bad}"
