"""Documents built from the database: letters, statements, notices, filing packets.

Builders turn a subject (an escalation action, a case, a notice) into plain data; the render core
(:mod:`arrears.documents`) turns that into a PDF. See :mod:`.registry`.
"""

from .registry import KINDS, Built, DocumentRequest, build, builder, builders, render

__all__ = ["KINDS", "Built", "DocumentRequest", "build", "builder", "builders", "render"]
