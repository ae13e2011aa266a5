"""One alert's money network as a picture: accounts as points, payments as lines.

The layout is networkx's spring layout with a fixed seed (the same input, the same picture);
the drawing is an Altair chart rendered to SVG offline by ``stats.charts.to_svg`` (vl-convert,
no script, no CDN). Accounts are labelled by reference, never by number or name.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import networkx as nx
import pandas as pd

from ctip.stats.charts import to_svg


def network_chart(transactions: list[dict[str, Any]], flagged: set[int], *,
                  title: str) -> alt.LayerChart:
    graph = nx.DiGraph()
    for t in transactions:
        own = int(t["account_ref"])
        other = t.get("counterparty_ref")
        other_node: Any = int(other) if other is not None else f"{t['channel']} (no account)"
        src, dst = (own, other_node) if t["direction"] == "out" else (other_node, own)
        if graph.has_edge(src, dst):
            graph[src][dst]["amount"] += float(t["amount"])
            graph[src][dst]["n"] += 1
        else:
            graph.add_edge(src, dst, amount=float(t["amount"]), n=1)
    position = nx.spring_layout(graph, seed=7) if graph.number_of_nodes() else {}
    nodes = pd.DataFrame([{"node": str(n), "x": float(position[n][0]), "y": float(position[n][1]),
                           "role": "alerted account" if n in flagged else
                           ("account" if isinstance(n, int) else "cash or card"),
                           "label": f"ref {n}" if isinstance(n, int) else str(n)}
                          for n in sorted(graph.nodes, key=str)])
    edges = pd.DataFrame([{"x": float(position[a][0]), "y": float(position[a][1]),
                           "x2": float(position[b][0]), "y2": float(position[b][1]),
                           "amount": round(d["amount"], 2), "payments": d["n"]}
                          for a, b, d in sorted(graph.edges(data=True), key=lambda e: (
                              str(e[0]), str(e[1])))])
    axis = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
    lines = alt.Chart(edges).mark_rule(color="#8a8a8a").encode(
        x=alt.X("x:Q", axis=axis), y=alt.Y("y:Q", axis=axis), x2="x2:Q", y2="y2:Q",
        strokeWidth=alt.StrokeWidth("amount:Q", scale=alt.Scale(range=[0.5, 5]),
                                    legend=alt.Legend(title="amount")),
        tooltip=["amount:Q", "payments:Q"])
    points = alt.Chart(nodes).mark_circle(size=180, opacity=1).encode(
        x="x:Q", y="y:Q",
        color=alt.Color("role:N", scale=alt.Scale(
            domain=["alerted account", "account", "cash or card"],
            range=["#c0392b", "#2c6e9b", "#b0b0b0"]), legend=alt.Legend(title=None)),
        tooltip=["label:N", "role:N"])
    labels = alt.Chart(nodes).mark_text(dy=-12, fontSize=9).encode(x="x:Q", y="y:Q",
                                                                   text="label:N")
    return (lines + points + labels).properties(width=560, height=400, title=title)


def network_svg(transactions: list[dict[str, Any]], flagged: set[int], *, title: str) -> str:
    return to_svg(network_chart(transactions, flagged, title=title))
