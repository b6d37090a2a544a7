"""Files the app hands out (exports, synthesised references) and the per-address rate limit."""

from __future__ import annotations

import os
import stat
import time

import pytest

from speaksphere.coach import served as served_module
from speaksphere.coach.limits import RateLimit
from speaksphere.coach.served import EXPORT_TTL_S, ServedFiles, export_stem


def test_exports_are_private_named_without_the_id_and_deleted_with_their_learner(tmp_path):
    files = ServedFiles(tmp_path)
    alice, bob = "A" * 32, "B" * 32
    mine = [files.new_export(alice, "{}", "json"), files.new_export(alice, "a,b\n", "csv")]
    theirs = files.new_export(bob, "{}", "json")
    assert stat.S_IMODE(files.folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in mine)
    assert all(alice not in p.name and p.name.startswith(export_stem(alice)) for p in mine)
    assert files.forget_learner(alice) == 2
    assert not any(p.exists() for p in mine) and theirs.exists()


def test_exports_expire(tmp_path):
    files = ServedFiles(tmp_path)
    old = files.new_export("A" * 32, "{}", "json")
    files.expire_exports(now=time.time() + EXPORT_TTL_S / 2)
    assert old.exists()
    files.expire_exports(now=time.time() + EXPORT_TTL_S + 1)
    assert not old.exists()


def test_the_reference_cache_is_bounded_and_keeps_what_is_used(tmp_path, monkeypatch):
    """Synthesised references were cached in /tmp forever (~1.1 MB per long text)."""
    monkeypatch.setattr(served_module, "MAX_REFERENCES", 5)
    files = ServedFiles(tmp_path)
    written = []
    for i in range(12):
        path = files.reference(f"key{i}", lambda p: (written.append(p.name), p.write_bytes(b"RIFF")))
        os.utime(path, (i, i))  # written in order: the oldest go first
        if i == 3:
            os.utime(files.reference("key0", lambda p: None), (3.5, 3.5))  # key0 used again: kept longer
    kept = sorted(p.name for p in files.references.glob("*.wav"))
    assert len(kept) == 5 and "reference-key11.wav" in kept and "reference-key1.wav" not in kept
    assert all(name.startswith(".reference-") for name in written)  # written under a temporary name first
    assert files.reference("key11", lambda p: pytest.fail("rewritten")).read_bytes() == b"RIFF"


def test_folders_of_ended_processes_are_removed_and_live_ones_kept(tmp_path):
    ended = tmp_path / (served_module.PREFIX + "ended")
    ended.mkdir()
    (ended / served_module._LOCK).touch()  # nobody holds its lock: its process has ended
    starting = tmp_path / (served_module.PREFIX + "starting")
    starting.mkdir()
    (starting / served_module._LOCK).touch()  # just made: its process may not have locked it yet
    os.utime(ended, (time.time() - 120, time.time() - 120))
    live = ServedFiles(tmp_path)
    os.utime(live.folder, (time.time() - 120, time.time() - 120))
    ServedFiles(tmp_path)
    assert not ended.exists() and starting.exists() and live.folder.exists()


def test_rate_limit_counts_per_address_in_a_sliding_minute():
    limit = RateLimit(per_minute=3)
    assert [limit.admit("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limit.admit("b", now=3)  # another address has its own budget
    assert not limit.admit("a", now=59.9) and limit.admit("a", now=60.0)  # the first event left the window


def test_rate_limit_memory_is_bounded():
    limit = RateLimit(per_minute=1, max_keys=100)
    for i in range(1000):
        limit.admit(f"10.0.{i // 256}.{i % 256}", now=i * 61.0)
    assert len(limit._events) <= 101
