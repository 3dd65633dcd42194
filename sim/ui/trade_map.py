"""World map of trade flows, drawn offline from the shipped country outlines.

The outlines (``configs/world/outlines/countries-110m.json``, Natural Earth 1:110m
via the ``world-atlas`` package) are decoded once per process; each frame only the
flow arrows change: nations sit at their coordinates, arrows are scaled by tonnes
and coloured by good (ore, oxide, magnet).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

OUTLINE_DIR = Path(__file__).resolve().parents[2] / "configs" / "world" / "outlines"
GOOD_COLOURS = {"ore": "#8c564b", "oxide": "#1f77b4", "magnet": "#d62728"}
BLOC_COLOURS = {"china": "#f4cccc", "us_allied": "#d9e8f5", "russia_aligned": "#ead1dc",
                "nonaligned": "#eeeeee"}
OTHER_LAND = "#f7f7f7"
ARROWS_PER_GOOD = 12
MAX_LINE_WIDTH = 9.0


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


@lru_cache(maxsize=1)
def iso3_to_numeric(directory: Path = OUTLINE_DIR) -> dict[str, str]:
    with (directory / "iso_numeric.csv").open() as f:
        return {row["iso3"]: row["iso_numeric"] for row in csv.DictReader(f)}


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


def _arrow_head(base: np.ndarray, tip: np.ndarray, size_deg: float) -> np.ndarray:
    """A triangle pointing from ``base`` to ``tip`` (degrees), ``size_deg`` wide."""
    d = tip - base
    length = float(np.hypot(*d)) or 1.0
    u = d / length
    v = np.array([-u[1], u[0]])
    back = tip - u * size_deg * 1.6
    return np.array([tip, back + v * size_deg, back - v * size_deg])


class TradeMap:
    """A persistent map figure: outlines drawn once, flow arrows replaced every frame."""

    def __init__(self, nations: tuple[str, ...], lat: np.ndarray, lon: np.ndarray,
                 bloc: tuple[str, ...], figsize=(9.0, 4.6), dpi: int = 80) -> None:
        self.nations, self.lat, self.lon = nations, np.asarray(lat), np.asarray(lon)
        self.fig = Figure(figsize=figsize, dpi=dpi)
        ax = self.ax = self.fig.add_subplot()
        self.fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9)
        outlines = load_outlines()
        colour_of = {iso3_to_numeric().get(iso): BLOC_COLOURS.get(b, OTHER_LAND)
                     for iso, b in zip(nations, bloc)}
        faces = [colour_of.get(c, OTHER_LAND) for c in outlines.codes]
        ax.add_collection(PolyCollection(outlines.rings, facecolors=faces, edgecolors="#b0b0b0",
                                         linewidths=0.3, zorder=0))
        ax.scatter(self.lon, self.lat, s=9, c="#333333", zorder=3)
        for iso, x, y in zip(nations, self.lon, self.lat):
            ax.text(x + 1.2, y + 1.0, iso, fontsize=6, color="#333333", zorder=4)
        ax.set_xlim(-170, 190)
        ax.set_ylim(-58, 84)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(handles=[Line2D([], [], color=c, lw=3, label=g) for g, c in GOOD_COLOURS.items()],
                  loc="lower left", fontsize=7, title="good (t/month)", title_fontsize=7)
        self.title = ax.set_title("", fontsize=9, loc="left")
        self.lines = LineCollection([], zorder=2, capstyle="round")
        ax.add_collection(self.lines)
        self.heads = PolyCollection([], zorder=2.5, linewidths=0)
        ax.add_collection(self.heads)

    def update(self, flows: dict[str, np.ndarray], month: str, shocks: list[tuple[str, str]]) -> None:
        """Draw this month's largest flows of each good.

        Args:
            flows: {"ore" | "oxide" | "magnet": tonnes per month, shape (N exporter, N importer)}.
            month: "YYYY-MM" shown in the title.
            shocks: the model's shock log, (month, label) pairs; those in force are listed.
        """
        segs, widths, colours, heads = [], [], [], []
        chosen = {g: top_flows(flows[g], ARROWS_PER_GOOD) for g in GOOD_COLOURS if g in flows}
        peak = max((t for fl in chosen.values() for _, _, t in fl), default=1.0)
        for g, fl in chosen.items():
            for a, b, t in fl:
                path = _curve(self.lon[a], self.lat[a], self.lon[b], self.lat[b])
                w = 0.4 + MAX_LINE_WIDTH * np.sqrt(t / peak)
                segs.append(path[:-2])
                widths.append(w)
                colours.append(GOOD_COLOURS[g])
                heads.append(_arrow_head(path[-3], path[-1], 1.0 + 0.3 * w))
        self.lines.set_segments(segs)
        self.lines.set_linewidths(widths)
        self.lines.set_colors(colours)
        self.lines.set_alpha(0.55)
        self.heads.set_verts(heads)
        self.heads.set_facecolors(colours)
        self.heads.set_alpha(0.8)
        totals = {g: float(np.sum(f) - np.trace(f)) for g, f in flows.items()}
        text = f"{month}   trade: " + ", ".join(f"{g} {totals.get(g, 0):,.0f} t" for g in GOOD_COLOURS)
        if shocks:
            text += "\nshocks: " + "; ".join(f"{m} {lab}" for m, lab in shocks[-3:])
        self.title.set_text(text)
