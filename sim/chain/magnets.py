"""Magnet market (ODD 7.3): makers' finished NdFeB cleared against end users' and stockpiles' orders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.chain import trade
from sim.chain.orders import Orders
from sim.chain.state import ChainState, Structure
from sim.goods import NDFEB, NDFEB_MARKETS


@dataclass
class MagnetTrade:
    """This month's magnet market."""

    trade: trade.Trade
    orders_t: np.ndarray            # (1, N) total orders


def trade_magnets(st: ChainState, fx: Structure, p, orders: Orders, need_t: np.ndarray,
                  undocumented_t: np.ndarray) -> MagnetTrade:
    """Clear the magnet market and deliver; licences are applied for up to end users' need."""
    # (the licence base is summed here, not read from the month's (N, G) sum over sectors: numpy adds this
    # strided row pairwise and the (N, S, G) sum sector after sector, which differ in the last bit)
    by_buyer = orders.magnet_orders()                                 # (buyer, N, 1)
    total = by_buyer.sum(axis=0)
    cleared = trade.clear(st, fx, p, NDFEB_MARKETS, st.price[fx.zone, NDFEB][None], st.magnets[None], total.T,
                          undocumented_t, need_t[:, :, NDFEB].sum(axis=1)[None])
    sold = cleared.res.sold_t[0]
    st.magnets -= sold
    st.magnet_sales_ema += p.memory_frac * (sold - st.magnet_sales_ema)
    trade.deliver(st, cleared, by_buyer, slice(NDFEB, NDFEB + 1))
    return MagnetTrade(trade=cleared, orders_t=total.T)
