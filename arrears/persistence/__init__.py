"""SQLAlchemy 2 models, engine and queries. Imports the domain, never Flask."""
