"""Prices: two zones (inside and outside China), set by availability, linked by arbitrage (ODD 7.15, 7.16).

Each zone clears at its competitive-storage price (``sim.pricing``): a bounded function of the stock on
its market against use (relative to the settled base year) and of unmet need, between the long-run
price and the element's backstop. The long-run price is the base-year price moved along the mine cost
curve (``long_run_ratio``: what the marginal producing mine needs against the base year). Nd and Pr read
part of their availability from their pooled stock (didymium: makers switch between them). Prices follow
their targets with a lag. Arbitrage pulls the zones together unless China's controls are believed to
hold exports back; that belief moves over a few months.
"""

from __future__ import annotations

import numpy as np

from agents.trader import expected_return_per_yr
from sim import market, pricing
from sim.chain import china
from sim.chain.state import CHINA_ZONE, ChainState, Structure, zone_members, zone_row_sums
from sim.chain.trade import ZoneMarket
from sim.goods import HELD_MARKETS, LA_CE, NDFEB, NDPR, OXIDES

NDPR_AT = np.array(NDPR)


def _availability_numpy(use: np.ndarray, held: np.ndarray, normal_cover: np.ndarray, short_zone: np.ndarray,
                        members: np.ndarray, pool_frac: float) -> np.ndarray:
    """Each zone's availability (Z, G): its cover against the base year's (:func:`cover_months`,
    ``pricing.availability_ratio``), Nd and Pr partly pooled (``pricing.pool_substitutes``). The reference
    of ``sim.chain.kernels.availability``."""
    available = pricing.availability_ratio(cover_months(use, held), normal_cover, short_zone)
    return pricing.pool_substitutes(available, use, list(members), pool_frac)


def expected_growth_per_yr(st: ChainState, fx: Structure, p) -> np.ndarray:
    """Stockholders' expected log price change per year (Z, G): the trend over ``hoarding_trend_months``,
    less the fundamentalists' pull back toward the long-run price where the price stands above it.

    The heterogeneous-expectations rule of Brock & Hommes (1998), the one traders use too: trend
    followers alone make hoarding a boom-bust oscillator (buying on a rise lifts the rise), while the
    pull grows with how stretched the price is, so hoarding fades smoothly as prices run above what
    new mines need, instead of stopping at a threshold. A half-year trend rather than a quarter's keeps
    a shock's restocking from echoing as a yearly cycle.
    """
    trend = pricing.trend_per_yr(st.price_hist, p.hoarding_trend_months)
    return expected_return_per_yr(trend, st.price, fx.anchor * st.long_run_ratio, 1.0, p.spec_reversion_per_yr)


def zone_stock_t(st: ChainState, fx: Structure, p, need_goods_t: np.ndarray) -> np.ndarray:
    """Tonnes on hand for the market in each zone, per good (Z, G), given this month's need (N, G).

    Sellers' and magnet makers' stocks count in full; users' stocks only up to their normal working
    cover, since what they hoard beyond it is held off the market: hoarding thins the market and bids
    prices up, and releasing the hoard brings them down.
    """
    kernels = market.chain_kernels()
    held = _zone_held_numpy if kernels is None else kernels.zone_held
    return held(st.user, need_goods_t, p.target_cover_months, st.oxide, st.maker_oxide, st.magnets,
                *zone_members(fx.zone))


def _zone_held_numpy(user, need, target_cover_months, oxide, maker_oxide, magnets, china_rows,
                     outside_rows) -> np.ndarray:
    """:func:`zone_stock_t` on arrays; the reference of ``sim.chain.kernels.zone_held``."""
    held = np.minimum(user, target_cover_months * need)
    held[:, OXIDES] += oxide + maker_oxide
    held[:, NDFEB] += magnets
    return zone_row_sums(held, china_rows, outside_rows)


def zone_use_t(fx: Structure, need_goods_t: np.ndarray, maker_need_t: np.ndarray) -> np.ndarray:
    """Monthly use in each zone per good (Z, G): end users' need (N, G) plus the oxides magnet makers' plan needs."""
    kernels = market.chain_kernels()
    use = _zone_use_numpy if kernels is None else kernels.zone_use
    return use(need_goods_t, maker_need_t, *zone_members(fx.zone))


def _zone_use_numpy(need, maker_need, china_rows, outside_rows) -> np.ndarray:
    """:func:`zone_use_t` on arrays; the reference of ``sim.chain.kernels.zone_use``."""
    monthly = need.copy()
    monthly[:, OXIDES] += maker_need
    return zone_row_sums(monthly, china_rows, outside_rows)


def cover_months(use_t: np.ndarray, stock_t: np.ndarray) -> np.ndarray:
    """Months of use held in each zone per good (Z, G), from :func:`zone_use_t` and :func:`zone_stock_t`.

    A zone that uses (almost) none of a good is measured against a thousandth of world use.
    """
    return stock_t / np.maximum(use_t, 1e-3 * use_t.sum(axis=0, keepdims=True) + 1e-9)


def long_run_usd_per_kg(st: ChainState, fx: Structure) -> np.ndarray:
    """The long-run price of each zone and good (Z, G): the base-year price moved along the cost curve."""
    return fx.anchor * st.long_run_ratio


def storage_target_usd_per_kg(available: np.ndarray, long_run: np.ndarray, fx: Structure, p) -> np.ndarray:
    """Each zone's storage price (Z, G) for its availability: the curve of ODD 7.15.

    The storage price follows inverse demand (Deaton & Laroque 1992), so its slope is the price
    flexibility of demand: ``price_flexibility`` for goods whose uses barely respond to price. La and Ce
    have bulk low-price uses below ``la_ce_low_price_threshold_usd_per_kg`` (ODD 7.8) whose elasticity is
    ``la_ce_low_price_elasticity``: while their price stays under that threshold a shortfall of x % lifts
    it only about x / |elasticity| %, and once scarcity lifts it over, those uses are gone and the usual
    slope applies (a kinked curve, :func:`sim.pricing.kinked_storage_price_usd_per_kg`).
    """
    target = pricing.storage_price_usd_per_kg(available, long_run, fx.backstop, p.price_flexibility)
    target[:, LA_CE] = pricing.kinked_storage_price_usd_per_kg(
        available[:, LA_CE], long_run[:, LA_CE], fx.backstop[:, LA_CE],
        min(p.price_flexibility, 1.0 / abs(p.la_ce_low_price_elasticity)), p.price_flexibility,
        p.la_ce_low_price_threshold_usd_per_kg)
    return target


def update(st: ChainState, fx: Structure, p, need_goods_t: np.ndarray, maker_need_t: np.ndarray,
           short_zone: np.ndarray, zones: ZoneMarket) -> None:
    """Move both zones' prices toward their storage prices and learn whether China's controls hold exports back.

    Args:
        need_goods_t: (N, G) end users' need this month, all sectors.
        short_zone: (Z, G) end users' and magnet makers' unmet share of need.
        zones: what China and the zones saw in this month's oxide and magnet markets.
    """
    held = zone_stock_t(st, fx, p, need_goods_t)
    use = zone_use_t(fx, need_goods_t, maker_need_t)
    kernels = market.chain_kernels()
    availability = _availability_numpy if kernels is None else kernels.availability
    available = availability(use, held, st.normal_cover, short_zone, NDPR_AT, p.ndpr_pool_frac)
    target = storage_target_usd_per_kg(available, long_run_usd_per_kg(st, fx), fx, p)
    price = pricing.adjust_toward(st.price, target, p.price_adjust_rate_per_month, fx.floor, fx.backstop)
    # traders learn over a few months whether the controls hold goods back (licences come in batches)
    st.export_bind += (china.exports_held_back(st, fx, p, zones) - st.export_bind) / p.export_bind_memory_months
    wedge = st.controls.duty_frac[HELD_MARKETS, fx.china] + p.base_friction_frac
    inside_weight = held[CHINA_ZONE] / np.maximum(held.sum(axis=0), 1e-9)
    inside, outside = market.link_zone_prices(price[0], price[1], st.export_bind, wedge,
                                              p.arbitrage_rate_per_month, inside_weight)
    both = np.concatenate((inside, outside)).reshape(2, -1)          # np.stack's array, without its checks
    st.price = np.minimum(np.maximum(both, fx.floor), fx.backstop)   # np.clip's value, faster
    hist = np.empty_like(st.price_hist)                               # np.roll(-1) with the new month last
    hist[:-1] = st.price_hist[1:]
    hist[-1] = st.price
    st.price_hist = hist
