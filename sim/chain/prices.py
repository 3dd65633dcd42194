"""Prices: two zones (inside and outside China), moved by shortage and stock cover, linked by arbitrage (ODD 7.15, 7.16).

Each zone's price moves from unmet need and from the cover of the stock on its market against the
normal cover of the settled base year, with inertia and a weak pull to the base-year anchor
(``sim.market.price_pressure``, ``next_price``). Arbitrage pulls the zones together unless China's
controls are believed to hold exports back; that belief moves over a few months.
"""

from __future__ import annotations

import numpy as np

from sim import market
from sim.chain import china
from sim.chain.state import CHINA_ZONE, ChainState, Structure, zone_totals
from sim.chain.trade import ZoneMarket
from sim.goods import HELD_MARKETS, NDFEB, OXIDES


def expected_growth_per_yr(price_hist: np.ndarray) -> np.ndarray:
    """Adaptive expectation of price growth from the last three months (per zone and good)."""
    return 4.0 * np.log(price_hist[-1] / price_hist[-4])


def zone_stock_t(st: ChainState, fx: Structure, p, need_t: np.ndarray) -> np.ndarray:
    """Tonnes on hand for the market in each zone, per good (Z, G).

    Sellers' and magnet makers' stocks count in full; users' stocks only up to their normal working
    cover, since what they hoard beyond it is held off the market: hoarding thins the market and bids
    prices up, and releasing the hoard brings them down.
    """
    normal = p.target_cover_months * need_t.sum(axis=1)
    held = np.minimum(st.user, normal)
    held[:, OXIDES] += st.oxide + st.maker_oxide
    held[:, NDFEB] += st.magnets
    return zone_totals(held, fx.zone)


def zone_cover_months(fx: Structure, need_t: np.ndarray, maker_need_t: np.ndarray, stock_t: np.ndarray) -> np.ndarray:
    """Months of use held in each zone by sellers, magnet makers and users, per good (Z, G).

    Args:
        maker_need_t: (N, E) oxides the magnet makers' plan needs this month.
        stock_t: (Z, G) this month's :func:`zone_stock_t`.
    """
    monthly = need_t.sum(axis=1)
    monthly[:, OXIDES] += maker_need_t
    use = zone_totals(monthly, fx.zone)
    world_use = use.sum(axis=0, keepdims=True)
    return stock_t / np.maximum(use, 1e-3 * world_use + 1e-9)


def update(st: ChainState, fx: Structure, p, need_t: np.ndarray, maker_need_t: np.ndarray,
           short_zone: np.ndarray, zones: ZoneMarket) -> None:
    """Move both zones' prices one month and learn whether China's controls hold exports back.

    Args:
        short_zone: (Z, G) end users' and magnet makers' unmet share of need.
        zones: what China and the zones saw in this month's oxide and magnet markets.
    """
    held = zone_stock_t(st, fx, p, need_t)
    cover = zone_cover_months(fx, need_t, maker_need_t, held)
    pressure = market.price_pressure(short_zone, cover, st.normal_cover, p.price_shortage_response,
                                     p.price_cover_response, p.max_scarcity_ratio)
    price = market.next_price(st.price, pressure, fx.anchor, p.price_anchor_rate_per_month,
                              p.price_max_step_frac, fx.floor)
    # traders learn over a few months whether the controls hold goods back (licences come in batches)
    st.export_bind += (china.exports_held_back(st, fx, p, zones) - st.export_bind) / p.export_bind_memory_months
    wedge = st.controls.duty_frac[HELD_MARKETS, fx.china] + p.base_friction_frac
    inside_weight = held[CHINA_ZONE] / np.maximum(held.sum(axis=0), 1e-9)
    inside, outside = market.link_zone_prices(price[0], price[1], st.export_bind, wedge,
                                              p.arbitrage_rate_per_month, inside_weight)
    st.price = np.maximum(np.stack([inside, outside]), fx.floor)
    st.price_hist = np.roll(st.price_hist, -1, axis=0)
    st.price_hist[-1] = st.price

