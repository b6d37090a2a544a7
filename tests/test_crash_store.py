"""Crash safety of the learner store: a writer killed (SIGKILL) in the middle of writing under load loses
nothing it acknowledged, and the database it leaves is consistent.

A child process writes attempts, recommendations and feedback for several learners from several threads
while another thread reads, and prints an acknowledgement after each call returns (the transaction is
committed). The test kills it at an arbitrary moment, reopens the file as the app would after a restart,
and checks every acknowledged row. Several rounds reuse the same file, so each also recovers the WAL
left by the previous kill. The same test runs against a PostgreSQL server (tests/postgres.py), where the
killed client's open transaction is rolled back by the server.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from speaksphere.learner.store import SCHEMA_VERSION, SCORES, LearnerStore

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

WRITER = r"""
import sys, threading
from speaksphere.learner.store import LearnerStore

store = LearnerStore(sys.argv[1])
print_lock = threading.Lock()

def ack(*fields):
    with print_lock:
        print(*fields, flush=True)

def writer(thread):
    learner = store.new_learner()
    ack("L", learner)
    for i in range(10**6):
        scores = {name: (7 * i + thread + k) % 101 for k, name in enumerate(("accuracy", "fluency", "prosody",
                  "completeness", "coherence", "overall"))}
        recommendation = store.record_recommendation(learner, f"ex-{thread}-{i}", "fluency", "why not",
                                                     {"i": i}, "rule")
        ack("R", learner, recommendation)
        attempt = store.record_attempt(learner, "pronounce", scores, reference_text=f"t{thread}-{i}",
                                       recommendation_id=recommendation)
        ack("A", learner, attempt, f"t{thread}-{i}", *(scores[n] for n in sorted(scores)))
        ack("F", learner, store.record_feedback(learner, recommendation, i % 2 == 0), recommendation)

def reader():
    while True:
        for learner in list(learners):
            store.history(learner)

learners = []
threads = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(3)]
for t in threads:
    t.start()
threading.Thread(target=reader, daemon=True).start()
for t in threads:
    t.join()
"""


def write_until_killed(database: Path | str, acks_before_kill: int) -> list[list[str]]:
    """Run the writer, SIGKILL it once it has acknowledged `acks_before_kill` writes; all its ack lines."""
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(database)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines: list[list[str]] = []
    enough = threading.Event()

    def collect():
        for line in child.stdout:  # keeps reading after the kill: what was printed before it still counts
            if not line.endswith("\n"):  # cut by the kill mid-print: an acknowledgement is a whole line
                break
            lines.append(line.split())
            # every writer thread has its learner first (a starved thread on a busy machine once had not)
            if len(lines) >= acks_before_kill and sum(fields[0] == "L" for fields in lines) == 3:
                enough.set()
        enough.set()

    reader = threading.Thread(target=collect)
    reader.start()
    finished_early = not enough.wait(timeout=120) or child.poll() is not None
    time.sleep(0.003 * (acks_before_kill % 7))  # land the kill at varying points inside a transaction
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    reader.join(timeout=30)
    stderr = child.stderr.read()
    assert not finished_early, f"the writer stopped by itself: {stderr[-2000:]}"
    assert child.returncode == -signal.SIGKILL
    return lines


def check_consistent(database: Path | str) -> None:
    if isinstance(database, str):  # PostgreSQL checks every constraint itself, at every statement
        store = LearnerStore(database)
        assert store.schema_version() == SCHEMA_VERSION
        with store.database.connect() as conn:
            check_each_call_was_one_transaction(conn)
        return
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        check_each_call_was_one_transaction(conn)


def check_each_call_was_one_transaction(conn) -> None:
    """No attempt without its scores, no linked attempt without its outcome."""
    assert conn.execute(f"SELECT count(*) FROM attempts WHERE {' OR '.join(f'{s} IS NULL' for s in SCORES)}"
                        ).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM attempts a JOIN recommendations r ON a.recommendation_id = r.id "
                        "WHERE r.outcome_attempt_id IS NULL").fetchone()[0] == 0


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_acknowledged_writes_survive_sigkill(tmp_path, kind, request):
    database = tmp_path / "learners.sqlite3" if kind == "sqlite" else request.getfixturevalue("postgres_url")
    acknowledged = []
    for round_, acks_before_kill in enumerate((40, 95, 160, 233)):
        lines = write_until_killed(database, acks_before_kill)
        assert len(lines) >= acks_before_kill
        acknowledged += lines
        check_consistent(database)
        store = LearnerStore(database)  # reopen as the restarted app would: WAL recovered, schema checked
        learners = {fields[1] for fields in acknowledged if fields[0] == "L"}
        assert len(learners) == 3 * (round_ + 1)
        for learner in learners:
            assert store.learner_exists(learner)
            attempts = {a["id"]: a for a in store.history(learner)}
            recommendations = {r["id"] for r in store.recommendations(learner)}
            feedback = {f["id"] for f in store.feedback(learner)}
            for kind, _who, row_id, *rest in (f for f in acknowledged if f[1] == learner and f[0] != "L"):
                if kind == "A":
                    attempt = attempts[int(row_id)]  # KeyError: an acknowledged attempt was lost
                    assert attempt["reference_text"] == rest[0]
                    assert [int(attempt["scores"][name]) for name in sorted(SCORES)] == [int(v) for v in rest[1:]]
                elif kind == "R":
                    assert int(row_id) in recommendations
                elif kind == "F":
                    assert int(row_id) in feedback
    # the writes went on while others were in flight: the kills interrupted a busy database
    assert len(acknowledged) >= 40 + 95 + 160 + 233
