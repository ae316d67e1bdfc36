"""Use cases. Each takes a Session and `today`; they flush, never commit."""
