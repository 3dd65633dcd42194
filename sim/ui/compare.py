"""Compare page: two runs with the same seed, side by side, and their differences."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.ui.state import Levers, build_model

PRICE_GOODS = ("Ce", "Nd", "Tb", "Dy", "NdFeB")


def run_levers(levers: Levers, until: str, progress: Callable[[float], None] | None = None) -> pd.DataFrame:
    """Run one model to ``until`` ("YYYY-MM") and return its monthly series."""
    model = build_model(levers, until=until)
    total = max(1, _months_between(model.spec.start, until) + 1)
    k = 0
    while model.running:
        model.step()
        k += 1
        if progress and k % 6 == 0:
            progress(min(1.0, k / total))
    return model.datacollector.get_model_vars_dataframe()


def _months_between(a: str, b: str) -> int:
    ya, ma = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    return (yb - ya) * 12 + (mb - ma)


def _years(df: pd.DataFrame) -> np.ndarray:
    d = df["date"].astype(str).str.split("-", expand=True).astype(int)
    return (d[0] + (d[1] - 1) / 12.0).to_numpy()


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def side_by_side_png(a: pd.DataFrame, b: pd.DataFrame, label_a: str, label_b: str) -> bytes:
    """Prices outside China of a few goods in both runs (shared log y axis)."""
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, df, label in ((axes[0], a, label_a), (axes[1], b, label_b)):
        x = _years(df)
        for g in PRICE_GOODS:
            ax.plot(x, df[f"price_{g}_usd_per_kg"], lw=1.3, label=g)
        ax.set_yscale("log")
        ax.set_title(f"{label}: prices outside China (USD/kg)", fontsize=9, loc="left")
        ax.grid(True, lw=0.3)
    axes[0].legend(fontsize=7, ncols=5)
    return _png(fig)


def difference_png(a: pd.DataFrame, b: pd.DataFrame, label_a: str, label_b: str) -> bytes:
    """B minus A: price change (%), China's share (points), shortage and stockpiles (t)."""
    n = min(len(a), len(b))
    a, b = a.iloc[:n], b.iloc[:n]
    x = _years(a)
    fig = Figure(figsize=(10, 5.2), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    for g in PRICE_GOODS:
        col = f"price_{g}_usd_per_kg"
        axes[0].plot(x, 100.0 * (b[col].to_numpy() / a[col].to_numpy() - 1.0), lw=1.2, label=g)
    axes[0].set_title("Price outside China, B vs A (%)", fontsize=9, loc="left")
    axes[0].legend(fontsize=7, ncols=5)
    for stage in ("mining", "separation", "magnets"):
        col = f"china_share_{stage}"
        axes[1].plot(x, 100.0 * (b[col].to_numpy() - a[col].to_numpy()), lw=1.2, label=stage)
    axes[1].set_title("China's share, B - A (percentage points)", fontsize=9, loc="left")
    axes[1].legend(fontsize=7)
    axes[2].plot(x, b["shortage_t"].to_numpy() - a["shortage_t"].to_numpy(), color="#d62728", lw=1.2)
    axes[2].set_title("Shortage, B - A (t/month)", fontsize=9, loc="left")
    axes[3].plot(x, b["stockpile_total_t"].to_numpy() - a["stockpile_total_t"].to_numpy(), color="k", lw=1.2)
    axes[3].set_title("Strategic stockpiles, B - A (t)", fontsize=9, loc="left")
    for ax in axes:
        ax.axhline(0, color="#888888", lw=0.6)
        ax.grid(True, lw=0.3)
    fig.suptitle(f"B = {label_b}   minus   A = {label_a}   (same seed)", fontsize=10)
    return _png(fig)


def headline_table(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Mean over the run of a few outcomes in A and B, and B - A."""
    cols = ["price_Nd_usd_per_kg", "price_Dy_usd_per_kg", "price_Tb_usd_per_kg", "china_share_separation",
            "shortage_t", "stockpile_total_t"]
    rows = [{"metric": c, "A": float(a[c].mean()), "B": float(b[c].mean()),
             "B - A": float(b[c].mean() - a[c].mean())} for c in cols]
    return pd.DataFrame(rows)
