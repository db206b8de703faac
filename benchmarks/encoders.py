"""Feature extraction speed: items/s of each encoder of the default recipe, and the default recipe's whole
feature step (every domain, empty feature cache).

    python benchmarks/encoders.py            # about a minute on 2 cores
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch

from antkit.data.store import prepared_domain
from antkit.features.catalogue import build_catalogue
from antkit.model.build import build_encoders
from antkit.plugins.manager import load_registry
from antkit.recipe import load_recipe

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "ant.yaml"


def main() -> None:
    torch.set_num_threads(torch.get_num_threads())
    registry = load_registry(entry_point_plugins=False)
    recipe = load_recipe(RECIPE, registry)
    encoders = build_encoders(recipe, registry)
    source = registry.build("data_source", recipe.data.source)
    names = recipe.data.auxiliary + recipe.data.targets
    with tempfile.TemporaryDirectory() as cache:
        domains = [prepared_domain(source, n, recipe.data.min_interactions, Path(cache)) for n in names]
        encoders["text"].encode(["warm-up"])  # model loading is not extraction speed
        started = time.perf_counter()
        steps = [step for d in domains for step in build_catalogue(d, encoders, Path(cache))[1]]
        total = time.perf_counter() - started
    print(f"default recipe ({len(names)} domains, {sum(d.n_items for d in domains):,} items), empty feature cache:")
    for modality in encoders:
        mine = [s for s in steps if s.modality == modality]
        items, seconds = sum(s.computed for s in mine), sum(s.seconds for s in mine)
        print(f"  {modality:6s} {mine[0].encoder:22s} {items:>7,} items  {seconds:6.2f} s  {items / seconds:>9,.0f} items/s")
    print(f"  feature step: {total:.1f} s")


if __name__ == "__main__":
    main()
