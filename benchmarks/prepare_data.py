"""How long preparing real domains takes: read the RecBole files, process (k-core, ordering, splits' input),
and store with ``datasets``, into an empty cache (features not included: see the feature benchmarks).

    python benchmarks/prepare_data.py                       # the shared Amazon domains
    python benchmarks/prepare_data.py --path DIR --domain NAME [--domain NAME ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from antkit.data.recbole import RecBoleConfig, RecBoleSource
from antkit.data.store import prepared_domain
from antkit.data.summary import domain_summary

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=SHARED, help="folder of RecBole domains")
    parser.add_argument("--domain", action="append", help="domain name (repeatable; default: the three shared ones)")
    parser.add_argument("--k", type=int, default=5, help="k of the k-core filter")
    args = parser.parse_args()
    source = RecBoleSource(RecBoleConfig(path=args.path))
    names = args.domain or ["beauty2014", "office2014", "scientific2018"]
    total = 0.0
    with tempfile.TemporaryDirectory() as cache:
        for name in names:
            started = time.perf_counter()
            domain = prepared_domain(source, name, args.k, Path(cache))
            seconds = time.perf_counter() - started
            total += seconds
            s = domain_summary(domain)
            print(f"{name:16s} {s['users']:>7,} users {s['items']:>7,} items {s['interactions']:>8,} interactions"
                  f"  {seconds:6.2f} s  ({s['interactions'] / seconds:,.0f} interactions/s)")
    print(f"all {len(names)} domains: {total:.2f} s")


if __name__ == "__main__":
    main()
