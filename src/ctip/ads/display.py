"""An ad as a reviewer sees it: the text cut into pieces, indicator spans marked, identifiers
shown as a label of their kind and pseudonym (``phone ·3f2a9c``) instead of the number, so two
ads with the same phone are seen to share it without anyone reading the phone itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Piece:
    text: str
    codes: tuple[str, ...] = ()  # indicators whose span covers this piece
    identifier: str | None = None  # the identifier's kind when the piece stands for one


def label(kind: str, pseudonym: str) -> str:
    return f"[{kind} \u00b7{pseudonym[:6]}]"


def pieces(text: str, spans: Sequence[tuple[str, int, int]],
           identifiers: Sequence[tuple[str, str, int, int]]) -> list[Piece]:
    """``spans``: (code, start, end); ``identifiers``: (kind, pseudonym, start, end)."""
    cuts = {0, len(text)}
    for _, start, end in spans:
        cuts |= {max(0, min(start, len(text))), max(0, min(end, len(text)))}
    for _, _, start, end in identifiers:
        cuts |= {start, end}
    points = sorted(cuts)
    out: list[Piece] = []
    ident_at = {start: (kind, pseudo, end) for kind, pseudo, start, end in identifiers}
    skip_until = -1
    for lo, hi in zip(points, points[1:], strict=False):
        if lo < skip_until:
            continue
        codes = tuple(sorted({c for c, s, e in spans if s <= lo and hi <= e and s < e}))
        if lo in ident_at:
            kind, pseudo, end = ident_at[lo]
            codes = tuple(sorted({c for c, s, e in spans if s <= lo and end <= e and s < e}))
            out.append(Piece(label(kind, pseudo), codes, kind))
            skip_until = end
            continue
        out.append(Piece(text[lo:hi], codes))
    return out


def plain(parts: Sequence[Piece]) -> str:
    return "".join(p.text for p in parts)
