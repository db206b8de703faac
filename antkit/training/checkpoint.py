"""Training checkpoints: one safetensors file per stage holding the model, the best model so far, the
optimizer and the random state, with the loop's progress as JSON metadata. Written atomically after every
epoch, so an interrupted stage resumes from its last finished epoch."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from antkit.errors import CheckpointError
from antkit.io import atomic_save


def save_training_state(path: Path, model_state, best_state, optimizer: torch.optim.Optimizer, progress: dict) -> None:
    tensors = {f"model.{k}": v.detach().cpu() for k, v in model_state.items()}
    tensors.update({f"best.{k}": v.detach().cpu() for k, v in best_state.items()})
    optimizer_state = optimizer.state_dict()
    for index, state in optimizer_state["state"].items():
        for name, value in state.items():
            tensors[f"optimizer.{index}.{name}"] = torch.as_tensor(value).cpu()
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        for device, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{device}"] = state
    metadata = {"progress": json.dumps(progress), "param_groups": json.dumps(optimizer_state["param_groups"])}
    atomic_save(tensors, path, metadata)


def load_training_state(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, fingerprint: str):
    """(best_state, progress) from ``path``, restoring the model, optimizer and random state. A checkpoint of a
    run with another ``fingerprint`` is refused before anything is restored."""
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), "pt") as handle:
            metadata = handle.metadata()
        progress = json.loads(metadata["progress"])
        param_groups = json.loads(metadata["param_groups"])
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise CheckpointError(f"{path}: unreadable training checkpoint ({error}); delete it to start this stage over") from None
    if progress.get("fingerprint") != fingerprint:
        raise CheckpointError(f"{path} was written by a run with other settings; use another output folder")
    parts: dict[str, dict] = {"model": {}, "best": {}}
    optimizer_state: dict[int, dict] = {}
    for key, value in tensors.items():
        group, _, rest = key.partition(".")
        if group in parts:
            parts[group][rest] = value
        elif group == "optimizer":
            index, _, name = rest.partition(".")
            optimizer_state.setdefault(int(index), {})[name] = value
    try:
        model.load_state_dict(parts["model"])
        optimizer.load_state_dict({"state": optimizer_state, "param_groups": param_groups})
    except (RuntimeError, ValueError) as error:
        lines = [line.strip() for line in str(error).strip().splitlines()] or [type(error).__name__]
        details = "; ".join(lines[1:] or lines)  # torch's first line is a heading, the mismatches follow
        raise CheckpointError(f"{path}: does not fit this model ({details}); use another output folder") from None
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states[: torch.cuda.device_count()])
    return parts["best"], progress
