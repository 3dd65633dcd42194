"""Scenario files: every one validates, says where its facts come from, and does what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.calendar import month_index
from sim.errors import ConfigError
from sim.model import RareEarthModel
from sim.policy_events import EVENT_TYPES
from sim.scenarios import SCENARIO_DIR, list_scenarios, load_scenario
from sim.world import BLOCS

OURS = ("china_2025_licences", "china_full_ban", "jackson_vanik_repeal", "c5_partnership",
        "allied_stockpile", "myanmar_disruption", "tariff_retaliation")


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_scenario_file_validates(path: Path):
    spec = load_scenario(path)
    assert spec.description


@pytest.mark.parametrize("name", OURS)
def test_policy_scenarios_have_description_and_sources(name):
    spec = load_scenario(name)
    assert spec.name == name
    assert len(spec.description) > 80
    assert spec.sources and all(s.strip() for s in spec.sources)
    assert spec.events


def test_the_scenario_list_includes_the_policy_scenarios():
    names = [n for n, _ in list_scenarios()]
    assert set(OURS) <= set(names)


def test_licence_scenario_suspends_the_october_measures_with_until():
    spec = load_scenario("china_2025_licences")
    october = [e for e in spec.events if e.type == "export_licence" and e.at == "2025-10"]
    assert october and all(e.until == "2025-11" for e in october)
    assert any(e.to == ["USA"] and e.approval_frac < 0.3 for e in october)
    april = [e for e in spec.events if e.type == "export_licence" and e.at == "2025-04"]
    assert set(april[0].elements) == {"Sm", "Gd", "Tb", "Dy", "Y"} and "magnet" in april[0].stages
    tariffs = [e for e in spec.events if e.type == "import_tariff" and e.stages != ["magnet"]]
    before, after = sorted(tariffs, key=lambda e: e.at)
    assert after.at == before.until == "2025-11"
    assert before.rate_frac - after.rate_frac == pytest.approx(0.10)


def test_c5_partnership_is_the_repeal_plus_small_deals_and_an_alliance():
    repeal = load_scenario("jackson_vanik_repeal").events
    c5 = load_scenario("c5_partnership").events
    same = lambda events: [e.model_dump(exclude={"note"}) for e in events if e.type == "trade_status"]
    assert same(c5) == same(repeal)
    deals = [e for e in c5 if e.type == "investment_deal"]
    assert {d.host for d in deals} >= {"KAZ", "UZB", "KGZ"}
    assert all(d.investor == "USA" and d.offtake_frac > 0 for d in deals)
    assert sum(d.capacity_t_per_yr for d in deals if d.stage == "mining") <= 10_000
    alliance = next(e for e in c5 if e.type == "alliance")
    assert alliance.name == "Abraham Accords" and alliance.at == "2025-11"
    assert {"KAZ", "USA"} <= set(alliance.members)


def test_full_ban_stops_chinese_flows_to_the_allies_from_april_2026():
    m = RareEarthModel("china_full_ban", seed=1, until="2026-05", keep_flows=True)
    m.run()
    chn = m.world.nations.index("CHN")
    allied = [i for i, b in enumerate(m.world.bloc) if b == "us_allied"]
    dates = m.datacollector.get_model_vars_dataframe()["date"].tolist()
    for month, flows in zip(dates, m.flows_history):
        shipped = sum(flows[k][chn, allied].sum() for k in ("ore", "oxide", "magnet"))
        assert (shipped == 0) == (month >= "2026-04"), month


def test_tariff_retaliation_fires_in_january_2027_only():
    m = RareEarthModel("tariff_retaliation", seed=2, until="2027-03", keep_flows=False)
    m.run()
    assert m.book.fired == {"China heavy-REE ban on the US": month_index("2027-01")}
    assert m.shock_log == [("2027-02", "China heavy-REE ban on the US")]
    early = RareEarthModel("tariff_retaliation", seed=2, until="2026-12", keep_flows=False)
    early.run()
    assert early.book.fired == {} and early.shock_log == []


def test_allied_stockpile_reaction_releases_in_the_shock(run):
    df = run("allied_stockpile", seed=1, until="2029-06")
    assert df.loc["2025-01":"2027-12", "stockpile_release_t"].sum() == pytest.approx(0.0, abs=1.0)
    assert df.loc["2028-01":"2029-06", "stockpile_release_t"].sum() > 0
    assert df.loc["2027-12", "stockpile_USA_t"] > df.loc["2024-12", "stockpile_USA_t"]


def test_myanmar_disruption_cuts_then_partly_restores_output(run):
    d = run("myanmar_disruption", seed=1, until="2027-06")["mine_output_MMR_t"]
    b = run("baseline", seed=1, until="2027-06")["mine_output_MMR_t"]
    assert d.loc["2025-02"] < 0.15 * b.loc["2025-02"]
    assert 0.3 * b.loc["2026-03"] < d.loc["2026-03"] < 0.7 * b.loc["2026-03"]
    assert d.loc["2027-06"] > 0.7 * b.loc["2027-06"]


# --- bad files fail before the run (adds to tests/test_config_errors.py) -------------------------

REACTION = ('[[reactions]]\nname = "r"\nwhen = {{ metric = "{metric}", nation = "{nation}", value = 0.1 }}\n'
            'then = {{ type = "{type}", nation = "CHN", to = ["USA"] }}\n')


def test_unknown_bloc_names_the_key_and_the_blocs(scenario_file):
    path = scenario_file('[[events]]\nat = "2026-01"\ntype = "export_ban"\nnation = "CHN"\n'
                               'to_bloc = ["nato"]\n')
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.key_path == "events[0].to_bloc[0]" and err.value.allowed == list(BLOCS)


def test_reaction_with_unknown_metric_names_the_key(scenario_file):
    path = scenario_file(REACTION.format(metric="gdp", nation="USA", type="export_ban"))
    with pytest.raises(ConfigError, match=r"bad\.toml: reactions\[0\]\.when\.metric"):
        load_scenario(path)


def test_reaction_with_unknown_nation_in_its_condition(scenario_file):
    path = scenario_file(REACTION.format(metric="shortage_frac", nation="XXX", type="export_ban"))
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.key_path == "reactions[0].when.nation" and "USA" in err.value.allowed


def test_reaction_whose_event_has_an_unknown_type_lists_the_types(scenario_file):
    path = scenario_file(REACTION.format(metric="shortage_frac", nation="USA", type="embargo"))
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.key_path == "reactions[0].then.type" and err.value.allowed == list(EVENT_TYPES)


def test_reaction_without_a_condition_value_is_rejected(scenario_file):
    path = scenario_file('[[reactions]]\nname = "r"\nwhen = { metric = "shortage_frac" }\n'
                               'then = { type = "stockpile", nations = ["USA"], action = "release" }\n')
    with pytest.raises(ConfigError, match=r"reactions\[0\]\.when\.value"):
        load_scenario(path)


def test_until_not_after_at_and_bad_trade_status(scenario_file):
    with pytest.raises(ConfigError, match=r"events\[0\]\.until: until 2025-01 is not after at 2026-01"):
        load_scenario(scenario_file('[[events]]\nat = "2026-01"\nuntil = "2025-01"\n'
                                          'type = "supply_disruption"\nnation = "MMR"\nlost_frac = 0.5\n'))
    with pytest.raises(ConfigError, match=r"events\[0\]\.status"):
        load_scenario(scenario_file('[[events]]\nat = "2026-01"\ntype = "trade_status"\n'
                                          'nations = ["KAZ"]\npartner = "USA"\nstatus = "friendly"\n'))


def test_unknown_deposit_in_a_deal_lists_the_deposits(scenario_file):
    path = scenario_file('[[events]]\nat = "2026-01"\ntype = "investment_deal"\ninvestor = "USA"\n'
                               'host = "KAZ"\nstage = "mining"\ncapacity_t_per_yr = 1000\n'
                               'element_mix = "Atlantis"\n')
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.key_path == "events[0].element_mix" and "Mountain Pass (MP Materials)" in err.value.allowed


def test_unknown_key_in_an_event_is_rejected(scenario_file):
    path = scenario_file('[[events]]\nat = "2026-01"\ntype = "export_ban"\nnation = "CHN"\n'
                               'partners = ["USA"]\n')
    with pytest.raises(ConfigError, match=r"events\[0\]\.partners"):
        load_scenario(path)
