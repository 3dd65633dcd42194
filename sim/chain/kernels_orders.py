"""Orders: end users, magnet makers, traders' zone positions and split, stockpiles: compiled arithmetic of the month (see ``sim.chain.kernels``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.chain.kernels_prices import _zone_sums


@njit(cache=True, error_model="numpy")
def user_orders(need, stock, growth, sensitivity, max_multiple, target_cover_months, adjust_months):
    """:func:`agents.end_use.user_orders_numpy` compiled."""
    n, g_count = need.shape
    order = np.empty((n, g_count))
    cover = np.empty((n, g_count))
    for k in range(n):
        for g in range(g_count):
            x = growth[k, g]
            h = 1.0 + sensitivity * (x if x >= 0.0 else 0.0)
            h = h if h >= 1.0 else 1.0
            h = h if h <= max_multiple else max_multiple
            c = target_cover_months * h
            cover[k, g] = c
            o = need[k, g] + (c * need[k, g] - stock[k, g]) / adjust_months
            order[k, g] = o if o >= 0.0 else 0.0
    return order, cover


@njit(cache=True, error_model="numpy")
def maker_orders(cap, plant_util, util, adjust_rate_per_month, sales_ema, magnets, recipe, maker_oxide, cover,
                 stock_adjust_months):
    """:func:`sim.chain.orders._maker_orders_numpy` compiled (``plant_util`` in place)."""
    n, e_count = maker_oxide.shape
    plan = np.empty(n)
    need = np.empty((n, e_count))
    order = np.empty((n, e_count))
    for k in range(n):
        plant_util[k] += adjust_rate_per_month * (util[k] - plant_util[k])
        w = sales_ema[k] + (1.0 * sales_ema[k] - magnets[k]) / 2.0
        w = w if w >= 0.0 else 0.0
        c = cap[k] * plant_util[k]
        m = c if c <= w else w
        plan[k] = m
        for e in range(e_count):
            x = m * recipe[k, e]
            need[k, e] = x
            o = x + (cover[k, e] * x - maker_oxide[k, e]) / stock_adjust_months
            order[k, e] = o if o >= 0.0 else 0.0
    return plan, need, order


@njit(cache=True, error_model="numpy")
def zone_position(use, spec, rows):
    """:func:`sim.chain.orders._zone_position_numpy` compiled."""
    return _zone_sums(use, rows), _zone_sums(spec, rows)


@njit(cache=True, error_model="numpy")
def split_trades(buy, sell, rows, buy_t, sell_t, use, spec, zone_use, held):
    """:func:`sim.chain.orders._split_trades_numpy` compiled (``buy`` and ``sell`` in place)."""
    for i in range(rows.shape[0]):
        k = rows[i]
        for e in range(use.shape[1]):
            buy[k, e] = buy_t[e] * (use[k, e] / zone_use[e] if zone_use[e] > 0 else 0.0)
            sell[k, e] = sell_t[e] * (spec[k, e] / held[e] if held[e] > 0 else 0.0)


@njit(cache=True, error_model="numpy")
def stockpile_orders(table_days, days_override, action_override, held, monthly_use, days_scale, build_months,
                     build, days_per_month):
    """:func:`agents.nation.stockpile_orders_numpy` compiled."""
    n, g_count = held.shape
    out = np.zeros((n, g_count))
    for k in range(n):
        days = (table_days[k] if np.isnan(days_override[k]) else days_override[k]) * days_scale
        action = action_override[k]
        if action < 0:
            action = build if days > 0 else 0
        if action == build and days > 0:
            per_month = days / days_per_month
            for g in range(g_count):
                gap = per_month * monthly_use[k, g] - held[k, g]
                out[k, g] = (gap if gap >= 0.0 else 0.0) / build_months
    return out
