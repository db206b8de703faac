"""Modality adaptors: frozen features -> recommendation space.

``moe`` is the mixture of experts with a noisy gate used by UniSRec (Hou et al., KDD 2022) and ANT
(Peng et al., arXiv 2309.10195): whitening experts ``W_k (dropout(x) - b_k)`` (each expert with its own dropout mask) for text and images, plain
linear experts for prices, gated by ``softmax(x W_g + N(0,1) * (softplus(x W_n) + 0.01))``.
``linear`` is the "without the mixture" ablation: one linear layer.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from antkit.components.base import Adaptor, ComponentConfig
from antkit.model.dropout import dropout_copies, dropout_once
from antkit.model.init import STD
from antkit.model.mixing import MixedExperts
from antkit.model.workspace import Workspace
from antkit.plugins import hookimpl


class MixtureOfExpertsConfig(ComponentConfig):
    added_later = ("precision",)

    experts: int = Field(8, ge=1, le=1_024, description="number of experts")
    expert: Literal["whitening", "linear"] = Field(
        "whitening", description="whitening: W_k(dropout(x) - b_k), no output bias; linear: W_k dropout(x) + c_k"
    )
    dropout: float = Field(0.2, ge=0.0, lt=1.0, description="input dropout, drawn independently for each expert")
    noisy_gate: bool = Field(True, description="add softplus-scaled Gaussian noise to the gate logits in training")
    dropout_masks: Literal["independent", "shared"] = Field(
        "independent",
        description="independent: each expert draws its own dropout mask (the reference); shared: one mask per "
        "item for all experts, which lets all experts run as one matrix product (faster; not the reference)",
    )
    precision: Literal["float32", "bfloat16"] = Field(
        "float32",
        description="bfloat16: the experts' matrix products (the adaptor's main cost) in bfloat16, several times "
        "faster on CPUs with AMX or AVX512-BF16 and on GPUs; parameters, gates and outputs stay float32",
    )


class MixtureOfExperts(Adaptor):
    """Gated mixture of whitening (or linear) experts over the raw feature, each expert seeing its own dropout
    of it (or one shared mask: ``dropout_masks: shared``)."""

    name = "moe"
    description = "mixture of whitening (or linear) experts with a noisy softmax gate (UniSRec/ANT)"
    Config = MixtureOfExpertsConfig

    def __init__(self, config: MixtureOfExpertsConfig, in_dim: int, dim: int):
        super().__init__(config, in_dim, dim)
        k = config.experts
        self.weight = nn.Parameter(torch.empty(k, in_dim, dim))  # W_k, stored transposed: x @ W_k
        whitening = config.expert == "whitening"
        self.center = nn.Parameter(torch.empty(k, in_dim)) if whitening else None  # b_k
        self.bias = None if whitening else nn.Parameter(torch.empty(k, dim))  # c_k
        self.gate = nn.Parameter(torch.empty(in_dim, k))  # W_g
        self.noise = nn.Parameter(torch.empty(in_dim, k))  # W_n
        self.workspace = Workspace()  # the large per-step tensors' memory, reused while training
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=STD)
        for parameter in (self.center, self.bias, self.gate, self.noise):
            if parameter is not None:
                nn.init.zeros_(parameter)

    def train(self, mode: bool = True) -> MixtureOfExperts:
        if not mode:  # evaluation needs none of the training step's buffers: give their memory back
            self.workspace.clear()
        return super().train(mode)

    def _scratch(self, x: torch.Tensor) -> Workspace:
        """The adaptor's workspace for a CPU training step; an empty one (fresh memory) for anything else."""
        reuse = self.training and torch.is_grad_enabled() and x.device.type == "cpu"
        return self.workspace if reuse else Workspace()

    def gates(self, x: torch.Tensor) -> torch.Tensor:
        """Expert weights (N, K) from the raw feature ``x`` (N, in_dim)."""
        logits = x @ self.gate
        if self.training and self.config.noisy_gate:
            logits = logits + torch.randn_like(logits) * (F.softplus(x @ self.noise) + 0.01)
        return torch.softmax(logits, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates = self.gates(x)  # (N, K)
        k = self.config.experts
        dropout = self.config.dropout if self.training else 0.0
        low_precision = self.config.precision == "bfloat16"
        inputs = x.to(torch.bfloat16) if low_precision else x
        weight = self.weight.to(torch.bfloat16) if low_precision else self.weight
        workspace = self._scratch(x)
        if dropout and self.config.dropout_masks == "independent":
            # each reference expert owns its dropout layer: K differently dropped copies of x
            copies = workspace.take("dropped", (k, *inputs.shape), inputs.dtype, inputs.device)
            inputs = dropout_copies(inputs, k, dropout, out=copies)
        elif dropout:
            inputs = dropout_once(inputs, dropout)
        mixed = MixedExperts.apply(inputs, weight, gates, workspace)  # sum_k g_k (x_k W_k), (N, dim)
        # an expert's constant term (-W_k b_k or c_k) is the same for every item: mix the K constants with the
        # gates, (N, K) @ (K, dim), instead of adding them to the (K, N, dim) expert outputs
        if self.center is not None:
            mixed = mixed - gates @ torch.bmm(self.center[:, None, :], self.weight).squeeze(1)
        if self.bias is not None:
            mixed = mixed + gates @ self.bias
        return mixed


class LinearAdaptorConfig(ComponentConfig):
    dropout: float = Field(0.2, ge=0.0, lt=1.0, description="input dropout")
    bias: bool = True


class LinearAdaptor(Adaptor):
    """One linear layer (the "without the mixture" ablation)."""

    name = "linear"
    description = "one linear layer per modality (ablation without the mixture of experts)"
    Config = LinearAdaptorConfig

    def __init__(self, config: LinearAdaptorConfig, in_dim: int, dim: int):
        super().__init__(config, in_dim, dim)
        self.dropout = nn.Dropout(config.dropout)
        self.linear = nn.Linear(in_dim, dim, bias=config.bias)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.linear.weight, std=STD)
        if self.linear.bias is not None:
            nn.init.zeros_(self.linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.dropout(x))


@hookimpl
def register_adaptors(register):
    register(MixtureOfExperts)
    register(LinearAdaptor)
