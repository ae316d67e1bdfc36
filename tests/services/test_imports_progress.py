"""The import reports its progress in rows (each row checked, then written) for the job page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from arrears.services.imports import run_import
from tests.factories import ACTOR, make_company
from tests.services.test_imports import TODAY, good_sheets, write_xlsx

ROWS = 18  # the data rows of good_sheets()


def _steps(session: Session, company_id: int, path: Path, *, dry_run: bool = False) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []
    run_import(session, ACTOR, company_id, path, today=TODAY, dry_run=dry_run,
                        steps=lambda done, total: calls.append((done, total)))
    return calls


def test_progress_counts_each_row_checked_then_written(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    calls = _steps(session, company.id, write_xlsx(tmp_path / "good.xlsx", good_sheets()))
    assert calls[0] == (0, 2 * ROWS) and calls[-1] == (2 * ROWS, 2 * ROWS)
    assert {total for _, total in calls} == {2 * ROWS}
    done = [d for d, _ in calls]
    assert done == sorted(set(done)), "never goes back, never repeats"
    assert ROWS in done  # the checks end half way, before anything is written
    assert len(calls) >= 10  # one step per sheet checked and per sheet written, at least


def test_progress_ends_full_when_nothing_is_new_or_the_file_is_rejected(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    good = write_xlsx(tmp_path / "good.xlsx", good_sheets())
    assert run_import(session, ACTOR, company.id, good, today=TODAY).ok
    assert _steps(session, company.id, good)[-1] == (2 * ROWS, 2 * ROWS)
    bad = good_sheets()
    bad["units"][2][2] = "-5"
    calls = _steps(session, make_company(session).id, write_xlsx(tmp_path / "bad.xlsx", bad))
    assert calls[-1] == (2 * ROWS, 2 * ROWS)
