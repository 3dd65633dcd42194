"""Initialisation (ODD 5): the structure of a world and its state in the base year, before the spin-up.

Demand is split into sectors and goods from the world tables; prices start at the base-year prices (which
also anchor them); stocks start at a normal pipeline (separators' feed and oxide at base-year throughput,
makers' oxide and magnets at their cover, users at their target cover, stockpiles at their initial fill)
so that month one starts close to balance.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import DAYS_PER_MONTH
from sim.chain import investment
from sim.chain.assets import build_assets
from sim.chain.backstop import backstop_usd_per_kg
from sim.chain.capacity import (MAGNETS, base_utilisation, mine_potential_t, ramp,
                                stage_capacity_t_per_yr)
from sim.chain.recipe import relative_grades, split_recipe
from sim.chain.margins import deposit_margin, magnet_margin, required_value_multiple, separation_margin
from sim.chain.state import CHINA_ZONE, OUTSIDE_ZONE, TRANSIT_SLOTS, BUYERS, ChainState, Structure
from sim.goods import E, G, MARKET_GOODS, NDFEB, OXIDES
from sim.pricing import marginal_cost_ratio
from sim.policy import PolicyBook
from sim.world import SECTORS, World


def distance_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance between every pair of nations (km)."""
    la, lo = np.radians(lat), np.radians(lon)
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(la)[:, None] * np.cos(la)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def build(w: World, p, start_month: int, book: PolicyBook) -> tuple[Structure, ChainState]:
    """The run's fixed structure and its base-year state (month = the month before the start)."""
    n = len(w.nations)
    month = start_month - 1
    assets = build_assets(w, p, start_month)
    china = w.nations.index("CHN")
    zone = np.where(np.arange(n) == china, CHINA_ZONE, OUTSIDE_ZONE)
    reo_per_magnet = w.magnet_reo_t_per_t
    base_need = np.zeros((n, len(SECTORS), G))
    base_need[:, :, OXIDES] = (w.demand_t_reo_per_yr / 12.0)[:, :, None] * (
        (1.0 - w.magnet_share_frac)[:, None] * w.sector_split_frac)[None]
    base_need[:, :, NDFEB] = w.demand_t_reo_per_yr / 12.0 * w.magnet_share_frac / reo_per_magnet
    element_content = np.zeros((G, E))
    element_content[OXIDES, OXIDES] = np.eye(E)
    carried, heavy = split_recipe(w.magnet_recipe_t_per_t)
    element_content[NDFEB] = carried                                  # Dy and Tb leave the balance in making
    price = np.stack([w.price_china_usd_per_kg, w.price_usd_per_kg]).astype(float)
    dist = distance_km(w.lat, w.lon)
    month_need = base_need.sum(axis=1)                                # (N, G)
    stockpile_targets = w.stockpile_target_days[:, None] / DAYS_PER_MONTH * month_need
    st = ChainState(
        month=month, assets=assets, controls=book.controls(month, np.zeros((len(MARKET_GOODS), n, n))),
        conc=np.zeros((n, E)), feed=np.zeros((n, E)), oxide=np.zeros((n, E)), maker_oxide=np.zeros((n, E)),
        magnets=np.zeros(n), user=month_need * p.target_cover_months,
        stockpile_t=stockpile_targets * p.stockpile_initial_fill_frac * p.stockpile_days_scale,
        spec_t=np.zeros((n, E)), transit=np.zeros((TRANSIT_SLOTS, len(BUYERS), n, G)), losses_t=np.zeros(E),
        flow_ema=np.zeros((len(MARKET_GOODS), n, n)), use_ema=month_need.copy(), sales_ema=np.zeros((n, E)),
        magnet_sales_ema=month_need[:, NDFEB] * 0.0, margin_ema=np.zeros((3, n)), shortage_ema=np.zeros(2),
        plant_util=np.zeros((2, n)), offtake=np.zeros((n, n)), hurdle_extra_frac=np.zeros(n),
        price=price, price_hist=np.repeat(price[None], 24, axis=0),
        intensity=np.ones((2, len(SECTORS), G)), intensity_low=np.ones((2, len(SECTORS), G)),
        export_bind=np.zeros(G))
    fx = Structure(
        n_nations=n, china=china, usa=w.nations.index("USA") if "USA" in w.nations else None, zone=zone,
        freight=p.freight_base_usd_per_kg * (dist > 0) + p.freight_usd_per_kg_per_1000km * dist / 1000,
        base_need=base_need, reo_content=np.append(np.ones(E), reo_per_magnet), element_content=element_content,
        recipe=carried, heavy_recipe=heavy, heavy_grade=relative_grades(w, base_need),
        heavy_trend_per_yr=np.log1p(w.magnet_content_trend_frac_per_yr), start_month=month,
        max_sub=np.repeat(w.max_substitution_frac[:, None], G, axis=1)[None],
        anchor=price.copy(), floor=price * p.price_floor_frac, base_util=base_utilisation(w, assets, p, n),
        base_margin_sep=np.zeros(n), base_margin_mag=np.zeros(n),
        backstop=np.repeat(backstop_usd_per_kg()[None], 2, axis=0), required_multiple_base=1.0)
    return _prime(st, fx, p, w)


def _prime(st: ChainState, fx: Structure, p, w: World) -> tuple[Structure, ChainState]:
    """Base-year margins and a normal pipeline of stocks, so month one starts in balance."""
    n, a = fx.n_nations, st.assets
    a.dep_base_margin = deposit_margin(st, fx, p)
    base_output = a.dep_capacity * ramp(a.dep_online, st.month, p.ramp_up_months) * a.dep_util
    fx = Structure(**{**fx.__dict__, "base_margin_sep": separation_margin(st, fx, p),
                      "base_margin_mag": magnet_margin(st, fx, p),
                      "required_multiple_base": marginal_cost_ratio(required_value_multiple(st, fx, p), base_output,
                                                                    p.marginal_mine_quantile)})
    cap_sep = stage_capacity_t_per_yr(a, "separation", st.month, p, n) / 12
    mined = mine_potential_t(a, st.month, p, n)
    mix = mined.sum(0) / max(mined.sum(), 1e-9)
    st.feed = cap_sep[:, None] * mix[None] / (1 + p.capacity_headroom_frac)
    st.oxide = st.feed.copy()
    st.sales_ema = st.oxide.copy()
    mag_cap = stage_capacity_t_per_yr(a, "magnets", st.month, p, n) / 12 * fx.base_util[MAGNETS]
    st.maker_oxide = mag_cap[:, None] * w.magnet_recipe_t_per_t[None] * p.target_cover_months
    st.magnets = mag_cap.copy()
    st.magnet_sales_ema = mag_cap.copy()
    st.plant_util = fx.base_util[1:].copy()
    st.capacity_per_need = investment.capacity_per_need(st, fx, p, st.month + 1)
    return fx, st

