"""The peer rules' sums per (account, window) in numpy over ``Frames``: the fast path of the
first step of ``detect.run_peer``.

The reference query joins the accounts to every transaction, keeps the rows in the rule's
scope and groups them by (account, business type, window). Where the scope is on the holder's
KYC fields alone (``detect._peer_shares``), the same groups and sums come from grouping the
transactions by (account, window) first, which the aggregate rules' group ids already do: a
group exists where the account has a transaction in the rule's currency, and each measure is
a ``bincount`` of the amounts its clause selects. One table serves every peer rule of the
window; ``run_peer`` joins the accounts on its few hundred thousand rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ctip.finflows.columns import Frames
from ctip.finflows.rules import Rule


def window_starts(values: np.ndarray, window: str) -> pa.Array:
    """Bucket numbers (months or days since 1970, as ``Frames.bucket``) as timestamps."""
    unit = "datetime64[M]" if window == "month" else "datetime64[D]"
    return pa.array(values.astype(np.int64).astype(unit).astype("datetime64[us]"),
                    pa.timestamp("us"))


def peer_table(con: Any, compiler: Any, frames: Frames, rules: list[Rule],
               window: str) -> pa.Table:
    """(account, ws, num_0, den_0, num_1, ...) per (account, window) with a transaction in
    the rule set's currency; ``num_i``/``den_i`` the sum of the amounts that rule i's
    numerator/denominator selects there (NULL where it selects no amount), as
    ``sum(amount) FILTER (WHERE ...)``."""
    from ctip.finflows.fast import Predicates

    p = Predicates(frames, compiler, con)
    gid, size, decode = frames.groups(window)
    currency = frames.codes("currency").lookup({compiler.rules.currency})
    present = np.bincount(gid[currency], minlength=size) > 0
    ids = np.flatnonzero(present)
    accounts, starts = decode(ids)
    columns: dict[str, Any] = {"account": pa.array(accounts, pa.int64()),
                               "ws": window_starts(starts, window)}
    amount, valid = frames.amount
    for i, rule in enumerate(rules):
        for name, clause in (("num", rule.numerator), ("den", rule.denominator)):
            if name == "den" and not clause:
                continue
            rows = np.flatnonzero(p.where(clause)[0] & currency & valid)
            g = gid[rows]
            total = np.bincount(g, weights=amount[rows], minlength=size)[ids]
            some = np.bincount(g, minlength=size)[ids] > 0
            columns[f"{name}_{i}"] = pa.array(total, pa.float64(), mask=~some)
    return pa.table(columns)
