"""Shared fixtures: short runs of the real model, cached per test session."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

from sim.model import RareEarthModel

SEEDS = (1, 2, 3)

# Hypothesis profiles: "ci" (the default) keeps the suite short; "deep" (``--hypothesis-profile=deep``)
# runs >= 1,000 random scenarios per property. Model runs are slow examples, so no deadline.
settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("deep", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile("ci")


@lru_cache(maxsize=64)
def _run(scenario: str, seed: int, until: str, events: tuple = (), params: tuple = ()) -> pd.DataFrame:
    extra = [{k: list(v) if isinstance(v, tuple) else v for k, v in e} for e in events]
    model = RareEarthModel(scenario, seed=seed, until=until, keep_flows=False, extra_events=extra or None,
                           **dict(params))
    model.run()
    return model.datacollector.get_model_vars_dataframe().set_index("date")


def frozen(events: list[dict]) -> tuple:
    """Hashable form of a list of event dicts (for the run cache)."""
    return tuple(tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in e.items()))
                 for e in events)


@pytest.fixture(scope="session")
def run():
    """run(scenario, seed, until, events=[...], **params) -> monthly DataFrame indexed by date."""
    def _call(scenario="baseline", seed=1, until="2032-12", events=(), **params):
        return _run(scenario, seed, until, frozen(list(events)), tuple(sorted(params.items())))
    return _call


@pytest.fixture
def scenario_file(tmp_path):
    """write(body) -> path of a minimal scenario TOML (2024-01..2030-12) with ``body`` appended."""
    def write(body: str):
        path = tmp_path / "bad.toml"
        path.write_text('name = "bad"\ndescription = "x"\nstart = "2024-01"\nend = "2030-12"\n' + body)
        return path
    return write
