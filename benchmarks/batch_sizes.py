"""How full a recipe's training batches are: for its pre-training and each target, over every epoch it allows,
how many batches hold under half of ``batch_size`` prefixes, how many under 5%, and the smallest and largest.

    python benchmarks/batch_sizes.py recipes/amazon/office2014.yaml [--set seed=1]
    python benchmarks/batch_sizes.py recipes/amazon/office2014.yaml --packing-from f691b4e   # another commit's packing

``--packing-from COMMIT`` packs with ``pack_batches`` as it was at that git commit (read with ``git show``),
the data prepared as today.
"""

from __future__ import annotations

import argparse
import subprocess
import types
from pathlib import Path

import numpy as np

from antkit.data import splits
from antkit.data.store import prepared_domain
from antkit.pipeline import cache_folder
from antkit.plugins.manager import load_registry
from antkit.recipe import load_recipe

REPOSITORY = Path(__file__).resolve().parents[1]


def packing_at(commit: str):
    """``pack_batches`` as of ``commit``."""
    source = subprocess.run(["git", "-C", str(REPOSITORY), "show", f"{commit}:antkit/data/splits.py"],
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("splits_at_commit")
    exec(compile(source, f"{commit}:antkit/data/splits.py", "exec"), module.__dict__)
    return module.pack_batches


def describe(name: str, segments: list, batch_size: int, epochs: int, seed: int, pack) -> str:
    counts = np.array([int((targets > 0).sum()) for _, targets in segments])
    sizes = np.array([counts[batch].sum() for epoch in range(epochs)
                      for batch in pack(segments, batch_size, splits.epoch_order(seed, epoch))])
    return (f"{name:16s} {len(segments):>7,} segments  batch_size {batch_size:>5}  {epochs:>3} epochs  "
            f"{len(sizes):>6,} batches: {(sizes < batch_size / 2).sum():>4} under half, "
            f"{(sizes < batch_size / 20).sum():>4} under 5%, smallest {sizes.min():>5}, largest {sizes.max():>5}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", type=Path)
    parser.add_argument("--set", action="append", default=[], dest="overrides", help="FIELD=VALUE, as antkit run")
    parser.add_argument("--packing-from", metavar="COMMIT", help="pack as pack_batches did at this git commit")
    args = parser.parse_args()
    registry = load_registry()
    recipe = load_recipe(args.recipe, registry, args.overrides)
    source = registry.build("data_source", recipe.data.source)
    names = [*recipe.data.auxiliary, *recipe.data.targets]
    domains = {n: prepared_domain(source, n, recipe.data.min_interactions, cache_folder()) for n in names}
    pack = packing_at(args.packing_from) if args.packing_from else splits.pack_batches
    length = recipe.model.max_length
    if recipe.data.auxiliary:
        auxiliary = recipe.data.auxiliary
        segments = splits.joint_segments([domains[n].sequences for n in auxiliary], length, [0] * len(auxiliary))
        print(describe("pre-training", segments, recipe.pretrain.batch_size, recipe.pretrain.epochs, recipe.seed, pack))
    for target in recipe.data.targets:
        segments = splits.training_segments(domains[target].sequences, length)
        print(describe(target, segments, recipe.adapt.batch_size, recipe.adapt.epochs, recipe.seed, pack))


if __name__ == "__main__":
    main()
