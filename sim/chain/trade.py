"""One market's clearing under the month's controls, delivery to buyers, and what the zones saw (ODD 7.3).

The clearing itself is ``sim.market`` (pure functions); here the month's controls, freight, frictions and
offtake deals become its inputs, licensed deliveries go into transit, and each trade reports the China
figures that prices and traders read (unsold share, quota fill, unmet orders per zone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import market
from sim.chain import china
from sim.chain.state import CHINA_ZONE, OUTSIDE_ZONE, TRANSIT_SLOTS, ChainState, Structure, zone_members
from sim.goods import HELD_MARKETS, OXIDES


@dataclass
class Trade:
    """One market's clearing with what the month's controls made of it (goods of ``markets``)."""

    markets: np.ndarray                 # (g,) positions on the market axis
    res: market.Clearing
    delay_months: np.ndarray            # (g, N, N) licence delays
    delayed: bool                       # any delay above 0
    china_quota_fill: np.ndarray        # (g,) China's exports over its quota (0 where none)
    sellers: np.ndarray                 # the nations that offered anything (``market.participants``)
    buyers: np.ndarray                  # the nations that ordered anything


@dataclass
class ZoneMarket:
    """Per held good (G,): what China and the two zones saw in this month's oxide and magnet markets."""

    china_unsold_frac: np.ndarray       # (G,) share of China's offer left unsold
    china_quota_fill: np.ndarray        # (G,)
    unmet_zone: np.ndarray              # (Z, G) t ordered and not delivered
    orders_zone: np.ndarray             # (Z, G) t ordered


def clear(st: ChainState, fx: Structure, p, markets: slice, price: np.ndarray, supply: np.ndarray,
          demand: np.ndarray, undocumented_t: np.ndarray, licence_base: np.ndarray | None = None,
          compiled: bool | None = None) -> Trade:
    """Clear the market goods ``markets`` (a slice of the market axis) with the month's controls.

    Args:
        price, supply, demand: (g, N) seller prices USD/kg, offers t, orders t.
        undocumented_t: (E,) this month's undocumented Chinese output (its smuggled share escapes quotas).
        licence_base: (g, N) what importers apply licences for (their normal use).
        compiled: clear in the numba kernels (``sim.clearing_kernel``: the same tonnes bit for bit) or in
            numpy (the reference); default: ``market.use_compiled``.
    """
    c, ch = st.controls, fx.china
    idx, quota_rows, quota_set, delay, delayed = _market_terms(c, markets, ch)
    quota = quota_rows.copy()
    if quota_set is not None:
        quota[:, ch] += china.smuggling_allowance_t(idx, undocumented_t, p)
    if compiled is None:
        compiled = market.use_compiled(len(idx) * fx.n_nations ** 2)
    if compiled and market.kernel() is not None:
        res, sellers, buyers = _clear_compiled(st, fx, p, idx, price, supply, demand, quota, licence_base)
    else:
        kernels = market.chain_kernels()
        offers = _offers_and_orders_numpy if kernels is None else kernels.offers_and_orders
        supply, demand, sellers, buyers = offers(np.asarray(supply, dtype=float), np.asarray(demand, dtype=float),
                                                 market.EPS_T)
        res = _clear_numpy(st, fx, p, markets, price, supply, demand, sellers, buyers, quota,
                           china.export_first(st, fx, idx), licence_base)
    if quota_set is not None:
        exported = res.sold_t[:, ch] - res.flows_t[:, ch, ch]       # sold_t sums China's whole row
        fill = np.where(quota_set, exported / np.maximum(quota[:, ch], 1e-9), 0.0)
    else:
        fill = np.zeros(len(idx))
    return Trade(markets=idx, res=res, delay_months=delay, delayed=delayed, china_quota_fill=fill, sellers=sellers,
                 buyers=buyers)


def _market_terms(c, markets: slice, china: int) -> tuple:
    """What the controls ``c`` fix for the market goods ``markets``, worked out once per controls: their
    positions (``np.arange(M)[markets]``), export quota rows (g, N) (copied before use), China's goods under a
    quota (g,) (None if none), licence delays (g, N, N) and whether any delay is above 0."""
    key = ("market_terms", markets.start, markets.stop, markets.step, china)
    found = c._derived.get(key)
    if found is None:
        quota = c.export_quota_t[markets]
        quota_set = np.isfinite(quota[:, china])
        found = c._derived[key] = (_positions(markets, c.pair_cap_frac.shape[0]), quota,
                                   quota_set if quota_set.any() else None, c.licence_delay_months[markets],
                                   bool(c.delayed_markets()[markets].any()))
    return found


_POSITIONS: dict[tuple, np.ndarray] = {}


def _positions(markets: slice, n_markets: int) -> np.ndarray:
    """``np.arange(n_markets)[markets]``, made once per slice (shared: never changed; writeable, as the
    compiled kernels were typed for)."""
    key = (markets.start, markets.stop, markets.step, n_markets)
    if key not in _POSITIONS:
        _POSITIONS[key] = np.atleast_1d(np.arange(n_markets)[markets])
    return _POSITIONS[key]


def _offers_and_orders_numpy(supply: np.ndarray, demand: np.ndarray, eps_t: float):
    """Offers and orders (g, N) with no negative tonnes, and the nations that offer (sellers) and that order
    (buyers) anything (``market.participants``); the reference of ``sim.chain.kernels.offers_and_orders``."""
    supply, demand = np.maximum(supply, 0.0), np.maximum(demand, 0.0)
    return (supply, demand) + market.participants(supply, demand)


def _clear_numpy(st: ChainState, fx: Structure, p, markets: slice, price: np.ndarray, supply: np.ndarray,
                 demand: np.ndarray, sellers: np.ndarray, buyers: np.ndarray, quota: np.ndarray, first: np.ndarray,
                 licence_base: np.ndarray | None) -> market.Clearing:
    """:func:`clear` in numpy on blocks cut from the control arrays; updates the flow memory."""
    c = st.controls
    # only the nations that offer or order (``sellers``, ``buyers``) take part: every pair array is cut to
    # that block
    def block(a: np.ndarray) -> np.ndarray:
        return market.pairs(a, sellers, buyers)

    friction = p.base_friction_frac * (1.0 - (sellers[:, None] == buyers[None, :])) + block(c.friction_frac)
    # the controls hold tariffs importer-first (who imposes, on whom); clearing prices exporter-first
    tariff = c.tariff_exporter_first()[markets]
    cost = market.delivered_cost(price, fx.freight, tariff, c.duty_frac[markets], c.risk_frac, sellers, buyers)
    cost = cost * (1.0 + np.maximum(friction, 0.0))[None] * (1.0 - p.offtake_cost_cut_frac * block(st.offtake))[None]
    if c.capped_rows()[markets].any():
        cap, frac = block(c.pair_cap_t[markets]), block(c.pair_cap_frac[markets])
    else:                                   # no cap or approval share on these markets: blocks of inf
        cap, frac = np.full(cost.shape, np.inf), None
    res = market.clear_pairs(supply, demand, sellers, buyers, cost, cap, quota, frac, licence_base,
                             logit_beta=p.logit_beta, export_first=first, compiled=False)
    ema = st.flow_ema[markets]                                        # a view: updated in place
    ema += p.memory_frac * (res.flows_t - ema)
    return res


def _clear_compiled(st: ChainState, fx: Structure, p, idx: np.ndarray, price: np.ndarray, supply: np.ndarray,
                    demand: np.ndarray, quota: np.ndarray, licence_base: np.ndarray | None
                    ) -> tuple[market.Clearing, np.ndarray, np.ndarray]:
    """:func:`clear` in the numba kernels, reading the dense control arrays in place (no N x N copies): offers,
    China's export-first flags and the block's terms in one call (``prepare_market``), numpy's ``exp`` of the
    logit exponents, then the rounds and the settlement in one call. Returns (the clearing, sellers, buyers)."""
    kernel = market.kernel()
    c = st.controls
    tariff = c.tariff_exporter_first()
    supply, demand, sellers, buyers, first, exponent, cap, capped = kernel.prepare_market(
        price, np.asarray(supply, dtype=float), np.asarray(demand, dtype=float),
        _NO_BASE if licence_base is None else licence_base, licence_base is not None, idx, fx.china, st.price,
        HELD_MARKETS.start, CHINA_ZONE, OUTSIDE_ZONE, fx.freight, tariff, kernel.tariffed_rows(tariff), c.duty_frac,
        c.risk_frac, float(p.base_friction_frac), c.friction_frac, float(p.offtake_cost_cut_frac), st.offtake,
        c.pair_cap_t, c.pair_cap_frac, c.capped_rows(), float(p.logit_beta), market.EPS_T)
    if len(sellers) and len(buyers):
        preference = np.exp(exponent, out=exponent)  # numpy's exp (numba's may differ in the last bit), in place
        flows, unsold, unmet, sold, bought, total = kernel.allocate_and_settle(
            supply, demand, preference, cap, quota, first, sellers, buyers, 3, capped, st.flow_ema, idx,
            float(p.memory_frac))
    else:
        block = np.zeros((len(idx), len(sellers), len(buyers)))
        flows, unsold, unmet, sold, bought, total = kernel.settle(block, sellers, buyers, supply, demand,
                                                                  st.flow_ema, idx, float(p.memory_frac))
    return market.Clearing(flows_t=flows, unsold_t=unsold, unmet_t=unmet, sold_t=sold, bought_t=bought,
                           goods_total_t=total), sellers, buyers


_NO_BASE = np.empty((0, 0))          # (no licence base: licences are applied for up to the orders)


def deliver(st: ChainState, trade: Trade, orders: np.ndarray, goods: slice) -> None:
    """Split deliveries to each nation among its buyers (user, maker, stockpile, trader); licensed flows wait in transit.

    Args:
        orders: (buyer, N, g) what each buyer ordered.
        goods: the traded goods on the held axis.
    """
    res, delay = trade.res, trade.delay_months
    slots = np.unique(delay[delay > 0]) if trade.delayed else ()
    if not len(slots):                      # everything arrives now
        kernels = market.chain_kernels()
        arrive = _arrive_numpy if kernels is None else kernels.arrive
        arrive(orders, res.bought_t, st.user, st.maker_oxide, st.spec_t, st.stockpile_t, goods.start,
               goods.start < OXIDES.stop)
        return
    # with no licence delay everything arrives now: the clearing's bought_t is that sum already
    now = (np.where(delay == 0, res.flows_t, 0.0).sum(axis=1) if len(slots) else res.bought_t).T   # (N, g)
    total = orders.sum(axis=0)
    share = np.divide(orders, total[None], out=np.zeros_like(orders), where=total[None] > 0)
    for slot in slots:
        later = np.where(delay == slot, res.flows_t, 0.0).sum(axis=1).T
        ring = (st.transit_head + min(slot, TRANSIT_SLOTS - 1)) % TRANSIT_SLOTS
        st.transit[ring, :, :, goods] += share * later[None]
        st.transit_live[ring] = True
    arrived = share * now[None]
    st.user[:, goods] += arrived[0]
    if goods.start < OXIDES.stop:
        st.maker_oxide += arrived[1]
        st.spec_t += arrived[3]
    st.stockpile_t[:, goods] += arrived[2]


def _arrive_numpy(orders, bought_t, user, maker_oxide, spec_t, stockpile, g0, oxides) -> None:
    """Split what each nation bought (``bought_t``: (g, N)) among its buyers pro rata to their orders
    (buyer, N, g) and add it to their stocks, goods from ``g0`` on the held axis (oxides: makers and
    traders buy too). In place; the reference of ``sim.chain.kernels.arrive``."""
    total = orders.sum(axis=0)
    share = np.divide(orders, total[None], out=np.zeros_like(orders), where=total[None] > 0)
    arrived = share * bought_t.T[None]
    goods = slice(g0, g0 + orders.shape[2])
    user[:, goods] += arrived[0]
    if oxides:
        maker_oxide += arrived[1]
        spec_t += arrived[3]
    stockpile[:, goods] += arrived[2]


def zone_market(fx: Structure, oxides: Trade, oxide_orders_t: np.ndarray, magnets: Trade,
                magnet_orders_t: np.ndarray) -> ZoneMarket:
    """Combine the oxide and magnet markets into the per-good view prices and traders read.

    Args:
        oxide_orders_t, magnet_orders_t: (g, N) total orders in each market.
    """
    ch, members = fx.china, zone_members(fx.zone)
    ox, mag = oxides.res, magnets.res
    unsold = np.concatenate([ox.unsold_t[:, ch], mag.unsold_t[:, ch]])
    # (``sold_t`` is China's row of flows summed, zeros included, as it was cleared)
    offered = unsold + np.concatenate([ox.sold_t[:, ch], mag.sold_t[:, ch]])
    kernels = market.chain_kernels()
    sums = _zone_sums_numpy if kernels is None else kernels.zone_sums
    return ZoneMarket(china_unsold_frac=unsold / np.maximum(offered, 1e-9),
                      china_quota_fill=np.concatenate([oxides.china_quota_fill, magnets.china_quota_fill]),
                      unmet_zone=sums(ox.unmet_t, mag.unmet_t, *members),
                      orders_zone=sums(oxide_orders_t, magnet_orders_t, *members))


def _zone_sums_numpy(oxides: np.ndarray, magnets: np.ndarray, china_rows: np.ndarray,
                     outside_rows: np.ndarray) -> np.ndarray:
    """Each good's row (oxides (E, N) then magnets (1, N)) summed over each zone's nations (Z, G), row by row
    (as when the markets were summed apart); the reference of ``sim.chain.kernels.zone_sums``."""
    values = np.concatenate([oxides, magnets])
    return np.stack([values.take(rows, axis=1).sum(axis=1) for rows in (china_rows, outside_rows)])
