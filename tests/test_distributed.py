"""Training under torchrun with two CPU processes (DDP over gloo), and the choice of each process's device."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

import antkit
from antkit.data.splits import evaluation_set
from antkit.errors import AntkitError
from antkit.evaluation.evaluate import evaluate_with_errors
from antkit.pipeline import Run
from antkit.plugins.manager import load_registry
from antkit.progress import Reporter
from antkit.recipe import load_recipe
from antkit.training.distributed import Context, resolve_device, setup


@pytest.mark.slow
def test_torchrun_two_processes(tiny_recipe_path, tmp_path, private_cache):
    """Two processes share the batches, agree on the metrics, and process 0 writes the report once; parameters
    without a gradient in a step (here the unused noise weights of a gate without noise) do not stop DDP."""
    torchrun = shutil.which("torchrun") or os.path.join(os.path.dirname(sys.executable), "torchrun")
    out = tmp_path / "ddp"
    completed = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node=2", "-m", "antkit", "run", str(tiny_recipe_path),
         "--out", str(out), "--set", "arms=[{label: relearn, strategy: {name: relearn}}]", "--set", "device=cpu",
         "--set", "model.modalities.text.adaptor.noisy_gate=false"],  # its noise weights then get no gradient
        capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count("office: test metrics") == 1  # only process 0 prints
    results = json.loads((out / "results.json").read_text())
    arm = results["targets"]["office"]["relearn"]
    assert 0.0 < arm["test"]["recall@50"] <= 1.0
    assert results["pretrain"]["pretrain"]["epochs"] >= 1
    # the two processes' shares of the test users add up to what one process computes for the saved model
    one = _evaluate_alone(tiny_recipe_path, out / "office" / "relearn", private_cache)
    for metric, value in one.metrics.items():
        assert math.isclose(arm["test"][metric], value, rel_tol=1e-6)
    values = load_file(out / "office" / "relearn" / "test_values.safetensors")
    assert torch.allclose(values["ndcg@10"], one.values["ndcg@10"])


def _evaluate_alone(recipe_path, arm_folder, cache):
    """The test evaluation of a saved arm in this (single) process, on the recipe's target data."""
    registry = load_registry(entry_point_plugins=False)
    recipe = load_recipe(recipe_path, registry)
    run = Run(recipe, registry, arm_folder.parent.parent, cache, Reporter(), Context())
    run.prepare_data()
    test = evaluation_set(run.domains["office"].sequences, "test", recipe.model.max_length)
    return evaluate_with_errors(antkit.from_pretrained(arm_folder, registry), run.catalogues["office"], test)


@pytest.fixture
def one_gpu(monkeypatch):
    """A machine with one CUDA GPU, as far as device resolution can tell (no GPU is touched)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_auto_device_is_each_process_own_gpu(one_gpu):
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("cuda", local_rank=0, local_processes=1) == torch.device("cuda", 0)
    assert resolve_device("cpu", local_rank=1, local_processes=2) == torch.device("cpu")


def test_more_processes_than_gpus_is_a_clear_error(one_gpu):
    """Seen on a one-GPU machine: two torchrun processes with device auto; the second asked for cuda:1."""
    with pytest.raises(AntkitError, match=r"2 processes on this machine, which has 1 GPU.*device: cpu"):
        resolve_device("auto", local_rank=1, local_processes=2)


def test_missing_gpu_is_a_clear_error(one_gpu, monkeypatch):
    with pytest.raises(AntkitError, match=r"'cuda:1': this machine has 1 GPU\(s\), cuda:0 to cuda:0"):
        resolve_device("cuda:1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto", local_rank=1, local_processes=2) == torch.device("cpu")
    with pytest.raises(AntkitError, match="no CUDA GPU is available"):
        resolve_device("cuda")


@pytest.mark.parametrize("variables, message", [
    ({"WORLD_SIZE": "abc"}, r"WORLD_SIZE='abc': expected a whole number"),
    ({"LOCAL_RANK": "-1"}, r"LOCAL_RANK='-1': expected a whole number"),
    ({"WORLD_SIZE": "2"}, r"WORLD_SIZE=2 but RANK, MASTER_ADDR, MASTER_PORT not set: .* started with torchrun"),
    ({"WORLD_SIZE": "2", "RANK": "x", "MASTER_ADDR": "localhost", "MASTER_PORT": "29500"}, r"RANK='x'"),
    ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "localhost", "MASTER_PORT": "abc"}, r"MASTER_PORT='abc'"),
    ({"WORLD_SIZE": "²"}, r"WORLD_SIZE='²': expected a whole number"),
])
def test_a_wrong_launch_environment_is_a_clear_error(monkeypatch, variables, message):
    """Caught before any process group is joined."""
    for name in ("WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(AntkitError, match=message):
        setup("cpu")
