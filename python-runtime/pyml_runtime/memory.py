"""Freed memory goes back to the kernel: the container's one limit is shared by its workers.

glibc's malloc serves a large block by mmap (returned to the kernel when freed) only while the
block is above its mmap threshold, and it raises that threshold to the size of every mmapped
block freed, up to 32 MiB. After one 100,000-row call (24 MB of Arrow data, several copies of
it on the way to the model) a worker therefore keeps every later call's blocks on its heap and
never gives them back: each worker holds its peak for ever, and a few workers together exceed
the container's memory limit, which kills them all (tests/security/test_load.py, 32 such calls
at once to two workers). A fixed threshold keeps large blocks in mmap; a trim threshold hands
back the heap's free top. Small blocks, the common case, are unaffected.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1 << 20
TRIM_THRESHOLD_BYTES = 4 << 20


def return_freed_memory() -> bool:
    """Fixes glibc's thresholds in this process; False where malloc is not glibc's."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt): nothing to tune
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    mmap_set: bool = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    trim_set: bool = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1
    return mmap_set and trim_set
