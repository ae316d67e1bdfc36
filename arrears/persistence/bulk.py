"""Bulk writes for city-scale runs: COPY on PostgreSQL, executemany elsewhere.

The rows must carry every column the table needs (Python-side defaults do not apply).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    columns = list(rows[0].keys())
    raw = session.connection().connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_plain(row[c]) for c in columns])


def update_by_id(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update columns of many rows by primary key `id` (one statement on PostgreSQL)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.connection().execute(
            update(table).where(table.c.id == _bind("b_id")).values(
                {c: _bind(f"b_{c}") for c in rows[0] if c != "id"}
            ),
            [{f"b_{k}": v for k, v in row.items()} for row in rows],
        )
        return
    columns = [c for c in rows[0] if c != "id"]
    temp = f"tmp_{table.name}_update"
    raw = session.connection().connection.driver_connection
    types = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=session.get_bind().dialect)}' for c in columns)
    with raw.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{temp}"')
        cursor.execute(f'CREATE TEMP TABLE "{temp}" (id bigint PRIMARY KEY, {types}) ON COMMIT DROP')
        with cursor.copy(f'COPY "{temp}" (id, {", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([row["id"], *(_plain(row[c]) for c in columns)])
        assignments = ", ".join(f'"{c}" = t."{c}"' for c in columns)
        cursor.execute(f'UPDATE "{table.name}" SET {assignments} FROM "{temp}" t WHERE "{table.name}".id = t.id')
        cursor.execute(f'DROP TABLE "{temp}"')


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value
