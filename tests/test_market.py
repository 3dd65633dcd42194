"""Market clearing and prices on hand-computed micro markets, and properties over random ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim import market, pricing

INF = np.inf


def _free(g: int, n: int):
    return np.full((g, n, n), INF), np.full((g, n), INF)


def test_domestic_buyer_gets_domestic_supply_first():
    supply = np.array([[10.0, 10.0]])
    demand = np.array([[4.0, 0.0]])
    cost = np.array([[[1.0, 1.5], [1.5, 1.0]]])
    caps, quota = _free(1, 2)
    res = market.clear_markets(supply, demand, cost, caps, quota, logit_beta=50.0)
    assert res.flows_t[0, 0, 0] == pytest.approx(4.0, rel=1e-6)
    assert res.unmet_t.sum() == pytest.approx(0.0, abs=1e-9)


def test_scarce_supply_is_rationed_pro_rata_and_shortage_recorded():
    # one seller with 6 t, two buyers ordering 4 t and 8 t at equal cost: 2 t and 4 t
    supply = np.array([[6.0, 0.0, 0.0]])
    demand = np.array([[0.0, 4.0, 8.0]])
    cost = np.ones((1, 3, 3))
    caps, quota = _free(1, 3)
    res = market.clear_markets(supply, demand, cost, caps, quota)
    assert res.flows_t[0, 0, 1] == pytest.approx(2.0)
    assert res.flows_t[0, 0, 2] == pytest.approx(4.0)
    assert res.unmet_t[0].tolist() == pytest.approx([0.0, 2.0, 4.0])


def test_a_seller_that_earns_more_abroad_serves_exports_first_up_to_its_quota():
    # seller 0 has 10 t; home buyer 0 orders 8 t, buyers 1 and 2 abroad 6 t each; quota 9 t
    supply = np.array([[10.0, 0.0, 0.0]])
    demand = np.array([[8.0, 6.0, 6.0]])
    cost = np.ones((1, 3, 3))
    caps, quota = _free(1, 3)
    quota[0, 0] = 9.0
    pro_rata = market.clear_markets(supply, demand, cost, caps, quota)
    first = market.clear_markets(supply, demand, cost, caps, quota,
                                 export_first=np.array([[True, False, False]]))
    exported = first.flows_t[0, 0, 1:].sum()
    assert exported == pytest.approx(9.0)                          # the quota, not the seller's stock, binds
    assert first.flows_t[0, 0, 0] == pytest.approx(1.0)            # home buyers share what is left
    assert pro_rata.flows_t[0, 0, 1:].sum() < exported
    for res in (pro_rata, first):
        assert res.flows_t.sum() + res.unsold_t.sum() == pytest.approx(supply.sum())


def test_export_ban_zeroes_the_covered_flow_and_demand_spills_to_other_sellers():
    supply = np.array([[100.0, 5.0, 0.0]])
    demand = np.array([[0.0, 0.0, 10.0]])
    cost = np.ones((1, 3, 3))
    caps, quota = _free(1, 3)
    caps[0, 0, 2] = 0.0
    res = market.clear_markets(supply, demand, cost, caps, quota)
    assert res.flows_t[0, 0, 2] == 0.0
    assert res.flows_t[0, 1, 2] == pytest.approx(5.0)
    assert res.unmet_t[0, 2] == pytest.approx(5.0)


def test_export_quota_caps_total_exports_but_not_home_sales():
    supply = np.array([[100.0, 0.0, 0.0]])
    demand = np.array([[20.0, 30.0, 30.0]])
    cost = np.ones((1, 3, 3))
    caps, quota = _free(1, 3)
    quota[0, 0] = 12.0
    res = market.clear_markets(supply, demand, cost, caps, quota)
    assert res.flows_t[0, 0, 1:].sum() == pytest.approx(12.0)
    assert res.flows_t[0, 0, 0] == pytest.approx(20.0)


def test_licence_share_thins_a_pair_to_its_approved_share_of_orders():
    supply = np.array([[100.0, 0.0]])
    demand = np.array([[0.0, 10.0]])
    cost = np.ones((1, 2, 2))
    caps, quota = _free(1, 2)
    frac = np.full((1, 2, 2), INF)
    frac[0, 0, 1] = 0.3
    res = market.clear_markets(supply, demand, cost, caps, quota, pair_cap_frac=frac)
    assert res.flows_t[0, 0, 1] == pytest.approx(3.0)


def test_price_rises_under_shortage_and_falls_with_surplus_cover():
    p = np.array([10.0, 10.0])
    available = pricing.availability_ratio(np.array([2.0, 6.0]), np.array([3.0, 3.0]), np.array([0.2, 0.0]))
    target = pricing.storage_price_usd_per_kg(available, p, np.full(2, 100.0), 3.0)
    new = pricing.adjust_toward(p, target, 0.5, np.zeros(2), np.full(2, 100.0))
    assert new[0] > 10.0 > new[1]


def test_price_moves_part_of_the_way_and_never_past_the_backstop():
    new = pricing.adjust_toward(np.array([10.0, 90.0]), np.array([40.0, 1000.0]), 0.5, np.zeros(2),
                                np.array([100.0, 100.0]))
    assert new[0] == pytest.approx(20.0) and new[1] == 100.0


def test_zone_prices_converge_when_free_and_diverge_when_bound():
    inside, outside = np.array([10.0, 10.0, 10.0]), np.array([20.0, 20.0, 20.0])
    i2, o2 = market.link_zone_prices(inside, outside, np.array([0.0, 1.0, 0.5]), np.zeros(3), 0.5)
    assert o2[0] / i2[0] < o2[2] / i2[2] < 2.0                     # half-believed binding: half the arbitrage
    assert (i2[1], o2[1]) == (10.0, 20.0)


@settings(max_examples=60, deadline=None)
@given(rate=st.floats(-2.0, 2.0), months=st.floats(1.0, 12.0))
def test_trend_reads_a_steady_exponential_path_exactly_whatever_the_window(rate, months):
    """On a price growing at a steady log rate, the trend is that rate for any (also fractional) window,
    and it moves continuously with the window (no jump where a window crosses a whole month)."""
    t = np.arange(24)
    hist = 50.0 * np.exp(rate * t / 12.0)[:, None] * np.ones((1, 3))
    assert np.allclose(pricing.trend_per_yr(hist, months), rate, atol=1e-9)
    wobbly = hist * (1.0 + 0.1 * np.sin(t))[:, None]
    a, b = pricing.trend_per_yr(wobbly, 3.0 - 1e-7), pricing.trend_per_yr(wobbly, 3.0 + 1e-7)
    assert np.allclose(a, b, atol=1e-5)


def test_ration_fills_fully_when_enough_and_pro_rata_when_short():
    fill = market.ration(np.array([10.0, 10.0, 0.0]), np.array([20.0, 5.0, 1.0]))
    assert fill.tolist() == [1.0, 0.5, 1.0]


@st.composite
def random_market(draw):
    g = draw(st.integers(1, 3))
    n = draw(st.integers(2, 6))
    tonnes = st.floats(0.0, 1e4, allow_nan=False, allow_infinity=False)
    supply = draw(arrays(float, (g, n), elements=tonnes))
    demand = draw(arrays(float, (g, n), elements=tonnes))
    cost = draw(arrays(float, (g, n, n), elements=st.floats(0.1, 100.0)))
    caps = draw(arrays(float, (g, n, n), elements=st.one_of(st.just(INF), tonnes)))
    quota = draw(arrays(float, (g, n), elements=st.one_of(st.just(INF), tonnes)))
    first = draw(st.one_of(st.none(), arrays(bool, (g, n))))
    return supply, demand, cost, caps, quota, first


@settings(max_examples=150, deadline=None)
@given(random_market())
def test_clearing_conserves_tonnes_and_respects_every_limit(mkt):
    supply, demand, cost, caps, quota, first = mkt
    res = market.clear_markets(supply, demand, cost, caps, quota, export_first=first)
    f = res.flows_t
    assert np.all(np.isfinite(f)) and np.all(f >= 0)
    tol = 1e-9 * (1 + supply.max() + demand.max())
    assert np.all(f.sum(axis=2) <= supply + tol)
    assert np.all(f.sum(axis=1) <= demand + tol)
    assert np.all(f <= caps + tol)
    n = supply.shape[1]
    exports = (f * ~np.eye(n, dtype=bool)[None]).sum(axis=2)
    assert np.all(exports <= quota + tol)
    np.testing.assert_allclose(f.sum(axis=2) + res.unsold_t, supply, atol=tol)
    np.testing.assert_allclose(f.sum(axis=1) + res.unmet_t, demand, atol=tol)


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 0.9), st.floats(0.0, 0.9), st.floats(0.1, 20.0), st.floats(1.0, 1000.0))
def test_price_does_not_fall_when_shortage_rises_all_else_equal(s1, extra, cover, price):
    def next_price(shortage):
        available = pricing.availability_ratio(np.array([cover]), np.array([3.0]), np.array([shortage]))
        target = pricing.storage_price_usd_per_kg(available, np.array([50.0]), np.array([2000.0]), 3.0)
        return pricing.adjust_toward(np.array([price]), target, 0.35, np.array([1.0]), np.array([2000.0]))
    assert next_price(s1 + extra)[0] >= next_price(s1)[0]
    assert np.isfinite(next_price(s1 + extra)).all() and next_price(s1 + extra)[0] <= 2000.0


@st.composite
def market_shape(draw):
    """A market described by its sizes, densities and a seed (the arrays are drawn from the seed)."""
    return dict(g=draw(st.integers(1, 9)), n=draw(st.one_of(st.integers(2, 40), st.integers(120, 300))),
                seller_frac=draw(st.floats(0.05, 1.0)), buyer_frac=draw(st.floats(0.0, 1.0)),
                cap_frac=draw(st.sampled_from([0.0, 0.3])), quota_frac=draw(st.sampled_from([0.0, 0.5])),
                first=draw(st.booleans()), seed=draw(st.integers(0, 2**32 - 1)))


def _random_block(g, n, seller_frac, buyer_frac, cap_frac, quota_frac, first, seed):
    rng = np.random.default_rng(seed)
    size = lambda shape: rng.random(shape) * 10.0 ** rng.integers(-3, 5, size=shape)   # noqa: E731
    supply = size((g, n)) * (rng.random((g, n)) < seller_frac)
    demand = size((g, n)) * (rng.random((g, n)) < buyer_frac)
    demand[:, rng.integers(n)] += 1.0                                # at least one buyer
    cost = 1.0 + 3.0 * rng.random((g, n, n))
    caps = np.where(rng.random((g, n, n)) < cap_frac, size((g, n, n)), INF)
    quota = np.where(rng.random((g, n)) < quota_frac, size((g, n)), INF)
    sellers, buyers = market.participants(supply, demand)
    return (supply[:, sellers], demand[:, buyers], market.pairs(cost, sellers, buyers),
            market.pairs(caps, sellers, buyers), quota[:, sellers], sellers[:, None] != buyers[None, :], 8.0, 3,
            (rng.random((g, len(sellers))) < 0.5) if first else None)


@settings(max_examples=60, deadline=None)
@given(market_shape())
def test_compiled_clearing_rounds_give_the_numpy_tonnes_bit_for_bit(shape):
    pytest.importorskip("numba")
    args = _random_block(**shape)
    if args[0].shape[1] == 0:
        return
    reference = market._allocate(*args, compiled=False)
    compiled = market._allocate(*args, compiled=True)
    assert np.array_equal(compiled, reference)
