"""The 2020-2023 demand boom replayed with the same physics as every scenario: its bands over seeds 1-3."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.episodes import (episode_metrics, evaluate_2020, figures_2020, load_targets_2020, summarise_2020)

SEEDS = [1, 2, 3]
# missed at the priors after the market-dynamics redesign (docs/backtest.md); the joint refit is pending
_NDPR = ("NdPr's path has two humps of about the same height, ~1.7x: the restocking after COVID in late 2020 "
         "(month 7) and the climb into 2022 (month ~23); which is higher flips with small changes (seeds, "
         "traders' participation limit), so the peak's month and the fall after it follow that coin toss. "
         "The climb is too small: supply fed by the mining and separation quotas outgrows use in the model "
         "(separated Nd +46 % against use +14 % by mid-2022, docs/backtest.md)")
KNOWN_MISSES = {name: _NDPR for name in ("NdPr_peak_multiple", "NdPr_peak_month", "NdPr_left_after_15m")}


@pytest.fixture(scope="module")
def boom():
    return evaluate_2020({}, SEEDS)


def test_metrics_of_a_hand_made_path():
    dates = [f"{y}-{m:02d}" for y in range(2020, 2024) for m in range(1, 13)]
    df = pd.DataFrame({"date": dates})
    for el in ("Nd", "Pr", "Tb", "Dy", "La", "Ce"):
        df[f"price_{el}_china_usd_per_kg"] = 10.0
    df.loc[df["date"] == "2022-02", ["price_Nd_china_usd_per_kg", "price_Pr_china_usd_per_kg"]] = 40.0
    m = episode_metrics(df)
    assert m["NdPr_peak_multiple"] == pytest.approx(4.0) and m["NdPr_peak_month"] == 20
    assert m["NdPr_left_after_15m"] == pytest.approx(0.25)
    assert m["La_peak_multiple"] == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("target", [pytest.param(t, marks=pytest.mark.xfail(reason=KNOWN_MISSES[t.name], strict=True))
                                    if t.name in KNOWN_MISSES else t for t in load_targets_2020()],
                         ids=lambda t: t.name)
def test_model_median_lies_inside_the_2020_band(boom, target):
    row = summarise_2020(boom[0]).set_index("target").loc[target.name]
    assert row["passed"], f"{target.name}: median {row['model_median']:.3g} outside [{target.band_low}, {target.band_high}]"


def test_figures_show_model_against_history(boom):
    figs = figures_2020(boom[1])
    assert set(figs) == {f"validation_2020_{el}" for el in ("NdPr", "Tb", "Dy", "La", "Ce")}
    ax = figs["validation_2020_NdPr"].axes[0]
    assert len(ax.collections) >= 2                      # the model's band and the historical points
