"""Importing antkit (before torch) makes torch back large CPU tensors with 2 MB pages: far fewer page faults."""

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


def _page_faults() -> int:
    env = {key: value for key, value in os.environ.items() if key != SWITCH}  # as for a user who did not choose
    result = subprocess.run([sys.executable, "-c", FRESH_ALLOCATIONS], capture_output=True, text=True, env=env,
                            check=True)
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(not THP.exists() or "[never]" in THP.read_text(), reason="no transparent huge pages here")
def test_importing_antkit_turns_on_huge_pages():
    # 4 x 64 MB is 65,536 faults in 4 KB pages (measured: 65,540 with the switch off), 128 in 2 MB pages
    assert _page_faults() < 65536 // 8


def test_the_users_choice_is_kept():
    code = f"import os; os.environ['{SWITCH}'] = '0'; import antkit; print(os.environ['{SWITCH}'])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "0"


OPTIMISER_TEMPORARIES = """
import resource
import antkit
import torch
for _ in range(4):  # (glibc's heap settles over the first few blocks)
    torch.ones(2**21).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(8):
    torch.ones(2**21).sum()  # 8 MB, allocated afresh and freed, like Adam's temporaries for an expert's weights
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_of_repeated_8mb_blocks(**settings: str) -> int:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MALLOC_")}
    env.update({SWITCH: "0"}, **settings)  # count 4 KB faults
    result = subprocess.run([sys.executable, "-c", OPTIMISER_TEMPORARIES], capture_output=True, text=True, env=env,
                            check=True)
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(not (sys.platform == "linux" and platform.libc_ver()[0] == "glibc"), reason="glibc only")
def test_freed_blocks_below_32_mib_are_reused_without_new_page_faults():
    """8 x 8 MB is 16,384 faults when each block is fresh memory (the user's choice here: glibc's default
    threshold); with antkit's thresholds freed blocks are reused (measured: 0-6,144 faults as glibc's heap settles)."""
    fresh = _faults_of_repeated_8mb_blocks(MALLOC_MMAP_THRESHOLD_=str(2**17))
    assert fresh > 8 * 2048 * 3 // 4
    assert _faults_of_repeated_8mb_blocks() < fresh // 2
