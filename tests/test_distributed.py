"""Training under torchrun with two CPU processes (DDP over gloo)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_torchrun_two_processes(tiny_recipe_path, tmp_path):
    """Two processes share the batches, agree on the metrics, and process 0 writes the report once."""
    torchrun = shutil.which("torchrun") or os.path.join(os.path.dirname(sys.executable), "torchrun")
    out = tmp_path / "ddp"
    completed = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node=2", "-m", "antkit", "run", str(tiny_recipe_path),
         "--out", str(out), "--set", "arms=[{label: relearn, strategy: {name: relearn}}]"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count("office: test metrics") == 1  # only process 0 prints
    results = json.loads((out / "results.json").read_text())
    arm = results["targets"]["office"]["relearn"]
    assert 0.0 < arm["test"]["recall@50"] <= 1.0
    assert results["pretrain"]["pretrain"]["epochs"] >= 1
