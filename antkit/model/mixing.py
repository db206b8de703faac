"""The experts' products and their gated mixture, ``sum_k g_k(x) (x_k W_k)`` for every item, as one autograd
function whose large tensors live in a workspace.

Autograd would allocate the (K, N, dim) expert outputs and their gradient afresh at every step; here they are
taken from the adaptor's workspace (``antkit.model.workspace``), which on a CPU spares faulting in tens of
megabytes of new memory per modality and step. The operations, and so the results, are those autograd would
run: the forward ``bmm``/``mm`` and mixing ``bmm``, and in the backward the same products for the weights' and
the gates' gradients (``tests/test_adaptors.py`` checks the gradients bit for bit against plain autograd).
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from antkit.model.workspace import Workspace


def _side_by_side(weight: torch.Tensor) -> torch.Tensor:
    """The K experts' (in, dim) matrices as one (in, K * dim) matrix: x W_k for every k in one product."""
    experts, in_dim, dim = weight.shape
    return weight.permute(1, 0, 2).reshape(in_dim, experts * dim)


class MixedExperts(torch.autograd.Function):
    """``inputs`` (K, N, in): each expert's own input, or (N, in): one input for all experts; ``weight`` (K, in,
    dim); ``gates`` (N, K) -> (N, dim). The products run in the inputs' and weight's dtype (bfloat16 with
    ``precision: bfloat16``), the mixing in the gates'."""

    @staticmethod
    def forward(ctx, inputs: torch.Tensor, weight: torch.Tensor, gates: torch.Tensor, workspace: Workspace):
        experts, _, dim = weight.shape
        items = gates.shape[0]
        if inputs.dim() == 3:  # one product per expert: (K, N, dim), read item-major below
            outputs = workspace.take("experts", (experts, items, dim), weight.dtype, weight.device)
            by_item = torch.bmm(inputs, weight, out=outputs).transpose(0, 1)
        else:  # all experts in one product: (N, K * dim), item-major already
            outputs = workspace.take("experts", (items, experts * dim), weight.dtype, weight.device)
            by_item = torch.mm(inputs, _side_by_side(weight), out=outputs).view(items, experts, dim)
        by_item = by_item.to(gates.dtype)
        # sum_k g_k E_k for every item: one batched (1 x K) @ (K x dim) product over the items, forward and
        # backward faster than a broadcast product and a sum (einsum runs it as N separate products)
        mixed = torch.bmm(gates.unsqueeze(1), by_item).squeeze(1)
        ctx.save_for_backward(inputs, weight, gates, by_item)
        ctx.workspace = workspace
        return mixed

    @staticmethod
    @once_differentiable  # (the backward writes into the workspace: no graph of it for a second derivative)
    def backward(ctx, grad: torch.Tensor):
        inputs, weight, gates, by_item = ctx.saved_tensors
        items, experts, dim = by_item.shape
        in_dim = weight.shape[1]
        grad_inputs = grad_weight = grad_gates = None
        if ctx.needs_input_grad[2]:
            grad_gates = torch.bmm(grad.unsqueeze(1), by_item.transpose(1, 2)).squeeze(1)
        if not (ctx.needs_input_grad[0] or ctx.needs_input_grad[1]):
            return grad_inputs, grad_weight, grad_gates, None
        # d mixed / d E_k = g_k: the (N, K, 1) x (N, 1, dim) outer products, written into the workspace
        grad_by_item = ctx.workspace.take("expert_gradients", (items, experts, dim), grad.dtype, grad.device)
        grad_by_item = torch.mul(gates.unsqueeze(2), grad.unsqueeze(1), out=grad_by_item).to(inputs.dtype)
        if inputs.dim() == 3:
            if ctx.needs_input_grad[0]:
                grad_inputs = torch.bmm(grad_by_item.transpose(0, 1), weight.transpose(1, 2))
            if ctx.needs_input_grad[1]:
                grad_weight = torch.bmm(inputs.transpose(1, 2), grad_by_item.transpose(0, 1))
        else:
            flat = grad_by_item.view(items, experts * dim)
            if ctx.needs_input_grad[0]:
                grad_inputs = torch.mm(flat, _side_by_side(weight).t())
            if ctx.needs_input_grad[1]:
                grad_weight = torch.mm(inputs.t(), flat).view(in_dim, experts, dim).permute(1, 0, 2)
        return grad_inputs, grad_weight, grad_gates, None
