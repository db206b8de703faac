"""How fast this machine multiplies the experts' matrices at ANT's reference sizes: the floor of an adaptation step.

    python benchmarks/expert_products.py            # about 20 seconds on 2 cores

With a full softmax over the target catalogue, every adaptation step runs each modality's 8 experts over every
item: forward ``(8, items, features) @ (8, features, 256)`` and, for the weights' gradient, ``(8, features,
items) @ (8, items, 256)`` (the features are frozen, so no input gradient). At the reference sizes (5,000 items,
768-d text and 1,024-d image features, dim 256) that is about 73 GFLOP a step. This prints the rate torch's
float32 (and bfloat16) batched products reach here for exactly those shapes, and the step time and training
throughput (prefixes/s at batch 256) they would allow if nothing else took any time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

# isort: off
import antkit  # noqa: F401  (before torch: large CPU tensors in huge pages, as in training)
import torch

# isort: on

EXPERTS, ITEMS, DIM, BATCH = 8, 5_000, 256, 256
FEATURES = {"text": 768, "image": 1_024}  # the price adaptor's 64-d products are negligible


def _median_seconds(work, repeats: int) -> float:
    work()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def measure(dtype: torch.dtype, repeats: int) -> tuple[float, float]:
    """Seconds for one step's expert products (forward and weight gradient, every modality) and GFLOP/s."""
    seconds, flop = 0.0, 0.0
    for features in FEATURES.values():
        inputs = torch.randn(EXPERTS, ITEMS, features).to(dtype)
        weights = torch.randn(EXPERTS, features, DIM).to(dtype)
        gradients = torch.randn(EXPERTS, ITEMS, DIM).to(dtype)
        seconds += _median_seconds(lambda: torch.bmm(inputs, weights), repeats)
        seconds += _median_seconds(lambda: torch.bmm(inputs.transpose(1, 2), gradients), repeats)
        flop += 2 * 2 * EXPERTS * ITEMS * features * DIM
    return seconds, flop / seconds / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed repetitions of each product (the median)")
    args = parser.parse_args()
    cpuinfo = Path("/proc/cpuinfo")
    flags = set(cpuinfo.read_text().split()) if cpuinfo.exists() else set()
    matrix_units = [flag for flag in ("amx_bf16", "avx512_bf16", "avx512f") if flag in flags]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU flags: "
          f"{', '.join(matrix_units) or 'none of amx_bf16, avx512_bf16, avx512f (or not Linux)'}")
    for dtype in (torch.float32, torch.bfloat16):
        seconds, rate = measure(dtype, args.repeats)
        print(f"{str(dtype).removeprefix('torch.'):>8}: {rate:6.1f} GFLOP/s, {seconds * 1000:6.1f} ms of expert products "
              f"per step, at most {BATCH / seconds:5.0f} prefixes/s if the rest of a step took no time")


if __name__ == "__main__":
    main()
