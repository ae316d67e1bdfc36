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
from arrears.services.legal.ceilings import seed_ceilings
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
    with _runtime().transaction() as session:  # small-claims ceilings (L11): only into an empty table
        seed_ceilings(session)
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
    from arrears.services.escalation.outbox import (
        STALE_AFTER,
        dispatch_pending,
        queue_approved,
        recover_stale,
    )

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


@arrears_cli.command("rebuild-reports")
@click.option("--company", "company_code", default=None, help="only this company (id or USCC)")
def rebuild_reports_command(company_code: str | None) -> None:
    """Rebuild the collection summaries behind the dashboard and reports (the nightly job), one
    transaction per company; briefly holds back ledger writes on PostgreSQL."""
    from arrears.services.reports.summary import rebuild

    for company in _companies(company_code):
        with _runtime().transaction() as session:
            result = rebuild(session, company.id)
        click.echo(f"{company.name}: collection summary rebuilt ({result.days} day rows, "
                   f"{result.months} month rows, {result.billed} billed rows)")


# --- documents (issue 4): the same services as the web's document downloads ----------------------

render_cli = AppGroup("render", help="Render documents as PDF: public notices, letters of a batch, filing packets.")
arrears_cli.add_command(render_cli)

PACKET_ROUTES = ("payment_order", "small_claims", "lawsuit", "arbitration")


def _database_url() -> str:
    return _runtime().engine.url.render_as_string(hide_password=False)


def _render_many(requests, out: Path, *, workers: int | None, label: str, zip_name: str,  # type: ignore[no-untyped-def]
                 joined_name: str | None = None):
    """Render in worker processes with a progress bar; print what was written and what failed."""
    from arrears.services.documents.batch import render_batch

    with click.progressbar(length=len(requests), label=label, show_pos=True,
                           item_show_func=lambda name: name or "") as bar:
        def progress(done: int, total: int, current: str) -> None:
            bar.update(done - bar.pos, current)

        result = render_batch(_database_url(), requests, out, workers=workers, progress=progress,
                              zip_name=zip_name, joined_name=joined_name)
    for outcome in result.outcomes:
        if outcome.ok:
            click.echo(f"  {outcome.filename}")
    for outcome in result.failures:
        click.echo(f"FAILED {outcome.document}: {outcome.error}", err=True)
    click.echo(f"{len(result.files)} of {len(requests)} document(s) written to {result.out_dir}")
    if result.joined_path:
        click.echo(f"all documents in one PDF: {result.joined_path}")
    click.echo(f"ZIP: {result.zip_path} (with {result.index_path.name})")
    return result


def _record_rendering(company_id: int, entity: str, entity_id: int, result, **detail) -> None:  # type: ignore[no-untyped-def]
    from arrears.services import audit

    with _runtime().transaction() as session:
        audit.record(session, Actor.system("cli"), "documents.rendered", entity, entity_id, company_id=company_id,
                     files=[o.filename for o in result.outcomes if o.ok],
                     failed=[f"{o.document}: {o.error}" for o in result.failures], **detail)


def _fail_if_any(result) -> None:  # type: ignore[no-untyped-def]
    if result.failures:
        raise click.ClickException(f"{len(result.failures)} document(s) failed; see {result.index_path}")


@render_cli.command("letters")
@click.option("--batch", "batch_id", required=True, type=int,
              help="the batch: id of the escalation run whose approved reminders and demands to print")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for one PDF per letter, documents ZIP and index.csv")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="worker processes (default: min(4, CPUs); 0 renders in this process)")
def render_letters_command(batch_id: int, out: Path, workers: int | None) -> None:
    """One letter per approved reminder or demand of a batch (escalation run), in parallel."""
    from arrears.persistence.models import EscalationRun
    from arrears.services.documents.batch import letter_requests

    with _runtime().transaction() as session:
        run = session.get(EscalationRun, batch_id)
        if run is None:
            raise click.BadParameter(f"no batch (escalation run) {batch_id}", param_hint="'--batch'")
        company_id = run.company_id
        try:
            requests = letter_requests(session, company_id, batch_id)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
    result = _render_many(requests, out, workers=workers, label=f"letters of batch {batch_id}",
                          zip_name=f"letters-batch-{batch_id}.zip")
    _record_rendering(company_id, "escalation_run", batch_id, result)
    _fail_if_any(result)


@render_cli.command("packet")
@click.argument("case_id", type=int)
@click.option("--route", required=True, type=click.Choice(PACKET_ROUTES), help="the filing route (L10–L12)")
@click.option("--as-of", "as_of", default=None, help="claims as of YYYY-MM-DD (default: today)")
@click.option("--no-late-fees", "no_late_fees", is_flag=True, help="do not claim late fees")
@click.option("--until-payment", "until_payment", is_flag=True,
              help="claim late fees until actual payment (not only up to the as-of date)")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for the documents, the whole packet as one PDF, a ZIP and index.csv")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="worker processes (default: min(4, CPUs); 0 renders in this process)")
def render_packet_command(case_id: int, route: str, as_of: str | None, no_late_fees: bool, until_payment: bool,
                          out: Path, workers: int | None) -> None:
    """The filing packet of a case for a route: every document as a PDF, plus the packet in one PDF."""
    from arrears.persistence.models import CollectionCase
    from arrears.services.documents.packet import build_packet

    day = _day(as_of)
    with _runtime().transaction() as session:
        case = session.get(CollectionCase, case_id)
        if case is None:
            raise click.BadParameter(f"no case {case_id}", param_hint="'CASE_ID'")
        company_id = case.company_id
        company = session.get(Company, company_id)
        assert company is not None
        day = day or company_today(company)
        try:
            requests = build_packet(session, company_id, case_id, route=route, as_of=day,
                                    claim_late_fees=not no_late_fees, until_actual_payment=until_payment)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
    stem = f"case-{case_id}-{route}-{day.isoformat()}"
    result = _render_many(requests, out, workers=workers, label=f"packet of case {case_id}",
                          zip_name=f"{stem}.zip", joined_name=f"{stem}-packet.pdf")
    _record_rendering(company_id, "collection_case", case_id, result, route=route, as_of=day.isoformat())
    _fail_if_any(result)


@render_cli.command("notice")
@click.argument("community_code")
@click.option("--as-of", "as_of", required=True, help="the notice's as-of date, YYYY-MM-DD")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="the PDF to write")
@click.option("--company", "company_code", default=None, help="company id or USCC (if the code is ambiguous)")
@click.option("--new-draft", is_flag=True, help="generate a new draft even if an approved notice or a current draft exists")
def render_notice_command(community_code: str, as_of: str, out: Path, company_code: str | None,
                          new_draft: bool) -> None:
    """The public arrears notice of a community as of a date (L16).

    If a manager has approved a notice of the community for that date (and it is not marked for
    take-down), its stored PDF — the one made at approval — is written: that copy may be posted.
    Otherwise the draft of that date is written for checking — the latest one if the ledger still
    gives the same rows, else a new draft is generated (stored, like one generated in the web app).
    A draft prints with a "not approved" banner and must not be posted until a manager approves it
    in the web app; then run this command again to get the approved copy.
    """
    from arrears.persistence.models import NoticeStatus, PublicNotice
    from arrears.services import audit
    from arrears.services.documents import notices, registry

    day = _day(as_of)
    assert day is not None
    with _runtime().transaction() as session:
        query = select(Community).where(Community.code == community_code)
        if company_code:
            query = query.where(Community.company_id == _company(session, company_code).id)
        communities = session.scalars(query).all()
        if not communities:
            raise click.BadParameter(f"no community with code {community_code!r}", param_hint="'COMMUNITY_CODE'")
        if len(communities) > 1:
            raise click.UsageError(f"several companies have a community {community_code!r}: name one with --company")
        community = communities[0]
        company = session.get(Company, community.company_id)
        assert company is not None

        def latest(status: NoticeStatus) -> PublicNotice | None:
            return session.scalar(
                select(PublicNotice).where(
                    PublicNotice.company_id == company.id, PublicNotice.community_id == community.id,
                    PublicNotice.as_of == day, PublicNotice.status == status,
                    PublicNotice.takedown_marked_on.is_(None),
                ).order_by(PublicNotice.id.desc()).limit(1)
            )

        notice = None if new_draft else latest(NoticeStatus.APPROVED)
        today = company_today(company)
        try:
            draft = None if new_draft or notice is not None else latest(NoticeStatus.DRAFT)
            if draft is not None and notices.select_entries(session, company.id, community.id, as_of=day,
                                                            today=today).entries == draft.entries:
                notice = draft  # still what the ledger gives: print it again rather than pile up drafts
            if notice is not None and notice.status == NoticeStatus.APPROVED:
                _name, pdf = notices.notice_pdf(session, company.id, notice.id)
            else:
                if notice is None:
                    notice = notices.generate_notice(session, Actor.system("cli"), company.id, community.id,
                                                     as_of=day, today=today)
                request = registry.DocumentRequest(notices.KIND, company.id, notice.id,
                                                   {"public_base_url": _runtime().settings.public_base_url})
                _built, pdf = registry.render(session, request)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from exc
        approved = notice.status == NoticeStatus.APPROVED
        audit.record(session, Actor.system("cli"), "documents.rendered", "public_notice", notice.id,
                     company_id=company.id, files=[str(out)], status=notice.status.value)
        reference, notice_id, units = notice.reference, notice.id, notice.unit_count
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    click.echo(f"notice {reference} (#{notice_id}) of {community_code} as of {day.isoformat()}: "
               f"{units} unit(s) -> {out}")
    if approved:
        click.echo("approved notice: this copy may be posted")
    else:
        click.echo(f"DRAFT: notice {reference} (#{notice_id}) is a draft for checking only; do NOT post it "
                   "until a manager approves it in the web app, then print it again with this command", err=True)
