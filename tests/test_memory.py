"""Training on CPU keeps freed memory for reuse instead of page-faulting large tensors back in every step."""

import os
import subprocess
import sys

import pytest

from antkit.training.memory import SWITCH

REPEATED_ALLOCATION = """
import resource, sys, torch
from antkit.training.memory import keep_freed_memory
print(keep_freed_memory())
faults = []
for _ in range(12):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(2**24).sum()  # 64 MB allocated, used and freed, like a training step's largest tensors
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(sum(faults[-4:]))
"""


def _run(switch: str) -> tuple[str, int]:
    env = {**os.environ, SWITCH: switch}
    out = subprocess.run([sys.executable, "-c", REPEATED_ALLOCATION], capture_output=True, text=True, check=True,
                         env=env).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc tuning is Linux-only")
def test_freed_memory_is_reused_without_page_faults():
    changed, faults = _run("0")
    if changed != "True":
        pytest.skip("not glibc: malloc left as it is")
    # one 64 MB tensor is 16,384 pages; once warm, repeating it must not fault them in again
    assert faults < 1000


def test_switch_leaves_malloc_alone():
    changed, _ = _run("1")
    assert changed == "False"
