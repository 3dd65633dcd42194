"""The monthly collector feeds Mesa's DataCollector so that Mesa's own readers find every month's row."""

from __future__ import annotations

import mesa

from sim.model import RareEarthModel


def test_batch_run_with_a_collection_period_finds_each_months_row():
    results = mesa.batch_run(RareEarthModel, parameters={"config": "baseline", "until": "2024-12",
                                                         "keep_flows": False},
                             rng=[1], max_steps=12, number_processes=1, data_collection_period=3,
                             display_progress=False)
    # Mesa picks every third recorded step (1, 4, 7, 10) and looks each up in the collector's steps
    assert [r["Step"] for r in results] == [1.0, 4.0, 7.0, 10.0]
    assert [r["date"] for r in results] == ["2024-01", "2024-04", "2024-07", "2024-10"]


def test_the_monthly_table_has_one_row_per_month_at_its_step():
    model = RareEarthModel("baseline", seed=1, until="2024-05", keep_flows=False)
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame["date"]) == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    assert model.datacollector._collection_steps == [1.0, 2.0, 3.0, 4.0, 5.0]
