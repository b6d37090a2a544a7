"""The two databases the learner store runs on, behind one small interface: an embedded SQLite file
(the default) and a PostgreSQL server that several app replicas share.

The store writes its SQL once, with `?` placeholders and `INSERT ... RETURNING`; a backend opens a
connection, begins a transaction, translates placeholders, reads and writes the schema version and
runs migrations. Rows read as `Row`: by column name or position on both.

Write transactions are serialised per learner: SQLite's BEGIN IMMEDIATE takes the file's one write
lock; on PostgreSQL the store locks the learner's row (`learner_lock` = FOR UPDATE) before it reads what
it is about to write, so two replicas retrying the same request, or updating the recommender's state,
queue instead of both passing a check.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from .schema import MIGRATIONS, POSTGRES_MIGRATIONS

__all__ = ["Row", "Connection", "StoreError", "SQLiteDatabase", "PostgresDatabase",
           "is_database_url", "redacted"]

_MIGRATION_LOCK = 0x5EA4_5FE2  # pg_advisory_xact_lock key: one replica migrates, the others wait for it


class StoreError(RuntimeError):
    """The database cannot be used (not a database, written by a newer SpeakSphere, unwritable, unreachable)."""


def is_database_url(location: Any) -> bool:
    """Whether `location` names a PostgreSQL server (postgresql://... or postgres://...)."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """`url` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{netloc}"))


class Row(dict):
    """A row by column name (`row["id"]`) or by position (`row[0]`), on both databases."""

    def __getitem__(self, key):
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


class Connection:
    """One open connection: `execute(sql, params)` with `?` placeholders returns a cursor whose rows are `Row`s."""

    def __init__(self, raw, placeholder: str):
        self.raw = raw
        self._placeholder = placeholder

    def execute(self, sql: str, params: tuple = ()):
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)  # the store's SQL has no '?' or '%' in literals
        return self.raw.execute(sql, params)


class SQLiteDatabase:
    """A learner database file: created private (0600, in a 0700 folder) if missing; WAL journal."""

    kind = "sqlite"
    errors = (sqlite3.Error,)  # what its driver raises
    learner_lock = ""  # BEGIN IMMEDIATE already holds the only write lock

    def __init__(self, path: str | Path, busy_timeout_s: float, synchronous: Literal["NORMAL", "FULL"]):
        if synchronous not in ("NORMAL", "FULL"):  # it is spliced into a PRAGMA: accept nothing else
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.synchronous = synchronous
        self.description = str(self.path)
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # private to the server's user from its first byte: learner ids are the only credential, and
            # SQLite gives its -wal and -shm files the database file's permissions. An existing database is
            # never opened here: closing any descriptor of it would drop this process's SQLite locks on it
            try:
                os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                with contextlib.suppress(PermissionError):  # another user's database: SQLite decides
                    self.path.chmod(0o600)
        except OSError as error:
            raise StoreError(f"cannot create the learner database {self.path}: {error}") from error

    @contextlib.contextmanager
    def connect(self, foreign_keys: bool = True) -> Iterator[Connection]:
        try:
            # isolation_level=None: no implicit transactions; the store BEGINs and COMMITs itself.
            raw = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreError(f"cannot open the learner database {self.path}: {error}") from error
        try:
            raw.row_factory = lambda cursor, values: Row(zip([c[0] for c in cursor.description], values))
            try:
                # off by default in SQLite; cascades depend on it (migrations turn it off, see schema.py)
                raw.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
                raw.execute(f"PRAGMA synchronous = {self.synchronous}")
                raw.execute("PRAGMA secure_delete = ON")  # deleted data is overwritten, not left in free pages
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path} is not a SpeakSphere learner database: {error}") from error
            yield Connection(raw, "?")
        finally:
            raw.close()

    @staticmethod
    def begin(write: bool) -> str:
        """IMMEDIATE for writes, so two writers queue at BEGIN instead of deadlocking on a lock upgrade."""
        return "BEGIN IMMEDIATE" if write else "BEGIN"

    def prepare(self) -> int:
        """Set the journal to WAL (once per file) and return the file's schema version."""
        with self.connect() as conn:
            try:
                if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")  # readers then never block the writer
                return conn.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.DatabaseError as error:
                raise StoreError(f"{self.path} is not a SpeakSphere learner database: {error}") from error

    def version(self, conn: Connection) -> int:
        return conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self, conn: Connection, target: int) -> int:
        """Bring the schema to `target` inside the caller's write transaction; returns the version found."""
        version = self.version(conn)  # read inside the write lock: another process may have migrated
        for step in range(version, target):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise StoreError(f"migrating {self.path} would break {len(broken)} references; nothing was changed")
        return version

    def after_delete(self) -> None:
        """Fold the WAL back into the file (best effort), so a deleted learner's pages leave it too."""
        with self.connect() as conn, contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class PostgresDatabase:
    """A database on a PostgreSQL server (psycopg 3), named by a `postgresql://` URL; one connection per
    call, at most `max_connections` at once in this process (more callers wait up to `busy_timeout_s`), so
    that replicas under load cannot use up the server's connections."""

    kind = "postgresql"
    learner_lock = " FOR UPDATE"  # a write locks its learner's row first: writes to one learner queue

    def __init__(self, url: str, busy_timeout_s: float, max_connections: int = 10):
        if not (isinstance(max_connections, int) and max_connections >= 1):
            raise ValueError(f"max_connections must be a whole number of at least 1, not {max_connections!r}")
        try:
            import psycopg
        except ImportError as error:  # pragma: no cover - psycopg is in requirements.txt
            raise StoreError("a PostgreSQL learner store needs psycopg: pip install -r requirements.txt") from error
        self.errors = (psycopg.Error,)
        self._psycopg = psycopg
        self.url = url
        self.busy_timeout_s = busy_timeout_s
        self.description = redacted(url)
        self._slots = threading.BoundedSemaphore(max_connections)

    @contextlib.contextmanager
    def connect(self, foreign_keys: bool = True) -> Iterator[Connection]:
        psycopg = self._psycopg
        if not self._slots.acquire(timeout=self.busy_timeout_s):
            raise StoreError(f"the learner database {self.description} is busy: {self.busy_timeout_s:g} s without "
                             "a free connection; try again in a moment")
        try:
            with self._connection(psycopg) as conn:
                yield conn
        finally:
            self._slots.release()

    @contextlib.contextmanager
    def _connection(self, psycopg) -> Iterator[Connection]:
        try:
            # autocommit: no implicit transactions; the store BEGINs and COMMITs itself, as on SQLite.
            # lock_timeout: a writer waits this long for another's transaction on the same learner
            raw = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.busy_timeout_s)),
                                  options=f"-c lock_timeout={int(self.busy_timeout_s * 1000)}",
                                  row_factory=lambda cursor: _postgres_row(cursor))
        except psycopg.Error as error:
            raise StoreError(f"cannot reach the learner database {self.description}: {error}") from error
        try:
            yield Connection(raw, "%s")
        finally:
            raw.close()

    @staticmethod
    def begin(write: bool) -> str:
        """Reads see one snapshot (an export's parts agree); writes lock their learner (`learner_lock`)."""
        return "BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    def prepare(self) -> int:
        with self.connect() as conn:
            try:
                return self.version(conn)
            except self._psycopg.Error as error:
                raise StoreError(f"cannot read the schema of {self.description}: {error}") from error

    def version(self, conn: Connection) -> int:
        if conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]:
            return conn.execute("SELECT version FROM schema_version").fetchone()[0]
        if conn.execute("SELECT to_regclass('learners') IS NOT NULL").fetchone()[0]:
            raise StoreError(f"{self.description} has tables but no SpeakSphere schema_version; "
                             "give SpeakSphere a database of its own")
        return 0

    def migrate(self, conn: Connection, target: int) -> int:
        """Bring the schema to `target` inside the caller's transaction (PostgreSQL's DDL is transactional
        too); returns the version found."""
        conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        version = self.version(conn)  # another replica may have migrated while this one waited
        if version == 0:
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            conn.execute("INSERT INTO schema_version VALUES (0)")
        for step in range(version, target):
            for statement in POSTGRES_MIGRATIONS[step]:
                conn.execute(statement)
            conn.execute("UPDATE schema_version SET version = ?", (step + 1,))
        return version

    def after_delete(self) -> None:
        """Nothing: the rows are gone for every reader at commit; autovacuum reclaims their space."""


def _postgres_row(cursor):
    names = [column.name for column in cursor.description] if cursor.description else []
    return lambda values: Row(zip(names, values))
