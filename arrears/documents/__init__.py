"""Printed documents: Jinja templates in templates/documents rendered to PDF by WeasyPrint (and the
filing documents to editable .docx, :mod:`.docx`).

This layer renders plain data (dataclasses, mappings) handed over by a service; it never touches
the database and does not import the services or channels layers.
"""

from .docx import DOCX, render_docx
from .pdf import (
    DocumentError,
    RefusedURL,
    join_pdfs,
    render_html,
    render_pdf,
    render_pdfs,
)

__all__ = ["DOCX", "DocumentError", "RefusedURL", "join_pdfs", "render_docx", "render_html", "render_pdf",
           "render_pdfs"]
