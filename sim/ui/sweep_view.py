"""Sweep results page: read a sweep's Parquet output, draw fan charts and heatmaps.

Layout read (as written by the sweep runner)::

    DIR/runs/*.parquet     one row per run: a run key, the swept parameters, seed, summary metrics
    DIR/series/*.parquet   optional: ``date`` + series columns for one run (file stem = run key),
                           or many runs in one file with a key column

Parameters are recognised by name (any name of ``configs/parameters.csv``, optionally
prefixed ``param_`` / ``param.``, or one of :data:`EXTRA_PARAMETERS`); every other
numeric column except the seed is a metric.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

KEY_COLUMNS = ("key", "run_key", "run_id")
SEED_COLUMNS = ("seed", "rng")
EXTRA_PARAMETERS = ("scenario",)
PREFIXES = ("param_", "param.", "params.")


@dataclass(frozen=True)
class Sweep:
    """A loaded sweep: one row per run, and (optionally) the long monthly series of every run."""

    directory: Path
    runs: pd.DataFrame
    series: pd.DataFrame | None     # columns: key, date, <series...>
    key: str | None
    parameters: tuple[str, ...]
    metrics: tuple[str, ...]

    @property
    def series_columns(self) -> tuple[str, ...]:
        if self.series is None:
            return ()
        return tuple(c for c in self.series.columns if c not in ("key", "date")
                     and pd.api.types.is_numeric_dtype(self.series[c]))


def _is_parameter(name: str, table: set[str]) -> bool:
    base = name
    for p in PREFIXES:
        if base.startswith(p):
            base = base[len(p):]
    return base in table or base in EXTRA_PARAMETERS


def load_sweep(directory: str | Path) -> Sweep:
    """Read ``runs/*.parquet`` (required) and ``series/*.parquet`` (optional) of a sweep folder."""
    from sim.parameters import load_parameter_table
    d = Path(directory).expanduser()
    files = sorted((d / "runs").glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no runs/*.parquet under {d}")
    runs = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    key = next((k for k in KEY_COLUMNS if k in runs.columns), None)
    table = set(load_parameter_table())
    params = tuple(c for c in runs.columns if _is_parameter(c, table))
    metrics = tuple(c for c in runs.columns if c not in params and c != key and c not in SEED_COLUMNS
                    and pd.api.types.is_numeric_dtype(runs[c]))
    series = None
    sfiles = sorted((d / "series").glob("*.parquet"))
    if sfiles:
        parts = []
        for f in sfiles:
            df = pd.read_parquet(f)
            k = next((c for c in KEY_COLUMNS if c in df.columns), None)
            df = df.rename(columns={k: "key"}) if k else df.assign(key=f.stem)
            parts.append(df)
        series = pd.concat(parts, ignore_index=True)
        series["date"] = series["date"].astype(str).str.slice(0, 7)
    return Sweep(d, runs, series, key, params, metrics)


def fan_quantiles(series: pd.DataFrame, column: str, q=(0.1, 0.5, 0.9)) -> pd.DataFrame:
    """Quantiles of ``column`` across runs for each date (columns = quantiles, index = date)."""
    wide = series.pivot_table(index="date", columns="key", values=column)
    return wide.quantile(list(q), axis=1).T.sort_index()


def _year(dates) -> np.ndarray:
    d = pd.Series(list(dates)).astype(str).str.split("-", expand=True).astype(int)
    return (d[0] + (d[1] - 1) / 12.0).to_numpy()


def fan_chart_png(sweep: Sweep, column: str, by: str | None = None) -> bytes:
    """Median and 10-90 % band over time of a series, optionally one fan per value of ``by``."""
    fig = Figure(figsize=(7.5, 3.4), layout="constrained")
    ax = fig.subplots()
    groups = [(None, sweep.series)]
    if by and sweep.key and by in sweep.runs.columns:
        keymap = sweep.runs.set_index(sweep.key)[by]
        values = sorted(keymap.unique())[:6]
        groups = [(v, sweep.series[sweep.series["key"].map(keymap) == v]) for v in values]
    for i, (value, df) in enumerate(groups):
        if df is None or df.empty:
            continue
        q = fan_quantiles(df, column)
        x = _year(q.index)
        colour = f"C{i}"
        label = "median" if value is None else f"{by} = {value:g}" if isinstance(value, (int, float)) else f"{by} = {value}"
        ax.fill_between(x, q[0.1], q[0.9], color=colour, alpha=0.22, lw=0)
        ax.plot(x, q[0.5], color=colour, lw=1.6, label=label)
    if "price" in column:
        ax.set_yscale("log")
    ax.set_title(f"{column}: median and 10-90 % band across runs", fontsize=9, loc="left")
    ax.grid(True, lw=0.3)
    ax.legend(fontsize=7)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def heatmap_table(runs: pd.DataFrame, outcome: str, x: str, y: str, bins: int = 6) -> pd.DataFrame:
    """Median of ``outcome`` over a grid of two parameters (binned into quantiles if continuous)."""
    df = runs[[outcome, x, y]].copy()
    for c in (x, y):
        if pd.api.types.is_numeric_dtype(df[c]) and df[c].nunique() > bins:
            df[c] = pd.qcut(df[c], bins, duplicates="drop").apply(lambda iv: round(iv.mid, 4)).astype(float)
    return df.pivot_table(index=y, columns=x, values=outcome, aggfunc="median").sort_index(ascending=False)


def heatmap_png(sweep: Sweep, outcome: str, x: str, y: str) -> bytes:
    """Heatmap of the median outcome over two swept parameters, with the value in each cell."""
    table = heatmap_table(sweep.runs, outcome, x, y)
    fig = Figure(figsize=(6.0, 4.2), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(table.to_numpy(dtype=float), cmap="viridis", aspect="auto")
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in table.columns],
                  fontsize=7)
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in table.index],
                  fontsize=7)
    ax.set_xlabel(x, fontsize=8)
    ax.set_ylabel(y, fontsize=8)
    vals = table.to_numpy(dtype=float)
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            if np.isfinite(vals[i, j]):
                ax.text(j, i, f"{vals[i, j]:.3g}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(im, ax=ax, label=outcome)
    ax.set_title(f"median {outcome}", fontsize=9, loc="left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()
