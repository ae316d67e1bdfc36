"""One transaction per request: committed once when the response is a success, else rolled back."""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session

from arrears.services.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["arrears"]


def db() -> Session:
    if "db_session" not in g:
        g.db_session = runtime().session_factory()
    return g.db_session


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response: Response) -> Response:
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return response
        try:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()
        return response

    @app.teardown_request
    def _rollback(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
