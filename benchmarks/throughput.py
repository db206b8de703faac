"""Training and evaluation throughput, and peak memory, of antkit's ANT model.

    python benchmarks/throughput.py                 # every setting (a few minutes on 2 cores)
    python benchmarks/throughput.py --only reference-independent --steps 5
    python benchmarks/throughput.py --device cuda   # on a GPU: adds the peak GPU memory
    python benchmarks/throughput.py --only reference-independent --steps 20 --repeat 9   # median and range

Settings:
- ``default``: the default recipe (recipes/ant.yaml) on its built-in data (features from the cache, computed
  on first use).
- ``reference-*``: ANT's reference sizes: 5,000 target items, 768-d text, 1,024-d image and 64-d price
  features, dim 256, 8 experts per modality, 2 layers, batch 256 prefixes, inputs up to 50 items. Users'
  lengths are drawn as 5 + Geometric(1/5) (mean about 10, inputs about 9: like the Amazon domains) or all
  longer than 50 (``-long``: every input is 50 items, the reference's padded shape). ``independent`` draws a dropout mask
  per expert (the reference's mathematics), ``shared`` one mask per item (``dropout_masks: shared``);
  ``-bf16`` runs the experts' matrix products in bfloat16 (``precision: bfloat16``).

Training throughput counts every prefix as one sequence, as the reference does. Evaluation throughput
includes computing the item table (the median of three passes). Each setting runs in its own process, whose
peak resident memory is reported (and, on a GPU, the peak memory torch allocated there). Figures quoted for
the reference code are those measured on this machine class in issue #2.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REFERENCE = {"train": 48.0, "eval": 185.0}  # the authors' code, 2 cores, batch 256, 5,000 items
ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("default", "reference-independent", "reference-shared", "reference-independent-long",
            "reference-independent-bf16")


def _reference_problem(dropout_masks: str, long: bool, precision: str, seed: int = 0):
    import numpy as np
    import torch
    import yaml

    from antkit.data.catalogue import Catalogue
    from antkit.plugins.manager import load_registry
    from antkit.recipe import validate_recipe

    registry = load_registry(entry_point_plugins=False)
    data = yaml.safe_load((ROOT / "recipes" / "ant.yaml").read_text())
    for modality in ("text", "image"):
        data["model"]["modalities"][modality]["adaptor"]["dropout_masks"] = dropout_masks
        data["model"]["modalities"][modality]["adaptor"]["precision"] = precision
    recipe = validate_recipe(data, registry)
    generator = torch.Generator().manual_seed(seed)
    dims = {"text": 768, "image": 1024, "price": 64}

    def catalogue(n):
        features = {m: torch.randn(n + 1, d, generator=generator) for m, d in dims.items()}
        present = {m: torch.arange(n + 1) > 0 for m in dims}
        for m in dims:
            features[m][0] = 0
        return Catalogue(features, present)

    rng = np.random.default_rng(seed)
    lengths = (rng.integers(53, 80, size=1500) if long else np.minimum(5 + rng.geometric(0.2, size=4000), 120))
    sequences = [rng.integers(1, 5001, size=int(n)) for n in lengths]
    return recipe, registry, catalogue(5000), catalogue(15000), sequences


def _synchronize(device) -> None:
    """Wait for queued GPU work, so that a timer measures it."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _train_rate(model, objective, catalogue, segments, batch_size, steps, device, image_text_weight=0.0):
    import numpy as np
    import torch

    from antkit.data.splits import collate, pack_batches

    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    batches = pack_batches(segments, batch_size, np.random.default_rng(1))
    model.train()
    prefixes, elapsed = 0, 0.0
    for step, indices in enumerate(batches[: steps + 2]):
        batch = collate(segments, indices).to(device)
        _synchronize(device)
        started = time.perf_counter()
        loss = model(batch, catalogue, objective, image_text_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        _synchronize(device)
        if step >= 2:  # two warm-up steps
            elapsed += time.perf_counter() - started
            prefixes += int((batch.targets > 0).sum())
    return prefixes / elapsed


def _eval_rate(model, catalogue, cases, batch_size, device):
    from antkit.evaluation.evaluate import evaluate
    from antkit.training.distributed import Context

    context = Context(device=device)
    evaluate(model, catalogue, cases, batch_size=batch_size, context=context)  # warm-up
    rates = []
    for _ in range(3):  # the median of three passes: one pass is short enough for a busy moment to skew it
        _synchronize(device)
        started = time.perf_counter()
        evaluate(model, catalogue, cases, batch_size=batch_size, context=context)
        _synchronize(device)
        rates.append(len(cases) / (time.perf_counter() - started))
    return sorted(rates)[1]


def measure(setting: str, steps: int, device_name: str) -> dict:
    import torch

    from antkit.data.splits import evaluation_set, joint_segments, training_segments
    from antkit.model.build import build_model

    torch.manual_seed(0)
    device = torch.device(device_name)
    if setting == "default":
        from antkit.data.catalogue import Catalogue
        from antkit.pipeline import Run, default_cache_dir
        from antkit.plugins.manager import load_registry
        from antkit.progress import Reporter
        from antkit.recipe import load_recipe
        from antkit.training.distributed import Context

        registry = load_registry(entry_point_plugins=False)
        recipe = load_recipe(ROOT / "recipes" / "ant.yaml", registry)
        run = Run(recipe, registry, Path("/nonexistent"), default_cache_dir(), Reporter(), Context())
        run.prepare_data()
        auxiliary, offsets = Catalogue.concat([run.catalogues[n] for n in recipe.data.auxiliary])
        pre_segments = joint_segments([run.domains[n].sequences for n in recipe.data.auxiliary],
                                      recipe.model.max_length, offsets)
        target_name = recipe.data.targets[0]
        target, sequences = run.catalogues[target_name], run.domains[target_name].sequences
        pre_batch, batch, eval_batch = recipe.pretrain.batch_size, recipe.adapt.batch_size, recipe.evaluation.batch_size
    else:
        recipe, registry, target, auxiliary, sequences = _reference_problem(
            "shared" if "shared" in setting else "independent", setting.endswith("long"),
            "bfloat16" if setting.endswith("bf16") else "float32")
        # three auxiliary domains of 5,000 items each, with the same users' shapes
        pre_segments = joint_segments([sequences] * 3, recipe.model.max_length, [0, 5000, 10000])
        pre_batch = batch = eval_batch = 256
    segments = training_segments(sequences, recipe.model.max_length)
    pretrain_model = build_model(recipe, registry, auxiliary.dims).to(device)
    pretrain = _train_rate(pretrain_model, "in_batch", auxiliary.to(device), pre_segments, pre_batch, steps, device,
                           recipe.pretrain.image_text_weight)
    del pretrain_model
    model = build_model(recipe, registry, target.dims).to(device)
    target = target.to(device)
    adapt = _train_rate(model, "full", target, segments, batch, steps, device)
    cases = evaluation_set(sequences, "test", recipe.model.max_length)
    evaluation = _eval_rate(model, target, cases, eval_batch, device)
    return {
        "setting": setting, "items": target.n_items, "dims": target.dims, "pretrain_batch": pre_batch,
        "batch": batch, "pretrain_prefixes_per_s": pretrain, "adapt_prefixes_per_s": adapt,
        "eval_users_per_s": evaluation, "eval_users": len(cases),
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "peak_gpu_gib": torch.cuda.max_memory_allocated(device) / 1024**3 if device.type == "cuda" else None,
        "torch_threads": torch.get_num_threads(), "device": str(device),
    }


def main() -> None:
    import antkit  # noqa: F401  (before torch: sets torch's huge-page switch, as for every antkit user)

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=SETTINGS, action="append", help="run only these settings")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per measurement")
    parser.add_argument("--device", default="cpu", help="'cpu' (default), 'cuda', 'cuda:1', ...")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each setting, interleaved, each in its own process: the table shows the median "
                        "and, in brackets, the range (this machine varies from minute to minute)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.steps, args.device)))
        return

    from rich.console import Console
    from rich.table import Table

    on_gpu = args.device.startswith("cuda")
    table = Table(title=f"antkit throughput ({args.device} float32; prefixes = training sequences as the reference "
                  "counts them)")
    columns = ["setting", "items", "feature dims", "pretrain prefixes/s", "adapt prefixes/s", "x ref",
               "eval users/s", "x ref", "peak RSS GiB"] + (["peak GPU GiB"] if on_gpu else [])
    for column in columns:
        table.add_column(column, justify="right" if column not in ("setting", "feature dims") else "left",
                         no_wrap=True)
    settings = args.only or SETTINGS
    runs: dict[str, list[dict]] = {setting: [] for setting in settings}
    for _ in range(max(1, args.repeat)):
        for setting in settings:
            output = subprocess.run([sys.executable, __file__, "--worker", setting, "--steps", str(args.steps),
                                     "--device", args.device], capture_output=True, text=True, check=True).stdout
            runs[setting].append(json.loads(output.strip().splitlines()[-1]))
            print(json.dumps(runs[setting][-1]), flush=True)
    for setting, results in runs.items():
        r = results[0]
        reference = setting != "default"

        def figure(key: str, scale: float = 1.0, digits: int = 0) -> str:
            values = sorted(result[key] / scale for result in results)
            median = statistics.median(values)
            spread = f" ({values[0]:.{digits}f}-{values[-1]:.{digits}f})" if len(values) > 1 else ""
            return f"{median:.{digits}f}{spread}"

        table.add_row(setting, str(r["items"]), "/".join(str(d) for d in r["dims"].values()),
                      figure("pretrain_prefixes_per_s"), figure("adapt_prefixes_per_s"),
                      figure("adapt_prefixes_per_s", REFERENCE["train"], 1) if reference else "",
                      figure("eval_users_per_s"),
                      figure("eval_users_per_s", REFERENCE["eval"], 1) if reference else "",
                      figure("peak_rss_gib", digits=2), *([figure("peak_gpu_gib", digits=2)] if on_gpu else []))
    Console(width=200).print(table)
    print(f"reference code (issue #2): {REFERENCE['train']:.0f} training sequences/s, {REFERENCE['eval']:.0f} "
          "evaluation users/s, 4.2 GB peak, batch 256, 5,000 items")


if __name__ == "__main__":
    main()
