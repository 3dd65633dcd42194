"""Spin-up (ODD 5): run the base year at fixed prices until stocks and flows settle; their cover is "normal".

Prices then respond to departures from this base-year balance, so the structural surplus of Ce and La at
base-year prices is the starting point rather than a shock. Controls already in force in the first month
(e.g. the 2009 export duty and quota of the backtest) are the status quo: they apply in the second half
of the spin-up, so the run starts settled under them. The spin-up draws no random numbers, so its result
is shared between runs with the same world, start, parameters and controls in force: the cache keeps a
snapshot of the *whole* state (a deep copy of :class:`ChainState`), so a cached start is the uncached one.
"""

from __future__ import annotations

import copy
from typing import Callable

from sim.chain import china
from sim.chain.prices import cover_months, zone_stock_t, zone_use_t
from sim.chain.state import ChainState, Month, Structure
from sim.policy import PolicyBook

SPIN_UP_MONTHS = 36
CACHE_SIZE = 16
_CACHE: dict[tuple, ChainState] = {}


def clear_cache() -> None:
    """Forget every cached spin-up (tests compare cached and uncached starts)."""
    _CACHE.clear()


def settle(st: ChainState, fx: Structure, p, book: PolicyBook, start_month: int, key: tuple,
           advance: Callable[[ChainState], Month]) -> ChainState:
    """The settled state at the start of the run (month = start - 1), from the cache or by spinning up.

    Args:
        st: the base-year state (changed in place on a cache miss).
        key: what the spin-up depends on besides the world (which the caller puts in the key).
        advance: runs one month of the chain in spin-up mode on the state and returns what it produced.
    """
    in_force = any(ev.active(start_month) for ev in book.events)
    if key in _CACHE:
        return copy.deepcopy(_CACHE[key])
    st.month = start_month - SPIN_UP_MONTHS - 1
    month = None
    for k in range(SPIN_UP_MONTHS):
        st.month += 1
        if in_force and k == SPIN_UP_MONTHS // 2:
            st.controls = book.controls(start_month, st.flow_ema, china.export_values_usd_per_kg(st, fx, p))
        month = advance(st)
    need = month.need_t.sum(axis=1)
    st.normal_cover = cover_months(zone_use_t(fx, need, month.maker_need_t), zone_stock_t(st, fx, p, need))
    st.base_flows_t = st.flow_ema.copy()
    st.export_bind = china.exports_held_back(st, fx, p, month.zones).astype(float)
    st.month = start_month - 1
    st.losses_t[:] = 0.0
    if len(_CACHE) >= CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = copy.deepcopy(st)
    return st
