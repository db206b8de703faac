"""The sequential recommender: item side (content tower and/or item-id embedding) + sequence backbone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from antkit.components.base import Backbone
from antkit.data.catalogue import Catalogue
from antkit.errors import CheckpointError
from antkit.model.init import STD
from antkit.model.item_tower import ItemTower
from antkit.model.losses import cosine_scores, full_softmax_loss, image_text_loss, in_batch_loss

Objective = Literal["full", "in_batch"]


def gather_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index]`` for a (N, D) table and an index of any shape, through ``index_select``: its backward
    adds the rows' gradients with ``index_add_``, in a fixed order on a CPU, where the backward of advanced
    indexing (``index_put_`` with accumulation, an item repeated across positions) sums them in an order that
    varies from run to run, so that two runs of one recipe drifted apart."""
    return table.index_select(0, index.reshape(-1)).view(*index.shape, table.shape[-1])


@dataclass
class Batch:
    """Left-aligned sequences (B, L) with a target (item id, 0 = none) at each position that has one."""

    inputs: torch.Tensor
    targets: torch.Tensor
    lengths: torch.Tensor

    def to(self, device) -> "Batch":
        return Batch(self.inputs.to(device), self.targets.to(device), self.lengths.to(device))


class SequentialRecommender(nn.Module):
    """Scores next items by cosine(user state, item vector) / temperature.

    Items are represented by ``item_tower`` (content: inductive), by an item-id embedding of ``id_items`` rows
    (ID-only SASRec), or by their sum (transductive).
    """

    def __init__(self, backbone: Backbone, item_tower: ItemTower | None, id_items: int = 0, temperature: float = 0.07):
        super().__init__()
        if item_tower is None and not id_items:
            raise ValueError("a recommender needs item content, item ids, or both")
        self.backbone = backbone
        self.item_tower = item_tower
        self.item_ids = nn.Embedding(id_items + 1, backbone.dim, padding_idx=0) if id_items else None
        self.temperature = temperature
        if self.item_ids is not None:
            nn.init.normal_(self.item_ids.weight, std=STD)
            with torch.no_grad():
                self.item_ids.weight[0].zero_()

    def item_vectors(self, catalogue: Catalogue, ids: torch.Tensor | slice) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Vectors (N, D) of items ``ids`` (0 is the padding item: a zero vector), and the adapted vector of
        each modality."""
        vectors, adapted = None, {}
        if self.item_tower is not None:
            vectors, adapted = self.item_tower(catalogue.rows(ids))
        if self.item_ids is not None:
            embedded = self.item_ids.weight[ids]
            vectors = embedded if vectors is None else vectors + embedded
        return vectors, adapted

    def item_table(self, catalogue: Catalogue) -> torch.Tensor:
        """Vectors of every item (n+1, D), row 0 the zero padding vector; each item computed once."""
        vectors, _ = self.item_vectors(catalogue, slice(1, None))
        return torch.cat([vectors.new_zeros(1, vectors.shape[1]), vectors])

    def user_states(self, item_vectors: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, L, D) item vectors -> (B, L, D) user state after each prefix."""
        return self.backbone(item_vectors, lengths)

    def target_states(self, item_vectors: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The user states (T, D) at the batch's positions that have a target, and those targets (T,).

        A row whose only target follows its last input (a window over a history longer than the model's inputs,
        which the reference runs as a padded sequence of its own) needs the state after its last position only:
        those rows take the backbone's ``last_states``, which may skip work for the other positions.
        """
        has_target = batch.targets > 0
        rows = torch.arange(len(batch.lengths), device=batch.lengths.device)
        last_only = (has_target.sum(1) == 1) & has_target[rows, batch.lengths - 1]
        if not bool(last_only.any()):
            return self.user_states(item_vectors, batch.lengths)[has_target], batch.targets[has_target]
        parts = []
        whole = ~last_only
        if bool(whole.any()):
            lengths = batch.lengths[whole]
            span = int(lengths.max())
            states = self.user_states(item_vectors[whole, :span], lengths)
            targets = batch.targets[whole, :span]
            parts.append((states[targets > 0], targets[targets > 0]))
        lengths = batch.lengths[last_only]
        span = int(lengths.max())
        states = self.backbone.last_states(item_vectors[last_only, :span], lengths)
        parts.append((states, batch.targets[rows[last_only], lengths - 1]))
        return torch.cat([state for state, _ in parts]), torch.cat([target for _, target in parts])

    def scores(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return cosine_scores(users, items, self.temperature)

    def forward(self, batch: Batch, catalogue: Catalogue, objective: Objective, image_text_weight: float = 0.0):
        """Training loss of ``batch``: ``full`` softmax over the whole catalogue (target domain), or ``in_batch``
        softmax plus ``image_text_weight`` x image-text loss (pre-training)."""
        if objective == "full":
            table = self.item_table(catalogue)
            states, targets = self.target_states(gather_rows(table, batch.inputs), batch)
            return full_softmax_loss(states, targets, table, self.temperature)

        needed = torch.unique(torch.cat([batch.inputs.flatten(), batch.targets.flatten()]))  # sorted ids
        vectors, adapted = self.item_vectors(catalogue, needed)
        states, targets = self.target_states(gather_rows(vectors, torch.searchsorted(needed, batch.inputs)), batch)
        distinct, target_index = torch.unique(torch.searchsorted(needed, targets), return_inverse=True)
        loss = in_batch_loss(states, target_index, vectors[distinct], self.temperature)
        if image_text_weight and "image" in adapted and "text" in adapted:
            ids = needed[distinct]
            loss = loss + image_text_weight * image_text_loss(
                adapted["image"][distinct], adapted["text"][distinct],
                catalogue.present["image"][ids], catalogue.present["text"][ids], self.temperature,
            )
        return loss

    def load_pretrained(self, state: dict[str, torch.Tensor]) -> None:
        """Load a pre-trained state strictly; only a target-specific item-id embedding may be missing."""
        self.load_checked(state, "the pre-trained weights", may_miss="item_ids.")

    def load_checked(self, state: dict[str, torch.Tensor], source: str, may_miss: str | None = None) -> None:
        """Load ``state`` (named ``source`` in errors): a missing tensor (other than those whose names start with
        ``may_miss``), an unexpected one or a wrong shape is a CheckpointError naming them."""
        own = self.state_dict()
        missing = sorted(k for k in set(own) - set(state) if not (may_miss and k.startswith(may_miss)))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise CheckpointError(f"{source} do not fit the model: " + "; ".join(filter(None, [
                missing and f"missing tensors {', '.join(missing)}",
                unexpected and f"unexpected tensors {', '.join(unexpected)}"])))
        for key, tensor in state.items():
            if own[key].shape != tensor.shape:
                raise CheckpointError(f"{source}: tensor '{key}' has shape {tuple(tensor.shape)}, "
                                      f"the model expects {tuple(own[key].shape)}")
        self.load_state_dict(state, strict=False)
