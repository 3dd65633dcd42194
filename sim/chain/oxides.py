"""Oxide market and magnet making (ODD 7.3, 7.7).

Sellers' oxide (and what speculators sell) is cleared against every buyer's order; deliveries are split
among a nation's buyers, licensed ones held in transit. Magnet makers then turn the recipe's oxides into
NdFeB, limited by the scarcest recipe element.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.chain import trade
from sim.chain.capacity import MAGNETS
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


def trade_oxides(st: ChainState, fx: Structure, p, orders: Orders, need_goods_t: np.ndarray,
                 undocumented_t: np.ndarray) -> OxideTrade:
    """Clear the oxide market, deliver, then make magnets (``need_goods_t``: (N, G) end users' need)."""
    by_buyer = orders.oxide_orders()                                  # (buyer, N, E)
    total = by_buyer.sum(axis=0)
    offered = st.oxide + orders.spec_sell_t
    use = need_goods_t[:, OXIDES] + orders.maker_need_t          # what licences are applied for
    cleared = trade.clear(st, fx, p, OXIDE_MARKETS, st.price[fx.zone, OXIDES].T, offered.T, total.T,
                          undocumented_t, use.T)
    sold = cleared.res.sold_t.T
    by_traders = sold * np.divide(orders.spec_sell_t, offered, out=np.zeros_like(offered), where=offered > 0)
    st.spec_t -= by_traders
    st.oxide -= sold - by_traders
    st.sales_ema += p.memory_frac * (sold - by_traders - st.sales_ema)
    trade.deliver(st, cleared, by_buyer, OXIDES)
    made, short = make_magnets(st, fx, orders)
    st.util_ema[MAGNETS] += p.memory_frac * (made.sum() / max(orders.magnet_capacity_t.sum(), 1e-9)
                                             - st.util_ema[MAGNETS])
    return OxideTrade(trade=cleared, orders_t=total.T, magnets_made_t=made, maker_short_t=short)


def make_magnets(st: ChainState, fx: Structure, orders: Orders) -> tuple[np.ndarray, np.ndarray]:
    """Makers turn oxides into magnets up to their plan and the scarcest recipe element.

    Returns:
        (magnets made (N,), oxides lacking for the plan (N, E)).
    """
    recipe = fx.recipe
    limit = np.min(np.where(recipe > 0, st.maker_oxide / np.where(recipe > 0, recipe, 1.0), np.inf), axis=1)
    made = np.maximum(np.minimum(orders.magnet_plan_t, limit), 0.0)
    short = np.maximum(orders.maker_need_t - st.maker_oxide, 0.0)
    st.maker_oxide -= made[:, None] * recipe[None]
    st.maker_oxide = np.maximum(st.maker_oxide, 0.0)
    st.magnets += made
    return made, short
