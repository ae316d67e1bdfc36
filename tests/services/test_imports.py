"""Spreadsheet import: all or nothing, idempotent, exact error locations (sheet, row, column)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from arrears.persistence.models import Base, Charge, Community, ImportBatch, Owner, Payment, Unit
from arrears.services.imports import ImportIssue, ImportReport, run_import, template_workbook
from arrears.services.imports.schema import SHEETS
from arrears.services.statements import unit_statement
from tests.factories import ACTOR, make_company

TODAY = dt.date(2026, 1, 1)
DATA = Path(__file__).resolve().parents[1] / "data" / "import"
DEVELOPER = "91310000775785552L"


def good_sheets() -> dict[str, list[list[object]]]:
    """A small company: two units, co-owners, historical charges, payments and a delivered demand."""
    return {
        "communities": [
            ["code", "name", "province", "city", "address", "contract_name", "late_fee_rate_per_day",
             "allocation_policy", "demand_deadline_days", "developer_id_number"],
            ["SUN01", "阳光花园", "江苏", "南京市", "南京市鼓楼区中山路1号", "前期物业服务合同", "0.05%",
             "principal_first", 15, DEVELOPER],
        ],
        "fee_schedules": [
            ["community_code", "fee_item_code", "fee_item_name", "unit_type", "basis", "rate", "cycle",
             "due_rule", "due_day", "valid_from"],
            ["SUN01", "PROPERTY", "物业服务费", "residential", "per_m2", "2.00", "monthly",
             "day_of_first_month", 15, dt.date(2021, 1, 1)],
        ],
        "units": [
            ["community_code", "unit_code", "area", "unit_type", "delivered_on"],
            ["SUN01", "1-1-101", "100.00", "residential", dt.date(2020, 1, 1)],
            ["SUN01", "1-1-102", 50, "住宅", "2020-06-01"],
        ],
        "owners": [
            ["id_type", "id_number", "name", "kind", "phone", "is_developer"],
            ["resident_id", "110101199003074477", "张三", "person", "13800138000", "no"],
            ["resident_id", "440308199901010012", "李四", "", "", ""],
            ["身份证", "11010519491231002X", "王五", "自然人", "", ""],
            ["uscc", DEVELOPER, "金陵置业有限公司", "organisation", "", "yes"],
        ],
        "ownerships": [
            ["community_code", "unit_code", "owner_id_type", "owner_id_number", "valid_from", "valid_to"],
            ["SUN01", "1-1-101", "resident_id", "110101199003074477", dt.date(2020, 1, 1), None],
            ["SUN01", "1-1-102", "resident_id", "440308199901010012", dt.date(2020, 6, 1), None],
            ["SUN01", "1-1-102", "resident_id", "11010519491231002X", dt.date(2020, 6, 1), None],
        ],
        "charges": [
            ["community_code", "unit_code", "fee_item_code", "period", "amount", "due_date"],
            ["SUN01", "1-1-101", "PROPERTY", "2022-01", "200.00", dt.date(2022, 1, 15)],
            ["SUN01", "1-1-101", "PROPERTY", "2025-11", "200.00", dt.date(2025, 11, 15)],
            ["SUN01", "1-1-102", "PROPERTY", "2025-11", "100.00", dt.date(2025, 11, 15)],
            ["SUN01", "1-1-102", "PROPERTY", "2025-12", "100.00", dt.date(2025, 12, 15)],
        ],
        "payments": [
            ["receipt_ref", "community_code", "unit_code", "payer_id_number", "received_on", "amount", "designation"],
            ["R-0002", "SUN01", "1-1-101", "110101199003074477", dt.date(2025, 11, 20), "50.00", "2025-11"],
            ["R-0001", "SUN01", "1-1-102", "11010519491231002X", dt.date(2025, 11, 20), "100.00", None],
        ],
        "interruptions": [
            ["community_code", "unit_code", "kind", "occurred_on", "proof_ref", "delivery_result", "periods"],
            ["SUN01", "1-1-101", "demand_delivered", dt.date(2024, 6, 10), "EMS1234567890", "signed_by_owner", "2022-01"],
        ],
    }


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        ws = workbook.create_sheet(name)
        for row in rows:
            ws.append(row)
    workbook.save(path)
    return path


def table_counts(session: Session) -> dict[str, int]:
    session.flush()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def do_import(session: Session, company_id: int, path: Path, *, dry_run: bool = False) -> ImportReport:
    return run_import(session, ACTOR, company_id, path, today=TODAY, dry_run=dry_run)


def unit_by_code(session: Session, company_id: int, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.company_id == company_id, Unit.code == code))
    assert unit is not None
    return unit


ALL_NEW = {"communities": {"new": 1}, "fee_schedules": {"new": 1}, "units": {"new": 2}, "owners": {"new": 4},
           "ownerships": {"new": 3}, "charges": {"new": 4}, "payments": {"new": 2}, "interruptions": {"new": 1}}


def test_full_import_creates_records_and_statement_shows_arrears(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    report = do_import(session, company.id, write_xlsx(tmp_path / "good.xlsx", good_sheets()))
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts == ALL_NEW
    community = session.scalar(select(Community).where(Community.company_id == company.id))
    assert community is not None
    assert community.late_fee_rate_per_day == Decimal("0.0005")
    developer = session.scalar(select(Owner).where(Owner.id_number == DEVELOPER))
    assert developer is not None and community.developer_id == developer.id and developer.is_developer
    zhang = session.scalar(select(Owner).where(Owner.id_number == "110101199003074477"))
    assert zhang is not None and zhang.birth_date == dt.date(1990, 3, 7)
    assert unit_by_code(session, company.id, "1-1-102").area == Decimal("50.00")
    batch = session.get(ImportBatch, report.batch_id)
    assert batch is not None and len(batch.sha256) == 64
    payment = session.scalar(select(Payment).where(Payment.receipt_ref == "R-0001"))
    assert payment is not None and payment.import_batch_id == batch.id

    first = unit_statement(session, company.id, unit_by_code(session, company.id, "1-1-101").id, TODAY).statement
    # The 50.00 designated 2025-11 pays that period, not the older 2022-01 charge.
    assert first.arrears == Decimal("350.00")
    assert {line.label: line.outstanding for line in first.lines} == {"2022-01": Decimal("200.00"),
                                                                      "2025-11": Decimal("150.00")}
    second = unit_statement(session, company.id, unit_by_code(session, company.id, "1-1-102").id, TODAY).statement
    assert second.arrears == Decimal("100.00")  # R-0001 paid the earliest due (2025-11) in full


def test_same_file_twice_changes_nothing(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    path = write_xlsx(tmp_path / "good.xlsx", good_sheets())
    assert do_import(session, company.id, path).ok
    before = table_counts(session)
    again = do_import(session, company.id, path)
    assert again.ok, [str(e) for e in again.errors]
    assert again.counts == {sheet: {"unchanged": c["new"]} for sheet, c in ALL_NEW.items()}
    assert again.batch_id is None and again.previous_batch_id is not None
    assert table_counts(session) == before


def test_malformed_workbook_is_rejected_with_exact_locations(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    assert do_import(session, company.id, write_xlsx(tmp_path / "good.xlsx", good_sheets())).ok
    sheets = good_sheets()
    sheets["units"][2][2] = "0"                                           # units row 3: area 0
    sheets["owners"].append(["resident_id", "110101199003074478", "赵六", "", "", ""])  # owners row 6: checksum
    sheets["payments"].append(["R-0003", "SUN01", "9-9-999", "110101199003074477", dt.date(2025, 12, 1), "10.00", None])
    sheets["payments"][2][5] = "99.00"                                    # payments row 3: R-0001, other amount
    for row in sheets["charges"]:
        del row[5]                                                        # charges: no due_date column
    before = table_counts(session)
    report = do_import(session, company.id, write_xlsx(tmp_path / "bad.xlsx", sheets))
    assert not report.ok
    assert {(e.sheet, e.row, e.column) for e in report.errors} == {
        ("units", 3, "area"),
        ("owners", 6, "id_number"),
        ("payments", 4, "unit_code"),
        ("payments", 3, "receipt_ref"),
        ("charges", None, "due_date"),
    }
    assert table_counts(session) == before
    area = next(e for e in report.errors if e.sheet == "units")
    assert str(area) == "units row 3, column area: area must be greater than 0 / 面积必须大于0"


def test_errors_in_a_fresh_database_leave_it_empty(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    sheets = good_sheets()
    sheets["interruptions"][1][5] = "signed_by_locker_or_reception"   # does not count as delivered (L5)
    before = table_counts(session)
    report = do_import(session, company.id, write_xlsx(tmp_path / "bad.xlsx", sheets))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("interruptions", 2, "delivery_result")]
    assert table_counts(session) == before


def test_chinese_headers_and_sheet_names_are_accepted(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    by_sheet = {s.name: s for s in SHEETS}
    sheets = {}
    for name, rows in good_sheets().items():
        spec = by_sheet[name]
        sheets[spec.zh] = [[spec.by_name[h].zh for h in rows[0]], *rows[1:]]  # type: ignore[index]
    report = do_import(session, company.id, write_xlsx(tmp_path / "中文.xlsx", sheets))
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts == ALL_NEW


def test_csv_folder_is_accepted(session: Session) -> None:
    """tests/data/import/basic holds the same data as csv files (some with a BOM)."""
    company = make_company(session)
    report = do_import(session, company.id, DATA / "basic")
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts == ALL_NEW


def test_csv_fixture_matches_the_workbook_data() -> None:
    for name, rows in good_sheets().items():
        text = (DATA / "basic" / f"{name}.csv").read_text(encoding="utf-8-sig")
        assert list(csv.reader(io.StringIO(text))) == [[_csv(v) for v in row] for row in rows]


def _csv(value: object) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)


def test_dry_run_changes_nothing_and_counts_exactly(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    before = table_counts(session)
    report = do_import(session, company.id, write_xlsx(tmp_path / "good.xlsx", good_sheets()), dry_run=True)
    assert report.ok and report.counts == ALL_NEW and report.batch_id is None
    assert table_counts(session) == before


@pytest.mark.parametrize("with_demand, barred", [(True, False), (False, True)])
def test_interruptions_extend_limitation(session: Session, tmp_path: Path, with_demand: bool, barred: bool) -> None:
    """L4/L5: a charge due 2022-01-15 is time-barred by 2026-01-01 unless a demand delivered on
    2024-06-10 restarted the three years."""
    company = make_company(session)
    sheets = good_sheets()
    if not with_demand:
        del sheets["interruptions"]
    assert do_import(session, company.id, write_xlsx(tmp_path / "good.xlsx", sheets)).ok
    unit = unit_by_code(session, company.id, "1-1-101")
    line = next(x for x in unit_statement(session, company.id, unit.id, TODAY).statement.lines if x.label == "2022-01")
    assert line.time_barred is barred


def test_template_workbook_imports_cleanly(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    path = tmp_path / "template.xlsx"
    path.write_bytes(template_workbook())
    report = do_import(session, company.id, path, dry_run=True)
    assert report.ok, [str(e) for e in report.errors]
    assert set(report.counts) == {s.name for s in SHEETS}
    assert [ws.title for ws in openpyxl.load_workbook(path)][0] == "README"


def test_payment_and_charge_details(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    assert do_import(session, company.id, write_xlsx(tmp_path / "good.xlsx", good_sheets())).ok
    charges = session.scalars(select(Charge).join(Unit).where(Unit.company_id == company.id)).all()
    assert {c.source for c in charges} == {"import"}
    assert all(c.period_label in {"2022-01", "2025-11", "2025-12"} for c in charges)


def test_issue_text() -> None:
    issue = ImportIssue("units", 7, "area", "area must be greater than 0", "面积必须大于0")
    assert str(issue) == "units row 7, column area: area must be greater than 0 / 面积必须大于0"
    assert str(ImportIssue("charges", None, "due_date", "x", "y")) == "charges column due_date: x / y"


def test_format_doc_lists_every_column_with_both_spellings() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "import-format.md").read_text(encoding="utf-8")
    for sheet in SHEETS:
        assert f"### `{sheet.name}` / {sheet.zh}" in doc
        for column in sheet.columns:
            assert f"| `{column.name}` | {' / '.join([column.zh, *column.aliases])} |" in doc, column.name


@pytest.mark.parametrize("text, expected", [
    ("0.0005", "0.0005"), ("0.05%", "0.0005"), ("万分之五", "0.0005"), ("0.5‰", "0.0005"),
    ("千分之一", "0.001"), ("百分之六十", "0.6"), ("60%", "0.6"),
])
def test_rate_spellings(text: str, expected: str) -> None:
    from arrears.services.imports.cells import ratio

    assert ratio()(text) == Decimal(expected)


def test_zip_of_csv_files_and_period_start_from_the_fee_standard(session: Session, tmp_path: Path) -> None:
    import zipfile

    company = make_company(session)
    sheets = good_sheets()
    sheets["charges"][0][3] = "period_start"
    for row in sheets["charges"][1:]:
        row[3] = f"{row[3]}-01"  # a start date; the monthly fee standard gives the period
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, rows in sheets.items():
            buffer = io.StringIO()
            csv.writer(buffer).writerows([[_csv(v) for v in row] for row in rows])
            zf.writestr(f"export/{name}.csv", "\ufeff" + buffer.getvalue())
    report = do_import(session, company.id, archive)
    assert report.ok, [str(e) for e in report.errors]
    assert report.counts == ALL_NEW


def test_an_existing_record_is_never_changed(session: Session, tmp_path: Path) -> None:
    company = make_company(session)
    assert do_import(session, company.id, write_xlsx(tmp_path / "good.xlsx", good_sheets())).ok
    sheets = good_sheets()
    sheets["units"][1][2] = "101.00"
    report = do_import(session, company.id, write_xlsx(tmp_path / "changed.xlsx", sheets))
    assert [(e.sheet, e.row, e.column) for e in report.errors] == [("units", 2, "area")]
    assert unit_by_code(session, company.id, "1-1-101").area == Decimal("100.00")


def test_run_import_never_commits_even_on_sqlite(tmp_path: Path) -> None:
    """pysqlite starts transactions lazily; the import's savepoint must not become the outer
    transaction (releasing it would commit behind the caller's back)."""
    from arrears.persistence.db import make_engine, make_session_factory
    from arrears.persistence.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'own.sqlite3'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        company_id = make_company(session).id
        session.commit()
    with factory() as session:
        assert do_import(session, company_id, DATA / "basic").ok
        session.rollback()
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Unit)) == 0
    engine.dispose()
