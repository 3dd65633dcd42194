"""Capacity: how deposits and plants ramp up, and what is online per nation and stage (ODD 7.17).

Reads the assets (:class:`~sim.chain.state.Assets`, built and extended by ``sim.chain.assets``): ramp,
capacity online, heavy circuits, the world's mine mix.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from sim import market
from sim.chain.state import NEVER, Assets
from sim.world import UPSTREAM, World

STAGE_INDEX = {s: i for i, s in enumerate(UPSTREAM)}
MINING, SEPARATION, MAGNETS = STAGE_INDEX["mining"], STAGE_INDEX["separation"], STAGE_INDEX["magnets"]


def ramp(online: np.ndarray, month: int, ramp_up_months: float) -> np.ndarray:
    """Share of nameplate available (0-1): linear over the ramp-up after the start month."""
    return np.minimum(np.maximum((month - online + 1) / max(ramp_up_months, 1.0), 0.0), 1.0)   # np.clip is slower


def online_frac(a: Assets, kind: Literal["dep", "plant"], month: int, p) -> np.ndarray:
    """:func:`ramp` of every deposit or plant in ``month`` (read-only: shared by every caller until the
    assets change, i.e. their ``version``)."""
    key = (kind, month, a.version, p.ramp_up_months)
    frac = a.cache.get(key)
    if frac is None:
        _room(a)
        frac = a.cache[key] = ramp(a.dep_online if kind == "dep" else a.plant_online, month, p.ramp_up_months)
    return frac


def _room(a: Assets) -> None:
    """Keep the capacity cache small (its keys carry the month and asset version: old ones are never read)."""
    if len(a.cache) > 32:
        a.cache.clear()


def mine_potential_t(a: Assets, month: int, p, n_nations: int) -> np.ndarray:
    """What the mines would put out this month at their current utilisation, per nation and element (N, E)."""
    cap = a.dep_capacity * online_frac(a, "dep", month, p) / 12 * a.dep_util
    return by_nation_and_element_t(cap, a, n_nations)


def by_nation_and_element_t(out_t: np.ndarray, a: Assets, n_nations: int) -> np.ndarray:
    """Deposits' output (D,) as tonnes per nation and element (N, E), through each deposit's element mix."""
    kernels = market.chain_kernels()
    spread = _by_nation_and_element_numpy if kernels is None else kernels.by_nation_and_element
    return spread(out_t, a.dep_nation, a.dep_mix, n_nations)


def _by_nation_and_element_numpy(out, dep_nation, dep_mix, n) -> np.ndarray:
    """The reference of ``sim.chain.kernels.by_nation_and_element``."""
    total = np.zeros((n, dep_mix.shape[1]))
    np.add.at(total, dep_nation, out[:, None] * dep_mix)
    return total


def stage_capacity_t_per_yr(a: Assets, stage: str, month: int, p, n_nations: int) -> np.ndarray:
    """Capacity online per nation for an upstream stage (t REO/yr; magnets t finished NdFeB/yr; read-only)."""
    return stage_capacities(a, month, p, n_nations)[STAGE_INDEX[stage]]


def stage_capacities(a: Assets, month: int, p, n_nations: int) -> np.ndarray:
    """Every stage's capacity online per nation in ``month`` (3, N), and below it the share of separation
    capacity with a heavy-REE circuit (:func:`heavy_frac`): one pass over the assets, kept until they change
    (read-only)."""
    key = ("stages", month, a.version)
    caps = a.cache.get(key)
    if caps is None:
        _room(a)
        caps = a.cache[key] = _stage_capacities(a, month, p, n_nations)
    return caps


def _stage_capacities(a: Assets, month: int, p, n_nations: int) -> np.ndarray:
    """:func:`stage_capacities` computed afresh."""
    kernels = market.chain_kernels()
    add_up = _stage_capacities_numpy if kernels is None else kernels.stage_capacities
    return add_up(a.dep_nation, a.dep_capacity, a.dep_online, a.plant_nation, a.plant_stage, a.plant_capacity,
                  a.plant_online, a.plant_heavy, month, float(p.ramp_up_months), float(p.magnet_yield_frac),
                  n_nations)


def _stage_capacities_numpy(dep_nation, dep_capacity, dep_online, plant_nation, plant_stage, plant_capacity,
                            plant_online, plant_heavy, month, ramp_up_months, magnet_yield_frac, n) -> np.ndarray:
    """Capacity online per stage and nation (mining, separation, magnets after the yield) and the heavy-REE
    share of separation (4, N); the reference of ``sim.chain.kernels.stage_capacities``."""
    out = np.empty((4, n))
    out[0] = np.bincount(dep_nation, dep_capacity * ramp(dep_online, month, ramp_up_months), minlength=n)
    online = plant_capacity * ramp(plant_online, month, ramp_up_months)
    for k in (SEPARATION, MAGNETS):
        on = plant_stage == k
        out[k] = np.bincount(plant_nation[on], online[on], minlength=n)
    out[MAGNETS] *= magnet_yield_frac
    on = plant_stage == SEPARATION
    heavy = np.bincount(plant_nation[on], (online * plant_heavy)[on], minlength=n)
    out[3] = np.divide(heavy, out[SEPARATION], out=np.zeros(n), where=out[SEPARATION] > 0)
    return out


def nation_plant_capacity_t_per_yr(a: Assets, stage: str, month: int, p, nation: int) -> float:
    """``stage_capacity_t_per_yr(...)[nation]`` of a plant stage, adding up that nation's plants only.

    The same number bit for bit: a running sum in plant order, as ``np.bincount`` adds. Projects are
    commissioned one by one (each changes the assets), so the whole table would be rebuilt for each.
    """
    kernels = market.chain_kernels()
    add_up = _nation_plant_capacity_numpy if kernels is None else kernels.nation_plant_capacity
    cap = add_up(a.plant_stage, a.plant_nation, a.plant_capacity, a.plant_online, STAGE_INDEX[stage], nation, month,
                 float(p.ramp_up_months))
    return cap * p.magnet_yield_frac if stage == "magnets" else cap


def _nation_plant_capacity_numpy(plant_stage, plant_nation, plant_capacity, plant_online, stage, nation, month,
                                 ramp_up_months) -> float:
    """A nation's online nameplate of a plant stage (the reference of
    ``sim.chain.kernels.nation_plant_capacity``)."""
    mine = np.flatnonzero((plant_stage == stage) & (plant_nation == nation))
    online = plant_capacity[mine] * ramp(plant_online[mine], month, ramp_up_months)   # (each start
    # changes the assets: a shared ramp of every plant would be recomputed for each project)
    return float(np.cumsum(online)[-1]) if len(mine) else 0.0


def has_heavy_separation(a: Assets, month: int, p, nation: int) -> bool:
    """``heavy_frac(...)[nation] > 0``: the nation has heavy-REE separation capacity online."""
    kernels = market.chain_kernels()
    check = _has_heavy_separation_numpy if kernels is None else kernels.nation_has_heavy_separation
    return check(a.plant_stage, a.plant_nation, a.plant_heavy, a.plant_capacity, a.plant_online, SEPARATION, nation,
                 month, float(p.ramp_up_months))


def _has_heavy_separation_numpy(plant_stage, plant_nation, plant_heavy, plant_capacity, plant_online, separation,
                                nation, month, ramp_up_months) -> bool:
    """Whether a nation's heavy-REE separation plants have any capacity online (the reference of
    ``sim.chain.kernels.nation_has_heavy_separation``)."""
    mine = np.flatnonzero((plant_stage == separation) & (plant_nation == nation) & plant_heavy)
    return bool((plant_capacity[mine] * ramp(plant_online[mine], month, ramp_up_months) > 0).any())


def heavy_frac(a: Assets, month: int, p, n_nations: int) -> np.ndarray:
    """Share of each nation's separation capacity that can separate the heavy elements (0-1; read-only)."""
    return stage_capacities(a, month, p, n_nations)[3]


def base_utilisation(w: World, a: Assets, p, n_nations: int) -> np.ndarray:
    """Base-year utilisation per stage and nation (3, N): output over nameplate, from the tables."""
    util = np.full((3, n_nations), 1.0 / (1.0 + p.capacity_headroom_frac))
    running = np.array([s == "operating" for s in w.plant_status])
    for k in (SEPARATION, MAGNETS):
        on = running & (a.plant_stage == k)
        out = np.bincount(a.plant_nation[on], w.plant_output_t_per_yr[on], minlength=n_nations)
        cap = np.bincount(a.plant_nation[on], a.plant_capacity[on], minlength=n_nations)
        util[k] = np.where((cap > 0) & (out > 0), np.clip(out / np.maximum(cap, 1e-9), 0.05, 1.0), util[k])
    return util


def world_mix(a: Assets) -> np.ndarray:
    """Element split (E,) of all the ore that mines with a start date could put out (read-only: shared
    until the assets change)."""
    key = ("world_mix", a.version)
    mix = a.cache.get(key)
    if mix is None:
        _room(a)
        cap = a.dep_capacity * (a.dep_online < NEVER)
        mix = cap @ a.dep_mix
        mix = a.cache[key] = mix / max(mix.sum(), 1e-9)
    return mix
