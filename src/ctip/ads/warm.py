"""Imported once by the fork server of the screening workers (``services.ads_prepare``): the
modules, the term automaton and the CRC tables are built there, so each worker forks with them
instead of importing scikit-learn and building them again (about two CPU seconds a worker)."""

from __future__ import annotations

from ctip.ads import classify, cluster, pipeline  # noqa: F401  (imported for the fork server)
from ctip.ads.lexicon import places, roles, term_index
from ctip.ads.normalise import _translated
from ctip.ads.shingles import _zero_tables

term_index()
places()
roles()
_zero_tables()
_translated()
