"""The learner store: a database of learners, their attempts, the exercises recommended to them and
their thumbs up/down; an embedded SQLite file by default, or a PostgreSQL server that several app
replicas share (`SPEAKSPHERE_DATABASE_URL=postgresql://...`). One code path serves both (database.py).

A learner is an unguessable random id (192 random bits, 32 URL-safe characters) that the app keeps in
the learner's browser. Every read and write names one learner id and touches only that learner's
rows; an id that is malformed or unknown raises `LearnerError` and reads nothing.

Reliability: one connection per call (the Gradio app calls from many threads and several processes
or replicas may share the database), readers never block the writer (SQLite's WAL journal,
PostgreSQL's snapshots), concurrent writers queue instead of failing (busy timeout, per-learner row
locks), and one transaction per logical write so that a crash between two statements leaves the
database as it was before the call. The schema is versioned (SQLite's `PRAGMA user_version`,
PostgreSQL's `schema_version` table) and migrated forward on open.

Times are seconds since the Unix epoch (UTC); scores are 0-100.
"""

from __future__ import annotations

import contextlib
import json
import math
import operator
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .database import Connection, PostgresDatabase, Row, SQLiteDatabase, StoreError, is_database_url, redacted
from .export import export_text
from .schema import (
    ATTEMPT_COLUMNS,
    FEEDBACK_COLUMNS,
    MIGRATIONS,
    RECOMMENDATION_COLUMNS,
    REQUESTS,
    SCHEMA_VERSION,
    SCORES,
    SKILLS,
)

__all__ = [
    "SKILLS", "SCORES", "REQUESTS", "MIGRATIONS", "SCHEMA_VERSION", "LearnerError", "StoreError", "StoreConfig",
    "LearnerStore", "default_store_path", "default_store_location", "DATABASE_URL_ENV",
]

_LEARNER_ID = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24): 24 bytes -> 32 characters
_ID_BYTES = 24  # 192 bits: guessing a live id is hopeless even with millions of learners
RETRY_WINDOW_S = 24 * 3600.0  # the same recording and reference within a day is a retry, later it is practice
_MIN_RANDOM_ID, _MAX_RANDOM_ID = 2**32, 2**53  # recommendation ids: random, exact in JSON numbers (doubles)
DATABASE_URL_ENV = "SPEAKSPHERE_DATABASE_URL"  # postgresql://...: the server every replica shares


class LearnerError(ValueError):
    """A learner id that is malformed or unknown, or a row that is not this learner's.

    The message is written for the learner; `reason` is "malformed", "unknown" or "not_found".
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class StoreConfig:
    """Where and how the learner database is kept."""

    path: str | None = None  # None: $SPEAKSPHERE_DB, else ~/.speaksphere/learners.sqlite3
    # postgresql://user@host/db: a server every replica shares (wins over path); None: $SPEAKSPHERE_DATABASE_URL
    database_url: str | None = None
    busy_timeout_s: float = 30.0  # a writer waits this long for another's transaction before failing
    synchronous: Literal["NORMAL", "FULL"] = "FULL"  # FULL: a committed attempt survives a power cut too
    max_connections: int = 10  # PostgreSQL: connections one replica holds at once (the server allows 100 in all)


def default_store_path() -> Path:
    """The database file used when none is named: $SPEAKSPHERE_DB, else ~/.speaksphere/learners.sqlite3."""
    return Path(os.environ.get("SPEAKSPHERE_DB") or Path.home() / ".speaksphere" / "learners.sqlite3")


def default_store_location() -> str | Path:
    """The database used when none is named: $SPEAKSPHERE_DATABASE_URL, else `default_store_path()`."""
    url = os.environ.get(DATABASE_URL_ENV)
    if url and not is_database_url(url):
        raise StoreError(f"{DATABASE_URL_ENV} must be a postgresql://... URL, not {redacted(url)!r}")
    return url or default_store_path()


def _check_scores(scores: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(scores) - set(SCORES))
    if unknown:
        raise ValueError(f"unknown score name(s) {unknown}; known: {list(SCORES)}")
    checked = {}
    for name, value in scores.items():
        if value is None:
            continue
        value = float(value)
        if not (math.isfinite(value) and 0.0 <= value <= 100.0):
            raise ValueError(f"score {name}={value} is outside 0-100")
        checked[name] = value
    return checked


class LearnerStore:
    """The learner database at `location`: a file path (created with its folders if missing; an empty
    file is fine) or a `postgresql://` URL (the database must exist; its tables are created); None:
    `default_store_location()`.

    Safe to share between threads, processes and replicas: each call opens its own connection.
    """

    def __init__(self, location: str | Path | None = None, *, busy_timeout_s: float = 30.0,
                 synchronous: Literal["NORMAL", "FULL"] = "FULL", max_connections: int = 10):
        self.location = default_store_location() if location is None else location  # path or URL, as given
        location = self.location
        if is_database_url(location):
            self.database = PostgresDatabase(location, busy_timeout_s, max_connections)
        else:
            self.database = SQLiteDatabase(location, busy_timeout_s, synchronous)
        self.path = getattr(self.database, "path", None)  # the SQLite file; None on PostgreSQL
        self._open_and_migrate()

    @classmethod
    def from_config(cls, config: StoreConfig) -> LearnerStore:
        """The store described by a `StoreConfig`."""
        if config.database_url and not is_database_url(config.database_url):
            raise StoreError(f"store.database_url must be a postgresql://... URL, "
                             f"not {redacted(config.database_url)!r}")
        return cls(config.database_url or config.path, busy_timeout_s=config.busy_timeout_s,
                   synchronous=config.synchronous, max_connections=config.max_connections)

    # ---- connections and transactions ----

    @contextlib.contextmanager
    def _transaction(self, write: bool, foreign_keys: bool = True) -> Iterator[Connection]:
        """One transaction on a connection of its own; see database.py for how writers queue."""
        with self.database.connect(foreign_keys) as conn:
            try:
                conn.execute(self.database.begin(write))
            except self.database.errors as error:
                raise StoreError(f"the learner database {self.database.description} cannot be used: "
                                 f"{error}") from error
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(*self.database.errors):  # a lost connection rolls back by itself
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _open_and_migrate(self) -> None:
        version = self.database.prepare()
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.database.description} was written by a newer SpeakSphere (schema {version}, "
                             f"this one knows up to {SCHEMA_VERSION}); update SpeakSphere")
        if version < SCHEMA_VERSION:
            self.migrate()

    def migrate(self, target: int = SCHEMA_VERSION) -> int:
        """Bring the schema up to version `target` in one transaction (all steps or none); returns the version."""
        with self._transaction(write=True, foreign_keys=False) as conn:
            return max(self.database.migrate(conn, target), target)

    def schema_version(self) -> int:
        """The schema version of the database."""
        with self.database.connect() as conn:
            return self.database.version(conn)

    # ---- learners ----

    @staticmethod
    def check_learner_id(learner_id: Any) -> str:
        """`learner_id` if it has the form of one, else LearnerError (reason "malformed")."""
        if not isinstance(learner_id, str) or not _LEARNER_ID.fullmatch(learner_id):
            raise LearnerError("This learner id is not valid. Learner ids are 32 letters, digits, '-' or '_'; "
                               "start afresh to get a new one.", "malformed")
        return learner_id

    def _require_learner(self, conn: Connection, learner_id: Any, write: bool = False) -> str:
        """The learner's id if stored; in a write, their row is locked until commit (database.py)."""
        learner_id = self.check_learner_id(learner_id)
        lock = self.database.learner_lock if write else ""
        if conn.execute(f"SELECT 1 FROM learners WHERE id = ?{lock}", (learner_id,)).fetchone() is None:
            raise LearnerError("No progress is stored for this learner id: it was deleted or never created "
                               "here. Start afresh to get a new one.", "unknown")
        return learner_id

    def new_learner(self, created_at: float | None = None) -> str:
        """Create a learner; returns the new unguessable id (keep it in the learner's browser)."""
        learner_id = secrets.token_urlsafe(_ID_BYTES)
        with self._transaction(write=True) as conn:
            conn.execute("INSERT INTO learners (id, created_at) VALUES (?, ?)",
                         (learner_id, time.time() if created_at is None else created_at))
        return learner_id

    def learner_exists(self, learner_id: Any) -> bool:
        """Whether `learner_id` is well formed and stored (never raises for a bad id)."""
        try:
            with self._transaction(write=False) as conn:
                self._require_learner(conn, learner_id)
            return True
        except LearnerError:
            return False

    def delete_learner(self, learner_id: str) -> dict[str, int]:
        """Delete the learner and everything stored about them; returns the rows deleted per table."""
        with self._transaction(write=True) as conn:
            learner_id = self._require_learner(conn, learner_id, write=True)
            counts = {table: conn.execute(f"SELECT count(*) FROM {table} WHERE learner_id = ?",
                                          (learner_id,)).fetchone()[0]
                      for table in ("attempts", "recommendations", "feedback", "policy_states")}
            conn.execute("DELETE FROM learners WHERE id = ?", (learner_id,))  # cascades to the rest
        self.database.after_delete()
        return counts

    # ---- attempts ----

    def record_attempt(self, learner_id: str, request: str, scores: Mapping[str, float], *,
                       language: str | None = None, accent: str | None = None,
                       reference_text: str | None = None, phrase_id: str | None = None,
                       exercise_id: str | None = None, recommendation_id: int | None = None,
                       created_at: float | None = None, request_digest: str | None = None) -> int:
        """Store one scored attempt; returns its id. `request` is what made the attempt (one of
        REQUESTS), kept in its "task" column and in exports.

        `request_digest` identifies what was scored (the recording's bytes and the reference): an attempt
        with a digest this learner already has from the last RETRY_WINDOW_S is not stored again (a
        retried request after a crash or a timeout), and the stored attempt's id is returned.
        `scores` maps names in SCORES to 0-100 (missing ones are not scored). `accent` is the detected
        accent label ("L1-de", "en-GB", ...). If `recommendation_id` names this learner's recommendation,
        the attempt is linked to it, and the first attempt after a recommendation becomes its outcome.
        """
        if request not in REQUESTS:
            raise ValueError(f"unknown request {request!r}; known: {list(REQUESTS)}")
        scores = _check_scores(scores)
        with self._transaction(write=True) as conn:
            learner_id = self._require_learner(conn, learner_id, write=True)
            if recommendation_id is not None:
                recommendation_id = self._require_recommendation(conn, learner_id, recommendation_id)
            now = time.time() if created_at is None else created_at
            if request_digest is not None:  # inside the write transaction: two retries cannot both pass
                stored = conn.execute("SELECT id FROM attempts WHERE learner_id = ? AND request_digest = ? "
                                      "AND created_at > ?",
                                      (learner_id, request_digest, now - RETRY_WINDOW_S)).fetchone()
                if stored is not None:
                    return stored[0]
            values = {"learner_id": learner_id, "created_at": now,
                      "task": request, "language": language, "accent": accent, "reference_text": reference_text,
                      "phrase_id": phrase_id, "exercise_id": exercise_id,
                      "recommendation_id": recommendation_id, "request_digest": request_digest, **scores}
            columns = ", ".join(values)
            attempt_id = conn.execute(f"INSERT INTO attempts ({columns}) VALUES ({', '.join('?' * len(values))}) "
                                      "RETURNING id", tuple(values.values())).fetchone()[0]
            if recommendation_id is not None:
                self._set_outcome(conn, recommendation_id, attempt_id)
        return attempt_id

    def _set_outcome(self, conn: Connection, recommendation_id: int, attempt_id: int) -> None:
        # Only the first attempt after a recommendation measures its effect; later ones are practice.
        conn.execute("UPDATE recommendations SET outcome_attempt_id = ? WHERE id = ? AND outcome_attempt_id IS NULL",
                     (attempt_id, recommendation_id))

    def history(self, learner_id: str, skill: str | None = None, limit: int | None = None) -> list[dict]:
        """The learner's attempts, oldest first (the last `limit` of them if given).

        Each is a dict with "id", "created_at" (s since epoch), "task", "language", "accent",
        "reference_text", "phrase_id", "exercise_id", "recommendation_id" and "scores" ({name: 0-100},
        only the names scored). With `skill`, only attempts where that skill was scored.
        """
        if skill is not None and skill not in SCORES:
            raise ValueError(f"unknown skill {skill!r}; known: {list(SCORES)}")
        where = f" AND {skill} IS NOT NULL" if skill else ""
        with self._transaction(write=False) as conn:
            learner_id = self._require_learner(conn, learner_id)
            rows = conn.execute(f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts WHERE learner_id = ?{where} "
                                f"ORDER BY id DESC{_limit(limit)}", (learner_id,)).fetchall()
        return [self._attempt(row) for row in reversed(rows)]

    @staticmethod
    def _attempt(row: Row) -> dict:
        attempt = {name: row[name] for name in ATTEMPT_COLUMNS if name not in SCORES}
        attempt["scores"] = {name: row[name] for name in SCORES if row[name] is not None}
        return attempt

    # ---- recommendations and feedback ----

    def _require_recommendation(self, conn: Connection, learner_id: str, recommendation_id: Any) -> int:
        # Both ids must match: another learner's recommendation is reported exactly like a missing one.
        try:  # ints and numpy ints; not True, "3" or 3.0
            recommendation_id = None if isinstance(recommendation_id, bool) else operator.index(recommendation_id)
        except TypeError:
            recommendation_id = None
        if recommendation_id is None or conn.execute(
                "SELECT 1 FROM recommendations WHERE id = ? AND learner_id = ?",
                (recommendation_id, learner_id)).fetchone() is None:
            raise LearnerError("This recommendation was not found for this learner.", "not_found")
        return recommendation_id

    def record_recommendation(self, learner_id: str, exercise_id: str, skill: str, explanation: str,
                              context: Mapping[str, Any], policy: str, created_at: float | None = None) -> int:
        """Store a recommendation shown to the learner; `context` (JSON-serialisable) is what the
        policy saw and needs later to learn from the outcome. Returns the recommendation id."""
        if skill not in SKILLS:
            raise ValueError(f"unknown skill {skill!r}; known: {list(SKILLS)}")
        with self._transaction(write=True) as conn:
            learner_id = self._require_learner(conn, learner_id, write=True)
            while True:  # a random id: a counter would tell every caller how busy the site is
                recommendation_id = secrets.randbelow(_MAX_RANDOM_ID - _MIN_RANDOM_ID) + _MIN_RANDOM_ID
                if conn.execute("SELECT 1 FROM recommendations WHERE id = ?", (recommendation_id,)).fetchone() is None:
                    break
            conn.execute(
                "INSERT INTO recommendations (id, learner_id, created_at, exercise_id, skill, policy, explanation, "
                "context) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (recommendation_id, learner_id, time.time() if created_at is None else created_at, exercise_id,
                 skill, policy, explanation, json.dumps(dict(context))))
            return recommendation_id

    def record_feedback(self, learner_id: str, recommendation_id: int, thumbs_up: bool,
                        comment: str | None = None, created_at: float | None = None) -> int:
        """Store the learner's thumbs up (True) or down (False) on one of their recommendations."""
        with self._transaction(write=True) as conn:
            learner_id = self._require_learner(conn, learner_id, write=True)
            recommendation_id = self._require_recommendation(conn, learner_id, recommendation_id)
            return conn.execute(
                "INSERT INTO feedback (learner_id, recommendation_id, created_at, thumbs_up, comment) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (learner_id, recommendation_id, time.time() if created_at is None else created_at,
                 int(bool(thumbs_up)), comment)).fetchone()[0]

    def recommendations(self, learner_id: str, limit: int | None = None) -> list[dict]:
        """The learner's recommendations, oldest first, each with its "context" decoded."""
        with self._transaction(write=False) as conn:
            learner_id = self._require_learner(conn, learner_id)
            rows = conn.execute(f"SELECT {', '.join(RECOMMENDATION_COLUMNS)} FROM recommendations "
                                f"WHERE learner_id = ? ORDER BY created_at DESC, id DESC{_limit(limit)}",
                                (learner_id,)).fetchall()
        return [self._recommendation(row) for row in reversed(rows)]

    @staticmethod
    def _recommendation(row: Row) -> dict:
        recommendation = {name: row[name] for name in RECOMMENDATION_COLUMNS}
        recommendation["context"] = json.loads(recommendation["context"])
        return recommendation

    def feedback(self, learner_id: str) -> list[dict]:
        """The learner's thumbs, oldest first; "thumbs_up" is a bool."""
        with self._transaction(write=False) as conn:
            learner_id = self._require_learner(conn, learner_id)
            rows = conn.execute(f"SELECT {', '.join(FEEDBACK_COLUMNS)} FROM feedback WHERE learner_id = ? "
                                "ORDER BY id", (learner_id,)).fetchall()
        return [{**dict(row), "thumbs_up": bool(row["thumbs_up"])} for row in rows]

    def outcomes_since(self, learner_id: str, after_attempt_id: int = 0,
                       after_feedback_id: int = 0) -> tuple[list[tuple[dict, dict]], list[tuple[dict, dict]]]:
        """What the recommender has not learned from yet, read in one snapshot.

        Returns (recommendation, outcome attempt) pairs whose outcome attempt id is above
        `after_attempt_id`, and (recommendation, feedback) pairs whose feedback id is above
        `after_feedback_id`, each in id order.
        """
        with self._transaction(write=False) as conn:
            learner_id = self._require_learner(conn, learner_id)
            rec_columns = ", ".join(f"r.{c} AS r_{c}" for c in RECOMMENDATION_COLUMNS)
            outcomes = conn.execute(
                f"SELECT {rec_columns}, {', '.join(f'a.{c} AS a_{c}' for c in ATTEMPT_COLUMNS)} "
                "FROM recommendations r JOIN attempts a ON a.id = r.outcome_attempt_id "
                "WHERE r.learner_id = ? AND a.learner_id = ? AND a.id > ? ORDER BY a.id",
                (learner_id, learner_id, after_attempt_id)).fetchall()
            thumbs = conn.execute(
                f"SELECT {rec_columns}, {', '.join(f'f.{c} AS f_{c}' for c in FEEDBACK_COLUMNS)} "
                "FROM recommendations r JOIN feedback f ON f.recommendation_id = r.id "
                "WHERE r.learner_id = ? AND f.learner_id = ? AND f.id > ? ORDER BY f.id",
                (learner_id, learner_id, after_feedback_id)).fetchall()

        def part(row: Row, prefix: str, columns: tuple[str, ...]) -> dict:
            return {c: row[f"{prefix}_{c}"] for c in columns}

        return ([(self._recommendation(part(row, "r", RECOMMENDATION_COLUMNS)),
                  self._attempt(part(row, "a", ATTEMPT_COLUMNS))) for row in outcomes],
                [(self._recommendation(part(row, "r", RECOMMENDATION_COLUMNS)),
                  {**part(row, "f", FEEDBACK_COLUMNS), "thumbs_up": bool(row["f_thumbs_up"])}) for row in thumbs])

    # ---- the recommender's state ----

    def load_policy_state(self, learner_id: str) -> tuple[dict | None, int]:
        """The recommender's state for this learner (None before the first) and its version (0 before)."""
        with self._transaction(write=False) as conn:
            learner_id = self._require_learner(conn, learner_id)
            row = conn.execute("SELECT state, version FROM policy_states WHERE learner_id = ?",
                               (learner_id,)).fetchone()
        return (None, 0) if row is None else (json.loads(row["state"]), row["version"])

    def save_policy_state(self, learner_id: str, state: Mapping[str, Any], expected_version: int) -> bool:
        """Replace the state if it is still at `expected_version` (compare and swap); False if another
        request updated it meanwhile (reload, redo the update, try again)."""
        with self._transaction(write=True) as conn:
            learner_id = self._require_learner(conn, learner_id, write=True)
            row = conn.execute("SELECT version FROM policy_states WHERE learner_id = ?", (learner_id,)).fetchone()
            if (row["version"] if row else 0) != expected_version:
                return False
            conn.execute("INSERT INTO policy_states (learner_id, state, version, updated_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (learner_id) DO UPDATE SET state = excluded.state, "
                         "version = excluded.version, updated_at = excluded.updated_at",
                         (learner_id, json.dumps(dict(state)), expected_version + 1, time.time()))
            return True

    # ---- export ----

    def export(self, learner_id: str, format: Literal["json", "csv"] = "json") -> str:
        """Everything stored about the learner, as text.

        "json": one document with "learner", "attempts", "recommendations", "feedback" and
        "policy_state". "csv": one timeline, a row per attempt, recommendation or thumb in time order,
        with a "record" column saying which; times are ISO 8601 UTC.
        """
        if format not in ("json", "csv"):
            raise ValueError(f"unknown export format {format!r}; use 'json' or 'csv'")
        with self._transaction(write=False) as conn:  # one snapshot: the parts agree with each other
            learner_id = self._require_learner(conn, learner_id)
            learner = dict(conn.execute("SELECT id, created_at FROM learners WHERE id = ?", (learner_id,)).fetchone())
            attempts = [self._attempt(r) for r in conn.execute(
                f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts WHERE learner_id = ? ORDER BY id", (learner_id,))]
            recommendations = [self._recommendation(r) for r in conn.execute(
                f"SELECT {', '.join(RECOMMENDATION_COLUMNS)} FROM recommendations WHERE learner_id = ? "
                "ORDER BY created_at, id",
                (learner_id,))]
            thumbs = [{**dict(r), "thumbs_up": bool(r["thumbs_up"])} for r in conn.execute(
                f"SELECT {', '.join(FEEDBACK_COLUMNS)} FROM feedback WHERE learner_id = ? ORDER BY id", (learner_id,))]
            state = conn.execute("SELECT state FROM policy_states WHERE learner_id = ?", (learner_id,)).fetchone()
        return export_text(format, learner, attempts, recommendations, thumbs,
                           json.loads(state["state"]) if state else None)


def _limit(limit: int | None) -> str:
    """A LIMIT clause for a whole number of rows (none: all of them)."""
    if limit is None:
        return ""
    limit = operator.index(limit)
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, not {limit}")
    return f" LIMIT {limit}"
