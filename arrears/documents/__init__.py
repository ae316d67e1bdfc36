"""Printed documents: Jinja templates in templates/documents rendered to PDF by WeasyPrint.

This layer renders plain data (dataclasses, mappings) handed over by a service; it never touches
the database and does not import the services or channels layers.
"""

from .pdf import (
    DocumentError,
    RefusedURL,
    join_pdfs,
    render_html,
    render_pdf,
    render_pdfs,
)

__all__ = ["DocumentError", "RefusedURL", "join_pdfs", "render_html", "render_pdf", "render_pdfs"]
