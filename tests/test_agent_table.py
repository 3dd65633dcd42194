"""The yearly agent table: industries' columns read at once equal their attributes read agent by agent."""

from __future__ import annotations

from agents.industry import IndustryAgent
from agents.plant import PlantIndustry
from sim.model import RareEarthModel


def test_industries_report_the_values_their_attributes_give():
    model = RareEarthModel("china_2025_licences", seed=2, until="2026-06", keep_flows=False)
    model.run()
    agents = [a for a in model.agents if isinstance(a, IndustryAgent)]
    columns = IndustryAgent.report_columns(agents)
    assert set(columns) == set(IndustryAgent.REPORTED)
    for name in IndustryAgent.REPORTED:
        assert columns[name] == [getattr(a, name) for a in agents], name      # the same floats, exactly
    assert any(v > 0 for v in columns["shortage_t"]) and any(v > 0 for v in columns["capacity_t_per_yr"])
    plants = [a for a in agents if isinstance(a, PlantIndustry)]
    assert IndustryAgent.report_columns(plants)["output_t"] == [a.output_t for a in plants]


def test_the_collected_table_holds_each_agents_attributes_of_that_month():
    model = RareEarthModel("baseline", seed=3, until="2024-01", keep_flows=False)
    model.run()                                              # one month: the first yearly collection
    table = model.agent_datacollector.get_agenttype_vars_dataframe(IndustryAgent)
    agents = [a for a in model.agents if isinstance(a, IndustryAgent)]
    assert list(table.index.get_level_values("AgentID")) == [a.unique_id for a in agents]
    for name in IndustryAgent.REPORTED:
        assert list(table[name]) == [getattr(a, name) for a in agents], name
