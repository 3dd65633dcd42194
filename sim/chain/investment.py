"""Investment (ODD 7.17): what investors remember and the scarcity signal they plan on.

Each month investors remember margins and read a scarcity signal per stage and zone (the capacity the
stage will have once a project decided now delivers, against the need expected then, plus the zone's
remembered shortage); ``PlantIndustry.plan_investment`` decides who seeks finance, and the chosen
projects start (``sim.chain.projects``).
"""

from __future__ import annotations

import numpy as np

from sim import market
from sim.chain import capacity, demand, prices
from sim.chain.capacity import MAGNETS, MINING, SEPARATION, STAGE_INDEX
from sim.chain.margins import (deposit_margin, magnet_margin, producer_prices, required_value_multiple,
                               separation_margin)
from sim.chain.mining import Mined
from sim.chain.projects import commission
from sim.chain.state import ChainState, Structure
from sim.goods import NDFEB, NDPR
from sim.pricing import marginal_cost_ratio
from sim.world import World


def remember(st: ChainState, fx: Structure, p, mined: Mined) -> None:
    """Update what investors read: margin over cost by stage and nation at the expected long-run prices
    (a project earns them over its life, not this month's spot), and how far up the mine cost curve
    supply now reaches (the long-run price, ``pricing.marginal_cost_ratio``)."""
    a = st.assets
    at_long_run = producer_prices(st, fx, prices.long_run_usd_per_kg(st, fx))     # what a project will earn
    kernels = market.chain_kernels()
    update = _remember_margins_numpy if kernels is None else kernels.remember_margins
    update(st.margin_ema, deposit_margin(st, fx, p, prices=at_long_run), a.dep_cost, a.dep_nation,
           separation_margin(st, fx, p, at_long_run), p.separation_cost_usd_per_kg,
           magnet_margin(st, fx, p, at_long_run), p.magnet_conversion_cost_usd_per_kg,
           float(p.investment_memory_months))
    marginal = marginal_cost_ratio(_required_multiple(st, fx, p), mined.by_deposit_t, p.marginal_mine_quantile)
    st.long_run_ratio += (marginal / fx.required_multiple_base - st.long_run_ratio) / p.investment_memory_months


def _remember_margins_numpy(margin_ema, dep_margin, dep_cost, dep_nation, sep_margin, sep_cost, mag_margin,
                            mag_cost, memory_months) -> None:
    """Move the remembered margin over cost (3, N) toward this month's: deposits' averaged per nation,
    separation's and magnet making's per nation (``margin_ema`` in place); the reference of
    ``sim.chain.kernels.remember_margins``."""
    n = margin_ema.shape[1]
    value = np.bincount(dep_nation, dep_margin / dep_cost, minlength=n)
    count = np.bincount(dep_nation, minlength=n)
    fracs = (np.divide(value, count, out=np.zeros(n), where=count > 0), sep_margin / sep_cost, mag_margin / mag_cost)
    for k, frac in enumerate(fracs):
        margin_ema[k] += (frac - margin_ema[k]) / memory_months


def _required_multiple(st: ChainState, fx: Structure, p) -> np.ndarray:
    """``margins.required_value_multiple`` (D,), kept until the assets change (read-only)."""
    a = st.assets
    key = ("required_multiple", a.version)
    found = a.cache.get(key)
    if found is None:
        capacity._room(a)
        found = a.cache[key] = required_value_multiple(st, fx, p)
    return found


def expected_need_growth(w: World, p, fx: Structure, need_t: np.ndarray, months_since_start: int,
                         lead_months: tuple[float, ...]) -> list[float]:
    """How much end use will have grown by the time a project decided now delivers (ratio, world, t REO),
    for each lead time.

    Investors know the sectors' growth outlook (the world tables' rates): the need of each sector grows
    by its own factor over the lead time (capacity planning on expected demand, Keilhacker & Minner 2017).
    """
    by_sector = (need_t @ fx.reo_content).sum(axis=0)                 # (S,) t REO this month
    now = demand.growth_factor(w, p, months_since_start)
    total = max(by_sector.sum(), 1e-9)
    return [float((by_sector * demand.growth_factor(w, p, months_since_start + lead) / now).sum() / total)
            for lead in lead_months]


def china_mine_cap_t_per_yr(st: ChainState, fx: Structure, p, month: int, start_month: int) -> float:
    """The most China's mines count for in ``month``: its mining quota then (the growing rock quota plus the
    flat clay quota, or a scenario's override), with the nameplate headroom."""
    years = (month - start_month) / 12.0
    quota = p.china_clay_quota_t_per_yr + (p.china_mining_quota_t_per_yr - p.china_clay_quota_t_per_yr) \
        * (1 + p.china_quota_growth_frac_per_yr) ** years
    override = st.controls.mining_quota_t_per_yr[fx.china]
    quota = override if np.isfinite(override) else quota
    return quota * (1.0 + p.capacity_headroom_frac)


def pipelines_t_per_yr(st: ChainState, fx: Structure, p, leads: tuple[float, float, float],
                       start_month: int) -> tuple[float, float, float]:
    """Nameplate each stage (mining, separation, magnets) will have when a project decided now delivers, after
    its lead time ``leads``: online plus under construction, in one pass (compiled while the markets clear
    compiled). China's mines count up to its mining quota at that date (the quota, not geology, limits them).
    """
    a, later = st.assets, [st.month + int(lead) for lead in leads]
    kernels = market.chain_kernels()
    totals = _pipelines_numpy if kernels is None else kernels.pipelines
    return totals(a.dep_nation, a.dep_capacity, a.dep_online, a.plant_nation, a.plant_stage, a.plant_capacity,
                  a.plant_online, a.plant_heavy, later[0], later[1], later[2], float(p.ramp_up_months),
                  float(p.magnet_yield_frac), fx.n_nations, fx.china,
                  float(china_mine_cap_t_per_yr(st, fx, p, later[0], start_month)))


def _pipelines_numpy(dep_nation, dep_capacity, dep_online, plant_nation, plant_stage, plant_capacity, plant_online,
                     plant_heavy, mining_month, separation_month, magnets_month, ramp_up_months, magnet_yield_frac,
                     n, china, china_cap) -> tuple[float, float, float]:
    """Each stage's capacity summed over nations in its month, China's mines capped at ``china_cap``; the
    reference of ``sim.chain.kernels.pipelines``."""
    def table(month):
        return capacity._stage_capacities_numpy(dep_nation, dep_capacity, dep_online, plant_nation, plant_stage,
                                                plant_capacity, plant_online, plant_heavy, month, ramp_up_months,
                                                magnet_yield_frac, n)
    mines = table(mining_month)[MINING]
    mines[china] = min(mines[china], china_cap)
    return float(mines.sum()), float(table(separation_month)[SEPARATION].sum()), \
        float(table(magnets_month)[MAGNETS].sum())


def stage_need(fx: Structure, need_t: np.ndarray) -> np.ndarray:
    """What drives each stage's capacity (3,), t/month: mining the NdPr in end use (the co-products follow),
    separation all the REO, magnet making the NdFeB."""
    goods = need_t.sum(axis=(0, 1))                                   # (G,)
    elements = goods @ fx.element_content
    # (Nd + Pr: numpy's sum of the two)
    return np.array([elements[NDPR[0]] + elements[NDPR[1]], goods @ fx.reo_content, goods[NDFEB]])


def capacity_per_need(st: ChainState, fx: Structure, p, start_month: int) -> np.ndarray:
    """Nameplate per unit of need in the base year (3,): the capacity margin the industry normally keeps."""
    have = pipelines_t_per_yr(st, fx, p, (0, 0, 0), start_month)
    return np.array(have) / np.maximum(stage_need(fx, fx.base_need), 1e-9)


def update_signals(st: ChainState, fx: Structure, p, w: World, need_t: np.ndarray, start_month: int) -> np.ndarray:
    """Investment signal per stage and zone (3, Z), 0-1: the expected shortfall of capacity over the lead time.

    Each stage compares the nameplate it will have when a project decided now delivers (online plus under
    construction, ``pipelines_t_per_yr``) with what the need expected then calls for (this month's need
    grown by each sector's outlook, at the base year's capacity per unit of need); the shortfall, in steps
    of ``investment_step_frac``, is the signal. Shortages now add to it. Forward-looking capacity planning
    (Keilhacker & Minner 2017) rather than a reaction to past prices: it does not wait for a price spike,
    and it counts the projects already under way.
    """
    months = st.month - start_month
    leads = (p.lead_time_mine_months, p.lead_time_separation_months, p.lead_time_magnet_months)
    need = stage_need(fx, need_t)
    growth = expected_need_growth(w, p, fx, need_t, months, leads)
    gaps = np.zeros(3)
    for k, have in enumerate(pipelines_t_per_yr(st, fx, p, leads, start_month)):
        wanted = st.capacity_per_need[k] * need[k] * growth[k]
        gaps[k] = (wanted - have) / max(wanted, 1e-9)
    shortage = st.shortage_ema[None] / p.investment_shortage_trigger_frac
    return np.minimum(np.maximum(gaps[:, None] / p.investment_step_frac + shortage, 0.0), 1.0)


_plan_rows: list = [None, None, None, None]   # the last agent list planned for, its nations, stages, zones


def plan(st: ChainState, fx: Structure, p, signal: np.ndarray, agents: list, rng: np.random.Generator,
         w: World) -> None:
    """Industries decide on new capacity (``PlantIndustry.plan_investment``) on this month's scarcity
    ``signal`` (3, Z; :func:`update_signals`); the chosen projects start."""
    if _plan_rows[0] is not agents:            # the same list every month: its nations and stages read once
        nation = np.array([a.nation for a in agents])
        _plan_rows[:] = [agents, nation, np.array([STAGE_INDEX[a.sector] for a in agents]), fx.zone[nation]]
    _, nation, stage, zone = _plan_rows
    c = st.controls
    chosen = type(agents[0]).plan_investment(
        agents, stage, nation, zone, signal, st.margin_ema, p.hurdle_rate_frac + c.risk_frac + st.hurdle_extra_frac,
        c.finance_prob_multiplier, p.project_retry_months, rng)
    for agent, size in chosen:
        commission(st, fx, p, w, agent.sector, agent.nation, size)
