"""Upstream margins (USD/kg): what a tonne earns at each stage at this month's producer prices.

Mines, separators and magnet makers read them to set utilisation (``agents.plant``) and
investment reads their memory. Producers receive their zone's price, raised by any guaranteed floor.
"""

from __future__ import annotations

import numpy as np

from sim.market import chain_kernels
from sim.chain.capacity import world_mix
from sim.chain.recipe import makers_recipe
from sim.chain.state import OUTSIDE_ZONE, Assets, ChainState, Structure
from sim.goods import HELD_MARKETS, NDFEB, OXIDES


_CONSTANTS: dict[tuple[int, float], np.ndarray] = {}


def constant(n: int, value: float) -> np.ndarray:
    """``np.full(n, value)``, made once and shared (read-only): a cost every nation pays alike."""
    key = (n, value)
    found = _CONSTANTS.get(key)
    if found is None:
        if len(_CONSTANTS) > 64:
            _CONSTANTS.clear()
        found = _CONSTANTS[key] = np.full(n, value)
        found.flags.writeable = False
    return found


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
    kernels = chain_kernels()
    margin = _deposit_margin_numpy if kernels is None else kernels.deposit_margin
    return margin(a.dep_mix, a.dep_nation, prices, a.dep_cost, p.concentrate_payability_frac)


def _deposit_margin_numpy(dep_mix, dep_nation, prices, dep_cost, payability_frac) -> np.ndarray:
    """:func:`deposit_margin` on arrays; the reference of ``sim.chain.kernels.deposit_margin``."""
    value = (dep_mix * prices[dep_nation, OXIDES]).sum(axis=1)
    return value * payability_frac - dep_cost


def separation_margin(st: ChainState, fx: Structure, p, prices: np.ndarray | None = None) -> np.ndarray:
    """Per nation (N,): value added by separating its feed (or the world's ore mix) less the cost."""
    kernels = chain_kernels()
    margin = _separation_margin_numpy if kernels is None else kernels.separation_margin
    return margin(st.feed, world_mix(st.assets), producer_prices(st, fx) if prices is None else prices,
                  1 - p.concentrate_payability_frac, p.separation_cost_usd_per_kg)


def _separation_margin_numpy(feed, mix_of_world, prices, kept_frac, cost) -> np.ndarray:
    """:func:`separation_margin` on arrays (``kept_frac``: the value's share left to separators); the reference
    of ``sim.chain.kernels.separation_margin``."""
    fed = feed.sum(axis=1, keepdims=True)
    mix = feed / np.maximum(fed, 1e-9)
    if not (fed > 0).all():
        mix = np.where(fed > 0, mix, mix_of_world)
    value = (mix * prices[:, OXIDES]).sum(axis=1)
    return value * kept_frac - cost


def magnet_margin(st: ChainState, fx: Structure, p, prices: np.ndarray | None = None) -> np.ndarray:
    """Per nation (N,): magnet price less the recipe's oxides and the conversion cost."""
    kernels = chain_kernels()
    margin = _magnet_margin_numpy if kernels is None else kernels.magnet_margin
    return margin(producer_prices(st, fx) if prices is None else prices, makers_recipe(st, fx), NDFEB,
                  p.magnet_conversion_cost_usd_per_kg)


def _magnet_margin_numpy(prices, recipe, ndfeb, cost) -> np.ndarray:
    """:func:`magnet_margin` on arrays (``recipe``: (N, E) oxides per t of magnet); the reference of
    ``sim.chain.kernels.magnet_margin``."""
    return prices[:, ndfeb] - (prices[:, OXIDES] * recipe).sum(axis=1) - cost


def required_value_multiple(st: ChainState, fx: Structure, p) -> np.ndarray:
    """Per deposit (D,): the value its ore must fetch to cover cash cost and the hurdle, as a multiple of
    its value at base-year prices outside China (the mine cost curve, Keilhacker & Minner 2017)."""
    a = st.assets
    base_value = a.dep_mix @ fx.anchor[OUTSIDE_ZONE, OXIDES] * p.concentrate_payability_frac
    return a.dep_cost * (1.0 + p.hurdle_rate_frac) / np.maximum(base_value, 1e-9)
