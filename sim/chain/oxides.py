"""Oxide market and magnet making (ODD 7.3, 7.7).

Sellers' oxide (and what speculators sell) is cleared against every buyer's order; deliveries are split
among a nation's buyers, licensed ones held in transit. Magnet makers then turn the recipe's oxides into
NdFeB, limited by the scarcest recipe element.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import market
from sim.chain import trade
from sim.chain.orders import Orders
from sim.chain.state import ChainState, Structure
from sim.goods import OXIDE_MARKETS, OXIDES


@dataclass
class OxideTrade:
    """This month's oxide market and magnet making."""

    trade: trade.Trade
    orders_t: np.ndarray            # (E, N) total orders per oxide
    magnets_made_t: np.ndarray      # (N,)
    maker_short_t: np.ndarray       # (N, E) oxides magnet makers lacked for their plan
    heavy_used_t: np.ndarray        # (E,) Dy and Tb diffused into this month's magnets (consumed in making)


def trade_oxides(st: ChainState, fx: Structure, p, orders: Orders, need_goods_t: np.ndarray,
                 undocumented_t: np.ndarray) -> OxideTrade:
    """Clear the oxide market, deliver, then make magnets (``need_goods_t``: (N, G) end users' need)."""
    by_buyer = orders.oxide_orders()                                  # (buyer, N, E)
    total = by_buyer.sum(axis=0)
    offered = st.oxide + orders.spec_sell_t
    use = need_goods_t[:, OXIDES] + orders.maker_need_t          # what licences are applied for
    cleared = trade.clear(st, fx, p, OXIDE_MARKETS, st.price[fx.zone, OXIDES].T, offered.T, total.T,
                          undocumented_t, use.T)
    kernels = market.chain_kernels()
    sell = _sell_oxides_numpy if kernels is None else kernels.sell_oxides
    sell(cleared.res.sold_t, orders.spec_sell_t, offered, st.spec_t, st.oxide, st.sales_ema, p.memory_frac)
    trade.deliver(st, cleared, by_buyer, OXIDES)
    made, short = make_magnets(st, fx, orders)
    heavy_used = made @ (orders.recipe_t_per_t - fx.recipe[None, :])
    return OxideTrade(trade=cleared, orders_t=total.T, magnets_made_t=made, maker_short_t=short,
                      heavy_used_t=heavy_used)


def _sell_oxides_numpy(sold_t, spec_sell, offered, spec_t, oxide, sales_ema, memory_frac) -> None:
    """Take what sold (``sold_t``: (E, N)) from the speculators' offer (pro rata to it in ``offered``) and the
    separators' stock; separators remember their sales. In place; the reference of
    ``sim.chain.kernels.sell_oxides``."""
    sold = sold_t.T
    by_traders = sold * np.divide(spec_sell, offered, out=np.zeros_like(offered), where=offered > 0)
    spec_t -= by_traders
    oxide -= sold - by_traders
    sales_ema += memory_frac * (sold - by_traders - sales_ema)


def make_magnets(st: ChainState, fx: Structure, orders: Orders) -> tuple[np.ndarray, np.ndarray]:
    """Makers turn oxides into magnets up to their plan and the scarcest element of their recipe
    (``orders.recipe_t_per_t``).

    Returns:
        (magnets made (N,), oxides lacking for the plan (N, E)).
    """
    kernels = market.chain_kernels()
    make = _make_magnets_numpy if kernels is None else kernels.make_magnets
    return make(orders.magnet_plan_t, orders.maker_need_t, st.maker_oxide, st.magnets, orders.recipe_t_per_t)


def _make_magnets_numpy(plan, maker_need, maker_oxide, magnets, recipe) -> tuple[np.ndarray, np.ndarray]:
    """:func:`make_magnets` on arrays, ``maker_oxide`` and ``magnets`` in place; the reference of
    ``sim.chain.kernels.make_magnets``; ``recipe`` is each nation's (N, E)."""
    limit = np.min(np.where(recipe > 0, maker_oxide / np.where(recipe > 0, recipe, 1.0), np.inf), axis=1)
    made = np.maximum(np.minimum(plan, limit), 0.0)
    short = np.maximum(maker_need - maker_oxide, 0.0)
    maker_oxide -= made[:, None] * recipe
    np.maximum(maker_oxide, 0.0, out=maker_oxide)
    magnets += made
    return made, short
