"""The learner store on a PostgreSQL server: what only a shared server has (replicas in separate
processes writing one learner at once, a server that is down, a database that is not ours). The
behaviour both databases share is tested on both in tests/test_store.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from speaksphere.learner.store import (
    DATABASE_URL_ENV,
    SCHEMA_VERSION,
    LearnerStore,
    StoreConfig,
    StoreError,
    default_store_location,
)

ROOT = Path(__file__).resolve().parent.parent
ATTEMPTS_EACH = 40
SHARED_RETRIES = 15  # requests both replicas store, as a retry through another replica would

REPLICA = r"""
import json, sys
from speaksphere.learner.store import LearnerStore

url, learner, replica, attempts, shared = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
store = LearnerStore(url)  # each replica opens its own store, as each app replica would
print("ready", flush=True)
sys.stdin.readline()  # both start together
ids = []
for i in range(attempts):
    ids.append(store.record_attempt(learner, "pronounce", {"accuracy": float(i)}, reference_text=f"{replica}-{i}",
                                    request_digest=f"{replica}-{i}"))
    if i < shared:  # the same request arriving at both replicas: stored once
        ids.append(store.record_attempt(learner, "pronounce", {"accuracy": 1.0}, reference_text="shared",
                                        request_digest=f"shared-{i}"))
    while True:  # the recommender's state: read, update, compare and swap, as Recommender does
        state, version = store.load_policy_state(learner)
        count = (state or {}).get("updates", 0)
        if store.save_policy_state(learner, {"updates": count + 1}, version):
            break
print(json.dumps(ids), flush=True)
"""


def test_two_replicas_writing_one_learner_at_once_lose_and_duplicate_nothing(postgres_url):
    learner = LearnerStore(postgres_url).new_learner()
    replicas = [subprocess.Popen([sys.executable, "-c", REPLICA, postgres_url, learner, name, str(ATTEMPTS_EACH),
                                  str(SHARED_RETRIES)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                 cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}) for name in ("a", "b")]
    for replica in replicas:
        assert replica.stdout.readline().strip() == "ready"
    for replica in replicas:
        replica.stdin.write("go\n")
        replica.stdin.flush()
    outputs = [replica.communicate(timeout=240)[0] for replica in replicas]
    assert [replica.returncode for replica in replicas] == [0, 0], outputs
    acknowledged = [json.loads(out.strip().splitlines()[-1]) for out in outputs]

    history = LearnerStore(postgres_url).history(learner)
    texts = [attempt["reference_text"] for attempt in history]
    assert sorted(t for t in texts if t != "shared") == sorted(f"{r}-{i}" for r in "ab" for i in range(ATTEMPTS_EACH))
    assert texts.count("shared") == SHARED_RETRIES  # each shared request once, whichever replica came first
    assert {attempt["id"] for attempt in history} == set(acknowledged[0]) | set(acknowledged[1])  # no ack lost
    shared_a = acknowledged[0][1:2 * SHARED_RETRIES:2]
    shared_b = acknowledged[1][1:2 * SHARED_RETRIES:2]
    assert shared_a == shared_b  # both replicas answered a retried request with the one stored id
    assert LearnerStore(postgres_url).load_policy_state(learner) == ({"updates": 2 * ATTEMPTS_EACH},
                                                                     2 * ATTEMPTS_EACH)


def test_tables_and_version_are_created_once_by_concurrent_first_opens(postgres_url):
    stores = [LearnerStore(postgres_url) for _ in range(3)]
    assert {store.schema_version() for store in stores} == {SCHEMA_VERSION}
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1


def test_a_newer_schema_and_a_foreign_database_are_refused(postgres_url, postgres_cluster):
    LearnerStore(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer SpeakSphere"):
        LearnerStore(postgres_url)
    other = postgres_cluster.new_database()
    with psycopg.connect(other, autocommit=True) as conn:
        conn.execute("CREATE TABLE learners (name TEXT)")
    with pytest.raises(StoreError, match="database of its own"):
        LearnerStore(other)
    with psycopg.connect(other) as conn:  # nothing was created beside it
        assert conn.execute("SELECT to_regclass('attempts') IS NULL").fetchone()[0]


def test_an_unreachable_server_is_a_clear_error_without_the_password(tmp_path):
    url = f"postgresql://coach:s3cret@/learners?host={tmp_path}"  # no server listens there
    with pytest.raises(StoreError, match="cannot reach the learner database") as caught:
        LearnerStore(url, busy_timeout_s=1)
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)


def test_the_url_comes_from_the_config_or_the_environment(postgres_url, monkeypatch, tmp_path):
    monkeypatch.setenv(DATABASE_URL_ENV, postgres_url)
    assert default_store_location() == postgres_url
    assert LearnerStore().path is None  # the server, not a file
    assert LearnerStore(tmp_path / "own.sqlite3").path == tmp_path / "own.sqlite3"  # a named file wins
    monkeypatch.setenv(DATABASE_URL_ENV, "mysql://somewhere/db")
    with pytest.raises(StoreError, match="postgresql://"):
        default_store_location()
    monkeypatch.delenv(DATABASE_URL_ENV)
    config = StoreConfig(path=str(tmp_path / "x.sqlite3"), database_url=postgres_url)
    assert LearnerStore.from_config(config).path is None  # the server wins over the file
    with pytest.raises(StoreError, match="postgresql://"):
        LearnerStore.from_config(StoreConfig(database_url="sqlite:///learners.db"))
    assert not (tmp_path / "sqlite:").exists() and not Path("sqlite:").exists()  # no file made of the URL


def test_replicas_on_a_server_must_share_the_browser_secret(postgres_url, monkeypatch):
    """The key that encrypts learner ids in browsers was kept next to the SQLite file; on a server there
    is no such folder, and replicas with keys of their own would not know each other's learners."""
    from types import SimpleNamespace

    from speaksphere.app.ui import browser_secret

    coach = SimpleNamespace(store=LearnerStore(postgres_url))
    monkeypatch.delenv("SPEAKSPHERE_BROWSER_SECRET", raising=False)
    with pytest.raises(RuntimeError, match="SPEAKSPHERE_BROWSER_SECRET"):
        browser_secret(coach)
    monkeypatch.setenv("SPEAKSPHERE_BROWSER_SECRET", "shared by every replica")
    assert browser_secret(coach) == "shared by every replica"


def test_a_replica_holds_at_most_max_connections_and_then_says_it_is_busy(postgres_url):
    """Replicas under load could open a connection per waiting request and use up the server's 100."""
    import contextlib

    store = LearnerStore(postgres_url, busy_timeout_s=0.5, max_connections=2)
    learner = store.new_learner()
    with contextlib.ExitStack() as held:
        for _ in range(2):
            held.enter_context(store.database.connect())
        with pytest.raises(StoreError, match="busy"):
            store.history(learner)
    assert store.history(learner) == []  # the connections are given back
    with pytest.raises(ValueError, match="max_connections"):
        LearnerStore(postgres_url, max_connections=0)
