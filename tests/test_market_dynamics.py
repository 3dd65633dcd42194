"""Market dynamics an analyst can trust (issue 13): calm without shocks, bounded under shocks, zones that
respond to the physics of a control.

Every check runs the real model; seeds 1-10 where the outcome is random.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sim import constraints, pricing
from sim.goods import GOODS
from sim.scenarios import list_scenarios

CALM_SEEDS = range(1, 11)


# ----------------------------------------------------------------------------- the price curve
@settings(max_examples=200, deadline=None)
@given(x=st.floats(0.0, 50.0), long_run=st.floats(0.1, 1000.0), times=st.floats(1.01, 200.0),
       k=st.floats(0.5, 6.0))
def test_storage_price_lies_between_zero_and_the_backstop_and_falls_with_availability(x, long_run, times, k):
    backstop = long_run * times
    p = pricing.storage_price_usd_per_kg(np.array([x, x * 1.1 + 0.01]), long_run, backstop, k)
    assert 0.0 < p[0] <= backstop and p[1] <= p[0]


def test_storage_price_is_the_long_run_price_at_normal_availability_and_the_backstop_at_none():
    p = pricing.storage_price_usd_per_kg(np.array([1.0, 0.0, 0.5]), 50.0, 330.0, 3.0)
    assert p[0] == pytest.approx(50.0) and p[1] == pytest.approx(330.0)
    assert 50.0 < p[2] < 330.0


@settings(max_examples=200, deadline=None)
@given(x=st.floats(0.0, 20.0), long_run=st.floats(0.2, 1.9), times=st.floats(5.0, 200.0),
       below=st.floats(0.3, 1.5), above=st.floats(1.5, 6.0))
def test_the_kinked_la_ce_curve_is_continuous_falling_and_steeper_above_its_kink(x, long_run, times, below, above):
    """Between zero and the backstop, falling with availability, the long-run price at normal availability,
    and through the kink (2 USD/kg) without a jump; above the kink it rises faster than the flat curve would."""
    backstop, kink = long_run * times, 2.0
    assume(backstop > 1.5 * kink)                    # La's and Ce's backstops are 135-138 USD/kg
    xs = np.array([x, x * 1.1 + 0.01, 1.0])
    p = pricing.kinked_storage_price_usd_per_kg(xs, long_run, backstop, below, above, kink)
    assert 0.0 < p[0] <= backstop and p[1] <= p[0] and p[2] == pytest.approx(long_run)
    x_kink = ((backstop / kink - 1.0) / (backstop / long_run - 1.0)) ** (1.0 / below)
    near = pricing.kinked_storage_price_usd_per_kg(np.array([x_kink * (1 - 1e-9), x_kink * (1 + 1e-9)]),
                                                   long_run, backstop, below, above, kink)
    assert near == pytest.approx([kink, kink], rel=1e-6)
    flat = pricing.storage_price_usd_per_kg(np.array([x]), long_run, backstop, below)
    if x < x_kink:
        assert p[0] >= flat[0] * (1 - 1e-12)


def test_pooled_substitutes_move_together():
    avail = np.array([[1.0, 0.2, 1.0]])
    pooled = pricing.pool_substitutes(avail, np.ones((1, 3)), [0, 1], 0.9)
    assert abs(pooled[0, 0] - pooled[0, 1]) == pytest.approx(0.1 * 0.8)
    assert pooled[0, 2] == 1.0


# ----------------------------------------------------------------------------- calm baseline
@pytest.fixture(scope="module")
def calm():
    """The no-shock baseline 2024-2050, seeds 1-10 (the runs ``reesim validate`` judges, sim.constraints)."""
    return constraints.calm_frames(list(CALM_SEEDS))


@pytest.mark.slow
def test_calm_baseline_yearly_prices_stay_within_a_third_and_three_times_2024(calm):
    """Over seeds 1-10 the median yearly price of every element stays within 1/3-3x its 2024 mean.

    Each seed on its own stays within 0.42-2.3x (2026-12-01): Sm falls furthest (to 0.43-0.57x), in surplus
    at base-year prices; Tb no longer slides towards 1/3 since the recipe follows the application mix.
    """
    rels = constraints.yearly_ratios(calm)                            # (seed, year, element)
    median = np.median(rels, axis=0)
    assert median.max() <= 3.0 and median.min() >= 1 / 3, (median.min(axis=0), median.max(axis=0))
    assert rels.max() <= 3.3 and rels.min() >= 0.3


@pytest.mark.slow
def test_calm_baseline_has_no_bubble_the_largest_12_month_rise_is_under_1_8(calm):
    rises = constraints.largest_12m_rises(calm)
    assert np.median(rises) < 1.8, rises


@pytest.mark.slow
def test_calm_baseline_nd_and_pr_trade_together(calm):
    low, high = constraints.nd_pr_ratio_range(calm)
    assert 0.8 <= low and high <= 1.25


@pytest.mark.slow
def test_the_calm_baseline_meets_every_calm_constraint_as_validate_judges_it(calm):
    judged = constraints.summarise({**constraints.calm_values(calm),
                                    **{b.name: b.band_low for b in constraints.BOUNDS
                                       if b.name.startswith("scenarios_")}})
    calm_rows = judged[judged["constraint"].str.startswith("calm_")]
    assert calm_rows["passed"].all(), calm_rows


def test_2024_prices_still_match_the_world_table(run):
    from sim.scenarios import load_scenario
    from sim.world import load_world
    w = load_world(load_scenario("baseline").world_dir)
    y2024 = run(until="2024-12")
    for k, g in enumerate(GOODS):
        assert y2024[f"price_{g}_usd_per_kg"].mean() == pytest.approx(w.price_usd_per_kg[k], rel=0.35), g


# ----------------------------------------------------------------------------- Dy and Tb per magnet
def test_magnet_makers_thrift_dy_and_tb_while_dear_and_keep_the_new_grades(run):
    """Issue 13 item 3: the Dy and Tb content of a magnet falls with their price (grain-boundary diffusion),
    over years, not below its floor, and is not undone when the price falls back."""
    from sim.parameters import resolve_parameters
    floor = resolve_parameters()["dy_tb_intensity_min_frac"]
    replay = run("china_2010_quota", seed=1, until="2014-12")
    for el in ("Dy", "Tb"):
        mix = replay[f"magnet_{el}_application_mix_frac"]
        for zone in ("", "_china"):
            thrift = replay[f"magnet_{el}_intensity{zone}_frac"] / mix     # the makers' own choice of grade
            assert thrift.loc[:"2010-06"].min() > 0.99, (el, zone)       # before the spike: the base recipe
            assert thrift.loc["2014-12"] < 0.95, (el, zone)              # after two years of dear heavies
            assert thrift.min() >= floor - 1e-12, (el, zone)
            assert (thrift.diff().dropna() <= 1e-12).all(), (el, zone)   # redesigned grades stay
    calm = run("baseline", seed=1, until="2024-12")
    thrift = calm["magnet_Dy_intensity_frac"] / calm["magnet_Dy_application_mix_frac"]
    assert thrift.min() > 0.97                                           # no spike, (almost) no thrift


def test_the_ev_boom_puts_more_tb_than_dy_into_each_magnet(run):
    """Issue 13 item 3: the average recipe follows the application mix (magnet_grades.csv). Traction magnets
    carry Tb diffused into their grain boundaries, so as electric vehicles take a growing share of magnets
    over 2020-2022 each tonne of magnet carries more Tb, and more so than Dy; with the EV lever at 0 it
    does not move that way."""
    boom = run("demand_boom_2021", seed=1, until="2022-12")
    mix = {el: boom[f"magnet_{el}_application_mix_frac"] for el in ("Dy", "Tb")}
    assert mix["Tb"].loc["2022-12"] > 1.1 * mix["Tb"].loc["2020-01"]
    assert mix["Tb"].loc["2022-12"] / mix["Tb"].loc["2020-01"] > mix["Dy"].loc["2022-12"] / mix["Dy"].loc["2020-01"]
    no_ev = run("demand_boom_2021", seed=1, until="2022-12", ev_growth_scale=0.0)
    assert no_ev["magnet_Tb_application_mix_frac"].loc["2022-12"] < mix["Tb"].loc["2022-12"] - 0.05
    tb_used = boom["magnet_Tb_intensity_frac"] / boom["magnet_Tb_application_mix_frac"]
    assert tb_used.max() <= 1.0 + 1e-12                                  # the makers' thrift still only cuts


# ----------------------------------------------------------------------------- every scenario
@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name, _ in list_scenarios()])
def test_every_scenario_stays_below_the_backstop_balances_mass_and_bounds_speculation(name):
    bounds = constraints.scenario_bounds(name, seed=1)
    assert bounds["scenarios_price_over_backstop"] <= 1.0 + 1e-12
    assert bounds["scenarios_mass_balance_error"] <= 1e-9
    assert bounds["scenarios_spec_months_of_use"] <= 3.0 + 1e-9
    assert bounds["scenarios_non_finite_values"] == 0 and bounds["scenarios_runs_stopped"] == 0


# ----------------------------------------------------------------------------- zones
BAN = {"type": "export_ban", "nation": "CHN", "at": "2026-01", "until": "2028-01", "elements": ["Dy", "Tb"],
       "to_bloc": ["us_allied"]}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_export_ban_raises_prices_abroad_within_three_months_and_never_at_home(run, seed):
    base = run("baseline", seed=seed, until="2027-12")
    ban = run("baseline", seed=seed, until="2027-12", events=[BAN])
    window = (ban.index >= "2026-01") & (ban.index <= "2027-12")
    for el in ("Dy", "Tb"):
        inside = ban.loc[window, f"price_{el}_china_usd_per_kg"] / base.loc[window, f"price_{el}_china_usd_per_kg"]
        assert inside.max() <= 1.02, (el, inside.max())
        first = ban.loc["2026-01":"2026-03", f"price_{el}_usd_per_kg"] / base.loc["2026-01":"2026-03",
                                                                                   f"price_{el}_usd_per_kg"]
        assert first.max() > 1.2, (el, first.tolist())


def test_the_2020_replay_travels_from_the_2020_recipe_towards_the_2024_one(run):
    """The 2020 world's recipe carries 1.0 % Dy by mass, the 2024 world's 0.8 %: grain-boundary diffusion
    spread in between (``content_trend_frac_per_yr``), so by its fourth year the replay's magnets carry
    about 0.8 of their 2020 Dy on top of the application mix (the makers' thrift can only cut further);
    Tb has no such path."""
    from sim.scenarios import load_scenario
    from sim.world import load_world
    dy = [load_world(load_scenario(name).world_dir).magnet_recipe_t_per_t[7] for name in ("demand_boom_2021",
                                                                                           "baseline")]
    boom = run("demand_boom_2021", seed=1, until="2023-12")
    years = (len(boom) - 1) / 12.0
    tech_and_thrift = boom["magnet_Dy_intensity_frac"] / boom["magnet_Dy_application_mix_frac"]
    path = (dy[1] / dy[0]) ** (years / 4.0)                # the two tables' ratio, 4 years apart
    assert 0.75 < tech_and_thrift.iloc[-1] <= path + 1e-9
    assert tech_and_thrift.iloc[0] > 0.99                                # one month in
    tb = boom["magnet_Tb_intensity_frac"] / boom["magnet_Tb_application_mix_frac"]
    assert tb.iloc[0] - tech_and_thrift.iloc[0] > 0.004                 # Dy's path moves from the first month
