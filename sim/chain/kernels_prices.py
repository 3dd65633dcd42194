"""The zones' stock on the market, use and availability (prices): compiled arithmetic of the month (see ``sim.chain.kernels``)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def _zone_sums(x, rows):
    """numpy's ``x.take(rows, axis=0).sum(axis=0)`` for an (N, G) array: the rows added one after the other."""
    out = np.zeros(x.shape[1])
    for i in range(rows.shape[0]):
        for g in range(x.shape[1]):
            out[g] = x[rows[i], g] if i == 0 else out[g] + x[rows[i], g]
    return out


@njit(cache=True, error_model="numpy")
def zone_held(user, need, target_cover_months, oxide, maker_oxide, magnets, china_rows, outside_rows):
    """:func:`sim.chain.prices._zone_held_numpy` compiled."""
    n, g_count = user.shape
    e_count = oxide.shape[1]
    held = np.empty((n, g_count))
    for k in range(n):
        for g in range(g_count):
            normal = target_cover_months * need[k, g]
            held[k, g] = user[k, g] if user[k, g] <= normal else normal
        for e in range(e_count):
            held[k, e] += oxide[k, e] + maker_oxide[k, e]
        held[k, e_count] += magnets[k]
    out = np.empty((2, g_count))
    out[0] = _zone_sums(held, china_rows)
    out[1] = _zone_sums(held, outside_rows)
    return out


@njit(cache=True, error_model="numpy")
def zone_use(need, maker_need, china_rows, outside_rows):
    """:func:`sim.chain.prices._zone_use_numpy` compiled."""
    monthly = need.copy()
    for k in range(need.shape[0]):
        for e in range(maker_need.shape[1]):
            monthly[k, e] += maker_need[k, e]
    out = np.empty((2, need.shape[1]))
    out[0] = _zone_sums(monthly, china_rows)
    out[1] = _zone_sums(monthly, outside_rows)
    return out


@njit(cache=True, error_model="numpy")
def availability(use, held, normal_cover, short_zone, members, pool_frac):
    """:func:`sim.chain.prices._availability_numpy` compiled."""
    z_count, g_count = use.shape
    out = np.empty((z_count, g_count))
    for g in range(g_count):
        world = use[0, g]
        for z in range(1, z_count):
            world += use[z, g]
        for z in range(z_count):
            floor = 1e-3 * world + 1e-9
            u = use[z, g]
            cover = held[z, g] / (u if u >= floor else floor)
            cover = cover if cover >= 0.0 else 0.0
            n = normal_cover[z, g]
            x = cover / (n if n >= 1e-9 else 1e-9)
            s = short_zone[z, g]
            s = s if s >= 0.0 else 0.0
            s = s if s <= 1.0 else 1.0
            out[z, g] = x * (1.0 - s)
    pooled_out = out.copy()
    m_count = members.shape[0]
    for z in range(z_count):
        top = 0.0
        weight = 0.0
        for i in range(m_count):
            g = members[i]
            if i == 0:
                top = out[z, g] * use[z, g]
                weight = use[z, g]
            else:
                top += out[z, g] * use[z, g]
                weight += use[z, g]
        pooled = top / (weight if weight >= 1e-12 else 1e-12)
        for i in range(m_count):
            g = members[i]
            pooled_out[z, g] = (1.0 - pool_frac) * out[z, g] + pool_frac * pooled
    return pooled_out
