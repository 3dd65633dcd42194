"""Mining, separation and plant capacity: compiled arithmetic of the month (see ``sim.chain.kernels``)."""

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
    """:func:`agents.plant.utilisation_from_shift` compiled."""
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
def plan_separation(util, cap, plant_util, price, zone, oxide, sales_ema, conc, feed, surplus_cover_months,
                    util_min_frac, adjust_rate_per_month, payability_frac):
    """:func:`agents.plant.separation_plan_numpy` compiled (``plant_util`` in place)."""
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
def cap_groups(out_t, clay, rock, clay_quota, rock_quota):
    """:func:`sim.chain.mining._cap_groups_numpy` compiled."""
    out = out_t.copy()
    stack = new_stack()
    for which in range(2):
        group = clay if which == 0 else rock
        quota = clay_quota if which == 0 else rock_quota
        taken = np.empty(group.shape[0])
        for i in range(group.shape[0]):
            taken[i] = out[group[i]]
        total = pairwise_sum(taken, stack) * 12
        if total > quota > 0 or quota == 0:
            scale = quota / total if total > 0 else 0.0
            for i in range(group.shape[0]):
                out[group[i]] *= scale
    return out


@njit(cache=True, error_model="numpy")
def add_undocumented(mined, clay_mix, illegal, china, conc):
    """:func:`sim.chain.mining._add_undocumented_numpy` compiled (in place)."""
    n, e_count = mined.shape
    s = _block_sum(clay_mix, 0, e_count)
    below = 1e-9 if 1e-9 > s else s
    undocumented = np.empty(e_count)
    for e in range(e_count):
        undocumented[e] = illegal * clay_mix[e] / below
    share = np.zeros(e_count)
    for e in range(e_count):
        mined[china, e] += undocumented[e]
        if mined[china, e] > 0:
            share[e] = undocumented[e] / mined[china, e]
    for k in range(n):
        for e in range(e_count):
            conc[k, e] += mined[k, e]
    return undocumented, share
