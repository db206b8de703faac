"""GRU4Rec (Hidasi et al., "Session-based Recommendations with Recurrent Neural Networks", ICLR 2016).

A GRU reads the item vectors in order; its output after item ``t`` is the user state for the prefix ``0..t``,
so the backbone is causal by construction. Sequences are left-aligned: padding only follows the real items and
never reaches their states, so no packing is needed. As in RecBole's GRU4Rec: dropout on the input vectors,
Xavier-uniform GRU weights, and a linear layer back to the model dim when the GRU's hidden size differs from it.
"""

from __future__ import annotations

import torch
from antkit.components import Backbone, ComponentConfig
from antkit.model.init import init_weights
from antkit.plugins import hookimpl
from pydantic import Field
from torch import nn


class GRU4RecConfig(ComponentConfig):
    layers: int = Field(1, ge=1, description="stacked GRU layers")
    hidden: int | None = Field(None, ge=1, description="GRU hidden size; default: the model dim")
    dropout: float = Field(0.1, ge=0.0, lt=1.0, description="dropout on the input item vectors")


class GRU4Rec(Backbone):
    """A (stacked) GRU over the item sequence; no position embedding, the recurrence carries the order."""

    name = "gru4rec"
    description = "GRU4Rec: a GRU over the item vectors (Hidasi et al., ICLR 2016)"
    Config = GRU4RecConfig

    def __init__(self, config: GRU4RecConfig, dim: int, max_length: int):
        super().__init__(config, dim, max_length)
        hidden = config.hidden or dim
        self.input_dropout = nn.Dropout(config.dropout)
        self.gru = nn.GRU(dim, hidden, num_layers=config.layers, batch_first=True)
        self.output = nn.Linear(hidden, dim) if hidden != dim else nn.Identity()
        for key, parameter in self.gru.named_parameters():
            (nn.init.xavier_uniform_ if key.startswith("weight") else nn.init.zeros_)(parameter)
        self.output.apply(init_weights)

    def forward(self, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        states, _ = self.gru(self.input_dropout(items))  # (B, L, hidden)
        return self.output(states)

    def sequence_modules(self):
        return (self.gru, self.output)


@hookimpl
def register_backbones(register):
    register(GRU4Rec)
