"""Giving freed memory back to the system after each request (glibc malloc; no speech here).

A request decodes, resamples and scores arrays of tens to hundreds of MB; freed, they stay in glibc's
heaps, one arena per thread that ever ran a request (up to 8 per core), and the server's resident memory
rose with each new peak (+688 MiB idle after 200 ordinary requests, levelling near 2 GiB). Two arenas,
and malloc_trim(0) after each request, return it. Elsewhere than glibc (macOS, musl) both do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

__all__ = ["limit_arenas", "release_after", "trim"]

_M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)
log = logging.getLogger("speaksphere.app")


@functools.lru_cache(maxsize=1)
def _libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def limit_arenas(arenas: int = 2) -> bool:
    """At most `arenas` malloc arenas from now on (MALLOC_ARENA_MAX, which glibc reads only at start);
    returns whether glibc took it."""
    libc = _libc()
    return bool(libc and libc.mallopt(_M_ARENA_MAX, arenas))


def trim() -> None:
    """Give the free memory at the top of glibc's heaps back to the system (malloc_trim(0))."""
    libc = _libc()
    if libc:
        libc.malloc_trim(0)


def release_after(function):
    """`function`, followed by trim() however it ends."""

    @functools.wraps(function)
    def released(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            trim()

    return released
