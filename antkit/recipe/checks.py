"""Checks that involve several recipe fields at once, each reported at the field to change."""

from __future__ import annotations

import re

from pydantic import BaseModel

from antkit.plugins.registry import Registry
from antkit.recipe.yaml_source import Location

Problem = tuple[Location, str]


def arm_folder(label: str) -> str:
    """The folder an arm's files go to, under the target domain's folder."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "arm"


def cross_checks(recipe: BaseModel, registry: Registry) -> list[Problem]:
    """Problems of a recipe whose fields are each valid on their own."""
    problems: list[Problem] = []
    labels = [arm.label for arm in recipe.arms]
    folders = [arm_folder(label) for label in labels]
    for index, label in enumerate(labels):
        if label in labels[:index]:
            problems.append((("arms", index, "label"), f"arm label '{label}' is used twice; labels must be unique"))
        elif folders[index] in folders[:index]:
            other = labels[folders.index(folders[index])]
            problems.append((("arms", index, "label"), f"arm labels '{other}' and '{label}' would share the output "
                             f"folder '{folders[index]}'; make them differ in letters or digits"))
    for index, arm in enumerate(recipe.arms):
        uses_pretrained = registry.get("strategy", arm.strategy.name).uses_pretrained
        if uses_pretrained and arm.items == "ids":
            problems.append((("arms", index, "items"), f"strategy '{arm.strategy.name}' transfers the content item "
                             "side, so items must be 'content' or 'content+ids', not 'ids'"))
        if uses_pretrained and not recipe.data.auxiliary:
            problems.append((("data", "auxiliary"), f"arm '{arm.label}' ({arm.strategy.name}) needs pre-training, "
                             "so give at least one auxiliary domain"))
    configured = recipe.model.modalities.configured()
    for index, arm in enumerate(recipe.arms):
        for modality in dict.fromkeys(arm.modalities or []):
            if modality not in configured:
                problems.append((("arms", index, "modalities"), f"'{modality}' is not one of the model's modalities "
                                 f"({', '.join(configured)}); configure it under model.modalities"))
        if arm.modalities and arm.items == "ids":
            problems.append((("arms", index, "modalities"), "an ID-only arm ('items: ids') uses no modalities"))
    for domain in sorted(set(recipe.data.auxiliary) & set(recipe.data.targets)):
        problems.append((("data", "targets"), f"'{domain}' is also an auxiliary domain; a target must be unseen"))
    for k in (10, 50):
        if k not in recipe.evaluation.ks:
            problems.append((("evaluation", "ks"), f"must include {k} (the report's Recall@{k} and NDCG@{k})"))
    try:
        registry.build("backbone", recipe.model.backbone, recipe.model.dim, recipe.model.max_length)
    except (ValueError, TypeError) as error:
        problems.append((("model", "backbone"), str(error)))
    return list(dict.fromkeys(problems))
