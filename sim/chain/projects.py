"""Projects (ODD 7.17): starting them, financing announced ones, scenario deals, the US trade hurdle.

A decided project delivers after its stage's lead time. Announced projects seek finance when their month
comes, with odds that policy raises and US trade restrictions lower; investment deals of a scenario start
on their date.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import month_index
from sim.chain import assets, capacity
from sim.chain.capacity import SEPARATION, STAGE_INDEX
from sim.chain.state import NEVER, ChainState, Structure
from sim.policy_events import InvestmentDeal
from sim.world import World


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
            assets.add_deposit(a, nation, src, cap, month + (lead if capacity_t else lead // 2))
    else:
        k = STAGE_INDEX[sector]
        lead = p.lead_time_separation_months if k == SEPARATION else p.lead_time_magnet_months
        lead = int(round(lead * st.controls.lead_time_multiplier[nation]))
        typical = p.typical_separation_plant_t_per_yr if k == SEPARATION else p.typical_magnet_plant_t_per_yr
        cap = capacity_t or max(typical, capacity.nation_plant_capacity_t_per_yr(a, sector, month, p, nation)) \
            * p.investment_step_frac * size_frac
        heavy = k == SEPARATION and capacity.has_heavy_separation(a, month, p, nation)
        assets.add_plant(a, nation, k, cap, heavy, month + lead)
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
    if month < _next_financing(a):
        return
    deposits, plants = np.flatnonzero(a.dep_finance_at == month), np.flatnonzero(a.plant_finance_at == month)
    if len(deposits) or len(plants):
        a.version += 1                      # the capacity caches key on it
    for i in deposits:
        prob = w.deposit_finance_prob[i] if i < len(w.deposit_finance_prob) else 0.5
        if rng.random() < finance_prob(st, p, prob, a.dep_nation[i]):
            a.dep_online[i] = max(a.dep_planned.get(i, month), month + int(p.min_mine_build_months))
            a.dep_finance_at[i] = NEVER
        else:
            a.dep_finance_at[i] = month + int(p.project_retry_months)
    for i in plants:
        if rng.random() < finance_prob(st, p, p.plant_finance_prob, a.plant_nation[i]):
            a.plant_online[i] = max(a.plant_planned.get(i, month), month + int(p.min_plant_build_months))
            a.plant_finance_at[i] = NEVER
        else:
            a.plant_finance_at[i] = month + int(p.project_retry_months)


def _next_financing(a) -> int:
    """The first month any announced project seeks finance (NEVER if none), kept until the assets change
    (every change of a financing month bumps their ``version``)."""
    key = ("next_financing", a.version)
    found = a.cache.get(key)
    if found is None:
        capacity._room(a)
        found = a.cache[key] = int(min(a.dep_finance_at.min(initial=NEVER), a.plant_finance_at.min(initial=NEVER)))
    return found


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
    key = ("us_hurdle", fx.usa, p.trade_restriction_hurdle_frac)
    c = st.controls
    if key not in c._derived:                         # (the same while the same trade status is in force)
        hurdle = np.where(status[fx.usa] >= 1, p.trade_restriction_hurdle_frac, 0.0)
        hurdle.flags.writeable = False
        c._derived[key] = hurdle
    st.hurdle_extra_frac = c._derived[key]
