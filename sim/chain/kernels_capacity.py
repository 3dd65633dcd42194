"""Capacity online by stage and nation: compiled arithmetic of the month (see ``sim.chain.kernels``)."""

from __future__ import annotations

import numpy as np
from numba import njit


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
