"""Multi-process training under ``torchrun`` (PyTorch DDP: gloo on CPU, nccl on GPU).

Every process runs the whole pipeline; training batches are split between processes, gradients averaged by
DDP, evaluation users split and their per-user metric values gathered. Process 0 alone writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

import torch
import torch.distributed as dist
from pydantic import AfterValidator

from antkit.errors import AntkitError


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


def _check_device_name(value: str) -> str:
    if value != "auto":
        try:
            torch.device(value)
        except RuntimeError:
            raise ValueError("expected 'auto', 'cpu', 'cuda', 'cuda:1', ... (a torch device name)") from None
    return value


DeviceSetting = Annotated[str, AfterValidator(_check_device_name)]
"""A recipe's or encoder's ``device`` field: 'auto' or a torch device name."""


def resolve_device(setting: str, local_rank: int = 0, local_processes: int = 1) -> torch.device:
    """The device of process ``local_rank`` of the ``local_processes`` that torchrun started on this machine.

    'auto' is the CPU without CUDA, else the process's own GPU; 'cuda' is the process's own GPU. A GPU that is
    not there is an error that says so (DDP over nccl needs one GPU per process).
    """
    if setting == "auto" and not torch.cuda.is_available():
        return torch.device("cpu")
    device = torch.device("cuda" if setting == "auto" else setting)
    if device.type != "cuda":
        return device
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise AntkitError(f"device '{setting}': no CUDA GPU is available here (set device: cpu, or auto)")
    if device.index is None:
        if local_processes > count:
            raise AntkitError(
                f"device '{setting}': torchrun started {local_processes} processes on this machine, which has "
                f"{count} GPU(s); DDP needs one GPU per process: start at most {count} per machine "
                "(--nproc_per_node), or set device: cpu")
        return torch.device("cuda", local_rank)
    if device.index >= count:
        raise AntkitError(f"device '{setting}': this machine has {count} GPU(s), cuda:0 to cuda:{count - 1}")
    return device


def _launch_number(name: str, default: int) -> int:
    """The whole number in environment variable ``name`` (torchrun sets it), ``default`` when unset."""
    value = os.environ.get(name, "")
    if not value:
        return default
    if not value.isdecimal():
        raise AntkitError(f"environment variable {name}={value!r}: expected a whole number (torchrun sets it for "
                          "multi-process runs, see docs/distributed.md; unset it for one process)")
    return int(value)


def setup(device_setting: str = "auto") -> Context:
    """The context of this process; joins the process group when started by torchrun."""
    world_size = _launch_number("WORLD_SIZE", 1)
    local_rank = _launch_number("LOCAL_RANK", 0)
    device = resolve_device(device_setting, local_rank, _launch_number("LOCAL_WORLD_SIZE", 1))
    if world_size > 1 and not dist.is_initialized():
        missing = [name for name in ("RANK", "MASTER_ADDR", "MASTER_PORT") if not os.environ.get(name)]
        if missing:
            raise AntkitError(f"WORLD_SIZE={world_size} but {', '.join(missing)} not set: multi-process runs are "
                              "started with torchrun (docs/distributed.md); unset WORLD_SIZE for one process")
        for name in ("RANK", "MASTER_PORT"):  # whole numbers, as torch expects
            _launch_number(name, 0)
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
