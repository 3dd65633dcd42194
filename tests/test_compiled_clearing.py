"""The model's markets cleared in the numba kernels give the numpy reference's tonnes bit for bit.

``sim.chain.trade.clear`` runs compiled when numba is installed; its numpy path is the reference. Both
run the same scenarios here, spin-up included, (licences with delays, a quota with smuggling, tariffs, a synthetic world of
82 nations) and every recorded series, every trade flow and the flow memory must be identical.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sim import market
from sim.chain import spinup
from sim.model import RareEarthModel

pytest.importorskip("numba")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from synthetic_world import synthetic_scenario  # noqa: E402


def _run(monkeypatch, compiled: bool, config, until: str) -> RareEarthModel:
    monkeypatch.setattr(market, "COMPILED", compiled)
    spinup.clear_cache()                   # each run spins up in its own mode
    model = RareEarthModel(config, seed=2, until=until, keep_flows=True)
    model.run()
    return model


@pytest.mark.parametrize("config, until", [("baseline", "2026-12"), ("china_2025_licences", "2027-06"),
                                           ("china_2010_quota", "2012-06"), ("tariff_retaliation", "2026-12")])
def test_compiled_markets_give_the_numpy_outputs_bit_for_bit(monkeypatch, config, until):
    reference, compiled = (_run(monkeypatch, flag, config, until) for flag in (False, True))
    a = reference.datacollector.get_model_vars_dataframe()
    b = compiled.datacollector.get_model_vars_dataframe()
    assert len(a) > 12 and a.equals(b)
    for month_a, month_b in zip(reference.flows_history, compiled.flows_history, strict=True):
        for key in month_a:
            assert np.array_equal(month_a[key], month_b[key]), key
    assert np.array_equal(reference.state.flow_ema, compiled.state.flow_ema)
    assert reference.state.flow_ema.any()


def test_compiled_markets_match_on_a_larger_synthetic_world(monkeypatch):
    reference, compiled = (_run(monkeypatch, flag, synthetic_scenario(82), "2024-06") for flag in (False, True))
    assert reference.datacollector.get_model_vars_dataframe().equals(compiled.datacollector.get_model_vars_dataframe())
    assert np.array_equal(reference.state.flow_ema, compiled.state.flow_ema)


def test_a_numba_that_cannot_cache_leaves_the_clearing_in_numpy(monkeypatch):
    """numba refuses to define cached kernels where no cache folder is writable: the run goes on in numpy."""
    def refuse():
        raise RuntimeError("cannot cache function 'allocate': no locator available for file 'clearing_kernel.py'")
    monkeypatch.setattr(market, "_kernel", None)
    monkeypatch.setattr(market, "_kernel_failed", False)
    monkeypatch.setattr(market, "_import_kernel", refuse)
    monkeypatch.setattr(market, "COMPILED", True)
    with pytest.warns(RuntimeWarning, match="clearing in numpy"):
        model = RareEarthModel("baseline", seed=2, until="2024-06", keep_flows=False)
        model.run()
    assert market.kernel() is None and not market.use_compiled(10**9)
    reference = _run(monkeypatch, False, "baseline", "2024-06")
    assert model.datacollector.get_model_vars_dataframe().equals(reference.datacollector.get_model_vars_dataframe())
