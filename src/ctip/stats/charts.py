"""Chart specifications for the report: pure functions from published (suppressed) frames to Altair.

Every function takes a frame that has already been through disclosure control: ``count`` is <NA>
where the cell is hidden and ``display`` holds "<5". A hidden cell is never drawn to scale: bars
are left out and labelled "<5", line points are left out, and flows below the threshold are drawn
with one fixed thin width, the same for every hidden flow, so the picture cannot give a count away.

Colours: the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies), and
every colour is also named in a legend or a label. ``to_svg`` renders offline with vl-convert.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
GROUP_COLOURS = {"women": "#CC79A7", "girls": "#E69F00", "men": "#0072B2", "boys": "#56B4E9",
                 "unknown": "#999999"}
SEX_COLOURS = {"female": "#CC79A7", "male": "#0072B2"}
FONT = "Helvetica, Arial, sans-serif"
WIDTH = 560

FORM_LABELS = {
    "sexual_exploitation": "Sexual exploitation", "forced_labour": "Forced labour",
    "mixed": "Sexual exploitation and forced labour", "forced_criminality": "Forced criminality",
    "begging": "Forced begging", "organ_removal": "Removal of organs", "other": "Other forms",
    "unknown": "Not known",
}
FLOW_LABELS = {"domestic": "Domestic (own country)", "subregional": "Same subregion",
               "intraregional": "Same region", "transregional": "Other region",
               "unknown": "Not known"}


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT)
            .configure_axis(labelFontSize=12, titleFontSize=12, grid=False, labelColor="#333",
                            titleColor="#333")
            .configure_legend(labelFontSize=12, titleFontSize=12, orient="bottom")
            .configure_view(stroke=None)
            .configure_title(fontSize=15, anchor="start", color="#222"))


def _title(title: str | None) -> dict[str, Any]:
    """A chart's own title; None when the page around it already says it (the report)."""
    return {} if title is None else {"title": title}


def _published(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["value"] = pd.to_numeric(out["count"], errors="coerce").astype("float64")
    return out


def trend_chart(frame: pd.DataFrame, title: str | None) -> alt.TopLevelMixin:
    """Lines of detected victims by year and victim group (published points only)."""
    data = _published(frame)
    data = data[(data["year"] != "unknown") & (data["year"] != "total")
                & (data["victim_group"] != "total")]
    data = data.assign(year=data["year"].astype(int))
    groups = [g for g in GROUP_COLOURS if g in set(data["victim_group"])]
    colour = alt.Color("victim_group:N", title="Victims", sort=groups,
                       scale=alt.Scale(domain=groups, range=[GROUP_COLOURS[g] for g in groups]))
    base = alt.Chart(data[data["value"].notna()]).encode(
        x=alt.X("year:O", title="Year of identification", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title="Detected victims"),
        color=colour,
        tooltip=["year:O", "victim_group:N", alt.Tooltip("display:N", title="victims")],
    )
    chart = (base.mark_line(strokeWidth=2.5) + base.mark_point(filled=True, size=60)).properties(
        width=WIDTH, height=260, **_title(title))
    return _config(chart)


def pyramid_chart(frame: pd.DataFrame, title: str | None,
                  age_order: list[str]) -> alt.TopLevelMixin:
    """Age-sex pyramid: women and girls to the left, men and boys to the right."""
    data = _published(frame)
    data = data[data["sex"].isin(["female", "male"]) & ~data["age_band"].isin(["total", "unknown"])]
    data = data.assign(signed=lambda d: d["value"].where(d["sex"] == "male", -d["value"]),
                       label=lambda d: d["display"].where(d["count"].isna(), ""))
    data["sex_label"] = data["sex"].map({"female": "Female", "male": "Male"})
    order = [a for a in reversed(age_order) if a in set(data["age_band"])]
    y = alt.Y("age_band:N", sort=order, title="Age at identification")
    # symmetric axis, so the two sides can be compared by eye
    widest = float(data["value"].max()) if data["value"].notna().any() else 1.0
    bars = alt.Chart(data[data["value"].notna()]).mark_bar().encode(
        y=y, x=alt.X("signed:Q", title="Detected victims (female left, male right)",
                     axis=alt.Axis(labelExpr="abs(datum.value)"),
                     scale=alt.Scale(domain=[-widest, widest])),
        color=alt.Color("sex_label:N", title="Sex", scale=alt.Scale(
            domain=["Female", "Male"], range=[SEX_COLOURS["female"], SEX_COLOURS["male"]])),
        tooltip=["sex_label:N", "age_band:N", alt.Tooltip("display:N", title="victims")])
    hidden = data[data["value"].isna()].assign(signed=0.0)
    marks = (alt.Chart(hidden[hidden["sex"] == "male"]).mark_text(
                 fontSize=11, color="#555", align="left", dx=4).encode(
                 y=y, x="signed:Q", text="label:N")
             + alt.Chart(hidden[hidden["sex"] == "female"]).mark_text(
                 fontSize=11, color="#555", align="right", dx=-4).encode(
                 y=y, x="signed:Q", text="label:N"))
    return _config((bars + marks).properties(width=WIDTH, height=280, **_title(title)))


def bar_chart(frame: pd.DataFrame, category: str, title: str | None,
              labels: dict[str, str] | None = None,
              order: list[str] | None = None, colour: str = OKABE_ITO[0],
              x_title: str = "Detected victims") -> alt.TopLevelMixin:
    """Horizontal bars, largest first unless ``order``; hidden cells labelled '<5'."""
    data = _published(frame)
    data = data[data[category] != "total"]
    data["label"] = data[category].map(labels or {}).fillna(data[category])
    if order is None:
        ranked = data.assign(_unknown=data[category] == "unknown").sort_values(
            ["_unknown", "value"], ascending=[True, False], na_position="last")
        order = list(ranked["label"])
    else:
        order = [(labels or {}).get(o, o) for o in order if o in set(data[category])]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260))
    data["known"] = (data[category] != "unknown").map({True: "known", False: "unknown"})
    bars = alt.Chart(data[data["value"].notna()]).mark_bar().encode(
        y=y, x=alt.X("value:Q", title=x_title),
        color=alt.Color("known:N", scale=alt.Scale(domain=["known", "unknown"],
                                                   range=[colour, "#aaaaaa"]), legend=None),
        tooltip=[alt.Tooltip("label:N", title=category), alt.Tooltip("display:N", title="victims")])
    text = alt.Chart(data).mark_text(align="left", dx=4, fontSize=11, color="#333").encode(
        y=y, x=alt.X("xpos:Q"), text="display:N").transform_calculate(
        xpos="isValid(datum.value) ? datum.value : 0")
    height = max(60, 26 * len(order))
    return _config((bars + text).properties(width=WIDTH - 120, height=height, **_title(title)))


def _smooth(t: float) -> float:
    return t * t * (3 - 2 * t)


LAST = ("Other countries", "unknown")
LABEL_PX = 15


def sankey_height(n_nodes: int) -> int:
    return max(220, 26 * n_nodes)


def sankey_layout(frame: pd.DataFrame, *, hidden_width: float, gap: float = 0.0,
                  height: int | None = None) -> dict[str, Any]:
    """Positions for a two-column flow diagram (origins left, destinations right).

    Written by hand: Vega-Lite has no Sankey mark, and the layout is a few lines. A hidden flow
    gets ``hidden_width`` (the same for every hidden flow). Returns frames for the bands (one
    polygon per flow, as x/y/y2 points), the nodes and the labels.
    """
    data = _published(frame)
    data = data[(data["origin"] != "total") & (data["destination"] != "total")]
    data["width"] = data["value"].fillna(hidden_width)
    data = data[data["width"] > 0]
    total = float(data["width"].sum()) or 1.0
    n = int(max(data["origin"].nunique(), data["destination"].nunique(), 1))
    px = height or sankey_height(n)
    smallest = float(min(data.groupby("origin")["width"].sum().min(),
                         data.groupby("destination")["width"].sum().min())) if len(data) else 0.0
    # gap so that neighbouring labels are at least LABEL_PX apart at this height
    need = (LABEL_PX * total - smallest * px) / max(px - LABEL_PX * (n - 1), 1)
    gap = gap or max(total * 0.02, need)

    def stack(column: str) -> dict[str, tuple[float, float]]:
        sizes = data.groupby(column)["width"].sum()
        ranked = sorted(sizes.items(), key=lambda kv: (kv[0] in LAST,
                                                       LAST.index(kv[0]) if kv[0] in LAST else 0,
                                                       -kv[1]))
        sizes = pd.Series(dict(ranked))
        spans, y = {}, 0.0
        for name, size in sizes.items():
            spans[str(name)] = (y, y + float(size))
            y += float(size) + gap
        return spans

    left, right = stack("origin"), stack("destination")
    cursor_l = {k: v[0] for k, v in left.items()}
    cursor_r = {k: v[0] for k, v in right.items()}
    bands = []
    ordered = data.sort_values(["origin", "destination"], key=lambda s: s.map(
        {**{k: v[0] for k, v in left.items()}, **{k: v[0] for k, v in right.items()}}))
    for i, row in enumerate(ordered.itertuples()):
        w = float(row.width)
        l0, r0 = cursor_l[row.origin], cursor_r[row.destination]
        cursor_l[row.origin] += w
        cursor_r[row.destination] += w
        for step in range(21):
            t = step / 20
            s = _smooth(t)
            y0 = l0 + (r0 - l0) * s
            bands.append({"flow": i, "origin": row.origin, "destination": row.destination,
                          "x": t, "y": y0, "y2": y0 + w, "display": row.display})
    nodes = ([{"side": "origin", "name": k, "y": a, "y2": b} for k, (a, b) in left.items()]
             + [{"side": "destination", "name": k, "y": a, "y2": b} for k, (a, b) in right.items()])
    return {"bands": pd.DataFrame(bands), "nodes": pd.DataFrame(nodes)}


def sankey_chart(frame: pd.DataFrame, title: str | None, *, hidden_width: float,
                 origin_title: str = "Citizenship", destination_title: str = "Detected in",
                 label_of: dict[str, str] | None = None) -> alt.TopLevelMixin:
    """Flow diagram of citizenship (left) to country of detection (right)."""
    n = int(max(frame["origin"].nunique(), frame["destination"].nunique(), 1))
    layout = sankey_layout(frame, hidden_width=hidden_width, height=sankey_height(n))
    bands, nodes = layout["bands"], layout["nodes"]
    if bands.empty:
        return _config(alt.Chart(pd.DataFrame({"t": ["No flows to show"]})).mark_text().encode(
            text="t:N").properties(width=WIDTH, height=60, **_title(title)))
    shown = _published(frame)
    totals_l = shown.groupby("origin")["value"].agg(lambda s: s.sum() if s.notna().all() else None)
    names = label_of or {}
    nodes["label"] = nodes["name"].map(lambda n: names.get(n, n))
    nodes["label"] = [
        f"{lab} ({int(totals_l[n]):,})" if side == "origin" and n in totals_l
        and pd.notna(totals_l[n]) else lab
        for lab, n, side in zip(nodes["label"], nodes["name"], nodes["side"], strict=True)]
    nodes["mid"] = (nodes["y"] + nodes["y2"]) / 2
    nodes["x"] = nodes["side"].map({"origin": -0.03, "destination": 1.0})
    nodes["x2"] = nodes["x"] + 0.03
    origins = list(dict.fromkeys(bands["origin"]))
    palette = (OKABE_ITO * (len(origins) // len(OKABE_ITO) + 1))[:len(origins)]
    colour = alt.Color("origin:N", scale=alt.Scale(domain=origins, range=palette), legend=None)
    y_scale = alt.Scale(reverse=True, nice=False, zero=True)
    band = alt.Chart(bands).mark_area(opacity=0.55, interpolate="linear").encode(
        x=alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.45, 1.4])),
        y=alt.Y("y:Q", axis=None, scale=y_scale), y2="y2:Q", detail="flow:N", color=colour,
        tooltip=["origin:N", "destination:N", alt.Tooltip("display:N", title="victims")])
    left_nodes = nodes[nodes["side"] == "origin"].assign(origin=lambda d: d["name"])
    rect_l = alt.Chart(left_nodes).mark_rect().encode(x="x:Q", x2="x2:Q", y="y:Q", y2="y2:Q",
                                                      color=colour)
    rect_r = alt.Chart(nodes[nodes["side"] == "destination"]).mark_rect(color="#444").encode(
        x="x:Q", x2="x2:Q", y="y:Q", y2="y2:Q")
    text_l = alt.Chart(left_nodes).mark_text(align="right", dx=-6, fontSize=11).encode(
        x="x:Q", y="mid:Q", text="label:N")
    text_r = alt.Chart(nodes[nodes["side"] == "destination"]).mark_text(
        align="left", dx=6, fontSize=11).encode(x="x2:Q", y="mid:Q", text="label:N")
    heads = pd.DataFrame({"x": [-0.03, 1.03], "t": [origin_title, destination_title],
                          "align": ["right", "left"]})
    head_l = alt.Chart(heads.iloc[[0]]).mark_text(align="right", fontWeight="bold", dy=-12,
                                                  fontSize=12).encode(
        x="x:Q", y=alt.value(0), text="t:N")
    head_r = alt.Chart(heads.iloc[[1]]).mark_text(align="left", fontWeight="bold", dy=-12,
                                                  fontSize=12).encode(
        x="x:Q", y=alt.value(0), text="t:N")
    height = sankey_height(int(max(len(left_nodes), (nodes["side"] == "destination").sum())))
    chart = alt.layer(band, rect_l, rect_r, text_l, text_r, head_l, head_r).properties(
        width=WIDTH, height=height, **_title(title))
    return _config(chart)


def flow_share_chart(frame: pd.DataFrame, title: str | None) -> alt.TopLevelMixin:
    """Shares of flow types among victims whose flow is known (one stacked bar)."""
    data = frame[(frame["flow_type"] != "unknown") & (frame["flow_type"] != "total")].copy()
    data["share"] = pd.to_numeric(data["share"], errors="coerce").astype("float64")
    data = data[data["share"].notna()]
    data["label"] = data["flow_type"].map(FLOW_LABELS)
    data["pct"] = (data["share"] * 100).round().astype(int).astype(str) + "%"
    order = [FLOW_LABELS[k] for k in ("domestic", "subregional", "intraregional", "transregional")]
    colour = alt.Color("label:N", title=None, sort=order,
                       scale=alt.Scale(domain=order, range=OKABE_ITO[:4]))
    bar = alt.Chart(data).mark_bar(height=36).encode(
        x=alt.X("share:Q", stack="zero", title="Share of victims with known citizenship",
                axis=alt.Axis(format="%")), color=colour,
        order=alt.Order("order:Q"), tooltip=["label:N", "pct:N"]).transform_calculate(
        order=f"indexof({order!r}, datum.label)")
    labels = alt.Chart(data[data["share"] >= 0.06]).mark_text(
        color="white", fontSize=12, fontWeight="bold").encode(
        x=alt.X("mid:Q"), text="pct:N").transform_calculate(
        order=f"indexof({order!r}, datum.label)").transform_window(
        cum="sum(share)", sort=[alt.SortField("order")]).transform_calculate(
        mid="datum.cum - datum.share / 2")
    return _config((bar + labels).properties(width=WIDTH, height=50, **_title(title)))


def heatmap_chart(frame: pd.DataFrame, title: str | None) -> alt.TopLevelMixin:
    """Data quality: share unknown per agency (rows) and field (columns); hidden cells grey."""
    data = frame.copy()
    data["share"] = pd.to_numeric(data["share_unknown"], errors="coerce").astype("float64")
    data["text"] = [("hidden" if pd.isna(s) else f"{s:.0%}") for s in data["share"]]
    data["hidden"] = data["share"].isna()
    x = alt.X("label:N", title=None, sort=list(dict.fromkeys(data["label"])),
              axis=alt.Axis(labelAngle=-35, labelLimit=160))
    y = alt.Y("agency:N", title=None, sort=list(dict.fromkeys(data["agency"])))
    cells = alt.Chart(data).mark_rect(stroke="white").encode(
        x=x, y=y, color=alt.condition(
            "!datum.hidden",
            alt.Color("share:Q", title="Share unknown", scale=alt.Scale(
                scheme="oranges", domain=[0, 1]), legend=alt.Legend(format="%")),
            alt.value("#dddddd")),
        tooltip=["agency:N", "label:N", "text:N"])
    text = alt.Chart(data).mark_text(fontSize=11).encode(
        x=x, y=y, text="text:N",
        color=alt.condition("datum.share > 0.6", alt.value("white"), alt.value("#222")))
    height = 30 * data["agency"].nunique()
    return _config((cells + text).properties(width=WIDTH, height=height, **_title(title)))


def regional_trend_chart(frame: pd.DataFrame, title: str | None) -> alt.TopLevelMixin:
    """Detected victims reported to UNODC by region and year (GLOTIP aggregates, public data)."""
    data = frame[frame["area"] != "World"].copy()
    areas = sorted(data["area"].unique())
    colour = alt.Color("area:N", title="Region", sort=areas,
                       scale=alt.Scale(domain=areas, range=OKABE_ITO[:len(areas)]))
    base = alt.Chart(data).encode(
        x=alt.X("year:O", title="Year", axis=alt.Axis(labelAngle=0, values=[
            y for y in sorted(data["year"].unique()) if y % 2 == 0])),
        y=alt.Y("known:Q", title="Detected victims reported to UNODC"), color=colour,
        tooltip=["area:N", "year:O", alt.Tooltip("known:Q", format=","),
                 alt.Tooltip("countries:Q", title="reporting countries")])
    chart = (base.mark_line(strokeWidth=2.5) + base.mark_point(filled=True, size=40)).properties(
        width=WIDTH, height=240, **_title(title))
    return _config(chart)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render a chart to SVG offline (vl-convert embeds the Vega engine; no network, no CDN)."""
    import vl_convert as vlc

    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0].replace(".", "_")
    svg: str = vlc.vegalite_to_svg(chart.to_dict(), vl_version=version)
    return svg
