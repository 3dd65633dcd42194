"""Use (ODD 7.10, 7.12): deliveries in transit arrive, nations release stockpiles into shortfalls, end users
consume what they have pro rata to need, and the shortage that moves prices is recorded per zone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.nation import NationAgent
from sim import market
from sim.chain.state import TRANSIT_SLOTS, ChainState, Structure, zone_members, zone_row_sums
from sim.goods import OXIDES


@dataclass
class Used:
    """This month's use (t REO where named by sector; t goods otherwise)."""

    consumed_t_by_sector: np.ndarray    # (N, S) t REO
    shortage_t_by_sector: np.ndarray    # (N, S) t REO
    consumed_elements_t: np.ndarray     # (E,)
    released_t: np.ndarray              # (N, G) stockpile releases
    short_zone: np.ndarray              # (Z, G) unmet share of users' and makers' need


def use(st: ChainState, fx: Structure, p, need_t: np.ndarray, need_goods_t: np.ndarray, table_days: np.ndarray,
        maker_need_t: np.ndarray, maker_short_t: np.ndarray) -> Used:
    """Receive transit, release stockpiles, consume, and measure shortage.

    Args:
        need_t: (N, S, G) this month's need; need_goods_t: (N, G) its sum over sectors.
        table_days: (N,) stockpile targets of the world table.
        maker_need_t, maker_short_t: (N, E) magnet makers' oxide need and what they lacked.
    """
    head = st.transit_head
    if st.transit_live[head]:                                        # (adding a slot of zeros changes nothing)
        arrived = st.transit[head].copy()
        st.transit[head] = 0.0                                       # the ring turns: every slot a month closer
        st.transit_live[head] = False
        st.user += arrived[0]
        st.maker_oxide += arrived[1, :, OXIDES]
        st.stockpile_t += arrived[2]
        st.spec_t += arrived[3, :, OXIDES]
    st.transit_head = (head + 1) % TRANSIT_SLOTS
    need = need_goods_t
    shortfall = np.maximum(need - st.user, 0.0)
    released = NationAgent.release_t(table_days, st.controls, st.stockpile_t, shortfall, need, fx.reo_content, p)
    kernels = market.chain_kernels()
    consume = _consume_numpy if kernels is None else kernels.consume
    used, used_goods, unmet, short_zone = consume(need_t, need, st.user, st.stockpile_t, released, st.use_ema,
                                                  maker_need_t, maker_short_t, *zone_members(fx.zone),
                                                  p.memory_frac, market.EPS_T)
    reo = fx.reo_content
    total_need, short = need @ reo, unmet @ reo
    fraction = _zone_fraction_numpy if kernels is None else kernels.zone_fraction
    frac = fraction(short, total_need, *zone_members(fx.zone))
    st.shortage_ema += p.memory_frac * (frac - st.shortage_ema)
    return Used(consumed_t_by_sector=used @ reo, shortage_t_by_sector=(need_t - used) @ reo,
                consumed_elements_t=used_goods.sum(axis=0) @ fx.element_content, released_t=released,
                short_zone=short_zone)


def _zone_fraction_numpy(top, bottom, china_rows, outside_rows) -> np.ndarray:
    """Each zone's ``top`` over its ``bottom`` (N,) summed over its nations (Z,); the reference of
    ``sim.chain.kernels.zone_fraction``."""
    return zone_row_sums(top, china_rows, outside_rows) / np.maximum(zone_row_sums(bottom, china_rows,
                                                                                   outside_rows), 1e-9)


def _consume_numpy(need_t, need, user, stockpile, released, use_ema, maker_need, maker_short, china_rows,
                   outside_rows, memory_frac, eps_t):
    """Released stock joins users' stock; users consume it pro rata to need (``market.ration``); the unmet
    share of users' and magnet makers' need in each zone. Updates ``user``, ``stockpile`` and ``use_ema``
    (N, G) in place. The reference of ``sim.chain.kernels.consume``.

    Returns:
        (used (N, S, G), used per good (N, G), unmet (N, G), short per zone (Z, G)).
    """
    stockpile -= released
    user += released
    fill = market.ration(need, user)
    used = need_t * fill[:, None, :]
    used_goods = used.sum(axis=1)
    user -= used_goods
    np.maximum(user, 0.0, out=user)
    use_ema += memory_frac * (used_goods - use_ema)
    unmet = need - used_goods
    wanted, missing = need.copy(), unmet.copy()
    wanted[:, OXIDES] += maker_need
    missing[:, OXIDES] += maker_short
    short_zone = (zone_row_sums(missing, china_rows, outside_rows)
                  / np.maximum(zone_row_sums(wanted, china_rows, outside_rows), 1e-9))
    return used, used_goods, unmet, short_zone
