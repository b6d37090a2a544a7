"""A time limit for drawing figures: an answer's figures arrive within FIGURES_LIMIT_S or give way to a message.

Figures are drawn after the answer, in a call of their own; a spinner once turned for 400 s after the
answer had arrived. `within` runs the drawing in a small pool of worker threads and waits at most until
the deadline, counted from when the answer was made (so time spent waiting in the server's queue
counts too). A drawing that overruns is left to finish in its worker (a Python thread cannot be
stopped); its result is dropped.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["FIGURES_LIMIT_S", "within"]

FIGURES_LIMIT_S = 20.0  # seconds from the answer to its figures: they take 0.1-2 s; 20 s means something is stuck
_WORKERS = 2  # one per core; a stuck drawing holds one, later ones queue behind the other and keep their deadline
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="speaksphere-figures")

T = TypeVar("T")


def within(draw: Callable[[], T], limit_s: float, since: float | None = None) -> T:
    """`draw()`, if it returns within `limit_s` seconds of `since` (time.monotonic(); None: now); else
    TimeoutError. Exceptions of `draw` are raised as they are."""
    left = limit_s - (time.monotonic() - since if since is not None else 0.0)
    if left <= 0:
        raise TimeoutError(f"no time left of {limit_s:.0f} s")
    future = _pool.submit(draw)
    try:
        return future.result(timeout=left)
    except concurrent.futures.TimeoutError:
        future.cancel()  # not started yet (queued behind a stuck drawing): it never will
        raise TimeoutError(f"not drawn within {limit_s:.0f} s") from None
