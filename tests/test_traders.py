"""Speculative traders, the quota split, news and convex scarcity: rules and their effect in runs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from agents.trader import TraderAgent, carry_cost_per_yr, expected_return_per_yr, trade_t, wanted_share
from sim import market, pricing
from sim.model import RareEarthModel
from sim.controls import split_quota_t
from sim.world import ELEMENTS


# ----------------------------------------------------------------------------- pure rules
def test_chartists_buy_a_rising_trend_and_fundamentalists_sell_a_stretched_price():
    flat = expected_return_per_yr(np.array([0.0]), np.array([1.0]), np.array([1.0]), 1.0, 0.5)
    rising = expected_return_per_yr(np.array([0.8]), np.array([2.0]), np.array([1.0]), 1.0, 0.5)
    stretched = expected_return_per_yr(np.array([0.8]), np.array([20.0]), np.array([1.0]), 1.0, 0.5)
    assert flat[0] == 0.0
    assert rising[0] > 0.0 > stretched[0]


def test_no_position_below_the_carry_cost_and_at_most_the_largest_share():
    share = wanted_share(np.array([-1.0, 0.05, 0.3, 10.0]), 0.1, 2.0, 0.6)
    assert share[0] == share[1] == 0.0
    assert 0.0 < share[2] < 0.6
    assert share[3] == pytest.approx(0.6)


def test_warehouse_rent_makes_holding_a_cheap_oxide_dear():
    carry = carry_cost_per_yr(np.array([0.15, 5.0, 500.0]), 0.1, 0.15)   # La at its floor, La in 2009, Dy
    assert carry[0] == pytest.approx(1.1)                                 # rent = the oxide's whole value a year
    assert carry[2] < carry[1] < carry[0]
    share = wanted_share(np.array([0.8, 0.8, 0.8]), carry, 2.0, 0.9)      # the same 80 %/yr expected rise
    assert share[0] == 0.0 < share[1] <= share[2]


@pytest.mark.parametrize("chartist_weight", [0.0, 0.59])      # the shipped fit; an earlier one
def test_no_shock_baseline_grows_no_speculative_hoard(run, chartist_weight):
    # with chartists, a small uptick from the price floor set them hoarding ~260 kt of La and Ce before
    # traders paid warehouse rent per kg
    df = run("baseline", seed=1, until="2050-12", spec_chartist_weight=chartist_weight)
    assert df["speculative_stock_t"].max() < 30_000


@given(wanted=arrays(float, 5, elements=st.floats(0, 1e4)), held=arrays(float, 5, elements=st.floats(0, 1e4)),
       adjust=st.floats(1.0, 24.0))
@settings(max_examples=60, deadline=None)
def test_traders_never_sell_more_than_they_hold_nor_buy_and_sell_at_once(wanted, held, adjust):
    buy, sell = trade_t(wanted, held, adjust)
    assert np.all(buy >= 0) and np.all(sell >= 0) and np.all(sell <= held + 1e-9)
    assert np.all((buy == 0) | (sell == 0))


def test_a_slack_quota_cuts_nothing():
    usual = np.array([100.0, 50.0, 5.0])
    out = split_quota_t(200.0, usual, np.array([1.0, 50.0, 300.0]), 1.0)
    assert np.all(out >= usual)
    assert out.sum() == pytest.approx(200.0)


@given(total=st.floats(1.0, 150.0), tilt=st.floats(0.0, 3.0))
@settings(max_examples=60, deadline=None)
def test_a_tight_quota_is_used_up_and_cuts_cheap_goods_hardest(total, tilt):
    usual = np.array([100.0, 40.0, 8.0, 2.0])
    value = np.array([1.0, 5.0, 60.0, 300.0])
    out = split_quota_t(total, usual, value, tilt)
    assert out.sum() == pytest.approx(total, rel=1e-6)
    kept = out / usual
    assert np.all(np.diff(kept) >= -1e-9)            # dearer goods keep at least as large a share
    assert np.all(out <= usual + 1e-9)


def test_scarcity_pushes_harder_than_surplus_pulls():
    """The storage price rises more as the free stock halves than it falls as the stock grows by half."""
    p = pricing.storage_price_usd_per_kg(np.array([1.0, 0.5, 1.5]), 50.0, 330.0, 3.0)
    assert p[0] == pytest.approx(50.0)
    assert p[1] - p[0] > 3 * (p[0] - p[2]) > 0


# ----------------------------------------------------------------------------- in the model
@pytest.fixture(scope="module")
def replay():
    """The 2010 replay, month by month: traders' Nd+Dy stock, China's tightness and each zone's news."""
    m = RareEarthModel("china_2010_quota", seed=1, keep_flows=False)
    magnet = [ELEMENTS.index("Nd"), ELEMENTS.index("Dy")]
    rows = []
    while m.running:
        m.step()
        rows.append((m.current_month(), float(m.state.spec_t[:, magnet].sum()), m.last_month.china_news.tightness,
                     [t.news_per_yr.copy() for t in m.traders]))
    return m, rows


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="since the market-dynamics redesign the 2010 replay's spike is too small for "
                                       "the price to stretch above its long-run level, so traders keep their stock "
                                       "to 2015; part of the 2010 backtest's known misses (docs/backtest.md)")
def test_traders_buy_magnet_oxides_into_the_2010_crisis_and_sell_out_after_it(replay):
    _, rows = replay
    held = {month: nd_dy for month, nd_dy, _, _ in rows}
    calm = max(v for k, v in held.items() if k < "2010-01")
    during = max(v for k, v in held.items() if "2010-07" <= k <= "2012-06")
    assert calm < 0.01 * during
    assert during > 1_000
    assert held["2015-12"] < 0.3 * during


@pytest.mark.slow
def test_the_july_2010_cut_is_news_that_fades(replay):
    _, rows = replay
    tight = {month: t for month, _, t, _ in rows}
    news = {month: max(float(np.max(x)) for x in n) for month, _, _, n in rows}
    assert tight["2010-07"] > tight["2010-06"] + 0.25        # the H2 2010 batch: -43 % on H1
    assert news["2010-07"] > news["2010-06"]
    assert news["2012-07"] < 0.5 * max(news.values())


@pytest.mark.slow
def test_a_cut_that_keeps_la_at_home_is_better_news_abroad_than_in_china(replay):
    _, rows = replay
    la = list(ELEMENTS).index("La")
    inside, outside = next(n for month, _, _, n in rows if month == "2010-07")
    assert outside[la] > inside[la]


def test_speculative_stock_is_in_the_mass_balance_and_never_negative():
    m = RareEarthModel("china_2010_quota", seed=2, keep_flows=False, until="2012-12",
                       spec_max_stock_share=0.9, spec_sensitivity=20.0)
    worst = 0.0
    while m.running:
        m.step()
        assert np.all(m.state.spec_t >= -1e-9)
        worst = max(worst, float(np.abs(m.last_month.mass_balance_error_t).max() / max(m.total_stocks_by_element().max(), 1.0)))
    assert worst < 1e-9
    assert m.state.spec_t.sum() > 0


def test_no_speculation_without_traders_leaves_no_speculative_stock():
    m = RareEarthModel("china_2010_quota", seed=1, keep_flows=False, until="2011-12", spec_max_stock_share=0.0)
    m.run()
    assert m.state.spec_t.sum() == 0.0


def test_a_control_in_force_from_the_start_is_status_quo_not_news():
    cut = {"type": "export_quota", "nation": "CHN", "t_per_yr": 20_000}

    def news_after(at: str) -> tuple[float, RareEarthModel]:
        m = RareEarthModel("baseline", seed=1, until="2024-03", keep_flows=False, extra_events=[dict(cut, at=at)])
        m.run()
        assert m.last_month.china_news.tightness > 0.5                           # the quota binds in both
        return max(float(np.abs(t.news_per_yr).max()) for t in m.traders), m

    status_quo, _ = news_after("2024-01")
    surprise, later = news_after("2024-02")
    assert status_quo < 0.1 * surprise
    traders = later.recorder.agent_datacollector.get_agenttype_vars_dataframe(TraderAgent)
    assert set(traders["label"]) == {"traders in China", "traders outside China"}


def test_an_export_cut_is_news_of_scarcity_abroad_for_the_covered_goods_and_of_a_glut_at_home():
    cut = {"type": "export_ban", "nation": "CHN", "at": "2024-02", "elements": ["Dy", "Tb"],
           "to_bloc": ["us_allied"]}
    m = RareEarthModel("baseline", seed=1, until="2024-02", keep_flows=False, extra_events=[cut])
    m.run()
    home, abroad = (next(t for t in m.traders if t.zone == z) for z in (0, 1))
    dy, la = list(ELEMENTS).index("Dy"), list(ELEMENTS).index("La")
    assert abroad.news_per_yr[dy] > 0.0 and abroad.news_per_yr[la] == 0.0
    assert home.news_per_yr[dy] < 0.0 and home.news_per_yr.max() <= 0.0


def _sawtooth_flips(prices: np.ndarray, move: float = 0.05) -> int:
    """Months whose price move over ``move`` (log) reverses a move over ``move`` of the month before."""
    r = np.diff(np.log(prices))
    return int(np.sum((np.sign(r[1:]) != np.sign(r[:-1])) & (np.abs(r[1:]) > move) & (np.abs(r[:-1]) > move)))


def test_traders_work_their_orders_so_thin_markets_show_no_sawtooth(run):
    """Issue 13 ("sawtooth oscillations show on the compare page"): with traders limited to a tenth of the
    zone's monthly use a month (``spec_max_participation_frac``), Dy, Gd and Y outside China move smoothly
    under the tariff war; without the limit their own trades swing those thin markets back and forth."""
    elements = ("Dy", "Gd", "Y")
    limited = run("tariff_retaliation", seed=1, until="2050-12")
    unlimited = run("tariff_retaliation", seed=1, until="2050-12", spec_max_participation_frac=1.0)
    flips = {el: _sawtooth_flips(limited[f"price_{el}_usd_per_kg"].to_numpy()) for el in elements}
    before = {el: _sawtooth_flips(unlimited[f"price_{el}_usd_per_kg"].to_numpy()) for el in elements}
    assert max(flips.values()) <= 2, flips
    assert sum(before.values()) >= 20, before


@given(wanted=arrays(float, 5, elements=st.floats(0, 1e4)), held=arrays(float, 5, elements=st.floats(0, 1e4)),
       cap=st.floats(0.0, 1e3))
@settings(max_examples=60, deadline=None)
def test_traders_never_trade_more_than_their_participation_limit(wanted, held, cap):
    buy, sell = trade_t(wanted, held, 3.0, cap)
    assert np.all(buy <= cap + 1e-9) and np.all(sell <= cap + 1e-9)
    assert np.all((buy == 0) | (sell == 0)) and np.all(sell <= held + 1e-9)
