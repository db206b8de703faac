"""Recommendations from an adapted model (``antkit.recommend``): the next items for users of its target domain.

A user is either one of the domain's users (their whole history, the last ``max_length`` items of it, is the
input) or an ad-hoc history of item ids, which an inductive model scores like any other. The model and its
domain come from ``antkit.adapted.load_adapted``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from antkit.adapted import load_adapted
from antkit.errors import AntkitError
from antkit.evaluation.evaluate import item_table
from antkit.evaluation.metrics import input_items
from antkit.plugins.registry import Registry
from antkit.progress import Reporter

BATCH = 256  # inputs scored together


@dataclass
class Recommendation:
    """The top items for one input: a user of the domain (``user``) or an ad-hoc history (``user`` None)."""

    user: str | None
    history: list[str]  # the input items, oldest first (the last max_length of the user's)
    items: list[str]  # best first
    scores: list[float]  # cosine / temperature, as training and evaluation score
    texts: list[str | None] = field(default_factory=list)  # each recommended item's text, where it has one


def recommend(model: str | Path, users: list[str] = (), histories: list[list[str]] = (), k: int = 10, *,
              all_users: bool = False, target: str | None = None, arm: str | None = None, exclude_history: bool = True,
              overrides: list[str] = (), cache_dir: str | Path | None = None, registry: Registry | None = None,
              reporter: Reporter | None = None) -> list[Recommendation]:
    """The ``k`` best items for each of ``users`` (ids of the target domain's users; ``all_users``: every user
    of it, in the domain's order) and each of ``histories`` (lists of item ids, oldest first), from the adapted
    model in ``model`` (see ``antkit.adapted.model_folder``).

    Items of the input are left out, as evaluation leaves them out (``exclude_history=False`` keeps them).
    ``overrides`` change the stored recipe first (``data.source.path=...`` where the data has moved).
    """
    if k < 1:
        raise AntkitError(f"k {k}: give how many items to recommend, 1 or more")
    if all_users and users:
        raise AntkitError("give user ids or ask for all users, not both")
    if not (users or histories or all_users):
        raise AntkitError("give at least one user id, or a history of item ids")
    users = [users] if isinstance(users, str) else users  # one user id given on its own
    adapted = load_adapted(model, target=target, arm=arm, overrides=overrides, cache_dir=cache_dir,
                           registry=registry, reporter=reporter)
    domain = adapted.domain
    inputs = _user_histories(domain, list(domain.user_ids) if all_users else users)
    items = {item: row + 1 for row, item in enumerate(domain.item_ids)}
    inputs += [(None, _item_ids(domain.name, items, history)) for history in histories]
    return _top_items(adapted, inputs, k, exclude_history)


def _user_histories(domain, users: list[str]) -> list[tuple[str, list[int]]]:
    """Each of ``users`` with the 1-based item ids of their whole sequence in ``domain``."""
    index = {user: row for row, user in enumerate(domain.user_ids)}
    unknown = [str(user) for user in users if str(user) not in index]
    if unknown:
        examples = ", ".join(domain.user_ids[:3])
        raise AntkitError(f"domain '{domain.name}' has no user {', '.join(map(repr, unknown[:5]))} (after its "
                          f"processing; e.g. {examples})")
    return [(str(user), domain.sequences[index[str(user)]].tolist()) for user in users]


def _item_ids(domain: str, items: dict[str, int], history: list[str]) -> list[int]:
    """``history``'s item ids (strings) as ``domain``'s 1-based ids (``items``); an unknown one is an error
    naming it."""
    if not history:
        raise AntkitError("an empty history: give one or more item ids")
    unknown = [item for item in history if str(item) not in items]
    if unknown:
        raise AntkitError(f"domain '{domain}' has no item {', '.join(map(repr, unknown[:5]))} "
                          f"(e.g. {', '.join(list(items)[:3])})")
    return [items[str(item)] for item in history]


@torch.no_grad()
def _top_items(adapted, inputs, k: int, exclude_history: bool) -> list[Recommendation]:
    """A Recommendation for each (user, item ids) of ``inputs``, scored in batches as evaluation scores."""
    model, domain, device, max_length = adapted.model, adapted.domain, adapted.device, adapted.recipe.model.max_length
    table = item_table(model, adapted.catalogue, device)
    item_ids = list(domain.item_ids)  # plain lists: a datasets column reads one value at a time slowly
    texts = list(domain.content.get("text") or [None] * len(item_ids))
    found = []
    for start in range(0, len(inputs), BATCH):
        chunk = inputs[start : start + BATCH]
        windows = [ids[-max_length:] for _, ids in chunk]
        lengths = torch.tensor([len(window) for window in windows])
        padded = torch.zeros(len(chunk), int(lengths.max()), dtype=torch.long)  # left-aligned, 0 = padding
        for row, window in enumerate(windows):
            padded[row, : len(window)] = torch.tensor(window)
        padded, lengths = padded.to(device), lengths.to(device)
        scores = model.scores(model.backbone.last_states(table[padded], lengths), table[1:])  # (B, items)
        if exclude_history:
            scores.masked_fill_(input_items(padded, scores.shape[1]), float("-inf"))
        top_scores, top = torch.topk(scores, min(k, scores.shape[1]))
        for (user, _), window, row_scores, row_items in zip(chunk, windows, top_scores.tolist(), top.tolist()):
            kept = [(score, item) for score, item in zip(row_scores, row_items) if score != float("-inf")]
            found.append(Recommendation(user, [item_ids[i - 1] for i in window], [item_ids[i] for _, i in kept],
                                        [score for score, _ in kept], [texts[i] for _, i in kept]))
    return found
