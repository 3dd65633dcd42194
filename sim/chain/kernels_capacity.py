"""Capacity online and what investors remember: compiled arithmetic of the month (see ``sim.chain.kernels``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.clearing_kernel import new_stack, pairwise_sum


@njit(cache=True, inline="always", error_model="numpy")
def _ramp(online, month, span):
    """:func:`sim.chain.capacity.ramp` of one asset (``span``: the ramp-up, at least one month)."""
    r = (month - online + 1) / span
    r = r if r >= 0.0 else 0.0
    return r if r <= 1.0 else 1.0


@njit(cache=True, error_model="numpy")
def stage_capacities(dep_nation, dep_capacity, dep_online, plant_nation, plant_stage, plant_capacity, plant_online,
                     plant_heavy, month, ramp_up_months, magnet_yield_frac, n):
    """:func:`sim.chain.capacity._stage_capacities_numpy` compiled (``np.bincount`` adds asset after asset)."""
    out = np.zeros((4, n))
    span = max(ramp_up_months, 1.0)
    for d in range(dep_nation.shape[0]):
        out[0, dep_nation[d]] += dep_capacity[d] * _ramp(dep_online[d], month, span)
    heavy = np.zeros(n)
    for i in range(plant_stage.shape[0]):
        k = plant_stage[i]
        on = plant_capacity[i] * _ramp(plant_online[i], month, span)
        out[k, plant_nation[i]] += on
        if k == 1:
            heavy[plant_nation[i]] += on * (1.0 if plant_heavy[i] else 0.0)
    for j in range(n):
        out[2, j] = out[2, j] * magnet_yield_frac
        out[3, j] = heavy[j] / out[1, j] if out[1, j] > 0 else 0.0
    return out


@njit(cache=True, error_model="numpy")
def remember_margins(margin_ema, dep_margin, dep_cost, dep_nation, sep_margin, sep_cost, mag_margin, mag_cost,
                     memory_months):
    """:func:`sim.chain.investment._remember_margins_numpy` compiled (``margin_ema`` in place)."""
    n = margin_ema.shape[1]
    value, count = np.zeros(n), np.zeros(n, np.int64)
    for d in range(dep_nation.shape[0]):               # np.bincount: deposit after deposit
        value[dep_nation[d]] += dep_margin[d] / dep_cost[d]
        count[dep_nation[d]] += 1
    for j in range(n):
        frac = value[j] / count[j] if count[j] > 0 else 0.0
        margin_ema[0, j] += (frac - margin_ema[0, j]) / memory_months
    for j in range(n):
        margin_ema[1, j] += (sep_margin[j] / sep_cost - margin_ema[1, j]) / memory_months
    for j in range(n):
        margin_ema[2, j] += (mag_margin[j] / mag_cost - margin_ema[2, j]) / memory_months


@njit(cache=True, error_model="numpy")
def ready_to_invest(waited, retry_months, stage, nation, zone, signal, margin_frac, hurdle_frac):
    """:func:`agents.plant.ready_to_invest_numpy` compiled (``waited`` in place)."""
    ready = np.empty(waited.shape[0], np.int64)
    count = 0
    for k in range(waited.shape[0]):
        waited[k] += 1
        if waited[k] >= retry_months and signal[stage[k], zone[k]] > 0 \
                and margin_frac[stage[k], nation[k]] > hurdle_frac[nation[k]]:
            waited[k] = 0
            ready[count] = k
            count += 1
    return ready[:count]


@njit(cache=True, error_model="numpy")
def nation_has_heavy_separation(plant_stage, plant_nation, plant_heavy, plant_capacity, plant_online, separation,
                                nation, month, ramp_up_months):
    """:func:`sim.chain.capacity._has_heavy_separation_numpy` compiled."""
    span = max(ramp_up_months, 1.0)
    for i in range(plant_stage.shape[0]):
        if plant_stage[i] == separation and plant_nation[i] == nation and plant_heavy[i] \
                and plant_capacity[i] * _ramp(plant_online[i], month, span) > 0:
            return True
    return False


@njit(cache=True, error_model="numpy")
def pipelines(dep_nation, dep_capacity, dep_online, plant_nation, plant_stage, plant_capacity, plant_online,
              plant_heavy, mining_month, separation_month, magnets_month, ramp_up_months, magnet_yield_frac, n,
              china, china_cap):
    """:func:`sim.chain.investment._pipelines_numpy` compiled (numpy's pairwise sums)."""
    def table(month):
        return stage_capacities(dep_nation, dep_capacity, dep_online, plant_nation, plant_stage, plant_capacity,
                                plant_online, plant_heavy, month, ramp_up_months, magnet_yield_frac, n)
    mines = table(mining_month)[0]
    mines[china] = china_cap if china_cap < mines[china] else mines[china]
    stack = new_stack()
    return (pairwise_sum(mines, stack), pairwise_sum(table(separation_month)[1], stack),
            pairwise_sum(table(magnets_month)[2], stack))
