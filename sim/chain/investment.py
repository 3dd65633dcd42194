"""Investment and project financing (ODD 7.17).

Each month investors remember margins and read a scarcity signal per stage and zone (tight utilisation,
shortage, two-year prices against the base year); ``PlantIndustry.plan_investment`` decides who seeks
finance. Announced projects seek finance when their month comes (odds raised by policy, lowered by US
trade restrictions); investment deals of a scenario start on their date.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import month_index
from sim.chain import capacity
from sim.chain.capacity import MAGNETS, SEPARATION, STAGE_INDEX, mine_potential_t, stage_capacity_t_per_yr
from sim.chain.margins import deposit_margin, magnet_margin, separation_margin
from sim.chain.state import NEVER, ChainState, Structure
from sim.goods import MAGNET_PRICE_ELEMENTS, NDFEB, element_index
from sim.policy import InvestmentDeal
from sim.world import World

MAGNET_PRICE_GOODS = [element_index(e) for e in MAGNET_PRICE_ELEMENTS]
MINING = STAGE_INDEX["mining"]


def remember(st: ChainState, fx: Structure, p, mined_t: np.ndarray) -> None:
    """Update the memories investors read: margin over cost by stage and nation, mine utilisation."""
    n, a = fx.n_nations, st.assets
    value = np.bincount(a.dep_nation, deposit_margin(st, fx, p) / a.dep_cost, minlength=n)
    count = np.bincount(a.dep_nation, minlength=n)
    fracs = (np.divide(value, count, out=np.zeros(n), where=count > 0),
             separation_margin(st, fx, p) / p.separation_cost_usd_per_kg,
             magnet_margin(st, fx, p) / p.magnet_conversion_cost_usd_per_kg)
    for k, frac in enumerate(fracs):
        st.margin_ema[k] += (frac - st.margin_ema[k]) / p.investment_memory_months
    potential = mine_potential_t(a, st.month, p, n).sum() / max(a.dep_util.mean(), 1e-9)
    st.util_ema[MINING] += p.memory_frac * (mined_t.sum() / max(potential, 1e-9) - st.util_ema[MINING])


def update_signals(st: ChainState, fx: Structure, p) -> None:
    """Scarcity signals per stage and zone (3, Z), 0-1, computed once a month for every investor.

    Mines and separators read the two-year average price of the magnet oxides against the base year,
    magnet makers that of NdFeB; tight utilisation and shortages add to both.
    """
    tight = (st.util_ema - p.investment_util_threshold_frac) / (1.0 - p.investment_util_threshold_frac)
    avg = st.price_hist.mean(axis=0) / fx.anchor                      # (Z, G)
    oxides = np.log(avg[:, MAGNET_PRICE_GOODS].mean(axis=1))
    magnets = np.log(avg[:, NDFEB])
    scarcity = np.stack([oxides, oxides, magnets])                    # (stage, Z)
    shortage = st.shortage_ema[None] / p.investment_shortage_trigger_frac
    st.signal = np.clip(tight[:, None] + shortage + scarcity, 0.0, 1.0)


def plan(st: ChainState, fx: Structure, p, agents: list, rng: np.random.Generator, w: World) -> None:
    """Industries decide on new capacity (``PlantIndustry.plan_investment``); the chosen projects start."""
    nation = np.array([a.nation for a in agents])
    stage = np.array([STAGE_INDEX[a.sector] for a in agents])
    c = st.controls
    chosen = type(agents[0]).plan_investment(
        agents, st.signal[stage, fx.zone[nation]], st.margin_ema[stage, nation],
        p.hurdle_rate_frac + c.risk_frac[nation] + st.hurdle_extra_frac[nation],
        c.finance_prob_multiplier[nation], p.project_retry_months, rng)
    for agent, size in chosen:
        if commission(st, fx, p, w, agent.sector, agent.nation, size):
            agent.projects_started += 1


def commission(st: ChainState, fx: Structure, p, w: World, sector: str, nation: int, size_frac: float,
               capacity_t: float | None = None, mix_deposit: int | None = None, offtake_to: int | None = None,
               offtake_frac: float = 0.0) -> bool:
    """Start a project; it delivers after the stage's lead time. Returns whether one started."""
    a, month = st.assets, st.month
    if sector == "mining":
        lead = int(p.lead_time_mine_months)
        idle = [i for i in np.flatnonzero((a.dep_nation == nation) & (a.dep_online >= NEVER))
                if i not in a.dep_planned or a.dep_finance_at[i] >= NEVER]
        if capacity_t is None and idle:
            i = max(idle, key=lambda k: w.deposit_capacity_t_per_yr[k])
            a.dep_online[i] = month + lead
            a.dep_finance_at[i] = NEVER
        else:
            own = np.flatnonzero(a.dep_nation == nation)
            if mix_deposit is None and not len(own):
                return False
            src = mix_deposit if mix_deposit is not None else own[np.argmax(a.dep_capacity[own])]
            cap = capacity_t or max(p.investment_step_frac * a.dep_capacity[own].sum() * size_frac,
                                    p.min_mine_project_t_per_yr)
            capacity.add_deposit(a, nation, src, cap, month + (lead if capacity_t else lead // 2))
    else:
        k = STAGE_INDEX[sector]
        lead = p.lead_time_separation_months if k == SEPARATION else p.lead_time_magnet_months
        lead = int(round(lead * st.controls.lead_time_multiplier[nation]))
        typical = p.typical_separation_plant_t_per_yr if k == SEPARATION else p.typical_magnet_plant_t_per_yr
        cap = capacity_t or max(typical, stage_capacity_t_per_yr(a, sector, month, p, fx.n_nations)[nation]) \
            * p.investment_step_frac * size_frac
        heavy = bool(k == SEPARATION and capacity.heavy_frac(a, month, p, fx.n_nations)[nation] > 0)
        capacity.add_plant(a, nation, k, cap, heavy, month + lead)
    a.version += 1
    if offtake_to is not None and offtake_frac > 0:
        st.offtake[nation, offtake_to] = max(st.offtake[nation, offtake_to], offtake_frac)
    return True


def finance_prob(st: ChainState, p, base: float, nation: int) -> float:
    """Odds a project in ``nation`` is financed: policy multiplies them, US trade restrictions cut them."""
    penalty = p.trade_restriction_finance_penalty_frac if st.hurdle_extra_frac[nation] > 0 else 0.0
    return float(np.clip(base * st.controls.finance_prob_multiplier[nation] * (1.0 - penalty), 0.0, 1.0))


def finance_announced(st: ChainState, p, w: World, rng: np.random.Generator) -> None:
    """Announced projects whose financing month has come: built on time, or retried later."""
    a, month = st.assets, st.month
    a.version += 1
    for i in np.flatnonzero(a.dep_finance_at == month):
        prob = w.deposit_finance_prob[i] if i < len(w.deposit_finance_prob) else 0.5
        if rng.random() < finance_prob(st, p, prob, a.dep_nation[i]):
            a.dep_online[i] = max(a.dep_planned.get(i, month), month + int(p.min_mine_build_months))
            a.dep_finance_at[i] = NEVER
        else:
            a.dep_finance_at[i] = month + int(p.project_retry_months)
    for i in np.flatnonzero(a.plant_finance_at == month):
        if rng.random() < finance_prob(st, p, p.plant_finance_prob, a.plant_nation[i]):
            a.plant_online[i] = max(a.plant_planned.get(i, month), month + int(p.min_plant_build_months))
            a.plant_finance_at[i] = NEVER
        else:
            a.plant_finance_at[i] = month + int(p.project_retry_months)


def start_deals(st: ChainState, fx: Structure, p, w: World, events: list, rng: np.random.Generator) -> None:
    """Investment deals of the scenario that start this month (financed with the deal's odds)."""
    for ev in events:
        if isinstance(ev, InvestmentDeal) and month_index(ev.at) == st.month:
            host, investor = w.nations.index(ev.host), w.nations.index(ev.investor)
            if ev.capacity_t_per_yr <= 0 or rng.random() >= finance_prob(st, p, ev.success_prob, host):
                continue
            mix = w.deposit_names.index(ev.element_mix) if ev.element_mix else None
            if ev.stage == "mining" and mix is None:
                own = np.flatnonzero(st.assets.dep_nation == host)
                mix = int(own[0]) if len(own) else 0
            commission(st, fx, p, w, ev.stage, host, 1.0, capacity_t=ev.capacity_t_per_yr, mix_deposit=mix,
                       offtake_to=investor, offtake_frac=ev.offtake_frac)


def apply_trade_status(st: ChainState, fx: Structure, p) -> None:
    """Extra hurdle where the US still restricts trade (Jackson-Vanik, sanctions)."""
    status = st.controls.trade_status
    if fx.usa is None or status is None:
        return
    st.hurdle_extra_frac = np.where(status[fx.usa] >= 1, p.trade_restriction_hurdle_frac, 0.0)
