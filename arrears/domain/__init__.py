"""Pure-Python domain layer: money, periods, limitation, late fees, allocation, statements.

No Flask, no SQLAlchemy, no clock: every date that matters (``as_of``, ``on``) is a parameter.
Money is always ``Decimal``; rounding to the fen happens only in ``money.to_fen``.
"""
