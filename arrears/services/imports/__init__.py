"""Spreadsheet import (all or nothing, idempotent): see docs/import-format.md."""

from .report import ImportIssue, ImportReport
from .service import run_import
from .template import template_workbook

__all__ = ["ImportIssue", "ImportReport", "run_import", "template_workbook"]
