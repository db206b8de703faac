"""Recommendations from an adapted model (``antkit.recommend``): the next items for users of its target domain.

A trained arm's folder (``RUN/TARGET/ARM/``, or one pushed to the Hub) holds the model and the recipe that made it; the recipe says where
the target domain's data is, so the items are read (and their features computed, or taken from the cache) as
the run did. A user is either one of the domain's users (their whole history, the last ``max_length`` items
of it, is the input) or an ad-hoc history of item ids, which an inductive model scores like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from antkit.data.store import prepared_domain
from antkit.errors import AntkitError, CheckpointError, DataError
from antkit.evaluation.evaluate import item_table
from antkit.features.catalogue import build_catalogue
from antkit.hub import pull
from antkit.hub_reference import PREFIX, parse_reference
from antkit.layout import RESULTS, arm_folder
from antkit.model.build import build_encoders
from antkit.model.pretrained import model_from_checkpoint
from antkit.model.saving import read_checkpoint
from antkit.plugins.manager import load_registry
from antkit.plugins.registry import Registry
from antkit.progress import Reporter
from antkit.recipe import validate_recipe
from antkit.recipe.loader import apply_overrides
from antkit.report.combine import target_arms

BATCH = 256  # inputs scored together


@dataclass
class Recommendation:
    """The top items for one input: a user of the domain (``user``) or an ad-hoc history (``user`` None)."""

    user: str | None
    history: list[str]  # the input items, oldest first (the last max_length of the user's)
    items: list[str]  # best first
    scores: list[float]  # cosine / temperature, as training and evaluation score
    texts: list[str | None] = field(default_factory=list)  # each recommended item's text, where it has one


def model_folder(model: str | Path, target: str | None = None, arm: str | None = None) -> Path:
    """The folder of the model to recommend with: ``model`` itself (an arm's folder, or an ``hf://`` reference
    to one, pulled into the cache), or in a run folder (holding results.json) the folder of arm ``arm`` on
    ``target`` (the run's only target when not given)."""
    if str(model).startswith(PREFIX) and not (arm or target):
        return pull(*parse_reference(str(model)))
    model = Path(model)
    if not (model / RESULTS).exists():
        if arm or target:
            raise AntkitError(f"{model}: not a run folder (no {RESULTS}); --arm and --target choose an arm of a run")
        return model
    target, arms = target_arms(model, target)
    if arm not in arms:
        choices = ", ".join(f"'{label}'" for label in arms)
        raise AntkitError(f"{model}: choose an arm of target '{target}' with --arm ({choices})" if arm is None
                          else f"{model}: target '{target}' has no arm '{arm}' (its arms: {choices})")
    return model / target / arm_folder(arm)


def recommend(model: str | Path, users: list[str] = (), histories: list[list[str]] = (), k: int = 10, *,
              all_users: bool = False, target: str | None = None, arm: str | None = None, exclude_history: bool = True,
              overrides: list[str] = (), cache_dir: str | Path | None = None, registry: Registry | None = None,
              reporter: Reporter | None = None) -> list[Recommendation]:
    """The ``k`` best items for each of ``users`` (ids of the target domain's users; ``all_users``: every user
    of it, in the domain's order) and each of ``histories`` (lists of item ids, oldest first), from the adapted
    model in ``model`` (see ``model_folder``).

    Items of the input are left out, as evaluation leaves them out (``exclude_history=False`` keeps them).
    ``overrides`` change the stored recipe first (``data.source.path=...`` where the data has moved).
    """
    from antkit.pipeline import cache_folder  # the pipeline imports most of antkit: only when used

    if k < 1:
        raise AntkitError(f"k {k}: give how many items to recommend, 1 or more")
    if all_users and users:
        raise AntkitError("give user ids or ask for all users, not both")
    if not (users or histories or all_users):
        raise AntkitError("give at least one user id, or a history of item ids")
    registry = registry or load_registry()
    folder = model_folder(model, target, arm)
    checkpoint = read_checkpoint(folder, registry)
    domain_name = checkpoint.config.get("domain")
    if checkpoint.config.get("stage") != "adapt" or not domain_name:
        raise CheckpointError(f"{folder}: not an adapted model (recommend with an arm's folder, RUN/TARGET/ARM, "
                              "whose model was trained on a target domain)")
    if checkpoint.recipe is None:
        raise CheckpointError(f"{folder}/recipe.json: missing; it says where the model's target domain is read from")
    data = checkpoint.recipe
    recipe = validate_recipe(data, registry, f"{folder}/recipe.json", overridden=apply_overrides(data, list(overrides)))
    cache = cache_folder(cache_dir)
    source = registry.build("data_source", recipe.data.source)
    try:
        domain = prepared_domain(source, domain_name, recipe.data.min_interactions, cache)
    except DataError as error:
        raise DataError(f"{error} (the data of {folder}/recipe.json; where it has moved, give --set "
                        "data.source.path=DIR)") from None
    n_items = checkpoint.config["n_items"]
    if "ids" in checkpoint.config["items"] and n_items != domain.n_items:
        raise CheckpointError(f"{folder}: its item-id embedding has {n_items:,} items, domain '{domain_name}' now has "
                              f"{domain.n_items:,}: the data changed since the model was trained")
    encoders = {m: e for m, e in build_encoders(recipe, registry).items() if m in checkpoint.modalities}
    catalogue, _ = build_catalogue(domain, encoders, cache, reporter)
    recommender = model_from_checkpoint(checkpoint, registry).eval()
    inputs = _user_histories(domain, list(domain.user_ids) if all_users else users)
    inputs += [(None, _item_ids(domain, history)) for history in histories]
    return _top_items(recommender, catalogue, domain, inputs, recipe.model.max_length, k, exclude_history)


def _user_histories(domain, users: list[str]) -> list[tuple[str, list[int]]]:
    """Each of ``users`` with the 1-based item ids of their whole sequence in ``domain``."""
    index = {user: row for row, user in enumerate(domain.user_ids)}
    unknown = [str(user) for user in users if str(user) not in index]
    if unknown:
        examples = ", ".join(domain.user_ids[:3])
        raise AntkitError(f"domain '{domain.name}' has no user {', '.join(map(repr, unknown[:5]))} (after its "
                          f"processing; e.g. {examples})")
    return [(str(user), domain.sequences[index[str(user)]].tolist()) for user in users]


def _item_ids(domain, history: list[str]) -> list[int]:
    """``history``'s item ids (strings) as the domain's 1-based ids; an unknown one is an error naming it."""
    if not history:
        raise AntkitError("an empty history: give one or more item ids")
    index = {item: i + 1 for i, item in enumerate(domain.item_ids)}
    unknown = [item for item in history if str(item) not in index]
    if unknown:
        raise AntkitError(f"domain '{domain.name}' has no item {', '.join(map(repr, unknown[:5]))} "
                          f"(e.g. {', '.join(domain.item_ids[:3])})")
    return [index[str(item)] for item in history]


@torch.no_grad()
def _top_items(model, catalogue, domain, inputs, max_length: int, k: int, exclude_history: bool):
    """A Recommendation for each (user, item ids) of ``inputs``, scored in batches as evaluation scores."""
    table = item_table(model, catalogue, torch.device("cpu"))
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
        scores = model.scores(model.backbone.last_states(table[padded], lengths), table[1:])  # (B, items)
        if exclude_history:
            seen = torch.zeros(len(chunk), scores.shape[1] + 1, dtype=torch.bool).scatter_(1, padded, True)
            scores.masked_fill_(seen[:, 1:], float("-inf"))
        top_scores, top = torch.topk(scores, min(k, scores.shape[1]))
        for (user, _), window, row_scores, row_items in zip(chunk, windows, top_scores.tolist(), top.tolist()):
            kept = [(score, item) for score, item in zip(row_scores, row_items) if score != float("-inf")]
            found.append(Recommendation(user, [item_ids[i - 1] for i in window], [item_ids[i] for _, i in kept],
                                        [score for score, _ in kept], [texts[i] for _, i in kept]))
    return found
