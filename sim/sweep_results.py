"""Reading a sweep's output folder and drawing its fan charts and heatmaps (one implementation).

``reesim sweep`` (its PNG figures) and the UI's Sweep results page (interactive charts) both
use this module: the reader (:func:`open_sweep`, :func:`read_runs`, :func:`read_series`,
:func:`read_spec`), the summaries (:func:`fan_bands`, :func:`heatmap_table`) and the Plotly
figures built from them (:func:`fan_figure`, :func:`heatmap_figure`). Static PNG/SVG files
are rendered from the same figures by :mod:`sim.static_figures`.

Layout read (as :class:`sim.sweep.ResultStore` writes it)::

    ROOT/spec.json          the resolved spec: parameters, metrics, series, plots
    ROOT/runs/*.parquet     one row per run: run_key, point, replicate, seed, parameters,
                            metrics, status ("ok" | "failed"), error, timing
    ROOT/series/*.parquet   monthly series of the runs (run_key, point, replicate, seed, date, ...)

Files whose names start with ``.`` or ``_`` (half-written) are ignored, as pyarrow's dataset
reader does; a run key written twice (a resumed batch) counts once, an ``ok`` row winning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

FIXED_COLUMNS = ("run_key", "point", "replicate", "seed")
TAIL_COLUMNS = ("status", "error", "duration_s", "finished_unix")
SERIES_KEYS = ("run_key", "point", "replicate", "seed", "date")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)   # fixed fan bands: 5-95 %, 25-75 % and the median
MAX_FANS = 6                                  # more groups than this are drawn as one fan


# ---------------------------------------------------------------------- reading
def _dataset(folder: Path) -> ds.Dataset | None:
    files = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_"))) \
        if folder.is_dir() else []
    return ds.dataset([str(p) for p in files], format="parquet") if files else None


def read_spec(root: str | Path) -> dict:
    """The resolved spec a results folder was written from (``spec.json``)."""
    return json.loads((Path(root) / "spec.json").read_text())


def read_runs(root: str | Path, columns: list[str] | None = None,
              schema: pa.Schema | None = None) -> pd.DataFrame:
    """One row per run key (an ``ok`` row wins over a ``failed`` one), ordered by point and replicate.

    Args:
        root: the sweep's folder.
        columns: columns to return (all by default).
        schema: the runs schema, used to give an empty frame its columns when nothing is written yet.
    """
    data = _dataset(Path(root) / "runs")
    if data is None:
        if schema is None:
            return pd.DataFrame(columns=columns or list(FIXED_COLUMNS) + list(TAIL_COLUMNS))
        return schema.empty_table().to_pandas()[columns or schema.names]
    cols = None if columns is None else list(dict.fromkeys(["run_key", "status", *columns]))
    frame = data.to_table(columns=cols).to_pandas()
    frame["_ok"] = frame["status"] == "ok"
    frame = (frame.sort_values(["_ok"], ascending=False, kind="stable")
             .drop_duplicates("run_key").drop(columns="_ok"))
    sort = [c for c in ("point", "replicate") if c in frame.columns]
    frame = frame.sort_values(sort or "run_key").reset_index(drop=True)
    return frame[columns] if columns else frame


def read_series(root: str | Path) -> pd.DataFrame:
    """Monthly series of every finished run (``run_key``, ``point``, ``replicate``, ``seed``, ``date``, ...)."""
    data = _dataset(Path(root) / "series")
    if data is None:
        return pd.DataFrame(columns=list(SERIES_KEYS))
    frame = data.to_table().to_pandas()
    return frame.drop_duplicates(["run_key", "date"]).reset_index(drop=True)


def read_units(root: str | Path) -> dict[str, str]:
    """Unit of each metric, from the runs files' schema metadata ('' where unknown)."""
    data = _dataset(Path(root) / "runs")
    meta = (data.schema.metadata or {}) if data is not None else {}
    try:
        return json.loads(meta.get(b"units", b"{}"))
    except (ValueError, TypeError):
        return {}


@dataclass(frozen=True)
class SweepOutput:
    """A sweep's results as the spec describes them: ok runs, failed runs apart, series of ok runs."""

    name: str
    description: str
    spec: dict
    parameters: tuple[str, ...]
    metrics: tuple[str, ...]
    series_columns: tuple[str, ...]
    units: dict
    runs: pd.DataFrame        # status == "ok"
    failed: pd.DataFrame      # status != "ok": run_key, point, replicate, seed, parameters, error
    series: pd.DataFrame      # series of the ok runs only

    @property
    def heatmaps(self) -> list[dict]:
        """The spec's heatmaps ({x, y, metric}), else the first two parameters and the first metric."""
        listed = list((self.spec.get("plots") or {}).get("heatmap") or [])
        if listed:
            return listed
        if len(self.parameters) >= 2 and self.metrics:
            return [{"x": self.parameters[0], "y": self.parameters[1], "metric": self.metrics[0]}]
        return []


def open_sweep(root: str | Path) -> SweepOutput:
    """Read a sweep folder: parameters and metrics named by its ``spec.json``, failed runs apart."""
    root = Path(root)
    spec = read_spec(root)
    parameters = tuple(p["name"] for p in spec.get("parameters", []))
    metrics = tuple(m["name"] for m in spec.get("metrics", []))
    runs = read_runs(root)
    ok = runs["status"] == "ok"
    failed_cols = [c for c in (*FIXED_COLUMNS, *parameters, "error") if c in runs.columns]
    series = read_series(root)
    if len(series):
        series = series[series["run_key"].isin(set(runs.loc[ok, "run_key"]))].reset_index(drop=True)
    columns = tuple(c for c in spec.get("series", []) if c in series.columns)
    return SweepOutput(name=str(spec.get("name", root.name)), description=str(spec.get("description", "")),
                       spec=spec, parameters=parameters, metrics=metrics, series_columns=columns,
                       units=read_units(root), runs=runs[ok].reset_index(drop=True),
                       failed=runs.loc[~ok, failed_cols].reset_index(drop=True), series=series)


def list_sweeps(results_root: str | Path) -> list[str]:
    """Names (paths relative to ``results_root``, '/'-separated) of the sweep folders under it, sorted."""
    root = Path(results_root)
    if not root.is_dir():
        return []
    found = {spec.parent.relative_to(root).as_posix() for spec in root.rglob("spec.json")
             if not any(part.startswith(".") for part in spec.relative_to(root).parts)}
    return sorted(found)


def sweep_folder(results_root: str | Path, name: str) -> Path:
    """The folder of sweep ``name``, which must be one of :func:`list_sweeps` (no other path is read)."""
    if name not in list_sweeps(results_root):
        raise KeyError(f"no sweep named '{name}' in the results folder")
    return Path(results_root) / name


# ---------------------------------------------------------------------- summaries
def _label(value) -> str:
    return f"{value:.4g}" if isinstance(value, (float, np.floating)) else str(value)


def fan_bands(series: pd.DataFrame, column: str, by: str | None = None,
              runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Quantiles (:data:`QUANTILES`) of ``column`` across runs for each month, per group.

    Args:
        series: long monthly series (``run_key``, ``point``, ``date``, ``column``...).
        column: the series to summarise.
        by: group runs by this column of ``runs`` (a parameter), or by ``point`` when None and there
            are at most :data:`MAX_FANS` points; otherwise one group of every run.
        runs: the runs table (needed for ``by``).

    Returns:
        Columns ``group``, ``date``, ``n``, ``q05``, ``q25``, ``q50``, ``q75``, ``q95``.
    """
    if by is not None and runs is not None and by in runs.columns:
        keymap = runs.set_index("run_key")[by]
        groups = series["run_key"].map(keymap).map(lambda v: f"{by} = {_label(v)}")
    elif by is None and "point" in series.columns and series["point"].nunique() <= MAX_FANS:
        groups = series["point"].map(lambda p: f"point {p}")
    else:
        groups = pd.Series("all runs", index=series.index)
    frame = pd.DataFrame({"group": groups, "run_key": series["run_key"], "date": series["date"].astype(str),
                          "value": pd.to_numeric(series[column], errors="coerce")})
    if frame["group"].nunique() > MAX_FANS:
        frame["group"] = "all runs"
    out = []
    for group, g in frame.groupby("group", sort=True):
        wide = g.pivot_table(index="date", columns="run_key", values="value")
        q = wide.quantile(list(QUANTILES), axis=1).T
        q.columns = [f"q{int(round(x * 100)):02d}" for x in QUANTILES]
        q.insert(0, "n", wide.shape[1])
        q.insert(0, "group", group)
        out.append(q.reset_index())
    cols = ["group", "date", "n"] + [f"q{int(round(x * 100)):02d}" for x in QUANTILES]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def heatmap_table(runs: pd.DataFrame, x: str, y: str, metric: str, *, bins: int = 8) -> pd.DataFrame:
    """Mean of ``metric`` over ok runs on a grid of two parameters (binned when continuous).

    Averages over seeds and over every other parameter; rows are ``y`` values, columns ``x`` values.
    """
    ok = runs[runs["status"] == "ok"] if "status" in runs.columns else runs
    frame = ok[[x, y, metric]].copy() if x != y else ok[[x, metric]].assign(**{"__y": ok[x]})
    ycol = y if x != y else "__y"
    for c in (x, ycol):
        if pd.api.types.is_numeric_dtype(frame[c]) and frame[c].nunique() > bins:
            frame[c] = pd.cut(frame[c], bins).map(lambda iv: round(iv.mid, 6)).astype(float)
    table = frame.pivot_table(index=ycol, columns=x, values=metric, aggfunc="mean", observed=True)
    table.index.name = y
    return table.sort_index().sort_index(axis=1)


# ---------------------------------------------------------------------- figures
FONT = dict(size=13)
GRID = "#e6e6e6"
STYLE = dict(plot_bgcolor="white", paper_bgcolor="white", hoverlabel=dict(font=dict(size=13)))
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def unit_of(column: str, units: dict | None = None) -> str:
    """A column's unit: from ``units`` when known, else the name's unit suffix (``_usd_per_kg`` -> usd/kg)."""
    if units and units.get(column):
        return units[column]
    for suffix, unit in (("_usd_per_kg", "USD/kg"), ("_t_per_yr", "t/yr"), ("_t", "t"), ("_frac", "share"),
                         ("_months", "months"), ("_usd", "USD")):
        if column.endswith(suffix):
            return unit
    return ""


def fan_figure(bands: pd.DataFrame, column: str, unit: str = "", title: str | None = None):
    """Plotly fan chart: per group, the 5-95 % and 25-75 % bands and the median line over time."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (group, g) in enumerate(bands.groupby("group", sort=True)):
        colour = PALETTE[i % len(PALETTE)]
        x = pd.PeriodIndex(g["date"], freq="M").to_timestamp()
        for lo, hi, alpha, band in (("q05", "q95", 0.15, "5-95 %"), ("q25", "q75", 0.3, "25-75 %")):
            fig.add_trace(go.Scatter(x=x, y=g[lo], mode="lines", line=dict(width=0, color=colour),
                                     hoverinfo="skip", showlegend=False, legendgroup=group))
            fig.add_trace(go.Scatter(x=x, y=g[hi], mode="lines", line=dict(width=0, color=colour),
                                     fill="tonexty", fillcolor=_rgba(colour, alpha), name=f"{group} {band}",
                                     hoverinfo="skip", showlegend=False, legendgroup=group))
        n = int(g["n"].iloc[0]) if len(g) else 0
        fig.add_trace(go.Scatter(
            x=x, y=g["q50"], mode="lines", line=dict(width=2, color=colour), legendgroup=group,
            name=f"{group} (n={n})", customdata=np.column_stack([g["q05"], g["q95"]]),
            hovertemplate=(f"{group}<br>%{{x|%Y-%m}}<br>median %{{y:.4g}} {unit}"
                           f"<br>5-95 %%: %{{customdata[0]:.4g}} - %{{customdata[1]:.4g}}<extra></extra>")))
    fig.update_layout(
        title=title or f"{column}: median, 25-75 % and 5-95 % of runs", font=FONT, **STYLE,
        yaxis=dict(title=f"{column} ({unit})" if unit else column, gridcolor=GRID),
        xaxis=dict(title="month", gridcolor=GRID),
        legend=dict(orientation="h", yanchor="top", y=-0.18, x=0), margin=dict(l=70, r=20, t=50, b=90),
        height=430)
    return fig


def heatmap_figure(table: pd.DataFrame, x: str, y: str, metric: str, unit: str = ""):
    """Plotly heatmap of a :func:`heatmap_table`, with the value written in each cell."""
    import plotly.graph_objects as go

    z = table.to_numpy(dtype=float)
    xs = [_label(v) for v in table.columns]
    ys = [_label(v) for v in table.index]
    text = [[_label(v) if np.isfinite(v) else "" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=xs, y=ys, text=text, texttemplate="%{text}" if z.size <= 100 else None,
        colorscale="Viridis", colorbar=dict(title=unit or metric),
        hovertemplate=f"{x} = %{{x}}<br>{y} = %{{y}}<br>mean {metric} = %{{z:.4g}} {unit}<extra></extra>"))
    fig.update_layout(title=f"mean {metric}" + (f" ({unit})" if unit else ""), font=FONT,
                      **STYLE, height=430, xaxis=dict(type="category", title=x), yaxis=dict(type="category", title=y),
                      margin=dict(l=80, r=20, t=50, b=60))
    return fig
