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


@pytest.mark.parametrize("capped, quota, first, buyers", [(False, False, False, 40), (False, False, True, 40),
                                                          (True, False, False, 40), (False, True, True, 40),
                                                          (True, True, True, 40), (False, False, False, 1),
                                                          (True, True, True, 1)])
def test_every_path_of_the_compiled_rounds_gives_the_numpy_tonnes_bit_for_bit(capped, quota, first, buyers):
    """Plain markets, caps, quotas, export-first sellers, a single buyer; sellers with nothing left of some
    good; 40 random markets each, cleared by both paths of ``market._allocate``."""
    inf = np.inf
    for seed in range(40):
        rng = np.random.default_rng(seed)
        g, s, b = 4, 30, buyers
        size = lambda shape: rng.random(shape) * 10.0 ** rng.integers(-3, 5, size=shape)   # noqa: E731
        supply = size((g, s)) * (rng.random((g, s)) < 0.7)               # some sellers offer none of a good
        demand = size((g, b)) + 1e-3
        cost = 1.0 + 3.0 * rng.random((g, s, b))
        cap = np.where(rng.random((g, s, b)) < 0.3, size((g, s, b)), inf) if capped else np.full((g, s, b), inf)
        quotas = np.where(rng.random((g, s)) < 0.5, size((g, s)), inf) if quota else np.full((g, s), inf)
        foreign = rng.random((s, b)) < 0.9
        export_first = (rng.random((g, s)) < 0.3) if first else None
        args = (supply, demand, cost, cap, quotas, foreign, 8.0, 3, export_first)
        assert np.array_equal(market._allocate(*args, compiled=True), market._allocate(*args, compiled=False)), seed


def test_the_rounds_stop_exactly_when_numpys_total_of_the_orders_says_so():
    """The settled check decides from the rows' sums unless the call is close; at the edge it adds the orders
    as numpy does, so a total a hair above or below the threshold is told apart as numpy tells it."""
    from sim import clearing_kernel as ck
    order = np.random.default_rng(0).random((3, 50, 40)) * 10.0 ** np.arange(-2, 2).repeat(10)
    exact = order.sum()
    stack = ck.new_stack()
    rows = sum(ck.pairwise_sum(order[g, k], stack) for g in range(3) for k in range(50))
    for settled in (exact, np.nextafter(exact, 0.0), np.nextafter(exact, np.inf), 0.5 * exact, 2.0 * exact, 0.0):
        assert ck._at_most(rows, settled, order, stack) == (exact <= settled), settled


@pytest.mark.parametrize("first", [False, True])
def test_a_round_too_close_to_call_adds_up_the_orders_remade_from_its_start(first):
    """Without caps or quotas the kernel keeps one row of orders at a time; when its rows' total cannot tell
    whether a round settled, it remakes that round's orders (``_plain_orders``): they equal numpy's orders of
    the round bit for bit, and the rounds stop exactly where numpy's total of those orders says."""
    from sim import clearing_kernel as ck
    inf = np.inf
    for seed in range(20):
        rng = np.random.default_rng(seed)
        g, s, b = 3, 25, 30
        supply = rng.random((g, s)) * 10.0 ** rng.integers(-2, 3, size=(g, s)) * (rng.random((g, s)) < 0.7)
        demand = 100.0 * (rng.random((g, b)) + 1.0) * supply.sum(axis=1, keepdims=True)   # far beyond supply
        preference = np.exp(-8.0 * rng.random((g, s, b)))
        foreign = rng.random((s, b)) < 0.9
        export_first = (rng.random((g, s)) < 0.3) if first else np.zeros((g, s), dtype=bool)
        round_one = market._rounds_numpy(supply, demand, preference, np.full((g, s, b), inf),
                                         np.full((g, s), inf), foreign, 1, export_first if first else None)
        remade = ck._plain_orders(supply, demand, preference, foreign, export_first, first)
        assert np.array_equal(remade, round_one), seed
        exact = round_one.sum()

        def flows(rounds, settled):
            return ck.allocate(supply, demand, preference, np.zeros((g, s, b)), np.full((g, s), inf), foreign,
                               rounds, export_first, first, False, False, settled)
        assert np.array_equal(flows(3, exact), flows(1, exact)), seed             # settled at the first round
        assert np.array_equal(flows(2, np.nextafter(exact, 0.0)), flows(2, -1.0)), seed   # just above: on
