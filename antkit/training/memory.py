"""Keep freed memory in the process for reuse (glibc malloc) instead of handing it back to the system.

glibc serves every allocation over 32 MB with its own ``mmap`` and unmaps it when freed, so each training
step page-faults its large tensors back in from fresh zeroed pages: the experts' dropped-out copies of the
catalogue's features, their outputs and their gradients, every step. Serving them from the heap and keeping
freed memory there reuses the same pages instead: about 20% more adaptation throughput at ANT's reference
sizes on 2 cores, for about 0.2 GB more peak memory (docs/performance.md).
"""

from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_MAX = -4
_KEEP_BYTES = 1 << 30  # freed memory kept for reuse before glibc returns any to the system
SWITCH = "ANTKIT_SYSTEM_MALLOC"  # set to 1 to leave malloc as it is


def keep_freed_memory() -> bool:
    """Tune this process's glibc malloc as above; False when nothing changed (not glibc, or switched off)."""
    if os.environ.get(SWITCH) == "1":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not Linux with glibc (macOS, Windows, musl)
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
