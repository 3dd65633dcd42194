"""A run that starts from the cached spin-up is the run that spun up itself: same state, same outputs.

The cache keeps a deep copy of the whole state (``ChainState``), so nothing the spin-up changed can be
left behind; these tests compare every field of the state and every recorded series, in the same process
(whatever ran before) and against a fresh process, including runs whose controls bind in the first month.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.chain import spinup
from sim.model import RareEarthModel

ROOT = Path(__file__).resolve().parent.parent
FIRST_MONTH_QUOTA = [{"type": "export_quota", "nation": "CHN", "at": "2024-01", "t_per_yr": 20_000}]
CASES = {
    "baseline": dict(config="baseline", until="2025-06"),
    "2010 replay (2009 duty and quota in force at the start)": dict(config="china_2010_quota", until="2010-12"),
    "quota binding in the first month": dict(config="baseline", until="2024-12", extra_events=FIRST_MONTH_QUOTA),
}


def differences(a, b, path: str = "state") -> list[str]:
    """Paths at which two states (nested dataclasses, arrays, dicts, scalars) differ."""
    if dataclasses.is_dataclass(a):
        return [d for f in dataclasses.fields(a) if f.compare
                for d in differences(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")]
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return [path]
        return [d for k in a for d in differences(a[k], b[k], f"{path}[{k!r}]")]
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return [] if np.array_equal(a, b, equal_nan=True) else [path]
    return [] if a == b else [path]


def _model(case: dict) -> RareEarthModel:
    return RareEarthModel(seed=5, keep_flows=False, **case)


@pytest.fixture
def spun_months(monkeypatch) -> list:
    """Counts the spin-up months the models built from now on run (0 for a start from the cache)."""
    months: list = []
    spin = RareEarthModel._spin_up_month

    def counted(self, st):
        months.append(st.month)
        return spin(self, st)
    monkeypatch.setattr(RareEarthModel, "_spin_up_month", counted)
    return months


@pytest.mark.parametrize("name", CASES)
def test_cached_start_has_the_whole_state_and_outputs_of_an_uncached_one(name, spun_months):
    case = CASES[name]
    spinup.clear_cache()
    fresh = _model(case)
    assert len(spun_months) == spinup.SPIN_UP_MONTHS
    # something else runs in between, in the same process (the order that used to change results)
    _model(CASES["2010 replay (2009 duty and quota in force at the start)"]).run_for(3)
    spun_months.clear()
    cached = _model(case)
    assert spun_months == []                                 # a cache hit: it did not spin up
    assert differences(fresh.state, cached.state) == []
    fresh.run()
    cached.run()
    assert differences(fresh.state, cached.state) == []
    pd.testing.assert_frame_equal(fresh.datacollector.get_model_vars_dataframe(),
                                  cached.datacollector.get_model_vars_dataframe())


def test_a_cached_run_matches_a_fresh_process(spun_months, tmp_path):
    """The whole state at the start and at the end, and the outputs, of a run started from this process's
    cache equal those of a run in a new process (which spins up itself)."""
    case = CASES["quota binding in the first month"]
    _model(case)                                   # make sure the next one is a cache hit
    spun_months.clear()
    cached = _model(case)
    assert spun_months == []
    start = copy.deepcopy(cached.state)
    cached.run()
    code = ("import copy, json, pickle, sys; from sim.model import RareEarthModel; "
            "m = RareEarthModel('baseline', seed=5, keep_flows=False, until='2024-12', "
            f"extra_events=json.loads({json.dumps(FIRST_MONTH_QUOTA)!r})); start = copy.deepcopy(m.state); m.run(); "
            "pickle.dump((start, m.state, m.datacollector.get_model_vars_dataframe()), open(sys.argv[1], 'wb'))")
    out = tmp_path / "fresh.pickle"
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, cwd=ROOT)
    with out.open("rb") as f:
        fresh_start, fresh_end, fresh_table = pickle.load(f)
    assert differences(fresh_start, start) == []
    assert differences(fresh_end, cached.state) == []
    pd.testing.assert_frame_equal(fresh_table, cached.datacollector.get_model_vars_dataframe())
