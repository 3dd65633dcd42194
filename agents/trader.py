"""TraderAgent: speculative stockholders, one per price zone (inside and outside China).

Traders hold oxides off the market, buying when they expect prices to rise
faster than it costs to carry the stock and selling when they do not. Their
expectation mixes two rules from the heterogeneous-agent literature (Brock &
Hommes 1998; Lux & Marchesi 1999): chartists extrapolate the recent trend,
fundamentalists expect reversion to the long-run price; news that China
tightens its controls adds to the expected return of the controlled goods for a
while outside China (inside China it means a glut of them). Positions are bounded
by carry (finance and warehouse rent) and by a few months of use. Buying on a rising
trend drains the free stock and lifts prices further; once the price runs far
above its fundamental the reversion term wins, traders sell and the spike
collapses below where it started. This is the speculative layer of the
2010-2011 crisis (Sprecher et al. 2017: "stockpiling played a distinct role").

The rules are vectorised over goods; the model routes a zone's orders to the
oxide market through the zone's nations and its sales back as supply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.goods import E, HELD_MARKETS, OXIDE_MARKETS, OXIDES
from sim.pricing import trend_per_yr

if TYPE_CHECKING:
    from sim.chain.state import ChainState, ChinaNews, Structure
    from sim.model import RareEarthModel


def expected_return_per_yr(trend_per_yr: np.ndarray, price_usd_per_kg: np.ndarray,
                           fundamental_usd_per_kg: np.ndarray, chartist_weight: float,
                           reversion_per_yr: float) -> np.ndarray:
    """Expected log price change per year: the trend, less a pull back toward the fundamental.

    The pull acts only above the fundamental: below it (La and Ce in structural surplus for
    years) a low price is no reason to hoard.
    """
    stretch = np.maximum(np.log(np.maximum(price_usd_per_kg, 1e-12) / np.maximum(fundamental_usd_per_kg, 1e-12)),
                         0.0)
    return chartist_weight * trend_per_yr - reversion_per_yr * stretch


def carry_cost_per_yr(price_usd_per_kg: np.ndarray, finance_per_yr: float,
                      storage_usd_per_kg_per_yr: float) -> np.ndarray:
    """Yearly cost of holding a kg as a share of its value: finance, plus warehouse rent per kg.

    Rent is paid per tonne whatever the oxide is worth, so it is a large share of the value of a
    cheap oxide (La and Ce near their floor) and a negligible one of a dear one (Dy, Tb).
    """
    return finance_per_yr + storage_usd_per_kg_per_yr / np.maximum(price_usd_per_kg, 1e-12)


def wanted_share(expected_return: np.ndarray, carry_cost_per_yr: np.ndarray | float, sensitivity: float,
                 max_share: float) -> np.ndarray:
    """Share of the zone's stock traders want to hold off the market: more the larger the excess return.

    Positions are a share of the stock (the float) rather than of use, so a thin market
    (Dy, Tb) and a deep one (Ce) can be cornered alike, as in 2010-2011.
    """
    return max_share * np.minimum(np.maximum(sensitivity * (expected_return - carry_cost_per_yr), 0.0), 1.0)


def trade_t(wanted_t: np.ndarray, held_t: np.ndarray, adjust_months: float,
            max_t: np.ndarray | float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """This month's (buy, sell) in t: a share of the gap to the wanted stock, at most ``max_t`` either way.

    ``max_t`` is the participation limit: a stockholder who buys or sells more than a modest share of a
    market's monthly volume moves the price against himself, so large orders are worked over months
    (Almgren & Chriss 2001). Without it, in a thin market the traders' own trades swing the price past
    their target and back each month (a sawtooth)."""
    step = np.minimum(np.maximum((wanted_t - held_t) / adjust_months, -max_t), max_t)
    return np.maximum(step, 0.0), np.minimum(np.maximum(-step, 0.0), held_t)


class TraderAgent(mesa.Agent):
    """The speculative stockholders of one price zone (0 = inside China, 1 = outside).

    Args:
        model: the RareEarthModel.
        zone: price zone index.
    """

    def __init__(self, model: RareEarthModel, zone: int) -> None:
        super().__init__(model)
        self.zone = zone
        self.label = "traders in China" if zone == 0 else "traders outside China"
        self.buy_t = np.zeros(0)
        self.sell_t = np.zeros(0)
        self.news_per_yr = np.zeros(0)
        self._seen = (0.0, 0.0, 0.0, np.zeros(0))

    def expect(self, overall: float, by_good: np.ndarray, controls, china: int) -> None:
        """Take China's controls as they stand as known (the status quo at the start of a run).

        Args:
            overall: how hard the export controls bite over all goods (log units).
            by_good: the same per market good.
            controls: the controls in force (``sim.controls.Controls``): their cuts of Chinese mining are known too.
            china: China's nation index.
        """
        self._seen = (float(controls.lost_frac[0, china]), float(controls.undocumented_cut_frac[china]), overall,
                      np.asarray(by_good, dtype=float)[HELD_MARKETS].copy())

    def _surprise(self, st: ChainState, china: int, news: ChinaNews) -> np.ndarray:
        """This month's news per oxide, as extra expected return per year.

        A cut of Chinese mining is news of scarcity in both zones, for each oxide by the share of China's
        supply of it that the cut removes: idled districts (``supply_disruption``) their share of every
        oxide; a campaign against illegal mines (``illegal_mining_crackdown``) its share of the undocumented
        output, which is most of China's Dy, Tb and Y and little of its Ce. A tightening of China's export
        controls (how much less they now let out, over all goods) is news of scarcity abroad for the goods
        the controls cover only (``spec_news_weight`` per log unit); at home it holds those goods back,
        which piles them up there (the textbook effect of an export restriction, ``spec_news_good_weight``
        per log unit of each good's cut), so traders in China read it as news of a glut, never of scarcity.
        """
        p, c = self.model.p, st.controls
        lost, cut = float(c.lost_frac[0, china]), float(c.undocumented_cut_frac[china])
        overall, by_good = news.tightness, news.tightness_by_good[OXIDE_MARKETS]
        seen_lost, seen_cut, seen_overall, seen_by_good = self._seen
        seen_by_good = seen_by_good[OXIDES] if len(seen_by_good) >= E else np.zeros(E)
        self._seen = (lost, cut, overall, by_good.copy())
        undocumented = news.undocumented_share[OXIDES]
        supply_cut = max(lost - seen_lost, 0.0) + (1.0 - lost) * max(cut - seen_cut, 0.0) * undocumented
        news = p.spec_news_weight * supply_cut
        if self.zone == 1:
            covered = by_good > 0
            return news + p.spec_news_weight * max(overall - seen_overall, 0.0) * covered
        return news - p.spec_news_good_weight * np.maximum(by_good - seen_by_good, 0.0)

    @property
    def held_t(self) -> float:
        """Speculative stock held by this zone's traders (t REO)."""
        m = self.model
        return float(m.state.spec_t[m.structure.zone == self.zone].sum())

    def decide(self, st: ChainState, fx: Structure, news: ChinaNews, market_stock_t: np.ndarray,
               held_t: np.ndarray, use_t: np.ndarray) -> None:
        """Set this month's buy and sell (t per oxide) from prices, the trend and the zone's stock.

        Args:
            news: what China's controls and mines did this month (``sim.chain.state.ChinaNews``).
            market_stock_t: the zone's stock on the market, per oxide (sellers', makers', users' working stock).
            held_t: the zone's speculative stock of each oxide.
            use_t: the zone's monthly use of each oxide: positions never exceed
                ``spec_max_cover_months`` of it (warehouses and capital scale with the market).
        """
        p = self.model.p
        if len(self.news_per_yr) != E:
            self.news_per_yr = np.zeros(E)
        keep = 1.0 - 1.0 / p.spec_news_memory_months
        self.news_per_yr = self.news_per_yr * keep + self._surprise(st, fx.china, news)
        trend = trend_per_yr(st.price_hist[:, self.zone, OXIDES], p.spec_trend_months)
        fundamental = fx.anchor[self.zone, OXIDES] * st.long_run_ratio
        expected = expected_return_per_yr(trend, st.price[self.zone, OXIDES], fundamental, p.spec_chartist_weight,
                                          p.spec_reversion_per_yr) + self.news_per_yr
        carry = carry_cost_per_yr(st.price[self.zone, OXIDES], p.spec_carry_cost_per_yr,
                                  p.spec_storage_usd_per_kg_per_yr)
        share = wanted_share(expected, carry, p.spec_sensitivity, p.spec_max_stock_share)
        wanted = np.minimum(share * (market_stock_t + held_t), p.spec_max_cover_months * use_t)
        self.buy_t, self.sell_t = trade_t(wanted, held_t, p.spec_adjust_months,
                                          p.spec_max_participation_frac * use_t)
