"""The compiled bookkeeping (``sim.chain.kernels``) gives its numpy reference's numbers on real states.

Each numpy reference is recorded with the arguments of every call of a real run (spin-up, a binding
China control, tariffs) and replayed through both paths on copies: returned values and the arrays
updated in place must agree (rtol 1e-12; they are written to agree bit for bit). The whole run,
compiled against numpy, is compared bit for bit in ``tests/test_compiled_clearing.py``.
"""

from __future__ import annotations

import copy
import importlib

import numpy as np
import pytest

from sim import market
from sim.chain import spinup
from sim.model import RareEarthModel

pytest.importorskip("numba")

#: (submodel module, its numpy reference, the kernel that repeats it)
PAIRS = [("sim.chain.separation", "_separate_numpy", "separate"),
         ("sim.chain.mining", "_mine_output_numpy", "mine_output"),
         ("agents.plant", "utilisation_from_shift", "utilisation_from_shift"),
         ("sim.chain.use", "_consume_numpy", "consume"),
         ("sim.chain.use", "_zone_fraction_numpy", "zone_fraction"),
         ("sim.chain.state", "_held_goods_numpy", "held_goods"),
         ("sim.chain.state", "_add_chain_stocks_numpy", "add_chain_stocks"),
         ("sim.chain.oxides", "_sell_oxides_numpy", "sell_oxides"),
         ("sim.chain.oxides", "_make_magnets_numpy", "make_magnets"),
         ("sim.chain.trade", "_arrive_numpy", "arrive"),
         ("agents.end_use", "user_orders_numpy", "user_orders"),
         ("agents.plant", "maker_orders_numpy", "maker_orders"),
         ("sim.chain.prices", "_zone_held_numpy", "zone_held"),
         ("sim.chain.prices", "_zone_use_numpy", "zone_use"),
         ("agents.plant", "separation_plan_numpy", "plan_separation"),
         ("sim.chain.orders", "_zone_position_numpy", "zone_position"),
         ("sim.chain.orders", "_split_trades_numpy", "split_trades"),
         ("sim.chain.capacity", "_by_nation_and_element_numpy", "by_nation_and_element"),
         ("sim.chain.capacity", "_nation_plant_capacity_numpy", "nation_plant_capacity"),
         ("sim.chain.capacity", "_stage_capacities_numpy", "stage_capacities"),
         ("sim.chain.investment", "_remember_margins_numpy", "remember_margins"),
         ("agents.plant", "ready_to_invest_numpy", "ready_to_invest"),
         ("sim.recording", "_concentration_numpy", "concentration"),
         ("sim.chain.capacity", "_has_heavy_separation_numpy", "nation_has_heavy_separation"),
         ("sim.model", "_stocks_in_range_numpy", "stocks_in_range"),
         ("sim.chain.investment", "_pipelines_numpy", "pipelines"),
         ("sim.chain.prices", "_availability_numpy", "availability"),
         ("agents.nation", "stockpile_orders_numpy", "stockpile_orders"),
         ("sim.chain.china", "_export_first_numpy", "export_first"),
         ("sim.chain.trade", "_offers_and_orders_numpy", "offers_and_orders"),
         ("sim.chain.trade", "_zone_sums_numpy", "zone_sums"),
         ("sim.chain.margins", "_deposit_margin_numpy", "deposit_margin"),
         ("sim.chain.margins", "_separation_margin_numpy", "separation_margin"),
         ("sim.chain.margins", "_magnet_margin_numpy", "magnet_margin"),
         ("sim.recording", "_totals_numpy", "row_totals"),
         ("sim.chain.mining", "_cap_groups_numpy", "cap_groups"),
         ("sim.chain.mining", "_add_undocumented_numpy", "add_undocumented"),
         ("sim.chain.state", "_mass_balance_numpy", "mass_balance"),
         ("sim.chain.state", "_sum_sectors_numpy", "sum_sectors")]


def _recorded_calls(monkeypatch, module_name: str, reference: str, config: str, until: str) -> list[tuple]:
    module = importlib.import_module(module_name)
    original, calls = getattr(module, reference), []

    def record(*args):
        calls.append(copy.deepcopy(args))
        return original(*args)

    monkeypatch.setattr(market, "COMPILED", False)          # the numpy path, which calls the reference
    monkeypatch.setattr(module, reference, record)
    spinup.clear_cache()
    RareEarthModel(config, seed=3, until=until).run()
    monkeypatch.undo()
    spinup.clear_cache()
    return calls


def _assert_same(a, b, what: str) -> None:
    if isinstance(a, tuple):
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{what}[{k}]")
        return
    if a is None:
        assert b is None, what
        return
    np.testing.assert_allclose(np.asarray(b, float), np.asarray(a, float), rtol=1e-12, atol=0.0, err_msg=what)


@pytest.mark.parametrize("module_name, reference, kernel_name", PAIRS)
@pytest.mark.parametrize("config, until", [("baseline", "2025-06"), ("china_2025_licences", "2026-03"),
                                           ("tariff_retaliation", "2025-12")])
def test_kernel_repeats_its_numpy_reference_on_a_real_run(monkeypatch, module_name, reference, kernel_name,
                                                          config, until):
    calls = _recorded_calls(monkeypatch, module_name, reference, config, until)
    assert len(calls) > 12
    numpy_fn = getattr(importlib.import_module(module_name), reference)
    kernel_fn = getattr(importlib.import_module("sim.chain.kernels"), kernel_name)
    for n, args in enumerate(calls):
        a_args, b_args = copy.deepcopy(args), copy.deepcopy(args)
        a_out, b_out = numpy_fn(*a_args), kernel_fn(*b_args)
        _assert_same(a_out, b_out, f"call {n}: result")
        for k, (x, y) in enumerate(zip(a_args, b_args, strict=True)):
            if isinstance(x, np.ndarray):
                _assert_same(x, y, f"call {n}: argument {k} after the call")


def test_bookkeeping_that_cannot_load_stays_in_numpy(monkeypatch):
    """If the compiled bookkeeping cannot be imported (e.g. no writable cache), the run warns and goes on
    in numpy with the same outputs."""
    def run():
        spinup.clear_cache()
        model = RareEarthModel("baseline", seed=4, until="2024-12")
        model.run()
        return model.datacollector.get_model_vars_dataframe()

    monkeypatch.setattr(market, "COMPILED", False)
    reference = run()
    real_import = importlib.import_module

    def refuse(name, *args):
        if name == "sim.chain.kernels":
            raise RuntimeError("cannot cache function 'separate': no locator available")
        return real_import(name, *args)

    monkeypatch.setattr(market, "COMPILED", True)
    monkeypatch.setattr(market, "_chain_kernels", None)
    monkeypatch.setattr(market, "_chain_kernels_failed", False)
    monkeypatch.setattr(market.importlib, "import_module", refuse)
    with pytest.warns(RuntimeWarning, match="compiled bookkeeping unavailable"):
        got = run()
    assert market.chain_kernels() is None
    assert got.equals(reference)
