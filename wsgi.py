"""WSGI entry point: `waitress-serve --call wsgi:create_app` or `flask --app wsgi ...`."""

from arrears.app import create_app

app = create_app()
