"""PNG and SVG files of the project's Plotly figures, drawn with matplotlib (no browser needed).

Plotly's own static export (kaleido) drives a Chrome of its own, which a closed network or a
server without a browser does not have; every chart here is one Plotly figure, so this module
redraws that figure's traces with matplotlib instead: ``Scatter`` (lines, markers, ``tonexty``
bands), ``Heatmap`` and ``Bar``, vertical line shapes and paper-anchored annotations, titles,
axis titles and log axes. It covers the traces the project draws, not all of Plotly.
"""

from __future__ import annotations

import io
import re

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

DASHES = {"dash": (0, (5, 3)), "dot": (0, (1, 2)), "dashdot": (0, (5, 2, 1, 2)), "solid": "-", None: "-"}
MARKERS = {"circle": "o", "square": "s", "diamond": "D", "x": "x", "triangle-up": "^", None: "o"}


def colour(value, default="#1f77b4"):
    """A Plotly colour ('#hex', 'rgb(...)', 'rgba(...)', a name) as a matplotlib RGBA tuple."""
    if value is None:
        return to_rgba(default)
    m = re.fullmatch(r"\s*rgba?\(([^)]*)\)\s*", str(value))
    if m:
        parts = [float(p) for p in m.group(1).split(",")]
        r, g, b = (p / 255.0 for p in parts[:3])
        return (r, g, b, parts[3] if len(parts) > 3 else 1.0)
    return to_rgba(value)


def _x(values) -> np.ndarray:
    arr = np.asarray(values if values is not None else [])
    if arr.dtype.kind in "OU" and len(arr) and isinstance(arr[0], str) and re.fullmatch(r"\d{4}-\d{2}.*", arr[0]):
        return arr.astype("datetime64[D]")
    return arr


def _title(obj) -> str:
    t = getattr(obj, "title", None)
    return (t.text or "") if t is not None else ""


def _scatter(ax, tr, previous_y, previous_x):
    x, y = _x(tr.x), np.asarray(tr.y if tr.y is not None else [], dtype=float)
    mode = tr.mode or "lines"
    line_colour = colour(tr.line.color if tr.line else None)
    label = tr.name if tr.showlegend is not False and tr.name else None
    if tr.fill == "tonexty" and previous_y is not None and len(previous_y) == len(y):
        ax.fill_between(previous_x, previous_y, y, color=colour(tr.fillcolor, default="#1f77b4"), lw=0,
                        label=label if "lines" not in mode or not (tr.line and tr.line.width) else None)
    if "lines" in mode and not (tr.line and tr.line.width == 0):
        ax.plot(x, y, color=line_colour, lw=(tr.line.width or 2) * 0.75, ls=DASHES.get(tr.line.dash, "-"),
                alpha=tr.opacity if tr.opacity is not None else 1.0, label=label)
    if "markers" in mode:
        mk = tr.marker
        ax.scatter(x, y, s=((mk.size or 6) * 0.9) ** 2, marker=MARKERS.get(mk.symbol, "o"),
                   color=colour(mk.color if isinstance(mk.color, str) else None), zorder=3,
                   label=label if "lines" not in mode else None)
    return x, y


def _heatmap(fig, ax, tr):
    z = np.asarray(tr.z, dtype=float)
    im = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(z.shape[1]), [str(v) for v in (tr.x if tr.x is not None else range(z.shape[1]))],
                  rotation=45, ha="right")
    ax.set_yticks(range(z.shape[0]), [str(v) for v in (tr.y if tr.y is not None else range(z.shape[0]))])
    if tr.text is not None and z.size <= 100:
        for (i, j), v in np.ndenumerate(z):
            if np.isfinite(v):
                ax.text(j, i, tr.text[i][j], ha="center", va="center", fontsize=8, color="w")
    bar_title = tr.colorbar.title.text if tr.colorbar and tr.colorbar.title else None
    fig.colorbar(im, ax=ax, label=bar_title or "")


def render(fig_plotly, fmt: str = "png", width_px: int | None = None, height_px: int | None = None) -> bytes:
    """The figure as PNG or SVG bytes.

    Args:
        fig_plotly: a ``plotly.graph_objects.Figure``.
        fmt: "png" or "svg".
        width_px, height_px: size; by default the layout's, else 900 x 450.
    """
    if fmt not in ("png", "svg"):
        raise ValueError(f"format must be png or svg, not {fmt!r}")
    lay = fig_plotly.layout
    w = width_px or lay.width or 900
    h = height_px or lay.height or 450
    fig = Figure(figsize=(w / 100.0, h / 100.0), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    prev_x = prev_y = None
    for tr in fig_plotly.data:
        if tr.visible is False or tr.visible == "legendonly":
            continue
        if tr.type in ("scatter", "scattergl"):
            prev_x, prev_y = _scatter(ax, tr, prev_y, prev_x)
        elif tr.type == "heatmap":
            _heatmap(fig, ax, tr)
        elif tr.type == "bar":
            horizontal = tr.orientation == "h"
            vals, cats = (tr.x, tr.y) if horizontal else (tr.y, tr.x)
            (ax.barh if horizontal else ax.bar)([str(c) for c in cats], np.asarray(vals, dtype=float),
                                                color=colour(tr.marker.color if isinstance(tr.marker.color, str)
                                                             else None), label=tr.name or None)
    for shape in lay.shapes or ():
        if shape.type == "line" and shape.yref == "paper" and shape.x0 == shape.x1:
            ax.axvline(_x([shape.x0])[0], color=colour(shape.line.color, "#9467bd"), lw=1, alpha=0.8)
    for ann in lay.annotations or ():
        if ann.yref == "paper" and ann.x is not None and ann.text:
            ax.annotate(re.sub(r"<[^>]+>", " ", ann.text), (_x([ann.x])[0], ann.y or 1.0),
                        xycoords=("data", "axes fraction"), rotation=90 if ann.textangle == -90 else 0,
                        fontsize=8, va="top", color=colour(ann.font.color if ann.font else None, "#555555"))
    if lay.yaxis.type == "log":
        ax.set_yscale("log")
    ax.set_title(_title(lay), loc="left", fontsize=11)
    ax.set_xlabel(_title(lay.xaxis))
    ax.set_ylabel(_title(lay.yaxis))
    if not any(tr.type == "heatmap" for tr in fig_plotly.data):
        ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(5, len(handles)), fontsize=8,
                   frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()
