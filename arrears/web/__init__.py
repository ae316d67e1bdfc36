"""The web layer: one blueprint per feature, thin routes that call services."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def register_web(app: Flask) -> None:
    from . import access, api, auth, billing, errors, formatting, home, i18n, imports, jobs, labels, payments, transaction, units
    from . import batches, cases, deliveries, documents, escalation
    from . import ceilings, legal, notices, owner_requests, reports, selfservice

    csrf.init_app(app)
    i18n.init_app(app)
    formatting.init_app(app)
    labels.init_app(app)
    transaction.init_app(app)
    access.init_app(app)
    errors.init_app(app)
    for blueprint in (
        auth.bp, home.bp, units.bp, payments.bp, billing.bp, imports.bp, jobs.bp, api.bp,
        escalation.bp, cases.bp, batches.bp, deliveries.bp, documents.bp,
        notices.bp, notices.public_bp, legal.bp, ceilings.bp, reports.bp, owner_requests.bp,
        selfservice.bp,
    ):
        app.register_blueprint(blueprint)
