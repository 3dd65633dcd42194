"""Plots of model series as matplotlib Figures (no pyplot: safe in threads and servers).

Axis units come from :func:`sim.outputs.unit_of`, the one table of units."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.dates import YearLocator
from matplotlib.figure import Figure

from sim.outputs import unit_of
from sim.parameters import AT_EDGE_FRAC
from sim.world import ELEMENTS, SECTORS

STAGES = ("mining", "separation", "magnets")


def month_dates(df: pd.DataFrame) -> pd.Series:
    """The ``date`` column of a run's table (``YYYY-MM``) as dates, for a time axis."""
    return pd.to_datetime(df["date"], format="%Y-%m")


def _finish(fig: Figure, ax, title: str, ylabel: str) -> Figure:
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(YearLocator(base=2 if ax.get_xlim()[1] - ax.get_xlim()[0] < 4000 else 5))
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def prices_figure(df: pd.DataFrame, title: str = "Oxide prices") -> Figure:
    """Prices by element on a log scale: outside China (solid) and inside China (dashed)."""
    fig = Figure(figsize=(10, 5.5))
    ax = fig.add_subplot()
    t = month_dates(df)
    colours = matplotlib.colormaps["tab10"]
    for k, el in enumerate(ELEMENTS):
        c = colours(k % 10)
        ax.plot(t, df[f"price_{el}_usd_per_kg"], color=c, lw=1.6, label=el)
        ax.plot(t, df[f"price_{el}_china_usd_per_kg"], color=c, lw=0.9, ls="--")
    ax.set_yscale("log")
    ax.legend(ncol=5, fontsize=8, title="solid: outside China (FOB); dashed: inside China", title_fontsize=8)
    return _finish(fig, ax, title, f"oxide price ({unit_of('price_Nd_usd_per_kg')}, log scale)")


def china_share_figure(df: pd.DataFrame, title: str = "China's share of world output") -> Figure:
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    t = month_dates(df)
    for stage in STAGES:
        ax.plot(t, df[f"china_share_{stage}"], label=stage)
    ax.set_ylim(0, 1.02)
    ax.legend()
    return _finish(fig, ax, title, f"share of world output ({unit_of('china_share_mining')})")


def shortages_figure(df: pd.DataFrame, title: str = "Unmet demand by sector") -> Figure:
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    t = month_dates(df)
    data = [df[f"shortage_{s}_t"].to_numpy() for s in SECTORS]
    ax.stackplot(t, data, labels=SECTORS)
    total = float(np.sum(data, axis=0).max()) if data else 0.0
    if total <= 0:                           # nothing unmet: say so instead of an axis around zero
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.5, "no unmet demand in this run", transform=ax.transAxes, ha="center", va="center",
                fontsize=11, color="dimgrey")
    else:
        ax.set_ylim(0, total * 1.05)
        ax.legend(ncol=2, fontsize=7, loc="upper left")
    return _finish(fig, ax, title, f"unmet demand ({unit_of('shortage_t')} REO per month)")


def plt_colours() -> list[str]:
    """Matplotlib's default colour cycle (tab10) as hex strings."""
    return list(matplotlib.rcParams["axes.prop_cycle"].by_key()["color"])


def mine_output_figure(df: pd.DataFrame, nations: tuple[str, ...], top: int = 8,
                       title: str = "Mine output by country") -> Figure:
    """Monthly mine output of the largest producers (the rest summed as 'other')."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    t = month_dates(df)
    cols = [f"mine_output_{iso}_t" for iso in nations]
    totals = df[cols].sum().sort_values(ascending=False)
    keep = list(totals.index[:top])
    colours = [c for c in plt_colours() if c != "#7f7f7f"]            # grey is kept for 'other'
    for k, c in enumerate(keep):
        ax.plot(t, df[c], label=c.removeprefix("mine_output_").removesuffix("_t"), color=colours[k % len(colours)])
    ax.plot(t, df[[c for c in cols if c not in keep]].sum(axis=1), color="grey", ls="--", label="other")
    ax.set_yscale("symlog", linthresh=100)
    ax.legend(ncol=3, fontsize=8)
    return _finish(fig, ax, title, f"mine output ({unit_of('mine_output_CHN_t')} REO per month, symlog)")


def run_figures(df: pd.DataFrame, nations: tuple[str, ...], label: str = "") -> dict[str, Figure]:
    """The standard set of figures for one run, by file stem."""
    suffix = f" ({label})" if label else ""
    return {
        "prices": prices_figure(df, "Oxide prices" + suffix),
        "china_share": china_share_figure(df, "China's share of world output" + suffix),
        "shortages": shortages_figure(df, "Unmet demand by sector" + suffix),
        "mine_output": mine_output_figure(df, nations, title="Mine output by country" + suffix),
    }


def calibration_figure(log: pd.DataFrame, fitted: pd.DataFrame, prior_loss: float) -> Figure:
    """What a calibration did: the loss of every parameter set tried, with the running best against the
    priors' loss; and where each fitted value sits in its range next to its prior, the edges shaded (a fit at
    a bound says a mechanism is missing).

    Args:
        log: one row per parameter set tried, with ``loss`` (``sim.validate.calibrate_search``'s log).
        fitted: the fitted-values table (``name``, ``value``, ``prior``, ``min``, ``max``).
        prior_loss: the loss at the priors.
    """
    fig = Figure(figsize=(11, max(3.5, 0.32 * len(fitted) + 1.5)))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
    losses = log["loss"].to_numpy(float)
    tried = np.arange(1, len(losses) + 1)
    left.scatter(tried, losses, s=14, c=log["generation"] if "generation" in log else None, cmap="viridis",
                 label="parameter set tried (colour: generation)")
    left.plot(tried, np.minimum.accumulate(losses), color="black", lw=1.5, label="best so far")
    left.axhline(prior_loss, color="grey", ls="--", lw=1, label=f"priors ({prior_loss:.2f})")
    left.set_xlabel("parameter set")
    left.set_ylabel("loss (sum of squared log distances to band centres)")
    left.set_title("Search")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    width = (fitted["max"] - fitted["min"]).replace(0, np.nan)
    pos = ((fitted["value"] - fitted["min"]) / width).to_numpy(float)
    prior = ((fitted["prior"] - fitted["min"]) / width).to_numpy(float)
    rows = np.arange(len(fitted))
    for edge in ((0, AT_EDGE_FRAC), (1 - AT_EDGE_FRAC, 1)):
        right.axvspan(*edge, color="tab:red", alpha=0.12, lw=0)
    right.scatter(prior, rows, facecolors="none", edgecolors="grey", s=40, label="prior")
    at_edge = (pos <= AT_EDGE_FRAC) | (pos >= 1 - AT_EDGE_FRAC)
    right.scatter(pos[~at_edge], rows[~at_edge], color="tab:blue", s=30, label="fitted")
    right.scatter(pos[at_edge], rows[at_edge], color="tab:red", s=30, label="fitted, at an edge of its range")
    right.set_yticks(rows, fitted["name"].tolist(), fontsize=8)
    right.set_xlim(-0.02, 1.02)
    right.set_xlabel("position in its range (min = 0, max = 1)")
    right.set_title("Fitted values")
    right.invert_yaxis()
    right.grid(alpha=0.3, axis="x")
    right.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
