"""Upstream margins at producer prices: compiled arithmetic of the month (see ``sim.chain.kernels``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.clearing_kernel import _block_sum


@njit(cache=True, error_model="numpy")
def deposit_margin(dep_mix, dep_nation, prices, dep_cost, payability_frac):
    """:func:`sim.chain.margins._deposit_margin_numpy` compiled."""
    d_count, e_count = dep_mix.shape
    out = np.empty(d_count)
    row = np.empty(e_count)
    for d in range(d_count):
        k = dep_nation[d]
        for e in range(e_count):
            row[e] = dep_mix[d, e] * prices[k, e]
        out[d] = _block_sum(row, 0, e_count) * payability_frac - dep_cost[d]
    return out


@njit(cache=True, error_model="numpy")
def separation_margin(feed, world_mix, prices, kept_frac, cost):
    """:func:`sim.chain.margins._separation_margin_numpy` compiled."""
    n, e_count = feed.shape
    out = np.empty(n)
    row = np.empty(e_count)
    for k in range(n):
        fed = _block_sum(feed[k], 0, e_count)
        if fed > 0:
            below = fed if fed >= 1e-9 else 1e-9
            for e in range(e_count):
                row[e] = (feed[k, e] / below) * prices[k, e]
        else:
            for e in range(e_count):
                row[e] = world_mix[e] * prices[k, e]
        out[k] = _block_sum(row, 0, e_count) * kept_frac - cost
    return out


@njit(cache=True, error_model="numpy")
def magnet_margin(prices, recipe, ndfeb, cost):
    """:func:`sim.chain.margins._magnet_margin_numpy` compiled."""
    n, e_count = recipe.shape
    out = np.empty(n)
    row = np.empty(e_count)
    for k in range(n):
        for e in range(e_count):
            row[e] = prices[k, e] * recipe[k, e]
        out[k] = prices[k, ndfeb] - _block_sum(row, 0, e_count) - cost
    return out
