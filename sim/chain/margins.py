"""Upstream margins (USD/kg): what a tonne earns at each stage at this month's producer prices.

Mines, separators and magnet makers read them to set utilisation (``agents.plant``) and
investment reads their memory. Producers receive their zone's price, raised by any guaranteed floor.
"""

from __future__ import annotations

import numpy as np

from sim.chain.capacity import world_mix
from sim.chain.recipe import makers_recipe
from sim.chain.state import OUTSIDE_ZONE, Assets, ChainState, Structure
from sim.goods import HELD_MARKETS, NDFEB, OXIDES


def producer_prices(st: ChainState, fx: Structure, zone_price: np.ndarray | None = None) -> np.ndarray:
    """Prices (N, G) producers receive: their zone's price (this month's, or ``zone_price`` (Z, G)), raised by
    any guaranteed floor."""
    floors = st.controls.producer_floor_usd_per_kg[HELD_MARKETS].T
    return np.maximum((st.price if zone_price is None else zone_price)[fx.zone], floors)


def deposit_margin(st: ChainState, fx: Structure, p, a: Assets | None = None,
                   prices: np.ndarray | None = None) -> np.ndarray:
    """Per deposit (D,): payable value of its ore less its cash cost (at ``prices`` (N, G), default the
    producer prices of this month)."""
    a = st.assets if a is None else a
    prices = producer_prices(st, fx) if prices is None else prices
    value = (a.dep_mix * prices[a.dep_nation, OXIDES]).sum(axis=1)
    return value * p.concentrate_payability_frac - a.dep_cost


def separation_margin(st: ChainState, fx: Structure, p, prices: np.ndarray | None = None) -> np.ndarray:
    """Per nation (N,): value added by separating its feed (or the world's ore mix) less the cost."""
    fed = st.feed.sum(axis=1, keepdims=True)
    mix = st.feed / np.maximum(fed, 1e-9)
    if not (fed > 0).all():
        mix = np.where(fed > 0, mix, world_mix(st.assets))
    value = (mix * (producer_prices(st, fx) if prices is None else prices)[:, OXIDES]).sum(axis=1)
    return value * (1 - p.concentrate_payability_frac) - p.separation_cost_usd_per_kg


def magnet_margin(st: ChainState, fx: Structure, p, prices: np.ndarray | None = None) -> np.ndarray:
    """Per nation (N,): magnet price less the recipe's oxides and the conversion cost."""
    pr = producer_prices(st, fx) if prices is None else prices
    return pr[:, NDFEB] - (pr[:, OXIDES] * makers_recipe(st, fx)).sum(axis=1) - p.magnet_conversion_cost_usd_per_kg


def required_value_multiple(st: ChainState, fx: Structure, p) -> np.ndarray:
    """Per deposit (D,): the value its ore must fetch to cover cash cost and the hurdle, as a multiple of
    its value at base-year prices outside China (the mine cost curve, Keilhacker & Minner 2017)."""
    a = st.assets
    base_value = a.dep_mix @ fx.anchor[OUTSIDE_ZONE, OXIDES] * p.concentrate_payability_frac
    return a.dep_cost * (1.0 + p.hurdle_rate_frac) / np.maximum(base_value, 1e-9)
