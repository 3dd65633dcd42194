"""The month's policy (ODD 7.1): the controls in force, how hard China's bite, conditional reactions.

Quotas are spread over goods by usual exports (recent flows, or the base year's where a control has held
flows below what buyers want) and by what a tonne of quota earns on each good. A reaction whose condition
holds schedules its event (``inject``), which the book applies from its start month.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from sim.calendar import add_months, month_name
from sim.chain import china
from sim.chain.state import ChainState, Structure
from sim.policy import PolicyBook
from sim.reactions import holds


def set_controls(st: ChainState, fx: Structure, p, book: PolicyBook) -> tuple[float, np.ndarray]:
    """Put this month's controls in force; returns how hard China's bite (traders' news): over all goods
    and per market good (M,), log units."""
    # every pair's usual flows and each good's export value only when a quota must be spread over goods
    # and partners (N x N work)
    if book.quotas_in_force(st.month):
        st.controls = book.controls(st.month, np.maximum(st.flow_ema, st.base_flows_t),
                                    china.export_values_usd_per_kg(st, fx, p))
    else:
        st.controls = book.controls(st.month, None)
    return china.tightness(st, fx)


def fire_reactions(book: PolicyBook, month: int, condition_value: Callable, inject: Callable) -> None:
    """Conditional reactions: when a condition holds, schedule the reaction's event."""
    for r in book.reactions:
        if r.once and r.name in book.fired:
            continue
        if holds(r.when, condition_value(r.when)):
            book.fired[r.name] = month
            ev = dict(r.then)
            ev["at"] = month_name(month + r.delay_months)
            if r.duration_months:
                ev["until"] = add_months(ev["at"], r.duration_months)
            inject(ev, label=r.name)
