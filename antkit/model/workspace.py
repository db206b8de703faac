"""Reusable scratch buffers for the large tensors an adaptor makes afresh at every training step.

On a CPU a fresh tensor of tens of megabytes is new memory from the kernel, and each page is faulted in and
zeroed when first written: for the mixture-of-experts adaptors over a whole catalogue (several 40-160 MB
tensors a step) that costs about as much as the arithmetic done on them. A workspace hands out the same memory
again, step after step, once nothing else refers to it any more (not a saved tensor of a graph still waiting for
its backward pass, not a view somebody kept), so reuse can never overwrite something still needed.
"""

from __future__ import annotations

import math

import torch


def _users(storage: torch.UntypedStorage) -> int:
    """How many tensors (and storage handles) refer to ``storage``."""
    return torch._C._storage_Use_Count(storage._cdata)


class _Buffer:
    """A buffer, a handle on its memory, and how many users that memory has when nothing else uses it."""

    def __init__(self, size: int, dtype: torch.dtype, device: torch.device):
        self.tensor = torch.empty(size, dtype=dtype, device=device)
        self.storage = self.tensor.untyped_storage()
        self.own_users = _users(self.storage)

    def free_for(self, size: int, dtype: torch.dtype, device: torch.device) -> bool:
        """Large enough, of that kind, and used by nothing else (no view handed out, no saved tensor alive)."""
        tensor = self.tensor
        return (tensor.numel() >= size and tensor.dtype == dtype and tensor.device == device
                and _users(self.storage) == self.own_users)


class Workspace:
    """Named scratch buffers, each reused when it is large enough and free."""

    def __init__(self) -> None:
        self._buffers: dict[str, _Buffer] = {}

    def take(self, name: str, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """An uninitialised tensor of ``shape``: the memory of the last one of this name if it is free."""
        size = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or not buffer.free_for(size, dtype, device):
            buffer = self._buffers[name] = _Buffer(size, dtype, device)
        return buffer.tensor[:size].view(shape)  # a view of its own: while it lives, the buffer counts as in use

    def clear(self) -> None:
        """Give the memory back (the next ``take`` allocates again)."""
        self._buffers.clear()

    def __deepcopy__(self, memo) -> Workspace:  # a copied module starts with its own, empty workspace
        return Workspace()

    def __getstate__(self) -> dict:  # nor is scratch memory pickled
        return {"_buffers": {}}
