"""The learner store alone on SQLite and on PostgreSQL: writes and reads a second, 1 and 16 threads.

    python benchmarks/store_speed.py [--database-url postgresql://...] [--operations 200]

Each thread has its own learner and alternates `record_attempt` (a write transaction) and
`history(limit=50)` (a read, as the recommender makes one per request), each on a connection of its
own as the app's calls are. Without --database-url a throwaway PostgreSQL cluster (fsync on, like
SQLite's FULL sync) is started from Debian's binaries (tests/postgres.py) and removed afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from speaksphere.learner.store import LearnerStore  # noqa: E402


def operations_per_second(store: LearnerStore, threads: int, operations: int) -> float:
    """Store calls a second with `threads` threads each making `operations` calls (half writes, half reads)."""
    learners = [store.new_learner() for _ in range(threads)]

    def work(learner: str) -> None:
        for i in range(operations // 2):
            store.record_attempt(learner, "pronounce", {"accuracy": float(i % 100)}, request_digest=f"{i}")
            store.history(learner, limit=50)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, learners))
    return threads * (operations // 2) * 2 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--operations", type=int, default=200, help="calls per thread")
    args = parser.parse_args()
    cluster = None
    if not args.database_url:
        from postgres import start_cluster

        cluster = start_cluster(durable=True)
        args.database_url = cluster.new_database()
    try:
        with tempfile.TemporaryDirectory() as folder:
            stores = {"sqlite": LearnerStore(Path(folder) / "learners.sqlite3"),
                      "postgresql": LearnerStore(args.database_url)}
            for threads in (1, 16):
                for name, store in stores.items():
                    rate = operations_per_second(store, threads, args.operations)
                    print(f"{name:10s} {threads:2d} threads: {rate:7.1f} store calls/s", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
