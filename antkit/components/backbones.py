"""SASRec (Kang & McAuley, ICDM 2018) as configured by UniSRec and ANT: a post-LayerNorm causal transformer.

input = dropout(LayerNorm(item + position)); each layer: x = LN(x + dropout(attention(x))),
x = LN(x + dropout(W2 gelu(W1 x))). Sequences are left-aligned, so a causal mask alone keeps every real
position from seeing padding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from antkit.components.base import MAX_DIM, Backbone, ComponentConfig
from antkit.model.init import init_weights
from antkit.plugins import hookimpl


class TransformerLayer(nn.Module):
    """Post-LN self-attention + feed-forward block (RecBole's TransformerLayer)."""

    def __init__(self, dim: int, heads: int, inner: int, dropout: float, attention_dropout: float, eps: float):
        super().__init__()
        self.heads = heads
        self.attention_dropout = attention_dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.attention_out = nn.Linear(dim, dim)
        self.attention_norm = nn.LayerNorm(dim, eps=eps)
        self.feed_forward_in = nn.Linear(dim, inner)
        self.feed_forward_out = nn.Linear(inner, dim)
        self.feed_forward_norm = nn.LayerNorm(dim, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, last: torch.Tensor | None = None) -> torch.Tensor:
        """(B, L, D) -> (B, L, D); with ``last`` (B,) only the output at position ``last`` of each row, (B, 1, D)."""
        batch, length, dim = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        dropout = self.attention_dropout if self.training else 0.0
        if last is None:
            attended = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)  # (B, H, L, D/H)
        else:
            rows = torch.arange(batch, device=x.device)
            x, q = x[rows, last][:, None], q[rows, :, last][:, :, None]  # (B, 1, D), (B, H, 1, D/H)
            visible = torch.arange(length, device=x.device)[None, :] <= last[:, None]  # causal, for one query
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=visible[:, None, None, :], dropout_p=dropout)
        attended = attended.transpose(1, 2).reshape(batch, -1, dim)
        x = self.attention_norm(x + self.dropout(self.attention_out(attended)))
        hidden = self.feed_forward_out(F.gelu(self.feed_forward_in(x)))
        return self.feed_forward_norm(x + self.dropout(hidden))


class SASRecConfig(ComponentConfig):
    layers: int = Field(2, ge=1, le=1_024)
    heads: int = Field(2, ge=1, le=MAX_DIM, description="attention heads (the model dim must be a multiple)")
    inner: int = Field(256, ge=1, le=4 * MAX_DIM, description="feed-forward inner size")
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="hidden dropout")
    attention_dropout: float = Field(0.5, ge=0.0, lt=1.0)
    layer_norm_eps: float = Field(1e-8, gt=0.0)


class SASRec(Backbone):
    """Causal self-attention over the item sequence with learned absolute positions."""

    name = "sasrec"
    description = "SASRec post-LayerNorm causal transformer (2 layers, 2 heads in ANT)"
    Config = SASRecConfig

    def __init__(self, config: SASRecConfig, dim: int, max_length: int):
        super().__init__(config, dim, max_length)
        if dim % config.heads:
            raise ValueError(f"model dim {dim} is not divisible by heads {config.heads}")
        self.position = nn.Embedding(max_length, dim)
        self.input_norm = nn.LayerNorm(dim, eps=config.layer_norm_eps)
        self.input_dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(
            TransformerLayer(dim, config.heads, config.inner, config.dropout, config.attention_dropout, config.layer_norm_eps)
            for _ in range(config.layers)
        )
        self.apply(init_weights)

    def _inputs(self, items: torch.Tensor) -> torch.Tensor:
        hidden = items + self.position.weight[: items.shape[1]]  # (B, L, D)
        return self.input_dropout(self.input_norm(hidden))

    def forward(self, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        hidden = self._inputs(items)
        for layer in self.layers:
            hidden = layer(hidden)
        return hidden

    def last_states(self, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The state after each whole sequence (B, D): the last layer runs for the last position only."""
        hidden = self._inputs(items)
        for layer in self.layers[:-1]:
            hidden = layer(hidden)
        return self.layers[-1](hidden, last=lengths - 1)[:, 0]

    def sequence_modules(self):
        return (self.layers,)

    def position_modules(self):
        return (self.position,)


@hookimpl
def register_backbones(register):
    register(SASRec)
