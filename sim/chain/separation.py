"""Concentrate market and separation (ODD 7.5, 7.6).

Separators plan a run from their capacity, margin and unsold oxide stock, buy concentrate on the ore
market (every source priced at the same payable value, so buyers compare freight, duties, tariffs and
risk), and separate all elements of their feed together (joint production). Plants without a heavy-REE
circuit pass Sm..Y on as mixed heavy concentrate. Recycled oxide joins the sellers' stock; oxide beyond
the storage limit goes to tailings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.plant import PlantIndustry
from sim import market
from sim.chain import trade
from sim.chain.capacity import SEPARATION, heavy_frac, ramp, stage_capacity_t_per_yr
from sim.chain.margins import constant, separation_margin
from sim.chain.recipe import heavy_per_magnet_t
from sim.chain.state import ChainState, Structure
from sim.goods import HEAVY_MASK, NDFEB, ORE_MARKET


@dataclass
class Separated:
    """This month's concentrate trade and separation (t)."""

    ore_flows_t: np.ndarray         # (N exporter, N importer)
    separated_t: np.ndarray         # (N, E)
    recycled_t: np.ndarray          # (N, E)
    losses_t: np.ndarray            # (E,) sent to tailings


def licensed_capacity_t_per_yr(st: ChainState, fx: Structure, p) -> np.ndarray:
    """Separation capacity each nation may run (N,), t REO/yr: its plants online, with China's quota line
    resized by a separation-quota event.

    The world tables mark the plants whose capacity is the base year's MIIT smelting/separation quota
    (``quota_line``: the physical plants are larger, the quota binds); a new quota gives that line the
    quota as its capacity, with the same headroom as every nameplate. China's plants for imported ore are
    not under the quota. (Scenario loading refuses a separation quota on a world without such a line.)
    """
    a = st.assets
    cap = stage_capacity_t_per_yr(a, "separation", st.month, p, fx.n_nations)
    quota = st.controls.separation_quota_t_per_yr[fx.china]
    if np.isfinite(quota):
        line = a.plant_quota_line & (a.plant_nation == fx.china)
        online = a.plant_capacity[line] * ramp(a.plant_online[line], st.month, p.ramp_up_months)
        cap = cap.copy()
        cap[fx.china] = max(cap[fx.china] - online.sum() + quota * (1.0 + p.capacity_headroom_frac), 0.0)
    return cap


def trade_and_separate(st: ChainState, fx: Structure, p, undocumented_t: np.ndarray) -> Separated:
    """Buy concentrate, separate it, add recycled oxide, dispose of the surplus beyond storage."""
    c, n = st.controls, fx.n_nations
    cap = licensed_capacity_t_per_yr(st, fx, p) / 12 * (1 - c.lost_frac[SEPARATION])
    util_t = PlantIndustry.utilisation(separation_margin(st, fx, p), fx.base_margin_sep,
                                       constant(n, p.separation_cost_usd_per_kg), fx.base_util[SEPARATION],
                                       p.util_margin_scale_frac, p.util_min_frac)
    plan, supply, order, comp, payable = PlantIndustry.plan_separation(
        util_t, cap, st.plant_util[0], st.price, fx.zone, st.oxide, st.sales_ema, st.conc, st.feed,
        p.surplus_cover_months, p.util_min_frac, p.util_adjust_rate_per_month, p.concentrate_payability_frac)
    ore = trade.clear(st, fx, p, slice(ORE_MARKET, ORE_MARKET + 1), payable[None], supply[None], order[None],
                      undocumented_t)
    flows, sellers, buyers = ore.res.flows_t[0], ore.sellers, ore.buyers   # only they trade: no N x N work
    scrap_heavy = st.use_ema[:, NDFEB, None] * heavy_per_magnet_t(st, fx)       # the Dy and Tb in scrap magnets
    recycled = p.recycling_rate_frac * (st.use_ema @ fx.element_content + scrap_heavy)
    kernels = market.chain_kernels()
    separate = _separate_numpy if kernels is None else kernels.separate
    separated, losses, _ = separate(flows, sellers, buyers, comp, st.conc, st.feed, st.oxide, plan,
                                    heavy_frac(st.assets, st.month, p, n), HEAVY_MASK, recycled,
                                    st.sales_ema, p.surplus_cover_months, p.surplus_disposal_rate_per_month)
    st.losses_t += losses
    return Separated(ore_flows_t=flows, separated_t=separated, recycled_t=recycled, losses_t=losses)


def _separate_numpy(flows, sellers, buyers, comp, conc, feed, oxide, plan, heavy, heavy_mask, recycled, sales_ema,
                    surplus_cover_months, disposal_rate_per_month):
    """Deliver the concentrate bought, separate up to the plan, add recycled oxide and send the oxide beyond
    the storage limit to tailings, updating ``conc``, ``feed`` and ``oxide`` (N, E) in place.

    The reference of ``sim.chain.kernels.separate``. Separators run their feed up to the plan; plants
    separate the heavy elements in proportion to their heavy-REE circuits (``heavy``: (N,) share) and
    return the rest as mixed heavy concentrate. Returns (separated (N, E), losses (E,), tonnes run).
    """
    moved = market.pairs(flows, sellers, buyers)[:, :, None] * comp[sellers][:, None, :]   # (exp, imp, E)
    conc[sellers] -= moved.sum(axis=1)
    feed[buyers] += moved.sum(axis=0)
    feed_total = feed.sum(axis=1)
    run = np.minimum(feed_total, plan)
    frac = np.divide(run, feed_total, out=np.zeros_like(run), where=feed_total > 0)
    processed = feed * frac[:, None]
    feed -= processed
    separated = processed * np.where(heavy_mask[None], heavy[:, None], 1.0)
    conc += processed - separated
    oxide += separated
    oxide += recycled
    limit = surplus_cover_months * np.maximum(sales_ema, separated)
    excess = disposal_rate_per_month * np.maximum(oxide - limit, 0.0)
    oxide -= excess
    return separated, excess.sum(axis=0), run.sum()
