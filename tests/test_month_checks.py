"""The month's check stops a run whose stocks leave the possible, whether its bookkeeping is compiled or not."""

from __future__ import annotations

import numpy as np
import pytest

from sim import market
from sim.errors import RunInvalidError
from sim.model import RareEarthModel


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("stock, value, named", [("stockpile_t", -5.0, "stockpile_t"), ("spec_t", -5.0, "spec_t"),
                                                 ("oxide", np.nan, ""), ("user", np.inf, "")])
def test_a_corrupted_stock_stops_the_next_month_by_name(monkeypatch, compiled, stock, value, named):
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(market, "COMPILED", compiled)
    m = RareEarthModel("baseline", seed=1, until="2024-06", keep_flows=False)
    m.run_for(2)
    getattr(m.state, stock)[m.world.nations.index("KAZ"), 0] = value
    with pytest.raises(RunInvalidError, match=rf"2024-03.*{named}"):    # (a NaN may reach a price first)
        m.step()
    assert len(m.datacollector.get_model_vars_dataframe()) == 2


@pytest.mark.parametrize("compiled", [False, True])
def test_a_negative_delivery_in_transit_is_found_in_its_live_slot(monkeypatch, compiled):
    if compiled:
        pytest.importorskip("numba")
    monkeypatch.setattr(market, "COMPILED", compiled)
    m = RareEarthModel("baseline", seed=1, until="2024-06", keep_flows=False)
    m.run_for(2)
    slot = (m.state.transit_head + 3) % len(m.state.transit_live)
    m.state.transit[slot, 0, 0, 0] = -5.0
    m.state.transit_live[slot] = True
    with pytest.raises(RunInvalidError, match=r"2024-03.*transit_t"):
        m.step()
