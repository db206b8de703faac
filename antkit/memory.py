"""Process-wide memory settings antkit makes when it is imported, each one left alone if the user chose.

- Huge pages: a training step's large tensors are faulted in page by page when first written. torch can back
  large CPU tensors with 2 MB pages (``THP_MEM_ALLOC_ENABLE=1``): 512 times fewer faults. torch reads the
  switch once, when it first allocates, so it is set before torch is loaded (``THP_MEM_ALLOC_ENABLE=0`` turns
  it off). It only matters on Linux, where transparent huge pages are not disabled.
- glibc's thresholds: by default glibc serves an allocation above a threshold that it moves as blocks are
  freed with fresh memory from the kernel (faulted in again), and returns freed memory at the top of its heap
  to the kernel once more than twice that threshold is free. The optimiser's per-parameter temporaries (several
  MB at ANT's sizes) then cost page faults at every step, or not, depending on what was freed before. antkit
  fixes the threshold at glibc's largest, 32 MiB, and keeps up to 128 MiB of freed heap for reuse. Tensors
  above 32 MiB (an adaptor's per-step buffers) are kept in workspaces instead (``antkit.model.workspace``).
  This changes malloc for the whole process that imports antkit; set ``MALLOC_MMAP_THRESHOLD_`` or
  ``MALLOC_TRIM_THRESHOLD_`` (or either in ``GLIBC_TUNABLES``) to choose yourself.

docs/performance.md has the measurements.
"""

from __future__ import annotations

import ctypes
import os
import platform

SWITCH = "THP_MEM_ALLOC_ENABLE"
GLIBC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
GLIBC_TUNABLES = ("glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold")
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest on 64-bit systems
TRIM_THRESHOLD = 128 * 2**20


def prefer_huge_pages() -> None:
    """Turn torch's huge-page allocations on for this process and its children, unless the user chose."""
    os.environ.setdefault(SWITCH, "1")


def fix_glibc_thresholds() -> None:
    """Fix glibc's allocation thresholds (above) unless the user set them, or this is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if any(name in os.environ for name in GLIBC_SETTINGS) or any(name in tunables for name in GLIBC_TUNABLES):
        return
    libc = ctypes.CDLL(None)  # the process's own C library
    libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)  # (its return value says little: glibc accepts too-large values)
    libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
