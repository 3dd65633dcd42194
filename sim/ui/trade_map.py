"""World map of this month's trade flows as an interactive Plotly figure, drawn offline.

The outlines (``configs/world/outlines/countries-110m.json``, Natural Earth 1:110m via the
``world-atlas`` package) are decoded once per process and drawn as plain lines (Plotly's geo maps
would fetch their outlines from the network). Flows are curves from exporter to importer, coloured
by good (ore, oxide, magnet) and drawn in three widths whose tonnage the legend states; hovering
a flow's middle shows exporter, importer, good and t/month.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.world import CONFIG_DIR

OUTLINE_DIR = CONFIG_DIR / "world" / "outlines"
GOOD_COLOURS = {"ore": "#8c564b", "oxide": "#1f77b4", "magnet": "#d62728"}
ARROWS_PER_GOOD = 12
WIDTHS = (1.5, 4.0, 8.0)          # line widths of the small, middle and large tonnage classes


@dataclass(frozen=True)
class Outlines:
    """Country rings in lon/lat degrees, with each ring's ISO numeric code ('' if none)."""

    rings: tuple[np.ndarray, ...]
    codes: tuple[str, ...]
    names: dict[str, str]


def _decode_arcs(topo: dict) -> list[np.ndarray]:
    """Absolute lon/lat coordinates of every TopoJSON arc (delta-decoded, de-quantised)."""
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        a = np.cumsum(np.asarray(arc, dtype=float), axis=0)
        arcs.append(np.column_stack([a[:, 0] * sx + tx, a[:, 1] * sy + ty]))
    return arcs


def _ring(indices: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    parts = []
    for k, i in enumerate(indices):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(a if k == 0 else a[1:])
    return np.concatenate(parts)


@lru_cache(maxsize=1)
def load_outlines(directory: Path = OUTLINE_DIR) -> Outlines:
    """Decode the shipped TopoJSON into polygon rings (outer rings only; holes are not drawn)."""
    topo = json.loads((directory / "countries-110m.json").read_text())
    arcs = _decode_arcs(topo)
    rings, codes, names = [], [], {}
    for geom in topo["objects"]["countries"]["geometries"]:
        code = str(geom.get("id") or "")
        names[code] = geom.get("properties", {}).get("name", "")
        polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        for poly in polys:
            ring = _ring(poly[0], arcs)
            if np.ptp(ring[:, 0]) > 300:      # ring that crosses the antimeridian (Fiji, Russia's tip)
                ring = ring.copy()
                ring[:, 0] = np.where(ring[:, 0] < 0, ring[:, 0] + 360, ring[:, 0])
            rings.append(ring)
            codes.append(code)
    return Outlines(tuple(rings), tuple(codes), names)


def top_flows(flows_t: np.ndarray, k: int) -> list[tuple[int, int, float]]:
    """The ``k`` largest international flows as (exporter, importer, tonnes), largest first.

    Args:
        flows_t: tonnes per month, shape (N exporter, N importer); the diagonal (domestic) is ignored.
    """
    f = np.array(flows_t, dtype=float)
    np.fill_diagonal(f, 0.0)
    flat = f.ravel()
    k = min(k, int((flat > 0).sum()))
    if k == 0:
        return []
    idx = np.argpartition(flat, -k)[-k:]
    idx = idx[np.argsort(flat[idx])[::-1]]
    n = f.shape[1]
    return [(int(i // n), int(i % n), float(flat[i])) for i in idx]


def _curve(x0: float, y0: float, x1: float, y1: float, bend: float = 0.18, n: int = 16) -> np.ndarray:
    """A gently curved path from (x0, y0) to (x1, y1) (quadratic Bezier bent to the left)."""
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    cx, cy = mx - (y1 - y0) * bend, my + (x1 - x0) * bend
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * np.array([x0, y0]) + 2 * (1 - t) * t * np.array([cx, cy]) + t ** 2 * np.array([x1, y1])


@lru_cache(maxsize=1)
def outline_path() -> tuple[np.ndarray, np.ndarray]:
    """Every country ring as one x/y path with NaN between rings (one Plotly trace)."""
    gap = np.array([[np.nan, np.nan]])
    path = np.concatenate([part for ring in load_outlines().rings for part in (np.round(ring, 2), gap)])
    return path[:, 0], path[:, 1]


def tonnage_classes(peak_t: float) -> list[float]:
    """Lower bounds (t/month) of the three width classes: 0, a tenth and a third of the largest flow."""
    return [0.0, peak_t / 10.0, peak_t / 3.0]


def _nice(t: float) -> str:
    return f"{t:,.0f}" if t >= 10 else f"{t:.2g}"


def _slot(good: str, k: int, part: str) -> str:
    return f"map:{good}:{k}:{part}"


def map_base_figure(nations, lat, lon):
    """The static map (outlines, nations) with an empty line and hover trace for each good and width class."""
    import plotly.graph_objects as go
    fig = go.Figure()
    ox, oy = outline_path()
    fig.add_trace(go.Scatter(x=ox, y=oy, mode="lines", line=dict(color="#b8b8b8", width=0.6),
                             hoverinfo="skip", showlegend=False, name="outlines"))
    for g, colour in GOOD_COLOURS.items():
        for k, width in enumerate(WIDTHS):
            fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=g, legendgroup=g, meta=_slot(g, k, "line"),
                                     line=dict(color=colour, width=width), opacity=0.6, hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=f"{g} flows", legendgroup=g,
                                     showlegend=False, meta=_slot(g, k, "hover"),
                                     marker=dict(color=colour, size=9, line=dict(color="white", width=1)),
                                     text=[], hovertemplate="%{text}<extra></extra>"))
    fig.add_trace(go.Scatter(x=np.asarray(lon, dtype=float), y=np.asarray(lat, dtype=float), mode="markers+text",
                             text=list(nations), textposition="top right",
                             textfont=dict(size=11, color="#333333"), marker=dict(color="#333333", size=5),
                             showlegend=False, name="nations", hovertemplate="%{text}<extra></extra>"))
    fig.update_layout(
        font=dict(size=13), plot_bgcolor="white", height=480, margin=dict(l=10, r=10, t=50, b=10),
        xaxis=dict(range=[-170, 190], visible=False), yaxis=dict(range=[-58, 84], visible=False,
                                                                  scaleanchor="x"),
        legend=dict(orientation="v", x=1.0, xanchor="right", y=0.02, yanchor="bottom",
                    bgcolor="rgba(255,255,255,0.85)", title=dict(text="good, t/month (line width)")))
    return fig


def map_updates(flows: dict, nations, lat, lon, month: str) -> tuple[dict[str, dict], str]:
    """Trace properties for this month's largest flows ({slot meta: {x, y, name, text, showlegend}}) and the title."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    chosen = {g: top_flows(flows[g], ARROWS_PER_GOOD) for g in GOOD_COLOURS if g in flows}
    peak = max((t for fl in chosen.values() for _, _, t in fl), default=0.0)
    bounds = tonnage_classes(peak)
    out: dict[str, dict] = {}
    for g in GOOD_COLOURS:
        fl = chosen.get(g, [])
        for k in range(len(WIDTHS)):
            last = k == len(WIDTHS) - 1
            sel = [(a, b, t) for a, b, t in fl if t >= bounds[k] and (last or t < bounds[k + 1])]
            xs, ys, mx, my, text = [], [], [], [], []
            for a, b, t in sel:
                path = _curve(lon[a], lat[a], lon[b], lat[b])
                xs += list(np.round(path[:, 0], 2)) + [None]
                ys += list(np.round(path[:, 1], 2)) + [None]
                mx.append(float(path[len(path) // 2, 0]))
                my.append(float(path[len(path) // 2, 1]))
                text.append(f"{nations[a]} → {nations[b]}<br>{g}: {t:,.0f} t/month")
            name = (f"{g} over {_nice(bounds[k])}" if last else f"{g} {_nice(bounds[k])}-{_nice(bounds[k + 1])}")
            out[_slot(g, k, "line")] = dict(x=xs, y=ys, name=name, showlegend=bool(sel))
            out[_slot(g, k, "hover")] = dict(x=mx, y=my, text=text)
    totals = {g: float(np.sum(f) - np.trace(f)) for g, f in flows.items()}
    title = f"Trade flows, {month}: " + ", ".join(f"{g} {totals.get(g, 0):,.0f} t" for g in GOOD_COLOURS)
    return out, title


def apply_updates(fig, updates: dict[str, dict]) -> None:
    """Set the properties of the traces whose ``meta`` is a key of ``updates`` (a Figure or FigureWidget)."""
    for tr in fig.data:
        props = updates.get(tr.meta) if isinstance(tr.meta, str) else None
        if props:
            tr.update(props)


def map_figure(flows: dict, nations, lat, lon, month: str):
    """This month's largest flows of each good (``flows[good]``: t/month, exporter x importer)."""
    fig = map_base_figure(nations, lat, lon)
    updates, title = map_updates(flows, nations, lat, lon, month)
    apply_updates(fig, updates)
    fig.update_layout(title=dict(text=title, font=dict(size=15)))
    return fig
