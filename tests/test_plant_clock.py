"""Plants' decision clocks (``PlantIndustry.months_since_decision``) are one array per population: two
models stepped in turns in one process give the outputs each gives alone, and agents read their own clock."""

from __future__ import annotations

from agents.plant import PlantIndustry
from sim.model import RareEarthModel


def test_models_stepped_in_turns_match_models_run_alone():
    alone = []
    for config in ("baseline", "china_2025_licences"):
        model = RareEarthModel(config, seed=5, until="2025-12")
        model.run()
        alone.append(model.datacollector.get_model_vars_dataframe())
    a = RareEarthModel("baseline", seed=5, until="2025-12")
    b = RareEarthModel("china_2025_licences", seed=5, until="2025-12")
    while a.running or b.running:
        a.run_for(1)
        b.run_for(1)
    assert a.datacollector.get_model_vars_dataframe().equals(alone[0])
    assert b.datacollector.get_model_vars_dataframe().equals(alone[1])
    clocks = [p.months_since_decision for p in a.agents_by_type[PlantIndustry]]
    assert min(clocks) >= 0 and max(clocks) >= 10**6 and any(c < 24 for c in clocks)
