"""The document registry: a kind of document → the builder that turns a database subject into
plain data for its template (:class:`Built`), and :func:`render` that makes the PDF.

Builders live in sibling modules (letters, notices, packet) and register themselves with
``@builder("kind")`` when imported; :func:`build` imports them lazily, so importing the registry
is cheap and has no cycles. Builders read the database; templates never do.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from arrears.documents import render_docx as _render_docx
from arrears.documents import render_pdf

from ..errors import N_, ServiceError

#: The kinds of document and their subject: an EscalationAction id for the letters, a CollectionCase
#: id for the statement and the filing documents, a PublicNotice id for the notice.
KINDS = (
    "reminder_letter", "demand_letter", "statement_of_account", "public_notice",
    "complaint", "payment_order_application", "arbitration_application", "calculation_sheet",
    "evidence_list", "power_of_attorney", "legal_rep_certificate", "court_fee_estimate",
    # a LegalCase subject (issue 5 §6)
    "enforcement_application", "dishonest_list_application", "deletion_request", "mediation_settlement",
)
#: Modules (in this package) whose import registers builders.
BUILDER_MODULES = ("letters", "notices", "packet", "legal_docs")


@dataclass(frozen=True)
class DocumentRequest:
    """Which document to build: ``kind`` (one of KINDS) of the subject ``subject_id`` in the company;
    ``options`` are strings, e.g. {"route": "small_claims", "as_of": "2026-11-22"}."""

    kind: str
    company_id: int
    subject_id: int
    options: Mapping[str, str] = field(default_factory=dict)

    def option(self, name: str, default: str = "") -> str:
        return str(self.options.get(name, default) or default)

    def date_option(self, name: str, default: dt.date) -> dt.date:
        """An ISO date option (e.g. ``as_of``), else ``default``; a malformed date is a ServiceError."""
        text = self.option(name)
        if not text:
            return default
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise ServiceError(N_("%(name)s must be a date (YYYY-MM-DD), not %(value)s"),
                               name=name, value=text) from exc

    def flag_option(self, name: str, default: bool) -> bool:
        text = self.option(name).strip().lower()
        if not text:
            return default
        return text in ("1", "true", "yes", "on", "y")


@dataclass(frozen=True)
class Built:
    """Everything needed to render a document: ``template`` in templates/documents, its plain-data
    ``context`` (holds ``company_name``), the PDF title, a file name and the author (the company)."""

    template: str
    context: Mapping[str, Any]
    title: str
    filename: str
    author: str


Builder = Callable[[Session, DocumentRequest], Built]
_BUILDERS: dict[str, Builder] = {}


def builder(kind: str) -> Callable[[Builder], Builder]:
    """Register ``fn(session, request) -> Built`` as the builder of ``kind``."""

    def register(fn: Builder) -> Builder:
        _BUILDERS[kind] = fn
        return fn

    return register


def _load_builders() -> None:
    for name in BUILDER_MODULES:  # each module registers its builders when imported
        importlib.import_module(f"{__package__}.{name}")


def builders() -> dict[str, Builder]:
    """The registered builders by kind (after importing every builder module)."""
    _load_builders()
    return dict(_BUILDERS)


def build(session: Session, request: DocumentRequest) -> Built:
    """The plain data of one document (reads the database, renders nothing)."""
    if request.kind not in _BUILDERS:
        _load_builders()
    fn = _BUILDERS.get(request.kind)
    if fn is None:
        raise ServiceError(N_("unknown kind of document: %(kind)s"), kind=request.kind)
    return fn(session, request)


def render(session: Session, request: DocumentRequest, *, created: dt.datetime | None = None) -> tuple[Built, bytes]:
    """Build and render one document to PDF."""
    built = build(session, request)
    return built, render_pdf(built.template, built.context, title=built.title, author=built.author,
                             created=created)


#: The kinds that also download as an editable .docx (issue 5 §9): the complaint and the applications.
DOCX_KINDS = ("complaint", "payment_order_application", "arbitration_application")


def render_docx(session: Session, request: DocumentRequest, *,
                created: dt.datetime | None = None) -> tuple[Built, bytes]:
    """Build one document and render it as an editable .docx from the same data as its PDF (only
    DOCX_KINDS; another kind is a ServiceError); ``Built.filename`` ends in .docx."""
    if request.kind not in DOCX_KINDS:
        raise ServiceError(N_("%(kind)s has no editable copy (only the complaint and the applications)"),
                           kind=request.kind)
    built = build(session, request)
    built = replace(built, filename=built.filename.removesuffix(".pdf") + ".docx")
    return built, _render_docx(built.template, built.context, title=built.title, author=built.author,
                               created=created)
