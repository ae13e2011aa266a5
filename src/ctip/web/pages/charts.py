"""Dashboard charts as inline SVG, drawn on the server with Altair and vl-convert.

Why server-side SVG: no JavaScript charting library and no CDN, so a chart costs a few kilobytes
on a slow connection and works with scripts off. Every chart carries ``role="img"`` and a text
label, and the page shows the same numbers in a table next to it for screen-reader users.
Rendering is cached on the chart specification, because the same figures are asked for often.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from markupsafe import Markup, escape

BRAND = "#0b4f8a"
WARN = "#8a4b00"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


def _count_axis(title: str, values: Sequence[int]) -> dict:
    """Whole-number ticks only: counts of people are never fractional."""
    top = max(values, default=0)
    axis: dict = {"format": "d", "tickMinStep": 1}
    if top <= 10:
        axis["values"] = list(range(0, top + 1))
    return {"title": title, "axis": axis}


def _config() -> dict:
    return {
        "font": FONT,
        "view": {"stroke": None},
        "axis": {
            "labelColor": "#1b1f24",
            "titleColor": "#1b1f24",
            "labelFontSize": 12,
            "titleFontSize": 12,
            "gridColor": "#e3e7ed",
        },
        "background": "white",
    }


@lru_cache(maxsize=256)
def _svg(spec_json: str) -> str:
    import vl_convert as vlc  # heavy import, paid once on the first chart

    return str(vlc.vegalite_to_svg(json.loads(spec_json)))


def _accessible(svg: str, label: str) -> Markup:
    """Give the SVG an accessible name and let it shrink to a small screen."""
    svg = re.sub(r"<\?xml[^>]*>\s*", "", svg)
    svg = svg.replace(
        "<svg ", f'<svg role="img" aria-label="{escape(label)}" focusable="false" ', 1
    )
    return Markup(svg)  # noqa: S704 - SVG produced by vl-convert from our own numbers; label escaped


def bar_chart(
    rows: Sequence[tuple[str, int]],
    *,
    label: str,
    value_title: str,
    color: str = BRAND,
    width: int = 420,
) -> Markup:
    """Horizontal bars (category -> count), longest first; readable on a phone."""
    data = [{"category": str(k), "value": int(v)} for k, v in rows]
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "config": _config(),
        "width": width,
        "height": {"step": 22},
        "padding": {"left": 24, "right": 8, "top": 4, "bottom": 4},
        "data": {"values": data},
        "mark": {"type": "bar", "color": color},
        "encoding": {
            "y": {
                "field": "category",
                "type": "nominal",
                "sort": "-x",
                "title": None,
                "axis": {"labelLimit": 200},
            },
            "x": {
                "field": "value",
                "type": "quantitative",
                **_count_axis(value_title, [int(v) for _, v in rows]),
            },
        },
    }
    if not data:
        return Markup("")
    return _accessible(_svg(json.dumps(spec, sort_keys=True)), label)


def line_chart(
    points: Sequence[tuple[date, int]],
    *,
    label: str,
    value_title: str,
    time_title: str,
    width: int = 420,
) -> Markup:
    """A count over time (e.g. open cases per month)."""
    if not points:
        return Markup("")
    data = [{"when": d.isoformat(), "value": int(v)} for d, v in points]
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "config": _config(),
        "width": width,
        "height": 180,
        "padding": {"left": 8, "right": 16, "top": 4, "bottom": 4},
        "data": {"values": data},
        "mark": {"type": "line", "point": True, "color": BRAND},
        "encoding": {
            "x": {
                "field": "when",
                "type": "temporal",
                "title": time_title,
                "axis": {"format": "%b %Y", "labelAngle": 0},
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                **_count_axis(value_title, [int(v) for _, v in points]),
            },
        },
    }
    return _accessible(_svg(json.dumps(spec, sort_keys=True)), label)
