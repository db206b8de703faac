"""Importing antkit (before torch) makes torch back large CPU tensors with 2 MB pages (far fewer page faults)
and fixes glibc's allocation thresholds; a user's own setting of either is kept."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from antkit.memory import SWITCH

FRESH_ALLOCATIONS = """
import resource
import antkit
import torch
torch.ones(2**24).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    torch.ones(2**24).sum()  # 64 MB, allocated afresh and freed, like a training step's largest tensors
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _run(code: str, unset: str, **settings: str) -> str:
    """The last line ``code`` prints in a fresh interpreter whose environment lacks variables starting with
    ``unset`` (as for a user who did not choose) and has ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(unset)} | settings
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return result.stdout.strip().splitlines()[-1]


def _page_faults() -> int:
    return int(_run(FRESH_ALLOCATIONS, unset=SWITCH))


@pytest.mark.skipif(not THP.exists() or "[never]" in THP.read_text(), reason="no transparent huge pages here")
def test_importing_antkit_turns_on_huge_pages():
    # 4 x 64 MB is 65,536 faults in 4 KB pages (measured: 65,540 with the switch off), 128 in 2 MB pages
    assert _page_faults() < 65536 // 8


def test_the_users_choice_is_kept():
    code = f"import os; os.environ['{SWITCH}'] = '0'; import antkit; print(os.environ['{SWITCH}'])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "0"


BLOCK_OF_20_MIB = """
import ctypes
import antkit


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                      "fsmblks", "uordblks", "fordblks", "keepcost")]


libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
block = libc.malloc(20 * 2**20)
fresh_mapping = libc.mallinfo2().hblkhd >= 20 * 2**20  # glibc's default: a new mapping from the kernel
libc.free(block)
kept_for_reuse = libc.mallinfo2().fordblks >= 20 * 2**20  # freed, yet still in the heap for the next block
print(fresh_mapping, kept_for_reuse)
"""


def _glibc_serves_20_mib(**settings: str) -> str:
    return _run(BLOCK_OF_20_MIB, unset="MALLOC_", **settings)


@pytest.mark.skipif(not (sys.platform == "linux" and platform.libc_ver()[0] == "glibc"
                         and tuple(map(int, platform.libc_ver()[1].split(".")[:2])) >= (2, 33)),
                    reason="glibc 2.33 or later only (mallinfo2)")
def test_blocks_up_to_32_mib_come_from_the_heap_and_stay_there_unless_the_user_chose():
    """A 20 MiB block is served from glibc's heap and kept there when freed (glibc's default threshold, 128 KiB
    until a larger block is freed, would map fresh memory for it and unmap it again); the user's setting wins."""
    assert _glibc_serves_20_mib() == "False True"
    assert _glibc_serves_20_mib(MALLOC_MMAP_THRESHOLD_=str(2**17)) == "True False"
