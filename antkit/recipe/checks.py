"""Checks that involve several recipe fields at once, each reported at the field to change."""

from __future__ import annotations

from typing import NamedTuple

import torch
from pydantic import BaseModel

from antkit.layout import arm_folder
from antkit.plugins.registry import Registry
from antkit.recipe.yaml_source import Location


class Problem(NamedTuple):
    """What is wrong at ``location`` (the field to change); ``involves``: the other fields the check read."""

    location: Location
    message: str
    involves: tuple[Location, ...] = ()


def cross_checks(recipe: BaseModel, registry: Registry) -> list[Problem]:
    """Problems of a recipe whose fields are each valid on their own."""
    problems: list[Problem] = []
    labels = [arm.label for arm in recipe.arms]
    folders = [arm_folder(label) for label in labels]
    for index, label in enumerate(labels):
        same_label, same_folder = labels.index(label), folders.index(folders[index])
        if folders[index] in (".", ".."):
            problems.append(Problem(("arms", index, "label"), f"arm label '{label}' cannot be a folder name "
                                    f"('{folders[index]}' is not a folder of its own); use letters or digits"))
        elif same_label < index:
            problems.append(Problem(("arms", index, "label"), f"arm label '{label}' is used twice; labels must be "
                                    "unique", (("arms", same_label, "label"),)))
        elif same_folder < index:
            problems.append(Problem(("arms", index, "label"), f"arm labels '{labels[same_folder]}' and '{label}' "
                                    f"would share the output folder '{folders[index]}'; make them differ in letters "
                                    "or digits", (("arms", same_folder, "label"),)))
    transfers = [registry.get("strategy", arm.strategy.name).uses_pretrained for arm in recipe.arms]
    for index, (arm, uses_pretrained) in enumerate(zip(recipe.arms, transfers)):
        strategy = (("arms", index, "strategy"),)
        if uses_pretrained and arm.items == "ids":
            problems.append(Problem(("arms", index, "items"), f"strategy '{arm.strategy.name}' transfers the "
                                    "content item side, so items must be 'content' or 'content+ids', not 'ids'",
                                    strategy))
        if uses_pretrained and not recipe.data.auxiliary and not recipe.pretrained:
            problems.append(Problem(("data", "auxiliary"), f"arm '{arm.label}' ({arm.strategy.name}) needs "
                                    "pre-training, so give at least one auxiliary domain (or a pre-trained "
                                    "checkpoint: pretrained)", strategy))
    if recipe.pretrained and not any(transfers):
        problems.append(Problem(("pretrained",), "no arm starts from a pre-trained model (every arm's strategy "
                                "trains from scratch); remove pretrained, or add a relearn or finetune arm",
                                (("arms",),)))
    configured = recipe.model.modalities.configured()
    for index, arm in enumerate(recipe.arms):
        for modality in dict.fromkeys(arm.modalities or []):
            if modality not in configured:
                problems.append(Problem(("arms", index, "modalities"), f"'{modality}' is not one of the model's "
                                        f"modalities ({', '.join(configured)}); configure it under model.modalities",
                                        (("model", "modalities"),)))
        used = arm.modality_set(configured)
        for modality in getattr(arm.strategy, "keep_adaptors", ()):  # relearn's partial re-learning
            if modality not in used:
                problems.append(Problem(("arms", index, "strategy", "keep_adaptors"), f"'{modality}' is not among "
                                        f"the modalities this arm uses ({', '.join(used)}), so it has no adaptor "
                                        "to keep", (("model", "modalities"), ("arms", index, "modalities"))))
        if arm.modalities and arm.items == "ids":
            problems.append(Problem(("arms", index, "modalities"), "an ID-only arm ('items: ids') uses no "
                                    "modalities", (("arms", index, "items"),)))
    for domain in sorted(set(recipe.data.auxiliary) & set(recipe.data.targets)):
        problems.append(Problem(("data", "targets"), f"'{domain}' is also an auxiliary domain; a target must be "
                                "unseen", (("data", "auxiliary"),)))
    for k in (10, 50):
        if k not in recipe.evaluation.ks:
            problems.append(Problem(("evaluation", "ks"), f"must include {k} (the report's Recall@{k} and NDCG@{k})"))
    try:
        with torch.device("meta"):  # checks the settings without allocating the weights (gigabytes for big ones)
            registry.build("backbone", recipe.model.backbone, recipe.model.dim, recipe.model.max_length)
    except (ValueError, TypeError) as error:
        problems.append(Problem(("model", "backbone"), str(error), (("model", "dim"), ("model", "max_length"))))
    return list(dict.fromkeys(problems))
