"""Use (consumption, rationing, shortage) and the chain's stock sums: compiled arithmetic of the month (see ``sim.chain.kernels``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.clearing_kernel import new_stack, pairwise_sum


@njit(cache=True, error_model="numpy")
def _zone_ratio(top, bottom, rows):
    """numpy's ``top.take(rows, axis=0).sum(axis=0) / np.maximum(bottom.take(rows, axis=0).sum(axis=0), 1e-9)``
    for (N, G) arrays: the rows are added one after the other."""
    g_count = top.shape[1]
    out = np.empty(g_count)
    for g in range(g_count):
        a = 0.0
        b = 0.0
        for i in range(rows.shape[0]):
            if i == 0:
                a = top[rows[i], g]
                b = bottom[rows[i], g]
            else:
                a += top[rows[i], g]
                b += bottom[rows[i], g]
        out[g] = a / (b if b >= 1e-9 else 1e-9)
    return out


@njit(cache=True, error_model="numpy")
def zone_fraction(top, bottom, china_rows, outside_rows):
    """:func:`sim.chain.use._zone_fraction_numpy` compiled: each zone's values (N,) gathered and added
    pairwise, as numpy sums the taken rows."""
    out = np.empty(2)
    stack = new_stack()
    for z in range(2):
        rows = china_rows if z == 0 else outside_rows
        a, b = np.empty(rows.shape[0]), np.empty(rows.shape[0])
        for i in range(rows.shape[0]):
            a[i] = top[rows[i]]
            b[i] = bottom[rows[i]]
        x, y = pairwise_sum(a, stack), pairwise_sum(b, stack)
        out[z] = x / (y if y >= 1e-9 else 1e-9)
    return out


@njit(cache=True, error_model="numpy")
def consume(need_t, need, user, stockpile, released, use_ema, maker_need, maker_short, china_rows, outside_rows,
            memory_frac, eps_t):
    """:func:`sim.chain.use._consume_numpy` compiled (same arguments, same results, in place)."""
    n, s_count, g_count = need_t.shape
    e_count = maker_need.shape[1]
    used = np.empty((n, s_count, g_count))
    used_goods = np.empty((n, g_count))
    unmet = np.empty((n, g_count))
    wanted = np.empty((n, g_count))
    missing = np.empty((n, g_count))
    for k in range(n):
        for g in range(g_count):
            stockpile[k, g] -= released[k, g]
            user[k, g] += released[k, g]
            f = user[k, g] / need[k, g] if need[k, g] > eps_t else 1.0
            f = f if f >= 0.0 else 0.0
            f = f if f <= 1.0 else 1.0
            total = 0.0
            for s in range(s_count):
                u = need_t[k, s, g] * f
                used[k, s, g] = u
                total = u if s == 0 else total + u
            used_goods[k, g] = total
            left = user[k, g] - total
            user[k, g] = left if left >= 0.0 else 0.0
            use_ema[k, g] += memory_frac * (total - use_ema[k, g])
            unmet[k, g] = need[k, g] - total
            wanted[k, g] = need[k, g]
            missing[k, g] = unmet[k, g]
        for e in range(e_count):
            wanted[k, e] += maker_need[k, e]
            missing[k, e] += maker_short[k, e]
    short_zone = np.empty((2, g_count))
    short_zone[0] = _zone_ratio(missing, wanted, china_rows)
    short_zone[1] = _zone_ratio(missing, wanted, outside_rows)
    return used, used_goods, unmet, short_zone


@njit(cache=True, error_model="numpy")
def held_goods(user, stockpile, transit, live):
    """:func:`sim.chain.state._held_goods_numpy` compiled."""
    n, g_count = user.shape
    in_transit = np.zeros((n, g_count))
    first = True
    for slot in live:                                  # numpy adds the (slot, buyer) layers one after the other
        for b in range(transit.shape[1]):
            for k in range(n):
                for g in range(g_count):
                    if first:
                        in_transit[k, g] = transit[slot, b, k, g]
                    else:
                        in_transit[k, g] += transit[slot, b, k, g]
            first = False
    out = np.empty(g_count)
    for k in range(n):
        for g in range(g_count):
            h = user[k, g] + stockpile[k, g]
            if live.shape[0]:
                h = h + in_transit[k, g]
            out[g] = h if k == 0 else out[g] + h
    return out


@njit(cache=True, error_model="numpy")
def add_chain_stocks(total, conc, feed, oxide, maker_oxide, spec, magnets, recipe):
    """:func:`sim.chain.state._add_chain_stocks_numpy` compiled (``total`` updated in place)."""
    n, e_count = conc.shape
    chain = np.empty(e_count)
    for k in range(n):
        for e in range(e_count):
            h = conc[k, e] + feed[k, e] + oxide[k, e] + maker_oxide[k, e] + spec[k, e]
            chain[e] = h if k == 0 else chain[e] + h
    m = pairwise_sum(magnets, new_stack())
    for e in range(e_count):
        total[e] += chain[e]
    for e in range(e_count):
        total[e] += m * recipe[e]


@njit(cache=True, error_model="numpy")
def _in_range(values, floor):
    """Every value finite and at least ``floor``, and their running sum finite."""
    total = 0.0
    for x in values.ravel():
        if not (x >= floor and np.isfinite(x)):
            return False
        total += x
    return np.isfinite(total)


@njit(cache=True, error_model="numpy")
def stocks_in_range(floor, conc, feed, oxide, maker_oxide, magnets, user, stockpile, spec, transit, live):
    """:func:`sim.model._stocks_in_range_numpy` compiled (``transit``'s slots flagged ``live`` only)."""
    if not (_in_range(conc, floor) and _in_range(feed, floor) and _in_range(oxide, floor)
            and _in_range(maker_oxide, floor) and _in_range(magnets, floor) and _in_range(user, floor)
            and _in_range(stockpile, floor) and _in_range(spec, floor)):
        return False
    for slot in range(live.shape[0]):
        if live[slot] and not _in_range(transit[slot], floor):
            return False
    return True


@njit(cache=True, error_model="numpy")
def sum_sectors(need_t):
    """``need_t.sum(axis=1)`` of an (N, S, G) array: the sectors added one after the other, as numpy does."""
    n, s_count, g_count = need_t.shape
    out = np.empty((n, g_count))
    for k in range(n):
        for g in range(g_count):
            total = need_t[k, 0, g] if s_count else 0.0
            for s in range(1, s_count):
                total += need_t[k, s, g]
            out[k, g] = total
    return out


@njit(cache=True, error_model="numpy")
def mass_balance(mined, recycled, consumed, heavy_used, losses, after, before):
    """:func:`sim.chain.state._mass_balance_numpy` compiled (the nations' rows added one after the other)."""
    n, e_count = mined.shape
    inputs_m, inputs_r = np.empty(e_count), np.empty(e_count)
    for e in range(e_count):
        inputs_m[e] = mined[0, e] if n else 0.0
        inputs_r[e] = recycled[0, e] if n else 0.0
    for k in range(1, n):
        for e in range(e_count):
            inputs_m[e] += mined[k, e]
            inputs_r[e] += recycled[k, e]
    used, error = np.empty(e_count), np.empty(e_count)
    for e in range(e_count):
        used[e] = consumed[e] + heavy_used[e]
        error[e] = (inputs_m[e] + inputs_r[e]) - (used[e] + losses[e]) - (after[e] - before[e])
    return used, error
