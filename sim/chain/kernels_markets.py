"""The oxide and magnet markets' settlement, China's export-first rule and a market's participants: compiled arithmetic of the month (see ``sim.chain.kernels``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.clearing_kernel import export_first, new_stack, offers_and_orders, pairwise_sum  # noqa: F401


@njit(cache=True, error_model="numpy")
def sell_oxides(sold_t, spec_sell, offered, spec_t, oxide, sales_ema, memory_frac):
    """:func:`sim.chain.oxides._sell_oxides_numpy` compiled (in place)."""
    n, e_count = oxide.shape
    for k in range(n):
        for e in range(e_count):
            sold = sold_t[e, k]
            share = spec_sell[k, e] / offered[k, e] if offered[k, e] > 0 else 0.0
            by_traders = sold * share
            spec_t[k, e] -= by_traders
            oxide[k, e] -= sold - by_traders
            sales_ema[k, e] += memory_frac * (sold - by_traders - sales_ema[k, e])


@njit(cache=True, error_model="numpy")
def arrive(orders, bought_t, user, maker_oxide, spec_t, stockpile, g0, oxides):
    """:func:`sim.chain.trade._arrive_numpy` compiled (in place)."""
    b_count, n, g_count = orders.shape
    for k in range(n):
        for g in range(g_count):
            total = orders[0, k, g]
            for b in range(1, b_count):
                total += orders[b, k, g]
            now = bought_t[g, k]
            shares = np.empty(b_count)
            for b in range(b_count):
                shares[b] = (orders[b, k, g] / total if total > 0 else 0.0) * now
            user[k, g0 + g] += shares[0]
            if oxides:
                maker_oxide[k, g] += shares[1]
                spec_t[k, g] += shares[3]
            stockpile[k, g0 + g] += shares[2]


@njit(cache=True, error_model="numpy")
def make_magnets(plan, maker_need, maker_oxide, magnets, recipe):
    """:func:`sim.chain.oxides._make_magnets_numpy` compiled (in place)."""
    n, e_count = maker_oxide.shape
    made = np.empty(n)
    short = np.empty((n, e_count))
    for k in range(n):
        limit = np.inf
        for e in range(e_count):
            if recipe[k, e] > 0:
                x = maker_oxide[k, e] / recipe[k, e]
                limit = x if x < limit else limit
        m = plan[k] if plan[k] <= limit else limit
        m = m if m >= 0.0 else 0.0
        made[k] = m
        for e in range(e_count):
            gap = maker_need[k, e] - maker_oxide[k, e]
            short[k, e] = gap if gap >= 0.0 else 0.0
            left = maker_oxide[k, e] - m * recipe[k, e]
            maker_oxide[k, e] = left if left >= 0.0 else 0.0
        magnets[k] += m
    return made, short


@njit(cache=True, error_model="numpy")
def zone_sums(oxides, magnets, china_rows, outside_rows):
    """:func:`sim.chain.trade._zone_sums_numpy` compiled: each good's row gathered over a zone's nations and
    added pairwise, as numpy sums the taken rows."""
    n_ox = oxides.shape[0]
    out = np.empty((2, n_ox + magnets.shape[0]))
    stack = new_stack()
    for z in range(2):
        rows = china_rows if z == 0 else outside_rows
        line = np.empty(rows.shape[0])
        for g in range(out.shape[1]):
            for i in range(rows.shape[0]):
                line[i] = oxides[g, rows[i]] if g < n_ox else magnets[g - n_ox, rows[i]]
            out[z, g] = pairwise_sum(line, stack)
    return out
