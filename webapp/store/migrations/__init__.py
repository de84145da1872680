"""Numbered SQL migrations: ``NNNN_name.sql`` files, each applied once in its own transaction."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).resolve().parent
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def available_migrations() -> list[Migration]:
    found = []
    for path in MIGRATIONS_DIR.glob("*.sql"):
        match = _NAME.match(path.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), path))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration numbers must run 1..n without gaps, found {versions}")
    return found


def latest_version() -> int:
    return len(available_migrations())


def _applied(conn: sqlite3.Connection) -> set[int]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
    )
    return {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}


def apply_migrations(conn: sqlite3.Connection, target: int | None = None) -> list[int]:
    applied = _applied(conn)
    newest = max(applied, default=0)
    known = latest_version()
    if newest > known:
        raise RuntimeError(
            f"this database is at schema version {newest}, newer than this program ({known}): "
            "use a newer Relais or restore a backup"
        )
    done = []
    for migration in available_migrations():
        if migration.version in applied or (target is not None and migration.version > target):
            continue
        script = migration.path.read_text(encoding="utf-8")
        # executescript commits first, so the BEGIN/COMMIT pair makes each migration all-or-nothing.
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n;"
                f"INSERT INTO schema_migrations (version, name) "
                f"VALUES ({migration.version}, '{migration.name}');\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        done.append(migration.version)
    return done
