"""Reusable scratch buffers for the large tensors an adaptor makes afresh at every training step.

On a CPU a fresh tensor of tens of megabytes is new memory from the kernel, and each page is faulted in and
zeroed when first written: for the mixture-of-experts adaptors over a whole catalogue (several 40-160 MB
tensors a step) that costs about as much as the arithmetic done on them. A workspace hands out the same memory
again, step after step, once no tensor refers to it any more (not a saved tensor of a graph still waiting for
its backward pass, not a view somebody kept). One training thread uses a workspace; adaptors use one only for
training steps on a CPU (a GPU's caching allocator already reuses memory), and evaluation allocates as usual.
"""

from __future__ import annotations

import math

import torch

# the number of references to a tensor storage: a private torch function; without it nothing is reused
_storage_users = getattr(torch._C, "_storage_Use_Count", None)


class _Buffer:
    """A buffer, a handle on its memory, and how many users that memory has when nothing else uses it."""

    def __init__(self, size: int, dtype: torch.dtype, device: torch.device):
        self.tensor = torch.empty(size, dtype=dtype, device=device)
        self.storage = self.tensor.untyped_storage()
        self.own_users = _storage_users(self.storage._cdata) if _storage_users else None

    def free_for(self, size: int, dtype: torch.dtype, device: torch.device) -> bool:
        """Large enough, of that kind, and used by no other tensor (no view handed out, no saved tensor alive)."""
        tensor = self.tensor
        return (self.own_users is not None and tensor.numel() >= size and tensor.dtype == dtype
                and tensor.device == device and _storage_users(self.storage._cdata) == self.own_users)


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
