"""Multiple systems estimation: how many victims are on no agency's list.

Pure functions over capture-history tables (frames in, results out). Entry points:
``from_frame`` (validate a table), ``estimate`` (one estimate), ``estimate_strata`` (one per
stratum plus the total), ``report.model_table`` (every candidate model, for the sensitivity
section). See docs/methods/estimation.md for the methods and when not to trust a figure.
"""

from ctip.estimate.api import INTERVALS, METHODS, EstimateResult, estimate
from ctip.estimate.histories import CaptureHistory, from_frame
from ctip.estimate.strata import estimate_strata, results_frame

__all__ = [
    "CaptureHistory",
    "EstimateResult",
    "INTERVALS",
    "METHODS",
    "estimate",
    "estimate_strata",
    "from_frame",
    "results_frame",
]
