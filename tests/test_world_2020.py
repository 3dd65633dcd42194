"""The 2020 world and the 2020-2023 replay: the tables say what their sources say, the base year is
in balance, and the replay's events reach the model (China's output follows its quotas, Myanmar's
stops when the border closes)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim.model import RareEarthModel
from sim.scenarios import load_scenario, scenario_from_dict
from sim.world import CONFIG_DIR, DepositRow, load_world, read_table

WORLD_2020 = CONFIG_DIR / "world_2020"


def test_mines_outside_china_produce_what_their_cited_usgs_row_says():
    """Each operating row that quotes a USGS 2020 tonnage holds exactly that tonnage."""
    rows = read_table(WORLD_2020 / "deposits.csv", DepositRow, "deposit")
    quoted = []
    for r in rows:
        m = re.search(r"2020 mine production ([\d,]+) t", r.source)
        if r.status == "operating" and r.iso3 != "CHN" and m:
            quoted.append(r.deposit)
            assert r.capacity_t_per_yr == float(m.group(1).replace(",", "")), r.deposit
    assert len(quoted) >= 9                    # USA, MMR, AUS, MDG, IND, RUS, THA, BRA, VNM


def _calm_2020(months: int) -> RareEarthModel:
    """The 2020 world under its 2020 quota with no event, no demand growth and no noise."""
    spec = load_scenario("demand_boom_2021").to_dict()
    params = dict(spec["parameters"])
    params.update(demand_growth_scale=0.0, demand_noise_sd_frac=0.0)
    calm = scenario_from_dict({"name": "calm_2020", "description": "2020 world, no events",
                               "world": "world_2020", "start": "2020-01", "end": "2022-12",
                               "parameters": params})
    model = RareEarthModel(calm, seed=1)
    model.run_for(months)
    return model


def test_the_2020_base_year_is_in_balance():
    model = _calm_2020(12)
    df = model.datacollector.get_model_vars_dataframe()
    assert df["shortage_frac"].max() < 0.01
    world = load_world(WORLD_2020)
    for iso in ("MMR", "AUS", "USA", "MDG"):   # the miners that sell abroad keep producing
        capacity = world.deposit_capacity_t_per_yr[
            (world.deposit_nation == world.nations.index(iso))
            & np.array([s == "operating" for s in world.deposit_status])].sum()
        assert df[f"mine_output_{iso}_t"].iloc[0] * 12 == pytest.approx(capacity, rel=0.05), iso
    for g in ("Nd", "Pr", "Dy", "Tb", "Ce"):
        ratio = df[f"price_{g}_china_usd_per_kg"] / df[f"price_{g}_china_usd_per_kg"].iloc[0]
        assert 0.7 < ratio.min() and ratio.max() < 1.4, g


def _replay(seed: int):
    model = RareEarthModel("demand_boom_2021", seed=seed)
    model.run()
    return model.datacollector.get_model_vars_dataframe()


@pytest.fixture(scope="module")
def replay():
    return _replay(1)


def test_the_replay_runs_from_2020_to_2023(replay):
    assert len(replay) == 48
    assert np.isfinite(replay.filter(like="price_").to_numpy()).all()


def test_china_mines_follow_the_quotas_up(replay):
    """China's mine output follows MIIT's quotas up (140 kt in 2020 to 255 kt in 2023; USGS output 1.71x): the
    replay's 2023 output is 1.56-1.58x its 2020 level over seeds 1-5 (2026-12-01). Judged on the median of
    seeds 1-3: one seed's ratio moves by a few points (it was 1.43-1.51x before the application mix and
    the traders' participation limit)."""
    ratios = []
    for seed in (1, 2, 3):
        run = replay if seed == 1 else _replay(seed)
        china = run["mine_output_CHN_t"].to_numpy() * 12
        ratios.append(china[36:].mean() / china[:12].mean())
    assert np.median(ratios) > 1.5             # the quota went from 140 kt (2020) to 255 kt (2023)


def test_china_separates_more_as_its_separation_quota_rises(replay):
    """135 kt (2020) to 243.85 kt (2023) [miit_quotas]: China's separation follows, so its mined ore does not
    pile up unseparated in its yards (it did, to ~69 kt, while the quota line kept its 2020 size)."""
    china = (replay["china_share_separation"] * replay["production_separation_t"]).to_numpy() * 12
    assert china[36:].mean() / china[:12].mean() > 1.3


def test_the_replay_has_no_hoarding_sawtooth(replay):
    """Users' hoarding fades as prices stretch above the long-run price (ODD 7.11), so NdPr inside China moves
    by under 10 % a month on average (it swung ~13 % a month in a nine-month boom-bust cycle when users
    extrapolated the trend alone; the real 2020-2022 rise was a steady climb)."""
    ndpr = (0.75 * replay["price_Nd_china_usd_per_kg"] + 0.25 * replay["price_Pr_china_usd_per_kg"]).to_numpy()
    assert np.abs(np.diff(np.log(ndpr))).mean() < 0.10


def test_a_separation_quota_is_chinas_only():
    from sim.errors import ConfigError
    spec = load_scenario("demand_boom_2021").to_dict()
    spec.pop("path", None)
    spec["events"] = [{"type": "production_quota", "stage": "separation", "nation": "MYS", "at": "2021-01",
                       "t_per_yr": 1000.0}]
    with pytest.raises(ConfigError, match="separation quota is China's"):
        scenario_from_dict(spec)


def test_the_ion_adsorption_quota_stays_flat_when_the_total_rises():
    """A total quota of 255 kt leaves the clay (heavy-REE) quota at 19,150 t, as MIIT kept it 2018-2024."""
    from sim.chain.mining import china_quota_cap
    model = RareEarthModel("demand_boom_2021", seed=1, until="2023-02")
    model.run()
    st, fx = model.state, model.structure
    clay = st.assets.dep_is_clay & (st.assets.dep_nation == fx.china)
    flat_out = np.where(st.assets.dep_nation == fx.china, 1e6, 0.0)       # far above any quota
    capped = china_quota_cap(st, fx, model.p, flat_out, model.start_month)
    assert capped[clay].sum() * 12 == pytest.approx(19150.0)
    assert capped[~clay & (st.assets.dep_nation == fx.china)].sum() * 12 == pytest.approx(255000.0 - 19150.0)


def test_myanmar_output_stops_while_the_border_is_closed(replay):
    mmr = replay["mine_output_MMR_t"].to_numpy()
    assert mmr[19:22].mean() < 0.2 * mmr[:12].mean()     # Aug-Oct 2021 against 2020
