"""The learner database's schema: the scores it keeps, its tables as numbered migrations (one list for
SQLite, one for PostgreSQL, step for step the same schema), and the columns each record is read with.
SQLite's `PRAGMA user_version`, PostgreSQL's `schema_version` table, hold how many migrations a
database has had."""

from __future__ import annotations

from ..skills import SKILLS

__all__ = ["SKILLS", "SCORES", "REQUESTS", "MIGRATIONS", "POSTGRES_MIGRATIONS", "SCHEMA_VERSION", "ATTEMPT_COLUMNS",
           "RECOMMENDATION_COLUMNS", "FEEDBACK_COLUMNS"]

SCORES = SKILLS + ("overall",)  # the attempts' score columns, in their order in the tables and the export
REQUESTS = ("pronounce", "analyze", "compare", "speak")  # what an attempt came from: its "task" column

# attempts' columns as migration 4 left them (what migration 5 copies)
_ATTEMPT_V4 = ("id, learner_id, created_at, task, language, accent, reference_text, phrase_id, accuracy, fluency, "
               "prosody, completeness, coherence, overall, exercise_id, recommendation_id, request_digest")
_POSTGRES_SCORES = ",\n            ".join(f"{name} DOUBLE PRECISION CHECK ({name} BETWEEN 0 AND 100)"
                                         for name in SCORES)

# Each migration takes the schema from version i to i + 1. Never edit a released one; append.
# SQLite DDL is transactional, so a migration is applied completely or not at all. The store runs
# them with foreign keys off (a table rebuilt by a migration would otherwise cascade its drop), and
# checks every foreign key before it commits.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: learners and their scored attempts (progress tracking)
        """CREATE TABLE learners (
            id TEXT PRIMARY KEY CHECK (length(id) = 32),
            created_at REAL NOT NULL)""",
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            task TEXT NOT NULL CHECK (task IN ('pronounce', 'analyze', 'compare')),
            language TEXT, accent TEXT, reference_text TEXT, phrase_id TEXT,
            accuracy REAL CHECK (accuracy BETWEEN 0 AND 100),
            fluency REAL CHECK (fluency BETWEEN 0 AND 100),
            prosody REAL CHECK (prosody BETWEEN 0 AND 100),
            completeness REAL CHECK (completeness BETWEEN 0 AND 100),
            coherence REAL CHECK (coherence BETWEEN 0 AND 100),
            overall REAL CHECK (overall BETWEEN 0 AND 100))""",
        "CREATE INDEX attempts_by_learner ON attempts (learner_id, id)",
    ),
    (  # 2: recommendations shown, the learner's thumbs, and which attempt followed a recommendation
        """CREATE TABLE recommendations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            exercise_id TEXT NOT NULL, skill TEXT NOT NULL, policy TEXT NOT NULL,
            explanation TEXT NOT NULL,
            context TEXT NOT NULL,
            outcome_attempt_id INTEGER REFERENCES attempts(id) ON DELETE SET NULL)""",
        "CREATE INDEX recommendations_by_learner ON recommendations (learner_id, id)",
        """CREATE TABLE feedback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
            recommendation_id INTEGER NOT NULL REFERENCES recommendations(id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            thumbs_up INTEGER NOT NULL CHECK (thumbs_up IN (0, 1)),
            comment TEXT)""",
        "CREATE INDEX feedback_by_learner ON feedback (learner_id, id)",
        "ALTER TABLE attempts ADD COLUMN exercise_id TEXT",
        "ALTER TABLE attempts ADD COLUMN recommendation_id INTEGER REFERENCES recommendations(id) ON DELETE SET NULL",
    ),
    (  # 3: the recommender's per-learner state; `version` makes concurrent updates detectable
        """CREATE TABLE policy_states (
            learner_id TEXT PRIMARY KEY REFERENCES learners(id) ON DELETE CASCADE,
            state TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at REAL NOT NULL)""",
    ),
    (  # 4: a retried request stores its attempt once: the digest of what was scored (see record_attempt)
        "ALTER TABLE attempts ADD COLUMN request_digest TEXT",
        "CREATE INDEX attempts_by_request ON attempts (learner_id, request_digest)",
    ),
    (  # 5: attempts of a new kind, 'speak' (free speech, issue 35). SQLite cannot alter a CHECK: the table
        # is rebuilt with the same ids, its AUTOINCREMENT counter carried over so no id is ever reused
        """CREATE TABLE attempts_new (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            task TEXT NOT NULL CHECK (task IN ('pronounce', 'analyze', 'compare', 'speak')),
            language TEXT, accent TEXT, reference_text TEXT, phrase_id TEXT,
            accuracy REAL CHECK (accuracy BETWEEN 0 AND 100),
            fluency REAL CHECK (fluency BETWEEN 0 AND 100),
            prosody REAL CHECK (prosody BETWEEN 0 AND 100),
            completeness REAL CHECK (completeness BETWEEN 0 AND 100),
            coherence REAL CHECK (coherence BETWEEN 0 AND 100),
            overall REAL CHECK (overall BETWEEN 0 AND 100),
            exercise_id TEXT,
            recommendation_id INTEGER REFERENCES recommendations(id) ON DELETE SET NULL,
            request_digest TEXT)""",
        f"INSERT INTO attempts_new ({_ATTEMPT_V4}) SELECT {_ATTEMPT_V4} FROM attempts",
        "DELETE FROM sqlite_sequence WHERE name = 'attempts_new'",
        "INSERT INTO sqlite_sequence (name, seq) "
        "SELECT 'attempts_new', seq FROM sqlite_sequence WHERE name = 'attempts'",
        "DROP TABLE attempts",
        "ALTER TABLE attempts_new RENAME TO attempts",
        "CREATE INDEX attempts_by_learner ON attempts (learner_id, id)",
        "CREATE INDEX attempts_by_request ON attempts (learner_id, request_digest)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

# The same schema on PostgreSQL, step for step (a server's database starts at 0 like a new file).
# DOUBLE PRECISION, not REAL (a 4-byte float there); BIGINT ids (recommendation ids reach 2**53).
POSTGRES_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE learners (
            id TEXT PRIMARY KEY CHECK (length(id) = 32),
            created_at DOUBLE PRECISION NOT NULL)""",
        f"""CREATE TABLE attempts (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
            created_at DOUBLE PRECISION NOT NULL,
            task TEXT NOT NULL CONSTRAINT attempts_task_check CHECK (task IN ('pronounce', 'analyze', 'compare')),
            language TEXT, accent TEXT, reference_text TEXT, phrase_id TEXT,
            {_POSTGRES_SCORES})""",
        "CREATE INDEX attempts_by_learner ON attempts (learner_id, id)",
    ),
    (
        """CREATE TABLE recommendations (
            id BIGINT PRIMARY KEY,
            learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
            created_at DOUBLE PRECISION NOT NULL,
            exercise_id TEXT NOT NULL, skill TEXT NOT NULL, policy TEXT NOT NULL,
            explanation TEXT NOT NULL,
            context TEXT NOT NULL,
            outcome_attempt_id BIGINT REFERENCES attempts(id) ON DELETE SET NULL)""",
        "CREATE INDEX recommendations_by_learner ON recommendations (learner_id, id)",
        """CREATE TABLE feedback (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            learner_id TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
            recommendation_id BIGINT NOT NULL REFERENCES recommendations(id) ON DELETE CASCADE,
            created_at DOUBLE PRECISION NOT NULL,
            thumbs_up INTEGER NOT NULL CHECK (thumbs_up IN (0, 1)),
            comment TEXT)""",
        "CREATE INDEX feedback_by_learner ON feedback (learner_id, id)",
        "ALTER TABLE attempts ADD COLUMN exercise_id TEXT",
        "ALTER TABLE attempts ADD COLUMN recommendation_id BIGINT REFERENCES recommendations(id) ON DELETE SET NULL",
    ),
    (
        """CREATE TABLE policy_states (
            learner_id TEXT PRIMARY KEY REFERENCES learners(id) ON DELETE CASCADE,
            state TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL)""",
    ),
    (
        "ALTER TABLE attempts ADD COLUMN request_digest TEXT",
        "CREATE INDEX attempts_by_request ON attempts (learner_id, request_digest)",
    ),
    (
        "ALTER TABLE attempts DROP CONSTRAINT attempts_task_check, ADD CONSTRAINT attempts_task_check "
        "CHECK (task IN ('pronounce', 'analyze', 'compare', 'speak'))",
    ),
)
assert len(POSTGRES_MIGRATIONS) == SCHEMA_VERSION, "every migration is written for both databases"

ATTEMPT_COLUMNS = ("id", "created_at", "task", "language", "accent", "reference_text", "phrase_id",
                    "exercise_id", "recommendation_id") + SCORES
RECOMMENDATION_COLUMNS = ("id", "created_at", "exercise_id", "skill", "policy", "explanation", "context",
                           "outcome_attempt_id")
FEEDBACK_COLUMNS = ("id", "created_at", "recommendation_id", "thumbs_up", "comment")
