"""Ad screening benchmarks (issue 16): ads per second and clustering time, each beside a named
baseline measured in the same run.

    python benchmarks/ads_bench.py                    # 20,000 ads, clustering of 100,000
    python benchmarks/ads_bench.py --ads 5000 --cluster 20000   # smaller, while developing

Figures:
1. indicators (normalise + extract + R01-R12) ads/s, beside a plain regex scan of the same texts
   (one phone/URL/e-mail pattern, the least any screener does);
2. the default model (TF-IDF + indicators, calibrated) ads/s on masked text, beside the
   scikit-learn vectoriser alone (TfidfVectorizer.transform of the same texts);
3. the default path (indicators + model) on one process and on the worker processes that
   ``ctip ads screen`` uses; target >= 2,000 ads/s on 2 cores;
4. ``ctip ads screen`` itself on a CSV (read, analyse, seal, store, cluster, queue), ads/s;
5. clustering N ads (MinHash LSH + identifiers + components, as ``recluster`` runs it), seconds,
   beside identifier union alone; target: 100,000 ads < 60 s;
6. sentence embeddings ads/s (when the extra is installed), beside the TF-IDF model.

The ads are synthetic (``ctip.ads.synthetic``), of EMSCAD-like length (~2,000 characters): speed
figures only, never accuracy. The machine is shared: the ratio to the baseline is what counts.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from ctip.ads.classify import fit
from ctip.ads.cluster import Posting, cluster, signature
from ctip.ads.pipeline import analyse
from ctip.ads.synthetic import generate, rows
from ctip.services.ads_prepare import default_workers, prepared

NAIVE = re.compile(r"\+?\d[\d \-.]{7,16}\d|https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+|t\.me/\w+")


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} / {os.cpu_count()} cores"


def _rate(n: int, seconds: float, cpu: float | None = None) -> str:
    """Ads per wall-clock second, and per CPU second of this process where given (on a busy
    machine the CPU figure is close to what an idle core does; the wall figure is not)."""
    text = f"{n / seconds:,.0f} ads/s"
    if cpu:
        text += f", {n / cpu:,.0f} per CPU s"
    return text


class ProcessCpu:
    """CPU seconds of this process and of every process it starts. The screening workers run
    under a forkserver, so they are grandchildren: the fork server reaps each worker it forked,
    and its ``children_user``/``children_system`` then hold that worker's whole CPU time. So
    the figure is this process's own time plus, for each direct child, its own time and its
    reaped children's, read at the start and at the end (no sampling thread: polling every
    process of the machine cost this process CPU time in proportion to the wall time). The
    machine is shared: CPU time does not count the others' load."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.start_own, self.start_children = self._own(self.me), self._children()

    @staticmethod
    def _own(p: psutil.Process) -> float:
        t = p.cpu_times()
        return t.user + t.system

    def _children(self) -> dict[int, float]:
        out = {}
        for child in self.me.children():
            with contextlib.suppress(psutil.Error):  # it ended between the two calls
                t = child.cpu_times()
                out[child.pid] = t.user + t.system + t.children_user + t.children_system
        return out

    def stop(self) -> float:
        """CPU seconds since creation; call once the pool has shut down (its workers joined,
        hence reaped by the fork server). A direct child that ended in between is not
        counted (the fork server and the resource tracker live as long as this process)."""
        children = sum(cpu - self.start_children.get(pid, 0.0)
                       for pid, cpu in self._children().items())
        return self._own(self.me) - self.start_own + children


class Timer:
    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def speed(n: int) -> None:
    ads = list(generate(n, seed=7, body_sentences=(25, 40)))
    texts = [" ".join(a.sections.values()) for a in ads]
    chars = sum(map(len, texts)) / len(texts)
    print(f"{n} ads, {chars:,.0f} characters on average; {_load()}")

    with Timer() as naive:
        found = sum(len(NAIVE.findall(t)) for t in texts)
    with Timer() as ours:
        analyses = [analyse(a) for a in ads]
    print(f"1 indicators R01-R12: {_rate(n, ours.wall, ours.cpu)}; baseline plain regex scan "
          f"{_rate(n, naive.wall, naive.cpu)} ({found} matches); "
          f"ratio {ours.cpu / naive.cpu:.1f}x the baseline's CPU time")

    masked = [a.masked() for a in analyses]
    codes = [{h.code for h in a.hits} for a in analyses]
    labels = [a.label or 0 for a in ads]
    model = fit(masked, codes, labels)
    with Timer() as vec:
        model.vectoriser.transform(masked)
    with Timer() as pred:
        model.predict(masked, codes)
    print(f"2 TF-IDF model (calibrated): {_rate(n, pred.wall, pred.cpu)}; baseline vectoriser "
          f"alone {_rate(n, vec.wall, vec.cpu)}; ratio {pred.cpu / vec.cpu:.2f}x")

    for workers in sorted({1, default_workers()}):
        sampler = ProcessCpu()
        with Timer() as both:
            done = sum(len(b.ads) for b in prepared(iter(ads), model, workers=workers))
        cpu = sampler.stop()  # this process and its workers (pool start-up included)
        print(f"3 indicators + model, {workers} process{'es' if workers > 1 else ''}: "
              f"{_rate(done, both.wall, cpu)} (all processes); "
              f"{done / cpu * 2:,.0f} ads/s if that CPU time ran on 2 idle cores; "
              f"target >= 2,000 ads/s on 2 cores "
              f"({'met' if done / both.wall >= 2000 else 'missed'} on the wall clock); "
              f"{_load()}")

    from ctip.ads import embeddings

    if embeddings.available():
        sample = masked[: min(n, 1000)]
        embeddings.embed(sample[:10])  # load the model first
        with Timer() as emb:
            embeddings.embed(sample)
        with Timer() as tf:
            model.predict(sample, codes[: len(sample)])
        print(f"6 sentence embeddings: {_rate(len(sample), emb.wall)} (torch threads: CPU "
              f"time not comparable); baseline TF-IDF model {_rate(len(sample), tf.wall)}; "
              f"ratio {emb.wall / tf.wall:.0f}x the baseline's time")
    else:
        print("6 sentence embeddings: not installed (pip install 'ctip[ads-embeddings]')")


def command(n: int) -> None:
    """``ctip ads screen`` on a CSV in a fresh home, as a user runs it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ads.csv"
        data = list(rows(n, seed=13, body_sentences=(25, 40)))
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(data[0]))
            writer.writeheader()
            writer.writerows(data)
        env = {**os.environ, "CTIP_HOME": str(Path(tmp) / "home")}
        for var in ("CTIP_DATABASE_URL", "CTIP_SEAL_KEY", "CTIP_PSEUDONYM_KEY"):
            env.pop(var, None)
        subprocess.run([sys.executable, "-m", "ctip", "init"], env=env, check=True,
                       capture_output=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ctip", "ads", "screen", str(path), "--agency",
                        "bench", "--json"], env=env, check=True, capture_output=True)
        took = time.perf_counter() - start
        print(f"4 ctip ads screen (SQLite): {n:,} ads, {_rate(n, took)} (read, analyse, seal, "
              f"store, cluster, queue; process start included); {_load()}")


def clustering(n: int) -> None:
    rng = np.random.default_rng(3)
    ads = list(generate(min(n, 5000), seed=17, body_sentences=(10, 20)))
    base = [analyse(a) for a in ads]
    start = time.perf_counter()
    sigs = [signature(a.template_signature_text()) for a in base]
    sig_rate = len(base) / (time.perf_counter() - start)
    postings = []
    for i in range(n):
        a = base[i % len(base)]
        sig = sigs[i % len(base)].copy()
        if i >= len(base):  # a copy of an earlier ad with some words changed: not identical
            sig[rng.integers(0, len(sig), 20)] = rng.integers(0, 2**32, 20, dtype=np.uint32)
        keys = [(f"{ident.key}#{i // len(base)}", ident.start, ident.end)
                for ident in a.identifiers]
        postings.append(Posting(str(i), keys, a.company_name.lower(), a.ad.location.lower(),
                                sig, a.spans.get("body", (0, 0))))
    with Timer() as ids_only:
        plain = cluster([Posting(p.ad_id, p.identifiers, p.company, p.location, None, p.body)
                         for p in postings])
    with Timer() as took:
        found = cluster(postings)
    print(f"5 clustering {n:,} ads: {took.wall:.1f} s wall, {took.cpu:.1f} CPU s "
          f"({len(found.clusters):,} clusters); baseline identifier union alone "
          f"{ids_only.wall:.1f} s ({len(plain.clusters):,}); target < 60 s "
          f"({'met' if took.wall < 60 else 'missed'}); signatures {sig_rate:,.0f} ads/s at "
          f"screening; {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ads", type=int, default=20000)
    parser.add_argument("--cluster", type=int, default=100000)
    parser.add_argument("--skip-command", action="store_true")
    args = parser.parse_args()
    speed(args.ads)
    if not args.skip_command:
        command(min(args.ads, 10000))
    clustering(args.cluster)


if __name__ == "__main__":
    main()
