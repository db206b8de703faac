"""Multi-process training under ``torchrun`` (PyTorch DDP: gloo on CPU, nccl on GPU).

Every process runs the whole pipeline; training batches are split between processes, gradients averaged by
DDP, evaluation users split and their metric sums added up. Process 0 alone writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(setting: str, local_rank: int = 0) -> torch.device:
    if setting == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(setting)
    if device.type == "cuda" and device.index is None:
        device = torch.device(f"cuda:{local_rank}")
    return device


def setup(device_setting: str = "auto") -> Context:
    """The context of this process; joins the process group when started by torchrun."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(device_setting, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    if world_size > 1:
        return Context(dist.get_rank(), dist.get_world_size(), device)
    return Context(0, 1, device)


def barrier(context: Context) -> None:
    if context.distributed:
        dist.barrier()


def sum_across(context: Context, tensor: torch.Tensor) -> torch.Tensor:
    """Element-wise sum of ``tensor`` over all processes."""
    if context.distributed:
        tensor = tensor.clone()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor
