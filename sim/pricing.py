"""Price formation as pure functions: the competitive-storage price of a zone and its backstop.

A zone's price is set by how much is available against use, not by integrating past deficits. In the
competitive-storage model (Deaton & Laroque 1992; Williams & Wright 1991) the price is a decreasing,
convex function of availability (stocks carried plus supply, against use): ample stocks hold it near
the long-run price, a stock-out sends it up along inverse demand. Here that function is written as
a bounded curve between a long-run price (at normal availability) and the backstop price (at none),
where substitution, recycling and demand destruction stop the rise (Working 1949's supply of storage).
Nothing here knows about Mesa: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np


def storage_price_usd_per_kg(availability_ratio: np.ndarray, long_run_usd_per_kg: np.ndarray,
                             backstop_usd_per_kg: np.ndarray, flexibility: float) -> np.ndarray:
    """The price at which a zone clears given its availability (1 = the normal cover of the base year).

    ``backstop / (1 + (backstop / long_run - 1) * availability ** flexibility)``: the long-run price at
    normal availability, the backstop when nothing is available, falling toward zero in a glut (the
    caller applies the floor). ``flexibility`` is the slope near normal: the price flexibility of the
    inverse demand (minus the log-price change per log change in availability, for a backstop far above).

    Args:
        availability_ratio: stock on the market plus supply over normal, shape (..., G); >= 0.
        long_run_usd_per_kg, backstop_usd_per_kg: broadcastable to the same shape; backstop > long run.
    """
    x = np.maximum(np.asarray(availability_ratio, dtype=float), 0.0)
    ratio = np.maximum(backstop_usd_per_kg / long_run_usd_per_kg, 1.0 + 1e-9)
    return backstop_usd_per_kg / (1.0 + (ratio - 1.0) * x ** flexibility)


def kinked_storage_price_usd_per_kg(availability_ratio: np.ndarray, long_run_usd_per_kg: np.ndarray,
                                    backstop_usd_per_kg: np.ndarray, flexibility_below: float,
                                    flexibility_above: float, kink_usd_per_kg: float) -> np.ndarray:
    """The storage price of a good whose demand changes slope at a price: ``flexibility_below`` while the
    price stays under ``kink_usd_per_kg`` (elastic uses there take up or give up tonnes), ``flexibility_above``
    once scarcity lifts it over (those uses are gone and only the inelastic ones bid).

    Continuous: below the kink it is :func:`storage_price_usd_per_kg` with the lower slope; from the
    availability where that curve reaches the kink down to none, a curve with the higher slope runs from
    the kink to the backstop. Where the long-run price is not below the kink, the plain curve with
    ``flexibility_above``.
    """
    x = np.maximum(np.asarray(availability_ratio, dtype=float), 0.0)
    lr = np.broadcast_to(long_run_usd_per_kg, x.shape)
    b = np.broadcast_to(backstop_usd_per_kg, x.shape)
    kink = np.minimum(kink_usd_per_kg, b * (1.0 - 1e-9))
    below = storage_price_usd_per_kg(x, lr, b, flexibility_below)
    ratio = np.maximum(b / lr, 1.0 + 1e-9)
    x_kink = np.maximum((b / kink - 1.0) / (ratio - 1.0), 1e-12) ** (1.0 / flexibility_below)
    above = b / (1.0 + (b / kink - 1.0) * (x / x_kink) ** flexibility_above)
    kinked = np.where(x < x_kink, above, below)
    return np.where(lr < kink, kinked, storage_price_usd_per_kg(x, lr, b, flexibility_above))


def availability_ratio(cover_months: np.ndarray, normal_cover_months: np.ndarray,
                       shortage_frac: np.ndarray) -> np.ndarray:
    """Availability against the base year's normal: cover over normal cover, cut by the unmet share of need.

    Unmet need is a stock-out: the users who went short find nothing available at any price below the
    backstop, so their share counts as zero availability.
    """
    x = np.maximum(cover_months, 0.0) / np.maximum(normal_cover_months, 1e-9)
    return x * (1.0 - np.minimum(np.maximum(shortage_frac, 0.0), 1.0))


def pool_substitutes(availability: np.ndarray, weights: np.ndarray, members: list[int], pool_frac: float) -> np.ndarray:
    """Availability of close substitutes (Nd and Pr in magnets) read partly from their pooled stock.

    Makers switch between close substitutes within weeks, so what binds is the scarcity of the pool:
    each member's availability becomes ``(1 - pool_frac) * own + pool_frac * pooled``, the pooled value
    weighted by ``weights`` (each member's use), which ties the members' prices together.

    Args:
        availability: shape (Z, G).
        weights: use per good, shape (Z, G).
    """
    out = availability.copy()
    w = weights[:, members]
    pooled = (availability[:, members] * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-12)
    out[:, members] = (1.0 - pool_frac) * availability[:, members] + pool_frac * pooled[:, None]
    return out


def adjust_toward(price_usd_per_kg: np.ndarray, target_usd_per_kg: np.ndarray, speed_per_month: float,
                  floor_usd_per_kg: np.ndarray, backstop_usd_per_kg: np.ndarray) -> np.ndarray:
    """Move prices a share ``speed_per_month`` of the log distance to their target, within floor and backstop.

    Contract prices and posted prices follow the spot market with a lag (partial adjustment), so a
    month moves the price part of the way; the target itself is bounded, so the price is too.
    """
    step = speed_per_month * np.log(np.maximum(target_usd_per_kg, 1e-12) / np.maximum(price_usd_per_kg, 1e-12))
    return np.minimum(np.maximum(price_usd_per_kg * np.exp(step), floor_usd_per_kg), backstop_usd_per_kg)


def trend_per_yr(price_hist_usd_per_kg: np.ndarray, months: float) -> np.ndarray:
    """The recent price trend in log units per year over ``months`` (the chartists' and hoarders' signal).

    ``price_hist_usd_per_kg`` has months on its first axis, the latest last. A fractional window reads
    between two months (so a calibrated window moves the trend smoothly).
    """
    k = float(months)
    lo, frac = int(k), k - int(k)
    past = (1.0 - frac) * np.log(price_hist_usd_per_kg[-1 - lo])
    if frac > 0:
        past = past + frac * np.log(price_hist_usd_per_kg[-2 - lo])
    return 12.0 / k * (np.log(price_hist_usd_per_kg[-1]) - past)


def marginal_cost_ratio(required_value_multiple: np.ndarray, output_t: np.ndarray, quantile: float) -> float:
    """How far up the cost curve today's supply reaches: the multiple of base-year value the marginal mine needs.

    ``required_value_multiple`` per deposit is its full cost (cash cost with the hurdle, over payability)
    as a multiple of its ore's value at base-year prices; the marginal mine is the output-weighted
    ``quantile`` of that multiple among the mines producing (a step function made robust to tiny mines).
    """
    producing = output_t > 0
    if not producing.any():
        return 1.0
    m, q = required_value_multiple[producing], output_t[producing]
    order = np.argsort(m)
    cum = np.cumsum(q[order]) / q.sum()
    return float(m[order][min(np.searchsorted(cum, quantile), len(m) - 1)])
