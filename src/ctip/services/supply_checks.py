"""The supply-chain checks (``ctip supply check``): coverage, CSV vs XML, name matching."""

from __future__ import annotations

from typing import Any


def run_checks(*, pairs: int = 2000) -> dict[str, Any]:
    from ctip.supply.evaluate import checks

    return checks(pairs=pairs)
