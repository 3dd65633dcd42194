"""One nation's plant capacity, as investment reads it when commissioning, equals its row of the full table."""

from __future__ import annotations

import numpy as np

from sim.chain import capacity
from sim.model import RareEarthModel


def test_one_nations_capacity_and_heavy_circuit_equal_the_full_tables_bit_for_bit():
    model = RareEarthModel("baseline", seed=1, until="2035-12", keep_flows=False)
    model.run()
    a, p, n = model.state.assets, model.p, model.structure.n_nations
    assert len(a.plant_nation) > len(model.world.plant_nation)          # projects were commissioned
    for month in (model.state.month - 40, model.state.month, model.state.month + 30):
        for stage in ("separation", "magnets"):
            table = capacity.stage_capacity_t_per_yr(a, stage, month, p, n)
            one = [capacity.nation_plant_capacity_t_per_yr(a, stage, month, p, i) for i in range(n)]
            assert np.array_equal(table, one), (stage, month)
        heavy = capacity.heavy_frac(a, month, p, n) > 0
        assert heavy.any() and list(heavy) == [capacity.has_heavy_separation(a, month, p, i) for i in range(n)]
