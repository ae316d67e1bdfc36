"""`flask --app wsgi arrears …` commands. Each command owns its transaction."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from arrears.persistence.enums import Role
from arrears.persistence.migrate import upgrade
from arrears.persistence.models import Community, Company, Unit
from arrears.services import billing, users
from arrears.services.actor import Actor
from arrears.services.errors import ServiceError
from arrears.services.tenancy import close_books
from arrears.services.runtime import Runtime
from arrears.services.statement_json import statement_to_json
from arrears.services.statements import unit_statement
from arrears.services.timezone import company_today

arrears_cli = AppGroup("arrears", help="Arrears ledger, billing, imports and demo data.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(arrears_cli)


def _runtime() -> Runtime:
    return current_app.extensions["arrears"]


def _company(session, code: str | None) -> Company:  # type: ignore[no-untyped-def]
    companies = session.scalars(select(Company).order_by(Company.id)).all()
    if code:
        companies = [c for c in companies if c.uscc == code or str(c.id) == code]
    if len(companies) != 1:
        raise click.UsageError("name the company with --company (its id or unified social credit code)")
    return companies[0]


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month like 2026-11") from None


@arrears_cli.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema."""
    upgrade(_runtime().engine)
    click.echo("database is at the latest schema")


@arrears_cli.command("bill")
@click.option("--through", "through", required=True, help="last month to bill, YYYY-MM")
@click.option("--community", "community_code", default=None, help="only this community code")
@click.option("--company", "company_code", default=None, help="company id or USCC (if several)")
@click.option("--rescan", is_flag=True, help="re-examine every period, not only those after the last billed")
def bill_command(through: str, community_code: str | None, company_code: str | None, rescan: bool) -> None:
    """Post every charge due up to a month, idempotently."""
    month = _month(through)
    with _runtime().transaction() as session:
        company = _company(session, company_code)
        with click.progressbar(length=1, label="billing units") as bar:
            last = [0]

            def progress(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - last[0])
                last[0] = done

            try:
                result = billing.run_billing(
                    session, Actor.system("cli"), company_id=company.id, through=month,
                    today=company_today(company), community_code=community_code, rescan=rescan,
                    progress=progress,
                )
            except ServiceError as exc:
                raise click.ClickException(str(exc)) from exc
    click.echo(f"{result.units} units, {result.created} charges posted, total {result.amount}")
    for warning in result.warnings[:20]:
        click.echo(f"warning: {warning}", err=True)
    if len(result.warnings) > 20:
        click.echo(f"… and {len(result.warnings) - 20} more warnings", err=True)


@arrears_cli.command("statement")
@click.argument("community_code")
@click.argument("unit_code")
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD (default: today in the company's time zone)")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text")
@click.option("--company", "company_code", default=None)
def statement_command(community_code: str, unit_code: str, as_of: str | None, fmt: str, company_code: str | None) -> None:
    """Print a unit's statement as of a date."""
    with _runtime().transaction() as session:
        company = _company(session, company_code)
        unit = session.scalar(
            select(Unit).join(Community).where(
                Community.company_id == company.id, Community.code == community_code, Unit.code == unit_code
            )
        )
        if unit is None:
            raise click.ClickException(f"no unit {unit_code} in community {community_code}")
        day = dt.date.fromisoformat(as_of) if as_of else company_today(company)
        result = unit_statement(session, company.id, unit.id, day)
        data = statement_to_json(result)
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{data['community']['name']} {data['unit']['code']} as of {data['as_of']}")
    for line in data["lines"]:
        click.echo(
            f"{line['period']:>8} due {line['due_date']} amount {line['amount']:>10} paid {line['paid']:>10} "
            f"outstanding {line['outstanding']:>10} late fee {line['late_fee']['outstanding']:>8} "
            f"limitation {line['limitation']['end']}{' TIME-BARRED' if line['time_barred'] else ''}"
        )
    totals = data["totals"]
    click.echo(f"arrears {totals['arrears']}  late fees {totals['late_fee_outstanding']}  credit {totals['credit']}")


@arrears_cli.command("close-books")
@click.option("--through", "through", required=True, help="last day of the closed books, YYYY-MM-DD")
@click.option("--company", "company_code", default=None)
def close_books_command(through: str, company_code: str | None) -> None:
    """Refuse entries dated on or before a day (closed months); moving it back is refused too."""
    day = dt.date.fromisoformat(through)
    with _runtime().transaction() as session:
        company = _company(session, company_code)
        try:
            close_books(session, Actor.system("cli"), company.id, through=day)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"books closed through {day.isoformat()}")


@arrears_cli.command("create-user")
@click.option("--username", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="")
@click.option("--company", "company_code", required=True, help="company id or USCC")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
def create_user_command(username: str, password: str, display_name: str, company_code: str, role: str) -> None:
    """Create a user with a role in one company."""
    with _runtime().transaction() as session:
        company = _company(session, company_code)
        try:
            users.create_user(session, Actor.system("cli"), username=username, password=password,
                              display_name=display_name, memberships={company.id: Role(role)})
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"user {username} created as {role} of {company.name}")


@arrears_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--company", "company_code", default=None)
@click.option("--dry-run", is_flag=True, help="check and report, change nothing")
def import_command(path: Path, company_code: str | None, dry_run: bool) -> None:
    """Import a workbook (.xlsx) or a folder of .csv files; all or nothing."""
    from arrears.services.imports import run_import

    with _runtime().transaction() as session:
        company = _company(session, company_code)
        report = run_import(session, Actor.system("cli"), company.id, path, today=company_today(company),
                            dry_run=dry_run, progress=lambda msg: click.echo(msg, err=True))
        if not report.ok:
            session.rollback()
            for error in report.errors:
                click.echo(str(error), err=True)
            click.echo(f"import rejected: {len(report.errors)} error(s); nothing was changed", err=True)
            sys.exit(1)
        if dry_run:
            session.rollback()
    click.echo(report.summary_text())


@arrears_cli.command("demo")
@click.option("--if-empty", is_flag=True, help="only when the database has no company yet")
@click.option("--seed", default=2026, show_default=True)
def demo_command(if_empty: bool, seed: int) -> None:
    """Load the demo company (two communities, about 1,500 units, 24 months)."""
    from arrears.services.demo import DEMO_LOGINS, load_demo

    with _runtime().transaction() as session:
        if if_empty and session.scalar(select(Company.id).limit(1)) is not None:
            click.echo("database already has data; demo not loaded")
            return
        load_demo(session, seed=seed, progress=lambda msg: click.echo(msg, err=True))
    click.echo("demo data loaded. Sign in with:")
    for username, password, role in DEMO_LOGINS:
        click.echo(f"  {username:<12} {password:<20} {role}")


# --- escalation (issue 3): the same services as the scheduler's jobs ------------------------------


def _day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-29", param_hint="'--as-of'") from None


def _companies(code: str | None) -> list[Company]:
    """Every company, or the one named by id or USCC."""
    with _runtime().transaction() as session:
        companies = list(session.scalars(select(Company).order_by(Company.id)))
    if code is None:
        return companies
    named = [c for c in companies if c.uscc == code or str(c.id) == code]
    if not named:
        raise click.BadParameter(f"no company with id or USCC {code!r}", param_hint="'--company'")
    return named


@arrears_cli.command("escalate")
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD (default: each company's today)")
@click.option("--dry-run", is_flag=True, help="show what the run would decide; change nothing")
@click.option("--company", "company_code", default=None, help="only this company (id or USCC)")
def escalate_command(as_of: str | None, dry_run: bool, company_code: str | None) -> None:
    """Evaluate the collection cases and prepare the actions due (idempotent: a rerun adds nothing)."""
    from arrears.services.leases import escalate_company

    day = _day(as_of)
    failed = 0
    for company in _companies(company_code):
        try:
            result = escalate_company(_runtime(), Actor.system("cli"), company.id, as_of=day, dry_run=dry_run,
                                      trigger="cli")
        except ServiceError as exc:
            failed += 1
            click.echo(f"{company.name}: escalation failed: {exc}", err=True)
            continue
        except Exception as exc:  # noqa: BLE001 - one company's failure must not stop the others
            failed += 1
            click.echo(f"{company.name}: escalation failed: {type(exc).__name__}: {exc}", err=True)
            continue
        _echo_run(company, result, dry_run)
    if failed:
        raise click.ClickException(f"escalation failed for {failed} compan{'y' if failed == 1 else 'ies'}")


def _echo_run(company: Company, result, dry_run: bool) -> None:  # type: ignore[no-untyped-def]
    label = "dry run (nothing written)" if dry_run else f"run {result.run_id}"
    counts = ", ".join(f"{key} {value}" for key, value in result.counts.items())
    click.echo(f"{company.name}: {label}: {counts}")
    for error in result.errors:
        click.echo(f"  error: {error}", err=True)
    for d in result.decisions if dry_run else []:
        stage = f" -> {d.stage_code}" if d.stage_code else ""
        skipped = f" (after {', '.join(d.skipped)})" if d.skipped else ""
        nxt = f", next action {d.next_action_on}" if d.next_action_on else ""
        click.echo(f"  ownership {d.ownership_id} unit {d.unit_id}: {d.outcome.value}{stage}{skipped} "
                   f"[{d.reason.value}] arrears {d.arrears}{nxt}")


@arrears_cli.command("dispatch")
@click.option("--company", "company_code", default=None, help="only this company (id or USCC)")
def dispatch_command(company_code: str | None) -> None:
    """Queue approved actions as messages and send what is due (e-mail, SMS) now, as the
    scheduler's outbox job does every 5 minutes."""
    from arrears.persistence.base import utcnow
    from arrears.services.escalation.gateways import build_gateways
    from arrears.services.escalation.outbox import STALE_AFTER, dispatch_pending, queue_approved, recover_stale

    runtime, now = _runtime(), utcnow()
    companies = _companies(company_code)
    with runtime.transaction() as session:
        recovered = recover_stale(session, now=now, older_than=STALE_AFTER)
    if recovered:
        click.echo(f"{recovered} message(s) interrupted while sending are now 'unknown': resolve them by hand",
                   err=True)
    queued = 0
    for company in companies:
        with runtime.transaction() as session:
            queued += queue_approved(session, Actor.system("cli"), company.id, now=now)
    result = dispatch_pending(runtime, build_gateways(runtime.settings), now=now, worker="cli",
                              company_id=companies[0].id if company_code else None,
                              chunk=runtime.settings.dispatch_chunk)
    click.echo(f"{queued} message(s) queued; dispatch: {_counts_text(result)}")


def _counts_text(result: object) -> str:
    if isinstance(result, int):
        return str(result)
    counts = getattr(result, "counts", None)
    if isinstance(counts, dict):
        return ", ".join(f"{k} {v}" for k, v in counts.items())
    fields = getattr(result, "__dataclass_fields__", None)
    if fields:
        return ", ".join(f"{name} {getattr(result, name)}" for name in fields)
    return str(result)


@arrears_cli.command("letters")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for the PDF and the CSV mailing list")
@click.option("--company", "company_code", default=None, help="company id or USCC (if several)")
def letters_command(out: Path, company_code: str | None) -> None:
    """Make one batch of the printed letters waiting: a PDF to print and a CSV for the post office."""
    from arrears.persistence.base import utcnow
    from arrears.persistence.models import StoredFile
    from arrears.services.escalation.letters import make_letter_batch

    with _runtime().transaction() as session:
        company = _company(session, company_code)
        try:
            batch = make_letter_batch(session, Actor.system("cli"), company.id, now=utcnow())
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
        if batch is None:
            click.echo("no letters are waiting")
            return
        files = [session.get(StoredFile, file_id) for file_id in (batch.pdf_file_id, batch.csv_file_id)]
        contents = [(f.filename, f.data) for f in files if f is not None]
        batch_id, count = batch.id, batch.letter_count
    # Written once the batch is committed (the letters are then marked sent); the same files stay
    # downloadable from the batch in the web app.
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, data in contents:
        (out / filename).write_bytes(data)
        written.append(str(out / filename))
    click.echo(f"letter batch {batch_id}: {count} letter(s) -> " + ", ".join(written))


@arrears_cli.command("limitation-warnings")
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD (default: each company's today)")
@click.option("--company", "company_code", default=None, help="only this company (id or USCC)")
def limitation_warnings_command(as_of: str | None, company_code: str | None) -> None:
    """Refresh the warnings of charges whose limitation ends within 90 days (the daily job)."""
    from arrears.services.escalation.warnings import refresh_warnings

    day = _day(as_of)
    for company in _companies(company_code):
        with _runtime().transaction() as session:
            counts = refresh_warnings(session, Actor.system("cli"), company.id,
                                      today=day or company_today(company))
        click.echo(f"{company.name}: {counts.at_risk} charge(s) at risk; {counts.created} new warning(s), "
                   f"{counts.removed} removed")
