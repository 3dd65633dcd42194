"""Each policy instrument, given as a hand-made event, moves what it should (short seeded runs)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from sim.calendar import month_index
from sim.chain.margins import separation_margin
from sim.model import RareEarthModel
from sim.world import ELEMENTS

DY, CE = ELEMENTS.index("Dy"), ELEMENTS.index("Ce")
HEAVY = ["Sm", "Gd", "Tb", "Dy", "Y"]


@lru_cache(maxsize=32)
def _model(events: tuple = (), until: str = "2026-06", seed: int = 1, params: tuple = ()) -> RareEarthModel:
    import json
    model = RareEarthModel("baseline", seed=seed, until=until, keep_flows=False,
                           extra_events=[json.loads(e) for e in events] or None, **dict(params))
    model.run()
    return model


def model(events=(), until="2026-06", seed=1, **params) -> RareEarthModel:
    import json
    return _model(tuple(json.dumps(e, sort_keys=True) for e in events), until, seed,
                  tuple(sorted(params.items())))


def frame(m: RareEarthModel):
    return m.datacollector.get_model_vars_dataframe().set_index("date")


def ix(m: RareEarthModel, iso: str) -> int:
    return m.world.nations.index(iso)


def test_export_ban_zeroes_covered_flows_and_leaves_others():
    ban = {"type": "export_ban", "at": "2025-01", "nation": "CHN", "to": ["USA"]}
    banned, base = model([ban]), model()
    chn, usa, jpn = ix(banned, "CHN"), ix(banned, "USA"), ix(banned, "JPN")
    assert base.last_oxide_flows[:, chn, usa].sum() > 0 and base.last_flows["magnet"][chn, usa] > 0
    assert banned.last_oxide_flows[:, chn, usa].sum() == 0.0
    assert banned.last_flows["magnet"][chn, usa] == 0.0
    assert banned.last_flows["ore"][chn, usa] == 0.0
    assert banned.last_flows["magnet"][chn, jpn] > 0      # a partner not named still trades


def test_export_ban_by_bloc_covers_every_member():
    ban = {"type": "export_ban", "at": "2025-01", "nation": "CHN", "to_bloc": ["us_allied"],
           "elements": HEAVY, "stages": ["oxide", "metal"]}
    m = model([ban])
    chn = ix(m, "CHN")
    allied = [i for i, b in enumerate(m.world.bloc) if b == "us_allied"]
    others = [i for i, b in enumerate(m.world.bloc) if b == "nonaligned"]
    heavy = [ELEMENTS.index(e) for e in HEAVY]
    assert m.last_oxide_flows[np.ix_(heavy, [chn], allied)].sum() == 0.0
    assert m.last_oxide_flows[np.ix_([CE], [chn], allied)].sum() > 0      # light REE not covered
    assert m.last_oxide_flows[np.ix_(heavy, [chn], others)].sum() > 0


def test_export_quota_caps_outflow_and_opens_the_price_gap():
    quota = {"type": "export_quota", "at": "2025-01", "nation": "CHN", "t_per_yr": 6000,
             "stages": ["oxide", "metal"]}
    q, base = model([quota]), model()
    chn = ix(q, "CHN")
    exports = q.last_oxide_flows[:, chn, :].sum() - q.last_oxide_flows[:, chn, chn].sum()
    base_exports = base.last_oxide_flows[:, chn, :].sum() - base.last_oxide_flows[:, chn, chn].sum()
    # the quota plus the smuggling allowance (undocumented output leaves outside the quota)
    assert exports <= 6000 / 12 + q.last_month.undocumented_t.sum() + 1e-6
    assert exports < 0.5 * base_exports
    gap = lambda df: (df["price_Ce_usd_per_kg"] / df["price_Ce_china_usd_per_kg"]).loc["2026-06"]
    assert gap(frame(q)) > 2.0 * gap(frame(base))


def test_export_licence_delays_and_thins_flows():
    licence = {"type": "export_licence", "at": "2025-01", "nation": "CHN", "elements": ["Dy", "Tb"],
               "stages": ["oxide", "metal", "magnet"], "approval_frac": 0.3, "delay_months": 3}
    lic, base = model([licence]), model()
    chn, jpn = ix(lic, "CHN"), ix(lic, "JPN")
    assert lic.last_oxide_flows[DY, chn, jpn] < 0.7 * base.last_oxide_flows[DY, chn, jpn]
    assert lic.last_flows["magnet"][chn, jpn] < 0.8 * base.last_flows["magnet"][chn, jpn]
    assert lic.state.transit[:, :, :, DY].sum() > 0 and base.state.transit[:, :, :, DY].sum() == 0


def test_general_licence_exempts_the_named_partner():
    licence = {"type": "export_licence", "at": "2025-01", "nation": "CHN", "elements": ["Dy"],
               "stages": ["oxide"], "approval_frac": 0.0, "delay_months": 2, "general_licence": ["USA"]}
    m = model([licence])
    chn, usa, jpn = ix(m, "CHN"), ix(m, "USA"), ix(m, "JPN")
    assert m.state.controls.pair_cap_frac[1 + DY, chn, jpn] == 0.0
    assert np.isinf(m.state.controls.pair_cap_frac[1 + DY, chn, usa])
    assert m.last_oxide_flows[DY, chn, jpn] == 0.0


def test_price_floor_raises_margin_and_utilisation_of_the_floored_nation():
    floor = {"type": "price_floor", "at": "2025-01", "nation": "USA", "element": "Nd", "usd_per_kg": 150}
    f, base = model([floor]), model()
    usa, aus = ix(f, "USA"), ix(f, "AUS")
    assert separation_margin(f.state, f.structure, f.p)[usa] > 1.5 * separation_margin(base.state, base.structure, base.p)[usa]
    mines = f.state.assets.dep_nation[: len(base.state.assets.dep_nation)] == usa
    assert f.state.assets.dep_util[: len(base.state.assets.dep_nation)][mines].mean() > base.state.assets.dep_util[mines].mean() + 0.05
    assert separation_margin(f.state, f.structure, f.p)[aus] == pytest.approx(
        separation_margin(base.state, base.structure, base.p)[aus], rel=0.2)


def test_supply_disruption_takes_out_the_lost_share_of_mining():
    cut = {"type": "supply_disruption", "at": "2025-01", "nation": "MMR", "lost_frac": 0.9}
    d, base = frame(model([cut])), frame(model())
    assert d.loc["2024-12", "mine_output_MMR_t"] == pytest.approx(base.loc["2024-12", "mine_output_MMR_t"])
    assert d.loc["2025-06", "mine_output_MMR_t"] < 0.15 * base.loc["2025-06", "mine_output_MMR_t"]


def test_illegal_mining_crackdown_stops_undocumented_output_and_is_news_to_traders():
    """The campaign cuts China's undocumented output by its share (a little more as the gap to the price
    abroad narrows, which pays smugglers less); documented mines do not fall, they answer the dearer ore."""
    crackdown = {"type": "illegal_mining_crackdown", "at": "2025-01", "cut_frac": 0.75}
    cut, base = model([crackdown], until="2025-03"), model(until="2025-03")
    china = cut.structure.china
    assert 0.18 * base.last_month.undocumented_t.sum() < cut.last_month.undocumented_t.sum() \
        <= 0.25 * base.last_month.undocumented_t.sum()
    documented = lambda m: m.last_month.mined_t[china].sum() - m.last_month.undocumented_t.sum()  # noqa: E731
    assert documented(cut) >= documented(base)
    # news of the cut, per oxide by the share of China's supply of it the campaign stops
    traders = cut.traders
    assert all(t.news_per_yr[DY] > 5 * t.news_per_yr[CE] >= 0 for t in traders)
    assert all(t.news_per_yr[DY] > 0 for t in traders)
    assert all((t.news_per_yr == 0).all() for t in base.traders)


def test_a_crackdown_in_force_at_the_start_is_not_news():
    """Controls in force when a run starts are the status quo: traders take them as known."""
    crackdown = {"type": "illegal_mining_crackdown", "at": "2024-01", "cut_frac": 0.75}
    run = model([crackdown], until="2024-03")
    assert all((t.news_per_yr == 0).all() for t in run.traders)


def test_repeal_and_deal_raise_central_asian_output_only_after_the_lead_time():
    repeal = {"type": "trade_status", "at": "2025-01", "nations": ["KAZ", "TJK", "TKM", "UZB"],
              "partner": "USA", "status": "ntr"}
    deal = {"type": "investment_deal", "at": "2025-01", "investor": "USA", "host": "TKM",
            "stage": "mining", "capacity_t_per_yr": 5000, "success_prob": 1.0, "offtake_frac": 0.8,
            "element_mix": "Almalyk/Navoi REE by-product (Uzbekistan)"}
    with_deal, repeal_only = model([repeal, deal], until="2033-12"), model([repeal], until="2033-12")
    lead = int(with_deal.p.lead_time_mine_months)
    tkm = frame(with_deal)["mine_output_TKM_t"]
    first = tkm.index[tkm > 0][0]
    assert month_index(first) == month_index("2025-01") + lead      # nothing before the lead time
    assert (frame(repeal_only)["mine_output_TKM_t"] == 0).all()
    late = slice("2033-01", "2033-12")
    gain = (frame(with_deal).loc[late, "central_asia_mine_output_t"].sum()
            - frame(repeal_only).loc[late, "central_asia_mine_output_t"].sum())
    # investors plan on the pipeline (docs/ODD.md 7.17), so the deal partly displaces projects others
    # would have built in the region: the net gain is part of the deal's output (about 40 %), not all of it
    assert gain > 0.25 * tkm.loc[late].sum() > 0
    assert with_deal.state.offtake[ix(with_deal, "TKM"), ix(with_deal, "USA")] == 0.8


def test_trade_status_repeal_cuts_risk_and_lifts_finance_odds():
    repeal = {"type": "trade_status", "at": "2025-01", "nations": ["KAZ"], "partner": "USA", "status": "ntr"}
    m, base = model([repeal], until="2025-03"), model(until="2025-03")
    kaz = ix(m, "KAZ")
    assert m.state.controls.risk_frac[kaz] < base.state.controls.risk_frac[kaz]
    assert m.state.controls.finance_prob_multiplier[kaz] > base.state.controls.finance_prob_multiplier[kaz]
    assert m.state.hurdle_extra_frac[kaz] == 0 and base.state.hurdle_extra_frac[kaz] > 0


def test_stockpile_release_cuts_shortages_in_a_shock():
    build = {"type": "stockpile", "at": "2024-01", "until": "2025-07", "nations": ["JPN"],
             "action": "build", "target_days": 180}
    shock = {"type": "export_ban", "at": "2025-07", "nation": "CHN", "to": ["JPN"]}
    after = lambda action: {"type": "stockpile", "at": "2025-07", "nations": ["JPN"], "action": action}
    released = frame(model([build, shock, after("release")], stockpile_release_trigger_frac=1.0))
    held = frame(model([build, shock, after("hold")], stockpile_release_trigger_frac=1.0))
    assert released.loc["2025-07":, "shortage_JPN_t"].sum() < 0.8 * held.loc["2025-07":, "shortage_JPN_t"].sum()
    assert released.loc["2025-07":, "stockpile_release_t"].sum() > 0
    assert held.loc["2025-07":, "stockpile_JPN_t"].iloc[-1] == pytest.approx(held.loc["2025-06", "stockpile_JPN_t"])


TARIFF = {"type": "import_tariff", "nation": "USA", "on": ["CHN"], "rate_frac": 0.3}
RETALIATION = {"name": "ban", "when": {"metric": "tariff_frac", "nation": "USA", "partner": "CHN",
                                       "op": ">", "value": 0.5},
               "then": {"type": "export_ban", "nation": "CHN", "to": ["USA"], "elements": ["Dy"],
                        "stages": ["oxide"]}}


def _reacting(tariffs: list[dict], until: str = "2026-06") -> RareEarthModel:
    from sim.scenarios import load_scenario, scenario_from_dict
    data = load_scenario("baseline").to_dict()
    data.pop("path")
    data["world"] = "world"
    data["events"] = tariffs
    data["reactions"] = [RETALIATION]
    m = RareEarthModel(scenario_from_dict(data), seed=1, until=until, keep_flows=False)
    m.run()
    return m


def test_reaction_fires_when_its_condition_holds():
    m = _reacting([dict(TARIFF, at="2025-01"), dict(TARIFF, at="2026-01")])
    assert m.book.fired == {"ban": month_index("2026-01")}
    assert m.shock_log == [("2026-01", "ban")]
    chn, usa = ix(m, "CHN"), ix(m, "USA")
    assert m.last_oxide_flows[DY, chn, usa] == 0.0


def test_reaction_does_not_fire_while_its_condition_fails():
    m = _reacting([dict(TARIFF, at="2025-01")])
    assert m.book.fired == {} and m.shock_log == []
    chn, usa = ix(m, "CHN"), ix(m, "USA")
    assert m.last_oxide_flows[DY, chn, usa] > 0


def test_an_import_tariff_taxes_the_named_exporters_goods_into_the_importer_not_the_reverse():
    """A US tariff on China raises what US buyers pay for Chinese goods; Chinese buyers of US goods pay as before."""
    from sim.goods import OXIDE_MARKETS
    tariff = {"type": "import_tariff", "nation": "USA", "on": ["CHN"], "rate_frac": 0.5, "at": "2024-02"}
    m = RareEarthModel("baseline", seed=1, until="2024-02", keep_flows=False, extra_events=[tariff])
    m.run()
    usa, chn = ix(m, "USA"), ix(m, "CHN")
    c = m.state.controls
    assert c.tariff_frac[OXIDE_MARKETS, usa, chn].min() == pytest.approx(0.5)      # importer-first
    assert c.tariff_frac[OXIDE_MARKETS, chn, usa].max() == 0.0
    us_buys = m.last_month.flows["oxide"][chn, usa]
    base = RareEarthModel("baseline", seed=1, until="2024-02", keep_flows=False)
    base.run()
    assert us_buys < 0.9 * base.last_month.flows["oxide"][chn, usa]
