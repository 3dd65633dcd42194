"""The month's bookkeeping compiled with numba: one call per phase instead of dozens of small numpy calls.

Each kernel repeats a numpy reference in ``sim.chain`` operation for operation, in the same order, and
sums as numpy does (``sim.clearing_kernel``'s pairwise sums for contiguous rows; element by element along
any other axis), so both paths give the same numbers bit for bit; no ``exp``/``log``/``pow`` here (numba's
may differ from numpy's in the last bit). ``np.maximum(a, b)`` is ``a if a >= b else b`` and
``np.minimum(a, b)`` is ``a if a <= b else b``, as numpy computes them for numbers.

The agent classes and submodels name and document the rules; these are only their arithmetic. Imported
through ``sim.market.chain_kernels`` once the markets clear compiled; cached on disk like the clearing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.clearing_kernel import _block_sum, new_stack, pairwise_sum


@njit(cache=True, error_model="numpy")
def separate(flows, sellers, buyers, comp, conc, feed, oxide, plan, heavy, heavy_mask, recycled, sales_ema,
             surplus_cover_months, disposal_rate_per_month):
    """:func:`sim.chain.separation._separate_numpy` compiled (same arguments, same results, in place)."""
    n, e_count = feed.shape
    n_s, n_b = sellers.shape[0], buyers.shape[0]
    # concentrate moves from sellers to buyers: numpy sums the (seller, buyer, E) block along an outer axis
    sent = np.zeros((n_s, e_count))
    got = np.zeros((n_b, e_count))
    for i in range(n_s):
        s = sellers[i]
        for j in range(n_b):
            f = flows[s, buyers[j]]
            for e in range(e_count):
                m = f * comp[s, e]
                if j == 0:
                    sent[i, e] = m
                else:
                    sent[i, e] += m
                if i == 0:
                    got[j, e] = m
                else:
                    got[j, e] += m
    for i in range(n_s):
        for e in range(e_count):
            conc[sellers[i], e] -= sent[i, e]
    for j in range(n_b):
        for e in range(e_count):
            feed[buyers[j], e] += got[j, e]
    run = np.empty(n)
    separated = np.empty((n, e_count))
    losses = np.zeros(e_count)
    for k in range(n):
        total = _block_sum(feed[k], 0, e_count)
        r = total if total <= plan[k] else plan[k]
        run[k] = r
        frac = r / total if total > 0 else 0.0
        for e in range(e_count):
            processed = feed[k, e] * frac
            feed[k, e] -= processed
            sep = processed * (heavy[k] if heavy_mask[e] else 1.0)
            separated[k, e] = sep
            conc[k, e] += processed - sep
            oxide[k, e] += sep
            oxide[k, e] += recycled[k, e]
            sales = sales_ema[k, e]
            limit = surplus_cover_months * (sales if sales >= sep else sep)
            over = oxide[k, e] - limit
            excess = disposal_rate_per_month * (over if over >= 0.0 else 0.0)
            oxide[k, e] -= excess
            if k == 0:
                losses[e] = excess
            else:
                losses[e] += excess
    return separated, losses, pairwise_sum(run, new_stack())


@njit(cache=True, error_model="numpy")
def utilisation_from_shift(shift, margin, base_util, util_min_frac):
    """:func:`agents.industry.utilisation_from_shift` compiled."""
    n = shift.shape[0]
    util = np.empty(n)
    for k in range(n):
        s, b = shift[k], base_util[k]
        if s >= 0:
            u = b + (1.0 - b) * (s if s >= 0.0 else 0.0)
        else:
            u = b + (b - util_min_frac) * (s if s <= 0.0 else 0.0)
        if margin[k] < 0:
            util[k] = util_min_frac
        else:
            u = u if u >= util_min_frac else util_min_frac
            util[k] = u if u <= 1.0 else 1.0
    return util


@njit(cache=True, error_model="numpy")
def mine_output(target, conc, dep_nation, dep_capacity, online, dep_util, dep_mix, lost, quota_t_per_yr,
                surplus_cover_months, util_min_frac, adjust_rate_per_month):
    """:func:`sim.chain.mining._mine_output_numpy` compiled (same arguments, same results, in place)."""
    n, e_count = conc.shape
    d_count = dep_nation.shape[0]
    potential = np.zeros((n, e_count))                 # np.add.at: deposit after deposit
    for d in range(d_count):
        cap = dep_capacity[d] * online[d] / 12 * dep_util[d]
        for e in range(e_count):
            potential[dep_nation[d], e] += cap * dep_mix[d, e]
    held = np.empty(n)
    room = np.empty(n)
    for k in range(n):
        held[k] = _block_sum(conc[k], 0, e_count)
        room[k] = _block_sum(potential[k], 0, e_count)
    out = np.empty(d_count)
    by_nation = np.zeros(n)                            # np.bincount: deposit after deposit
    for d in range(d_count):
        r = room[dep_nation[d]]
        cover = held[dep_nation[d]] / (r if r >= 1e-9 else 1e-9)
        over = (cover - surplus_cover_months) / surplus_cover_months
        over = over if over >= 0.0 else 0.0
        over = over if over <= 1.0 else 1.0
        t = target[d] * (1.0 - (1.0 - util_min_frac) * over)
        dep_util[d] += adjust_rate_per_month * (t - dep_util[d])
        o = dep_capacity[d] * online[d] / 12 * dep_util[d]
        o *= 1.0 - lost[dep_nation[d]]
        out[d] = o
        by_nation[dep_nation[d]] += o
    scale = np.empty(n)
    for k in range(n):
        s = quota_t_per_yr[k] / 12 / by_nation[k] if by_nation[k] > 0 else 1.0
        scale[k] = 1.0 if 1.0 <= s else s
    for d in range(d_count):
        out[d] *= scale[dep_nation[d]]
    return out


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
            if recipe[e] > 0:
                x = maker_oxide[k, e] / recipe[e]
                limit = x if x < limit else limit
        m = plan[k] if plan[k] <= limit else limit
        m = m if m >= 0.0 else 0.0
        made[k] = m
        for e in range(e_count):
            gap = maker_need[k, e] - maker_oxide[k, e]
            short[k, e] = gap if gap >= 0.0 else 0.0
            left = maker_oxide[k, e] - m * recipe[e]
            maker_oxide[k, e] = left if left >= 0.0 else 0.0
        magnets[k] += m
    return made, short


@njit(cache=True, error_model="numpy")
def user_orders(need, stock, growth, sensitivity, max_multiple, target_cover_months, adjust_months):
    """:func:`agents.industry.user_orders_numpy` compiled."""
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
            x = m * recipe[e]
            need[k, e] = x
            o = x + (cover[k, e] * x - maker_oxide[k, e]) / stock_adjust_months
            order[k, e] = o if o >= 0.0 else 0.0
    return plan, need, order


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
def plan_separation(util, cap, plant_util, price, zone, oxide, sales_ema, conc, feed, surplus_cover_months,
                    util_min_frac, adjust_rate_per_month, payability_frac):
    """:func:`sim.chain.separation._plan_separation_numpy` compiled (``plant_util`` in place)."""
    n, e_count = conc.shape
    plan = np.empty(n)
    supply = np.empty(n)
    order = np.empty(n)
    comp = np.empty((n, e_count))
    value = np.empty(n)
    weight = np.empty(n)
    a = np.empty(e_count)
    b = np.empty(e_count)
    for k in range(n):
        z = zone[k]
        for e in range(e_count):
            a[e] = oxide[k, e] * price[z, e]
            b[e] = sales_ema[k, e] * price[z, e]
        sales = _block_sum(b, 0, e_count)
        cover = _block_sum(a, 0, e_count) / (sales if sales >= 1e-9 else 1e-9)
        over = (cover - surplus_cover_months) / surplus_cover_months
        over = over if over >= 0.0 else 0.0
        over = over if over <= 1.0 else 1.0
        target = util[k] * (1.0 - (1.0 - util_min_frac) * over)
        plant_util[k] += adjust_rate_per_month * (target - plant_util[k])
        plan[k] = cap[k] * plant_util[k]
        s = _block_sum(conc[k], 0, e_count)
        supply[k] = s
        o = plan[k] + (1.0 * plan[k] - _block_sum(feed[k], 0, e_count)) / 2.0
        order[k] = o if o >= 0.0 else 0.0
        for e in range(e_count):
            comp[k, e] = conc[k, e] / (s if s >= 1e-12 else 1e-12)
            a[e] = comp[k, e] * price[z, e]
        value[k] = _block_sum(a, 0, e_count) * payability_frac
        weight[k] = s if s >= 1e-12 else 1e-12
    stack = new_stack()
    paid = np.empty(n)
    for k in range(n):
        paid[k] = value[k] * weight[k]
    payable = np.full(n, pairwise_sum(paid, stack) / pairwise_sum(weight, stack))
    return plan, supply, order, comp, payable


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
def by_nation_and_element(out, dep_nation, dep_mix, n):
    """:func:`sim.chain.capacity._by_nation_and_element_numpy` compiled."""
    total = np.zeros((n, dep_mix.shape[1]))
    for d in range(out.shape[0]):                      # np.add.at: deposit after deposit
        for e in range(dep_mix.shape[1]):
            total[dep_nation[d], e] += out[d] * dep_mix[d, e]
    return total


@njit(cache=True, error_model="numpy")
def nation_plant_capacity(plant_stage, plant_nation, plant_capacity, plant_online, stage, nation, month,
                          ramp_up_months):
    """:func:`sim.chain.capacity._nation_plant_capacity_numpy` compiled."""
    total = 0.0
    span = max(ramp_up_months, 1.0)
    for i in range(plant_stage.shape[0]):
        if plant_stage[i] == stage and plant_nation[i] == nation:
            r = (month - plant_online[i] + 1) / span
            r = r if r >= 0.0 else 0.0
            r = r if r <= 1.0 else 1.0
            total += plant_capacity[i] * r
    return total


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


@njit(cache=True, error_model="numpy")
def export_first(markets, n, china, price, duty_frac, held_start, china_zone, outside_zone):
    """:func:`sim.chain.china._export_first_numpy` compiled."""
    first = np.zeros((markets.shape[0], n), np.bool_)
    for g in range(markets.shape[0]):
        m = markets[g]
        if m >= held_start:
            h = m - held_start
            rent = price[outside_zone, h] - price[china_zone, h] * (1.0 + duty_frac[m, china])
            first[g, china] = rent > 0.0
    return first


@njit(cache=True, error_model="numpy")
def offers_and_orders(supply, demand, eps_t):
    """:func:`sim.chain.trade._offers_and_orders_numpy` compiled."""
    n_g, n = supply.shape
    s, d = np.empty((n_g, n)), np.empty((n_g, n))
    sells, buys = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    for g in range(n_g):
        for k in range(n):
            x = supply[g, k]
            x = x if x >= 0.0 else 0.0
            s[g, k] = x
            sells[k] = sells[k] or x > eps_t
            y = demand[g, k]
            y = y if y >= 0.0 else 0.0
            d[g, k] = y
            buys[k] = buys[k] or y > eps_t
    return s, d, np.flatnonzero(sells), np.flatnonzero(buys)
