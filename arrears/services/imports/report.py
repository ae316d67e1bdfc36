"""What an import found and did: issues located by sheet, row and column, and per-sheet counts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImportIssue:
    """One problem in the file, in English and Chinese; `row` is the spreadsheet row (header = 1)."""

    sheet: str
    row: int | None
    column: str | None
    message_en: str
    message_zh: str

    def location(self) -> str:
        text = self.sheet
        if self.row is not None:
            text += f" row {self.row}"
        if self.column is not None:
            text += f", column {self.column}" if self.row is not None else f" column {self.column}"
        return text

    def __str__(self) -> str:
        return f"{self.location()}: {self.message_en} / {self.message_zh}"


@dataclass
class ImportReport:
    """The outcome of `run_import`; `ok` is False when anything was rejected (nothing changed)."""

    dry_run: bool = False
    errors: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    batch_id: int | None = None
    sha256: str = ""
    previous_batch_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        """True if the import (would) add anything."""
        return any(c.get("new", 0) for c in self.counts.values())

    def error(self, sheet: str, row: int | None, column: str | None, en: str, zh: str) -> None:
        self.errors.append(ImportIssue(sheet, row, column, en, zh))

    def warn(self, sheet: str, row: int | None, column: str | None, en: str, zh: str) -> None:
        self.warnings.append(ImportIssue(sheet, row, column, en, zh))

    def count(self, sheet: str, outcome: str, n: int = 1) -> None:
        per_sheet = self.counts.setdefault(sheet, {})
        per_sheet[outcome] = per_sheet.get(outcome, 0) + n

    def summary_text(self) -> str:
        """Plain lines for the CLI: one per sheet with its counts, then the outcome."""
        lines = []
        for sheet, counts in self.counts.items():
            parts = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("new", "unchanged"))
            lines.append(f"{sheet}: {parts}")
        if not self.ok:
            lines.append(f"rejected: {len(self.errors)} error(s); nothing was changed")
        elif self.dry_run:
            lines.append("dry run: nothing was changed")
        elif not self.changed:
            lines.append("nothing new: the database already holds everything in this file")
        else:
            lines.append(f"imported as batch {self.batch_id}")
        return "\n".join(lines)
