"""China's export controls as the market reads them (ODD 7.1, 7.16, 7.19).

How hard the controls bite (traders' news), whether they hold each good's exports back (the belief that
unlinks the two zone prices), what a tonne of quota earns on each good (how licence holders rank exports)
and which Chinese sellers serve export orders first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.market import chain_kernels
from sim.chain.capacity import world_mix
from sim.chain.state import CHINA_ZONE, OUTSIDE_ZONE, ChainState, Structure
from sim.goods import HELD_MARKETS, OXIDE_MARKETS, OXIDES, held_index

if TYPE_CHECKING:
    from sim.chain.trade import ZoneMarket


def quota_rent_usd_per_kg(st: ChainState, fx: Structure) -> np.ndarray:
    """Per held good (G,): price abroad less the home price and China's export duty."""
    duty = st.controls.duty_frac[HELD_MARKETS, fx.china]
    return st.price[OUTSIDE_ZONE] - st.price[CHINA_ZONE] * (1.0 + duty)


def export_values_usd_per_kg(st: ChainState, fx: Structure, p) -> np.ndarray:
    """What a tonne of export quota earns on each market good (M,): how licence holders rank exports.

    The earning is the quota rent, and at least the normal trading margin (``base_friction_frac`` of
    the price abroad), so before any gap opens goods rank by value; once it opens, quota moves to
    where the rent is.
    """
    outside = st.price[OUTSIDE_ZONE]
    rent = np.maximum(quota_rent_usd_per_kg(st, fx), p.base_friction_frac * outside)
    ore = float(world_mix(st.assets) @ outside[OXIDES]) * p.concentrate_payability_frac
    return np.concatenate([[ore * p.base_friction_frac], rent])


def export_first(st: ChainState, fx: Structure, markets: np.ndarray) -> np.ndarray:
    """(goods, N): where China's sellers get more from export buyers than from home buyers.

    Buyers abroad pay the outside price, of which the seller keeps what the export duty leaves; where
    that beats the home price, holders of export licences outbid home buyers, up to the quota.
    """
    kernels = chain_kernels()
    rule = _export_first_numpy if kernels is None else kernels.export_first
    return rule(markets, fx.n_nations, fx.china, st.price, st.controls.duty_frac, HELD_MARKETS.start, CHINA_ZONE,
                OUTSIDE_ZONE)


def _export_first_numpy(markets, n, china, price, duty_frac, held_start, china_zone, outside_zone) -> np.ndarray:
    """:func:`export_first` on arrays (the quota rent of :func:`quota_rent_usd_per_kg` above zero); the
    reference of ``sim.chain.kernels.export_first``."""
    first = np.zeros((len(markets), n), dtype=bool)
    held = markets >= held_start
    rent = price[outside_zone] - price[china_zone] * (1.0 + duty_frac[held_start:held_start + price.shape[1], china])
    first[held, china] = rent[markets[held] - held_start] > 0.0
    return first


def smuggling_allowance_t(markets: np.ndarray, undocumented_t: np.ndarray, p) -> np.ndarray:
    """The smuggled share of undocumented output leaves China outside the quota (per market good)."""
    allowance = np.zeros(len(markets))
    for k, g in enumerate(markets):
        if OXIDE_MARKETS.start <= g < OXIDE_MARKETS.stop:
            allowance[k] = p.smuggled_share_frac * undocumented_t[held_index(g)]
    return allowance


def usual_exports_t(st: ChainState, fx: Structure) -> np.ndarray:
    """China's usual monthly flows to each nation (M, N): the larger of recent and settled flows."""
    ch = fx.china
    return np.maximum(st.flow_ema[:, ch, :], st.base_flows_t[:, ch, :])


def tightness(st: ChainState, fx: Structure) -> tuple[float, np.ndarray]:
    """How hard China's export controls bite, as traders read the news (log units).

    Returns the log ratio of China's usual exports (:func:`usual_exports_t`) to what quotas, bans and
    licences now allow, over all goods and per market good (M,): 0 where none of them is set on China's
    rows (what they allow is then the usual flows themselves, and log(x / x) is 0).
    """
    c, ch = st.controls, fx.china
    share = _china_shares(c, ch)
    if share is None:
        return 0.0, np.zeros(c.export_quota_t.shape[0])
    usual = usual_exports_t(st, fx)                                   # (M, importers)
    usual[:, ch] = 0.0
    allowed = np.minimum(usual * share, c.pair_cap_t[:, ch, :]).sum(axis=1)
    allowed = np.minimum(allowed, c.export_quota_t[:, ch])
    total = usual.sum(axis=1)
    by_good = np.log(np.maximum(total, 1e-9) / np.maximum(allowed, 1e-9)) * (total > 0)
    overall = float(np.log(max(total.sum(), 1e-9) / max(allowed.sum(), 1e-9)))
    return overall, by_good


def _china_shares(c, ch: int) -> np.ndarray | None:
    """The approved share (0-1) of each importer's order China may fill per market good (M, N), or None when
    no quota, cap or approval share is set on China's rows (worked out once per controls)."""
    key = ("china_shares", ch)
    if key not in c._derived:
        frac = c.pair_cap_frac[:, ch, :]
        bound = (np.isfinite(frac).any() or np.isfinite(c.pair_cap_t[:, ch, :]).any()
                 or np.isfinite(c.export_quota_t[:, ch]).any())
        c._derived[key] = np.where(np.isfinite(frac), np.minimum(np.maximum(frac, 0.0), 1.0), 1.0) if bound else None
    return c._derived[key]


def exports_held_back(st: ChainState, fx: Structure, p, market: ZoneMarket) -> np.ndarray:
    """Per held good (G,): are China's exports held back by a control this month?

    Held back means a control is in force, buyers outside went short, and either the export quota was
    used up or China had the goods but did not sell them all: the control, not a lack of stock, kept
    them home.
    """
    c, ch = st.controls, fx.china
    key = ("china_controlled", ch)
    if key not in c._derived:                         # (G,) per controls
        c._derived[key] = np.isfinite(c.export_quota_t[HELD_MARKETS, ch]) | (
            np.isfinite(c.pair_cap_frac[HELD_MARKETS, ch]) | np.isfinite(c.pair_cap_t[HELD_MARKETS, ch])).any(axis=1)
    controlled = c._derived[key]
    if not controlled.any():                          # nothing to hold exports back with
        return np.zeros(len(controlled), dtype=bool)
    short_outside = market.unmet_zone[OUTSIDE_ZONE] / np.maximum(market.orders_zone[OUTSIDE_ZONE], 1e-9)
    quota_used = market.china_quota_fill >= 1.0 - p.bind_unsold_frac
    held_back = (market.china_unsold_frac > p.bind_unsold_frac) | quota_used
    return controlled & (short_outside > p.bind_short_outside_frac) & held_back
