"""Summary measures of supply concentration and dependence, and of a value against its band, as pure functions."""

from __future__ import annotations

import numpy as np


def share_of(output_t: np.ndarray, index: int) -> float:
    """Share (0–1) of total output produced by entry ``index``; 0 when nothing is produced."""
    total = float(np.sum(output_t))
    return float(output_t[index]) / total if total > 0 else 0.0


def herfindahl(output_t: np.ndarray) -> float:
    """Herfindahl–Hirschman index of output shares (0–10,000)."""
    total = float(np.sum(output_t))
    if total <= 0:
        return 0.0
    shares = np.asarray(output_t, dtype=float) / total
    return float(10_000.0 * np.sum(shares * shares))


def supplier_share(flows_t: np.ndarray, importer: int, supplier: int) -> float:
    """Share of an importer's deliveries (domestic included) that came from ``supplier``.

    Args:
        flows_t: tonnes, shape (N exporter, N importer).
    """
    received = float(flows_t[:, importer].sum())
    return float(flows_t[supplier, importer]) / received if received > 0 else 0.0


def band_margin(value: float, low: float, high: float) -> float:
    """How far ``value`` lies inside its band, in units of the band (negative outside; NaN if no value).

    Two-sided bands: the distance to the nearer edge over the band's width (0.5 in the middle). A band
    that starts at 0 is a ceiling on a quantity that cannot be negative (a share, a ratio, an error), so
    only the upper edge counts: (high - value) / high. A band open above is a floor: (value - low) / low.
    An exact requirement (low == high): minus the distance to it.
    """
    if not np.isfinite(value):
        return float("nan")
    if not np.isfinite(high):
        return (value - low) / max(abs(low), 1e-12)
    if high == low:
        return 0.0 - abs(value - low)
    if low == 0.0:
        return (high - value) / high
    return min(value - low, high - value) / (high - low)
