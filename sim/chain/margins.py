"""Upstream margins (USD/kg): what a tonne earns at each stage at this month's producer prices.

Mines, separators and magnet makers read them to set utilisation (``agents.industry``) and
investment reads their memory. Producers receive their zone's price, raised by any guaranteed floor.
"""

from __future__ import annotations

import numpy as np

from sim.chain.capacity import world_mix
from sim.chain.recipe import makers_recipe
from sim.chain.state import OUTSIDE_ZONE, Assets, ChainState, Structure
from sim.goods import HELD_MARKETS, NDFEB, OXIDES


_LAST: list = [None, None, None, None]    # this month's price array, controls and zones, and what producers got


def producer_prices(st: ChainState, fx: Structure, zone_price: np.ndarray | None = None) -> np.ndarray:
    """Prices (N, G) producers receive: their zone's price (this month's, or ``zone_price`` (Z, G)), raised by
    any guaranteed floor (read-only).

    This month's are worked out once: mines, separators, makers and investors all read them, and the price
    array is only ever replaced (``prices.update``), never written in place.
    """
    c = st.controls
    if zone_price is None:
        if _LAST[0] is st.price and _LAST[1] is c and _LAST[2] is fx.zone:
            return _LAST[3]
        out = _floored(st.price[fx.zone], c)
        out.flags.writeable = False
        _LAST[:] = [st.price, c, fx.zone, out]
        return out
    return _floored(zone_price[fx.zone], c)


def _floored(price: np.ndarray, c) -> np.ndarray:
    """``np.maximum(price, floors)`` (N, G); where no floor is set (all 0: the usual case) the prices as they are
    (every price is above 0, so the maximum would return them unchanged)."""
    if "floored" not in c._derived:
        floors = c.producer_floor_usd_per_kg[HELD_MARKETS].T
        c._derived["floored"] = floors if floors.any() else None
    floors = c._derived["floored"]
    return price if floors is None else np.maximum(price, floors)


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
