"""Keep a long send's memory flat: glibc's allocator tuned for big, short-lived request bodies.

A request body is megabytes of JSON built and freed per batch, from several threads. glibc
raises its mmap threshold each time such a block is freed, so later ones come from per-thread
heap arenas, which fragment and keep growing over a million recipients. A fixed threshold
(blocks above it are mmapped and returned to the system when freed) and a few arenas keep the
resident size flat. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
MMAP_THRESHOLD = 256 * 1024
ARENA_MAX = 2


def tame_allocator() -> bool:
    """Fix glibc's mmap threshold and arena count for this process; True if it applied."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        ok &= libc.mallopt(_M_ARENA_MAX, ARENA_MAX)
        return bool(ok)
    return False
