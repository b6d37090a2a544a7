"""The learner store: concurrency, crash consistency, isolation, bad ids, migrations, export, deletion.

Tests taking `store` run twice: on an SQLite file and on a database of a throwaway PostgreSQL server
(tests/postgres.py)."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import signal
import sqlite3
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speaksphere.learner.store import MIGRATIONS, SCHEMA_VERSION, LearnerError, LearnerStore, StoreError

SCORES = {"accuracy": 71.5, "fluency": 64.0, "prosody": 58.0, "completeness": 90.0, "coherence": 80.0,
          "overall": 72.0}
WRITERS = 16
ATTEMPTS_EACH = 25


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> LearnerStore:
    if request.param == "sqlite":
        return LearnerStore(tmp_path / "learners.sqlite3")
    return LearnerStore(request.getfixturevalue("postgres_url"))


def count_rows(store: LearnerStore, table: str, learner_id: str | None = None) -> int:
    """Rows in `table` (of one learner), read past the store's own queries."""
    with store.database.connect() as conn:
        if learner_id is None:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return conn.execute(f"SELECT count(*) FROM {table} WHERE learner_id = ?", (learner_id,)).fetchone()[0]


# ---- files, modes, migrations ----

def test_missing_folder_and_empty_file_give_a_working_store(tmp_path):
    nested = LearnerStore(tmp_path / "new" / "folder" / "learners.sqlite3")
    assert nested.schema_version() == SCHEMA_VERSION
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    store = LearnerStore(empty)
    learner = store.new_learner()
    assert store.history(learner) == []
    with sqlite3.connect(empty) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_learner_data_is_private_to_the_server_user(tmp_path):
    """The database held learner ids (the only credential) world-readable (0644 in a 0755 folder)."""
    store = LearnerStore(tmp_path / "private" / "learners.sqlite3")
    store.record_attempt(store.new_learner(), "analyze", {})
    assert (tmp_path / "private").stat().st_mode & 0o777 == 0o700
    for path in (tmp_path / "private").iterdir():  # the database and its -wal and -shm files
        assert path.stat().st_mode & 0o077 == 0, path
    shared = tmp_path / "old.sqlite3"
    shared.write_bytes(b"")
    shared.chmod(0o644)
    LearnerStore(shared)
    assert shared.stat().st_mode & 0o777 == 0o600


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database " * 100)
    with pytest.raises(StoreError, match="not a SpeakSphere learner database"):
        LearnerStore(path)


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer SpeakSphere"):
        LearnerStore(path)


def test_a_version_1_database_is_migrated_and_keeps_its_attempts(tmp_path):
    path = tmp_path / "v1.sqlite3"
    learner = "A" * 32
    with sqlite3.connect(path) as conn:  # the file as the first release wrote it
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO learners VALUES (?, 1.0)", (learner,))
        conn.execute("INSERT INTO attempts (learner_id, created_at, task, accuracy) VALUES (?, 2.0, 'pronounce', 55)",
                     (learner,))
    store = LearnerStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    [attempt] = store.history(learner)
    assert attempt["scores"] == {"accuracy": 55.0} and attempt["recommendation_id"] is None
    recommendation = store.record_recommendation(learner, "en-mp-w-v", "accuracy", "Because.", {}, "test")
    store.record_attempt(learner, "pronounce", {"accuracy": 60}, recommendation_id=recommendation)
    assert store.recommendations(learner)[0]["outcome_attempt_id"] is not None


# ---- attempts and validation ----

def test_history_returns_attempts_in_order_with_their_scores(store):
    learner = store.new_learner()
    for i in range(5):
        store.record_attempt(learner, "pronounce", {"accuracy": 50 + i, "fluency": 60}, language="en",
                             accent="L1-de", reference_text="wine, vine", created_at=1000.0 + i)
    store.record_attempt(learner, "analyze", {"fluency": 70}, created_at=2000.0)
    history = store.history(learner)
    assert [a["created_at"] for a in history] == [1000.0, 1001.0, 1002.0, 1003.0, 1004.0, 2000.0]
    assert history[2]["scores"] == {"accuracy": 52.0, "fluency": 60.0}
    assert history[0]["accent"] == "L1-de" and history[0]["reference_text"] == "wine, vine"
    assert len(store.history(learner, skill="accuracy")) == 5
    assert [a["scores"]["accuracy"] for a in store.history(learner, skill="accuracy", limit=2)] == [53.0, 54.0]


@pytest.mark.parametrize("request_kind, scores", [
    ("pronounce", {"accuracy": 101}), ("pronounce", {"accuracy": -1}), ("pronounce", {"accuracy": float("nan")}),
    ("pronounce", {"pitch": 50}), ("sing", {"accuracy": 50}),
])
def test_invalid_attempts_are_refused_and_nothing_is_written(store, request_kind, scores):
    learner = store.new_learner()
    with pytest.raises(ValueError):
        store.record_attempt(learner, request_kind, scores)
    assert store.history(learner) == []


# ---- bad and unknown ids ----

MALFORMED = [None, "", "abc", 42, b"A" * 32, "A" * 31, "A" * 33, "'; DROP TABLE learners; --" + "A" * 6,
             "A" * 31 + "%", "../../etc/passwd" + "A" * 16]


@pytest.mark.parametrize("bad_id", MALFORMED)
def test_malformed_ids_get_a_clear_error_and_read_nothing(store, bad_id):
    store.record_attempt(store.new_learner(), "pronounce", SCORES)
    calls = [lambda: store.history(bad_id), lambda: store.record_attempt(bad_id, "pronounce", SCORES),
             lambda: store.export(bad_id), lambda: store.delete_learner(bad_id),
             lambda: store.recommendations(bad_id), lambda: store.load_policy_state(bad_id)]
    for call in calls:
        with pytest.raises(LearnerError, match="not valid") as caught:
            call()
        assert caught.value.reason == "malformed"
    assert count_rows(store, "attempts") == 1 and count_rows(store, "learners") == 1
    assert not store.learner_exists(bad_id)


def test_unknown_ids_get_a_clear_error_and_nothing_is_written(store):
    store.record_attempt(store.new_learner(), "pronounce", SCORES)
    unknown = "B" * 32
    for call in [lambda: store.history(unknown), lambda: store.record_attempt(unknown, "pronounce", SCORES),
                 lambda: store.export(unknown, "csv"), lambda: store.delete_learner(unknown),
                 lambda: store.record_recommendation(unknown, "x", "accuracy", "Because.", {}, "test")]:
        with pytest.raises(LearnerError, match="No progress is stored") as caught:
            call()
        assert caught.value.reason == "unknown"
    assert count_rows(store, "attempts") == 1 and count_rows(store, "recommendations") == 0


def test_ids_are_unique_and_unguessably_long(store):
    ids = {store.new_learner() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 32 and LearnerStore.check_learner_id(i) == i for i in ids)


# ---- isolation ----

def test_no_query_returns_or_touches_another_learners_rows(store):
    alice, bob = store.new_learner(), store.new_learner()
    alice_rec = store.record_recommendation(alice, "en-mp-w-v", "accuracy", "For Alice.", {"who": "alice"}, "test")
    store.record_attempt(alice, "pronounce", {"accuracy": 40}, recommendation_id=alice_rec)
    store.record_feedback(alice, alice_rec, thumbs_up=True)
    store.save_policy_state(alice, {"who": "alice"}, 0)
    store.record_attempt(bob, "pronounce", {"accuracy": 90})

    # Bob cannot reach Alice's recommendation, not even by its id.
    with pytest.raises(LearnerError) as caught:
        store.record_feedback(bob, alice_rec, thumbs_up=False)
    assert caught.value.reason == "not_found"
    with pytest.raises(LearnerError):
        store.record_attempt(bob, "pronounce", {"accuracy": 1}, recommendation_id=alice_rec)

    assert [a["scores"]["accuracy"] for a in store.history(bob)] == [90.0]
    assert store.recommendations(bob) == [] and store.feedback(bob) == []
    assert store.outcomes_since(bob) == ([], [])
    assert store.load_policy_state(bob) == (None, 0)
    bob_export = json.loads(store.export(bob))
    assert bob_export["learner"]["id"] == bob and len(bob_export["attempts"]) == 1
    assert alice not in store.export(bob) and alice not in store.export(bob, "csv")
    assert "For Alice." not in store.export(bob, "csv")
    # Bob's deletion leaves Alice whole.
    store.delete_learner(bob)
    assert len(store.history(alice)) == 1 and len(store.feedback(alice)) == 1


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writes=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 100)), min_size=1, max_size=12))
def test_each_learner_reads_exactly_the_attempts_written_for_them(tmp_path_factory, writes):
    store = LearnerStore(tmp_path_factory.mktemp("iso") / "learners.sqlite3", synchronous="NORMAL")
    learners = [store.new_learner() for _ in range(3)]
    for who, score in writes:
        store.record_attempt(learners[who], "pronounce", {"accuracy": score})
    for who, learner in enumerate(learners):
        expected = [float(score) for w, score in writes if w == who]
        assert [a["scores"]["accuracy"] for a in store.history(learner)] == expected


# ---- concurrency ----

def _write_attempts(path: str, learner_id: str, barrier) -> None:
    store = LearnerStore(path)  # each process opens its own store, as each app worker would
    barrier.wait()  # all writers start together
    for i in range(ATTEMPTS_EACH):
        store.record_attempt(learner_id, "pronounce", {**SCORES, "accuracy": float(i)}, language="en")


def test_sixteen_processes_writing_at_once_lose_nothing(store):
    learners = [store.new_learner() for _ in range(WRITERS)]
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WRITERS)
    writers = [context.Process(target=_write_attempts, args=(str(store.location), learner, barrier))
               for learner in learners]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [writer.exitcode for writer in writers] == [0] * WRITERS
    assert count_rows(store, "attempts") == WRITERS * ATTEMPTS_EACH
    for learner in learners:
        assert [a["scores"]["accuracy"] for a in store.history(learner)] == [float(i) for i in range(ATTEMPTS_EACH)]


def test_sixteen_threads_writing_and_reading_at_once_lose_nothing(store):
    learners = [store.new_learner() for _ in range(WRITERS)]
    barrier, errors = threading.Barrier(WRITERS), []

    def work(learner: str) -> None:
        try:
            barrier.wait()
            for i in range(ATTEMPTS_EACH):
                store.record_attempt(learner, "pronounce", {"fluency": float(i)})
                assert len(store.history(learner)) == i + 1  # reads interleave with the others' writes
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count_rows(store, "attempts") == WRITERS * ATTEMPTS_EACH
    assert all(count_rows(store, "attempts", learner) == ATTEMPTS_EACH for learner in learners)


# ---- crashes ----

class _CrashBetweenWrites(LearnerStore):
    """Dies (SIGKILL, no cleanup) after inserting the attempt and before linking it to its recommendation."""

    def _set_outcome(self, conn, recommendation_id, attempt_id):
        os.kill(os.getpid(), signal.SIGKILL)


def _crash_while_recording(path: str, learner_id: str, recommendation_id: int) -> None:
    _CrashBetweenWrites(path).record_attempt(learner_id, "pronounce", SCORES, recommendation_id=recommendation_id)


def test_a_writer_killed_between_two_writes_leaves_the_database_consistent(store):
    learner = store.new_learner()
    store.record_attempt(learner, "pronounce", SCORES)
    recommendation = store.record_recommendation(learner, "en-mp-w-v", "accuracy", "Because.", {}, "test")
    writer = multiprocessing.get_context("fork").Process(
        target=_crash_while_recording, args=(str(store.location), learner, recommendation))
    writer.start()
    writer.join(timeout=60)
    assert writer.exitcode == -signal.SIGKILL

    reopened = LearnerStore(store.location)
    if store.path is not None:
        with sqlite3.connect(store.path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert len(reopened.history(learner)) == 1  # the half-written attempt is gone, the committed one stays
    assert reopened.recommendations(learner)[0]["outcome_attempt_id"] is None
    attempt = reopened.record_attempt(learner, "pronounce", SCORES, recommendation_id=recommendation)
    assert reopened.recommendations(learner)[0]["outcome_attempt_id"] == attempt


# ---- recommendations, feedback, state, export, deletion ----

def test_the_first_attempt_after_a_recommendation_is_its_outcome(store):
    learner = store.new_learner()
    recommendation = store.record_recommendation(learner, "en-mp-w-v", "accuracy", "Because.", {"baseline": 50},
                                                 "test")
    first = store.record_attempt(learner, "pronounce", {"accuracy": 55}, recommendation_id=recommendation)
    store.record_attempt(learner, "pronounce", {"accuracy": 70}, recommendation_id=recommendation)
    store.record_feedback(learner, recommendation, thumbs_up=False, comment="too hard")
    outcomes, thumbs = store.outcomes_since(learner)
    assert [(r["id"], a["id"]) for r, a in outcomes] == [(recommendation, first)]
    assert outcomes[0][0]["context"] == {"baseline": 50}
    assert [t["thumbs_up"] for _, t in thumbs] == [False]
    assert store.outcomes_since(learner, after_attempt_id=first, after_feedback_id=thumbs[0][1]["id"]) == ([], [])


def test_policy_state_is_saved_by_compare_and_swap(store):
    learner = store.new_learner()
    assert store.save_policy_state(learner, {"n": 1}, expected_version=0)
    assert not store.save_policy_state(learner, {"n": 2}, expected_version=0)  # someone else was first
    assert store.load_policy_state(learner) == ({"n": 1}, 1)
    assert store.save_policy_state(learner, {"n": 2}, expected_version=1)
    assert store.load_policy_state(learner) == ({"n": 2}, 2)


def test_export_gives_all_of_a_learners_data_as_json_and_csv(store):
    learner = store.new_learner()
    recommendation = store.record_recommendation(learner, "en-inton-wh", "prosody", "Your prosody is lowest.", {},
                                                 "test", created_at=10.0)
    store.record_attempt(learner, "pronounce", SCORES, exercise_id="en-inton-wh", recommendation_id=recommendation,
                         created_at=20.0)
    store.record_feedback(learner, recommendation, True, created_at=30.0)
    for _ in range(5):  # other learners' attempts: the export's numbers must not count them
        store.record_attempt(store.new_learner(), "analyze", {})
    store.record_attempt(learner, "analyze", {}, created_at=40.0)
    data = json.loads(store.export(learner, "json"))
    assert data["schema_version"] == SCHEMA_VERSION
    assert [a["id"] for a in data["attempts"]] == [1, 2] and data["recommendations"][0]["outcome_attempt_id"] == 1
    data["attempts"].pop()
    assert [len(data[k]) for k in ("attempts", "recommendations", "feedback")] == [1, 1, 1]
    assert data["attempts"][0]["scores"] == SCORES
    rows = list(csv.DictReader(io.StringIO(store.export(learner, "csv"))))
    assert [row["record"] for row in rows] == ["recommendation", "attempt", "feedback", "attempt"]
    assert rows[1]["accuracy"] == "71.5" and rows[0]["explanation"] == "Your prosody is lowest."
    assert rows[2]["thumbs_up"] == "True" and rows[0]["time"].startswith("1970-01-01T00:00:10")
    with pytest.raises(ValueError):
        store.export(learner, "xml")


def test_a_typed_formula_is_exported_as_text(store):
    """Hardening 2: a learner's `=HYPERLINK(...)` as the reference text reached the CSV as a formula."""
    learner = store.new_learner()
    store.record_attempt(learner, "pronounce", SCORES, reference_text='=HYPERLINK("http://x.example","hi")')
    store.record_attempt(learner, "pronounce", SCORES, reference_text="-1+2")
    rows = list(csv.DictReader(io.StringIO(store.export(learner, "csv"))))
    assert [row["reference_text"] for row in rows] == ["'=HYPERLINK(\"http://x.example\",\"hi\")", "'-1+2"]
    assert rows[0]["accuracy"] == "71.5"  # numbers stay numbers
    assert json.loads(store.export(learner, "json"))["attempts"][0]["reference_text"].startswith("=HYPERLINK")


def test_deleting_a_learner_removes_every_row_about_them(store):
    learner, other = store.new_learner(), store.new_learner()
    recommendation = store.record_recommendation(learner, "en-mp-w-v", "accuracy", "Because.", {}, "test")
    store.record_attempt(learner, "pronounce", SCORES, recommendation_id=recommendation)
    store.record_feedback(learner, recommendation, True)
    store.save_policy_state(learner, {"n": 1}, 0)
    store.record_attempt(other, "pronounce", SCORES)
    assert store.delete_learner(learner) == {"attempts": 1, "recommendations": 1, "feedback": 1, "policy_states": 1}
    for table in ("attempts", "recommendations", "feedback", "policy_states"):
        assert count_rows(store, table, learner) == 0
    assert not store.learner_exists(learner) and store.learner_exists(other)
    with pytest.raises(LearnerError):
        store.history(learner)
    assert len(store.history(other)) == 1


def test_a_retried_attempt_is_stored_once(store, tmp_path):
    """A request retried after a crash or a timeout carries the same digest: one row, the same id."""
    learner = store.new_learner()
    first = store.record_attempt(learner, "pronounce", {"overall": 70.0}, request_digest="a" * 64)
    again = store.record_attempt(learner, "pronounce", {"overall": 70.0}, request_digest="a" * 64)
    other = store.record_attempt(learner, "pronounce", {"overall": 71.0}, request_digest="b" * 64)
    assert again == first and other != first
    assert count_rows(store, "attempts", learner) == 2
    someone = store.new_learner()  # the same recording from another learner is theirs to keep
    store.record_attempt(someone, "pronounce", {"overall": 70.0}, request_digest="a" * 64)
    assert count_rows(store, "attempts", someone) == 1
    for _ in range(2):  # attempts without a digest (library callers) are all kept
        store.record_attempt(learner, "analyze", {})
    assert count_rows(store, "attempts", learner) == 4


def test_recommendation_ids_are_random_not_a_site_counter(store):
    """Counters told every caller how many recommendations the whole site had made."""
    learner = store.new_learner()
    ids = [store.record_recommendation(learner, "e", "accuracy", "why", {}, "p", created_at=float(i))
           for i in range(20)]
    assert len(set(ids)) == 20 and min(ids) >= 2**32 and max(ids) < 2**53
    assert ids != sorted(ids)  # 20 random draws in increasing order: 1 chance in 20!
    assert [r["id"] for r in store.recommendations(learner)] == ids  # still listed in the order made


def test_a_version_4_database_gains_speak_attempts_and_keeps_its_ids_and_links(tmp_path):
    """Migration 5 rebuilds attempts (SQLite cannot alter a CHECK): ids, links and the id counter survive."""
    path = tmp_path / "v4.sqlite3"
    learner = "A" * 32
    with sqlite3.connect(path) as conn:  # the file as release 4 wrote it, its newest attempt deleted
        conn.execute("PRAGMA foreign_keys = ON")
        for statement in (s for step in MIGRATIONS[:4] for s in step):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 4")
        conn.execute("INSERT INTO learners VALUES (?, 1.0)", (learner,))
        for i in range(1, 4):
            conn.execute("INSERT INTO attempts (learner_id, created_at, task, accuracy, request_digest) "
                         "VALUES (?, ?, 'pronounce', ?, ?)", (learner, time.time() - 60 + i, 50.0 + i, f"d{i}"))
        conn.execute("INSERT INTO recommendations VALUES (4294967296, ?, 1.5, 'e', 'accuracy', 'p', 'why', '{}', 2)",
                     (learner,))
        conn.execute("UPDATE attempts SET recommendation_id = 4294967296 WHERE id = 2")
        conn.execute("DELETE FROM attempts WHERE id = 3")
    store = LearnerStore(path)
    assert store.schema_version() == SCHEMA_VERSION == 5
    assert [(a["id"], a["scores"]["accuracy"], a["recommendation_id"]) for a in store.history(learner)] == [
        (1, 51.0, None), (2, 52.0, 4294967296)]
    assert store.recommendations(learner)[0]["outcome_attempt_id"] == 2  # the rebuild did not cascade
    assert store.record_attempt(learner, "speak", {"fluency": 70.0}) == 4  # id 3 is never reused
    assert store.record_attempt(learner, "pronounce", {"overall": 1.0}, request_digest="d1") == 1  # digests kept
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(attempts)")}
        assert {"attempts_by_learner", "attempts_by_request"} <= indexes


def test_speak_attempts_are_stored_and_exported(store):
    learner = store.new_learner()
    store.record_attempt(learner, "speak", {"fluency": 64.0}, language="en")
    assert [a["task"] for a in store.history(learner)] == ["speak"]
    assert json.loads(store.export(learner))["attempts"][0]["task"] == "speak"
