"""The Simulate page's charts as Plotly figures: live run over a faint baseline, with event markers.

Every time chart spans the scenario's whole horizon and draws the baseline (the same scenario and
seed, no levers, no shocks) faintly behind the live run, so the page is never empty and every
change reads as a difference from the baseline. Scenario events and the session's shocks are
labelled markers; labels close in time go to separate rows so they never overlap. Figures are plain
``plotly.graph_objects.Figure`` objects: the page shows them interactively and
:mod:`sim.static_figures` turns the same figures into PNG/SVG files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calendar import month_index, month_name
from sim.sweep_results import GRID, PALETTE, STYLE

GOODS = ("La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy", "Y", "NdFeB")
DEFAULT_ELEMENTS = ("Nd", "Tb", "Dy", "NdFeB")
STAGES = ("mining", "separation", "magnets")
FONT = dict(size=13)
BASELINE_OPACITY = 0.35
EVENT_COLOUR = "#9467bd"
SHOCK_COLOUR = "#d62728"
LABEL_ROWS = 4
LABEL_CHARS = 16              # a marker's label is cut to this many characters (the full text is in its hover)
CHAR_FRAC = 0.0125            # share of the x range one label character takes on a chart ~600 px wide
GOOD_COLOURS = {"ore": "#8c564b", "oxide": "#1f77b4", "magnet": "#d62728"}
LIVE = "live:"                # trace ``meta`` of a live line: "live:<column>" (updated every frame)


def dates(frame: pd.DataFrame) -> np.ndarray:
    """The frame's ``date`` column as "YYYY-MM-01" strings (Plotly reads them as dates; a datetime64
    array would reach the browser as raw integers)."""
    return np.char.add(frame["date"].to_numpy(dtype=str), "-01").astype(object)


def values(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype=float)


def horizon_dates(start: str, end: str) -> np.ndarray:
    """Every month from ``start`` to ``end`` as "YYYY-MM-01" strings (the x of a live line on a page)."""
    first = month_index(start)
    return np.array([f"{month_name(first + k)}-01" for k in range(month_index(end) - first + 1)], dtype=object)


def with_horizon_x(fig, start: str, end: str):
    """Give every live line the whole horizon as x, so a frame only needs to send its y.

    Plotly draws a line over min(len(x), len(y)) points, so a y as long as the months simulated so
    far draws exactly the run; a frame then sends one float array per line (a binary buffer) instead
    of the growing list of date strings as well.
    """
    x = horizon_dates(start, end)
    for tr in fig.data:
        if isinstance(tr.meta, str) and tr.meta.startswith(LIVE):
            tr.x = x
            tr.y = page_y(np.asarray(tr.y if tr.y is not None else (), dtype=float))
    return fig


def page_y(y: np.ndarray) -> np.ndarray:
    """A live line's y as the page gets it: before the first month one missing value, not an empty array.

    Plotly hides a line with no points, legend entry and all, so the legend would be missing until a
    month is drawn (and redrawing hidden lines alone takes the other lines off the chart)."""
    return y if len(y) else np.full(1, np.nan)


@dataclass(frozen=True)
class Mark:
    """A labelled vertical marker: a scenario event or a shock, at a month."""

    month: str
    label: str
    detail: str
    shock: bool


def event_marks(spec, shock_log) -> list[Mark]:
    """The scenario's own events (grouped by month) and the session's shocks, in time order."""
    by_month: dict[str, list[str]] = {}
    for ev in spec.events:
        who = getattr(ev, "nation", None) or getattr(ev, "investor", None) or ""
        by_month.setdefault(ev.at, []).append(f"{ev.type.replace('_', ' ')} {who}".strip())
    marks = [Mark(m, items[0] if len(items) == 1 else f"{len(items)} events", "<br>".join(items), False)
             for m, items in by_month.items() if spec.start <= m <= spec.end]
    marks += [Mark(m, label, label, True) for m, label in shock_log]
    return sorted(marks, key=lambda k: (k.month, k.shock))


def label_rows(marks: list[Mark], start: str, end: str) -> list[int | None]:
    """A row for each mark's label so that labels never overlap (greedy, in time order); None when no row
    has room (that mark keeps its line and hover text but shows no label)."""
    span = max(1, month_index(end) - month_index(start))
    free_from = [-10**9] * LABEL_ROWS           # month where each row is free again
    rows: list[int | None] = []
    for m in marks:
        x = month_index(m.month)
        row = next((r for r in range(LABEL_ROWS) if x >= free_from[r]), None)
        if row is not None:
            free_from[row] = x + (len(m.label[:LABEL_CHARS]) + 1) * CHAR_FRAC * span
        rows.append(row)
    return rows


def _layout(fig, title: str, y_title: str, start: str, end: str, marks: list[Mark], log: bool = False,
            height: int = 400) -> None:
    shapes, annotations = [], []
    for m, row in zip(marks, label_rows(marks, start, end)):
        colour = SHOCK_COLOUR if m.shock else EVENT_COLOUR
        shapes.append(dict(type="line", xref="x", yref="paper", x0=m.month, x1=m.month, y0=0, y1=1,
                           line=dict(color=colour, width=1.2, dash="solid" if m.shock else "dot")))
        annotations.append(dict(x=m.month, xref="x", y=1.0 - 0.075 * (row or 0), yref="paper",
                                text=m.label[:LABEL_CHARS] if row is not None else "•",
                                hovertext=f"{m.month}: {m.detail}", showarrow=False, xanchor="left",
                                yanchor="top", font=dict(size=12, color=colour), bgcolor="rgba(255,255,255,0.8)"))
    fig.update_layout(
        title=dict(text=title, font=dict(size=15)), font=FONT, height=height, **STYLE,
        margin=dict(l=70, r=20, t=50, b=40), hovermode="x unified", shapes=shapes, annotations=annotations,
        legend=dict(orientation="h", yanchor="top", y=-0.12, x=0, font=dict(size=12)),
        xaxis=dict(range=[f"{start}-01", f"{end}-28"], type="date", hoverformat="%Y-%m", gridcolor=GRID),
        yaxis=dict(title=y_title, type="log" if log else "linear", gridcolor=GRID,
                   **({"dtick": "D2"} if log else {})))   # log axis: 1, 2, 5 per decade (not every digit)


def _line(go, frame, column, name, colour, unit, *, baseline=False, dash=None, group=None, show=True):
    return go.Scatter(
        x=dates(frame), y=values(frame, column), meta=None if baseline else LIVE + column, name=f"{name} (baseline)" if baseline else name, mode="lines", legendgroup=group or name,
        line=dict(color=colour, width=1.5 if baseline else 2.4, dash=dash or ("dot" if baseline else None)),
        opacity=BASELINE_OPACITY if baseline else 1.0, showlegend=show,
        hovertemplate=f"%{{y:.4g}} {unit}")


def price_figure(frame: pd.DataFrame, baseline: pd.DataFrame, spec, marks: list[Mark],
                 elements=DEFAULT_ELEMENTS, log: bool = True, history: pd.DataFrame | None = None):
    """Prices outside China (USD/kg): live run, baseline, and recorded prices as points (history mode)."""
    import plotly.graph_objects as go
    fig = go.Figure()
    for i, g in enumerate(GOODS):
        if g not in elements:
            continue
        colour, col = PALETTE[i % len(PALETTE)], f"price_{g}_usd_per_kg"
        fig.add_trace(_line(go, baseline, col, g, colour, "USD/kg", baseline=True,
                            show=False))
        fig.add_trace(_line(go, frame, col, g, colour, "USD/kg"))
        if history is not None:
            h = history[(history["element"] == g) & ~history["inside_china"]]
            if len(h):
                fig.add_trace(go.Scatter(
                    x=np.char.add(h["date"].to_numpy(dtype=str), "-01").astype(object),
                    y=h["price_usd_per_kg"].to_numpy(dtype=float), mode="markers", name=f"{g} recorded",
                    legendgroup=g, marker=dict(color=colour, size=10, symbol="diamond",
                                               line=dict(color="black", width=1)),
                    customdata=h["source"].to_numpy(dtype=str), hovertemplate="recorded %{y:.4g} USD/kg (%{customdata})"))
    _layout(fig, "Prices outside China (dotted: baseline" + ("; diamonds: recorded)" if history is not None
                                                            else ")"),
            "USD/kg (oxide; NdFeB magnet)", spec.start, spec.end, marks, log=log, height=440)
    return fig


def china_figure(frame, baseline, spec, marks):
    """China's share of world output by stage (0-1)."""
    import plotly.graph_objects as go
    fig = go.Figure()
    for i, stage in enumerate(STAGES):
        col, colour = f"china_share_{stage}", PALETTE[i]
        fig.add_trace(_line(go, baseline, col, stage, colour, "share", baseline=True,
                            show=False))
        fig.add_trace(_line(go, frame, col, stage, colour, "share"))
    _layout(fig, "China's share of world output (dotted: baseline)", "share of world output (0-1)",
            spec.start, spec.end, marks)
    fig.update_yaxes(range=[0, 1.05])
    return fig


def shortage_figure(frame, baseline, spec, marks, top: int = 4):
    """World shortage (t/month): total, baseline, and the sectors short the most so far."""
    import plotly.graph_objects as go
    fig = go.Figure()
    fig.add_trace(_line(go, baseline, "shortage_t", "all sectors", "#333333", "t/month",
                        baseline=True, show=False))
    fig.add_trace(_line(go, frame, "shortage_t", "all sectors", "#333333", "t/month"))
    sectors = [c for c in frame.columns if c.startswith("shortage_") and c.endswith("_t")
               and c[9:-2].islower() and c != "shortage_t"]
    totals = sorted(((float(frame[c].sum()), c) for c in sectors), reverse=True)
    for i, (total, col) in enumerate(totals[:top]):
        if total > 0:
            fig.add_trace(_line(go, frame, col, col[9:-2].replace("_", " "),
                                PALETTE[(i + 1) % len(PALETTE)], "t/month", dash="dash"))
    _layout(fig, "Shortage: need not met (dotted: baseline)", "t per month", spec.start, spec.end, marks)
    return fig


def stockpile_figure(frame, baseline, spec, marks):
    """Strategic stockpiles of every nation and speculators' stock (t REO)."""
    import plotly.graph_objects as go
    fig = go.Figure()
    for col, name, colour in (("stockpile_total_t", "strategic stockpiles", "#1f77b4"),
                              ("speculative_stock_t", "speculators' stock", "#ff7f0e")):
        fig.add_trace(_line(go, baseline, col, name, colour, "t", baseline=True, show=False))
        fig.add_trace(_line(go, frame, col, name, colour, "t"))
    _layout(fig, "Stockpiles (dotted: baseline)", "t REO", spec.start, spec.end, marks)
    return fig


def describe(fig, column=None) -> str:
    """Alt text: the chart's title and the latest value of each live line.

    ``column(name)`` (-> the run's series so far), when given, supplies the live lines' values, so a
    page describes its chart as it is now without rebuilding the figure."""
    parts = []
    for tr in fig.data:
        if tr.type != "scatter" or tr.mode != "lines" or tr.opacity not in (None, 1.0):
            continue
        live = column is not None and isinstance(tr.meta, str) and tr.meta.startswith(LIVE)
        y = column(tr.meta[len(LIVE):]) if live else tr.y
        if y is not None and len(y) and tr.x is not None and len(tr.x) >= len(y):
            parts.append(f"{tr.name} {float(y[-1]):.4g} in {str(tr.x[len(y) - 1])[:7]}")
    title = fig.layout.title.text or ""
    return f"{title}. Latest: " + ("; ".join(parts) if parts else "not started") + "."


def chart_table(fig, months: int = 24) -> pd.DataFrame:
    """The data behind a time chart: one column per line (live and baseline), the last ``months`` months."""
    cols, last = {}, None
    for tr in fig.data:
        if tr.type == "scatter" and tr.x is not None and tr.y is not None and len(tr.y) and tr.mode == "lines":
            n = min(len(tr.x), len(tr.y))           # a live line on a page has the whole horizon as x
            cols[tr.name] = pd.Series(np.asarray(tr.y[:n], dtype=float), index=[str(x)[:7] for x in tr.x[:n]])
            if tr.opacity in (None, 1.0):
                last = max(last or "", str(tr.x[n - 1])[:7])
    table = pd.DataFrame(cols)
    if last:
        table = table[table.index <= last]
    table = table.tail(months).map(lambda v: float(f"{v:.4g}") if np.isfinite(v) else v)
    table.index.name = "month"
    return table.reset_index()


def live_updates(column, fig) -> dict[str, dict]:
    """New y of every live line of ``fig`` (traces whose ``meta`` is "live:<column>"), read with
    ``column(name)`` (-> float array of the months simulated so far); x is the horizon (:func:`with_horizon_x`)."""
    out = {}
    for tr in fig.data:
        if isinstance(tr.meta, str) and tr.meta.startswith(LIVE):
            y = column(tr.meta[len(LIVE):])
            if y is not None:
                out[tr.meta] = dict(y=page_y(y))
    return out


KPIS = (  # column, label, unit, scale
    ("price_Nd_usd_per_kg", "Nd oxide outside China", "USD/kg", 1.0),
    ("price_Dy_usd_per_kg", "Dy oxide outside China", "USD/kg", 1.0),
    ("price_Tb_usd_per_kg", "Tb oxide outside China", "USD/kg", 1.0),
    ("china_share_mining", "China's share of mining", "%", 100.0),
    ("china_share_separation", "China's share of separation", "%", 100.0),
    ("shortage_frac", "Shortage (need not met)", "%", 100.0),
    ("central_asia_mine_output_t", "Central Asian mine output", "t/month", 1.0),
)


@dataclass(frozen=True)
class Kpi:
    label: str
    value: float
    unit: str
    vs_baseline: float | None       # value minus the baseline's in the same month
    since_shock: float | None       # value minus its value in the month before the last shock


def _at(seq, i: int):
    """Item ``i`` (by position) of a pandas Series or a list."""
    return seq.iat[i] if hasattr(seq, "iat") else seq[i]


def kpis(columns, baseline, last_shock_month: str | None) -> list[Kpi]:
    """Headline numbers of the latest month, against the baseline and since the last shock.

    Args:
        columns: the run's monthly series by column name (a DataFrame, or the collector's dict of
            lists, read without building a frame), starting at the scenario's start like ``baseline``.
        baseline: the baseline's series the same way (a DataFrame or a dict of arrays).
    """
    dates_ = columns["date"]
    n = len(dates_)
    if n == 0:
        return []
    first = month_index(str(_at(dates_, 0)))
    base_dates = baseline["date"]
    base_i = n - 1 + first - month_index(str(_at(base_dates, 0)))
    if not (0 <= base_i < len(base_dates) and str(_at(base_dates, base_i)) == str(_at(dates_, n - 1))):
        base_i = None
    # the month before the last shock (or the latest month if the shock is still to come)
    before_i = min(n, month_index(last_shock_month) - first) - 1 if last_shock_month else -1
    out = []
    for col, label, unit, scale in KPIS:
        if col not in columns:
            continue
        series = columns[col]
        v = float(_at(series, n - 1)) * scale
        b = float(_at(baseline[col], base_i)) * scale if base_i is not None else None
        s = float(_at(series, before_i)) * scale if before_i >= 0 else None
        out.append(Kpi(label, v, unit, None if b is None else v - b, None if s is None else v - s))
    return out


def fmt_number(v: float) -> str:
    """3 significant digits, thousands separated."""
    if v is None or not np.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def fmt_change(d: float | None, unit: str) -> str:
    if d is None or not np.isfinite(d):
        return "-"
    return ("+" if d >= 0 else "−") + fmt_number(abs(d)) + (" pp" if unit == "%" else f" {unit}")
