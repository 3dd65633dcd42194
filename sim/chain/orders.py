"""Orders for oxides and magnets: end users, magnet makers, strategic stockpiles, speculators (ODD 7.4, 7.7, 7.11, 7.12, 7.19).

End users replace use and move their working stock toward a cover that hoarding lifts when prices are
expected to rise faster than it costs to carry the stock (``EndUseIndustry.orders_t``); magnet makers plan output from sales, margin and capacity
and order the recipe's oxides; nations buy toward their stockpile targets (``NationAgent``); each zone's
traders buy or sell on trend, reversion and news (``TraderAgent``), placed through the zone's nations in
proportion to use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.end_use import EndUseIndustry
from agents.nation import NationAgent
from agents.plant import PlantIndustry
from agents.trader import carry_cost_per_yr
from sim import market
from sim.chain.capacity import MAGNETS, stage_capacity_t_per_yr
from sim.chain.margins import constant, magnet_margin
from sim.chain.prices import expected_growth_per_yr, zone_stock_t
from sim.chain.recipe import makers_recipe
from sim.chain.state import ChainState, ChinaNews, Structure, zone_members
from sim.goods import NDFEB, OXIDES


@dataclass
class Orders:
    """This month's orders (t) and the plans behind them."""

    user_t: np.ndarray              # (N, G) end users
    maker_t: np.ndarray             # (N, E) magnet makers' oxide orders
    stockpile_t: np.ndarray         # (N, G) strategic stockpiles
    spec_buy_t: np.ndarray          # (N, E) speculators' purchases
    spec_sell_t: np.ndarray         # (N, E) speculators' sales (offered with the sellers' stock)
    magnet_plan_t: np.ndarray       # (N,) magnets makers plan to make
    maker_need_t: np.ndarray        # (N, E) oxides that plan needs
    magnet_capacity_t: np.ndarray   # (N,) magnet capacity available this month
    recipe_t_per_t: np.ndarray      # (N, E) oxides per t of magnet each nation's makers use this month

    def oxide_orders(self) -> np.ndarray:
        """(buyer, N, E) in the order of ``state.BUYERS`` (``np.stack``'s array, built without its checks)."""
        out = np.empty((4,) + self.maker_t.shape)
        out[0], out[1] = self.user_t[:, OXIDES], self.maker_t
        out[2], out[3] = self.stockpile_t[:, OXIDES], self.spec_buy_t
        return out

    def magnet_orders(self) -> np.ndarray:
        """(buyer, N, 1): users and stockpiles buy magnets; makers and traders do not."""
        orders = np.zeros((4, len(self.user_t), 1))
        orders[0, :, 0] = self.user_t[:, NDFEB]
        orders[2, :, 0] = self.stockpile_t[:, NDFEB]
        return orders


def place_orders(st: ChainState, fx: Structure, p, need_goods_t: np.ndarray, table_days: np.ndarray,
                 traders: list, news: ChinaNews | None) -> Orders:
    """Every buyer's order for this month's oxide and magnet markets.

    Args:
        need_goods_t: (N, G) this month's material need, all sectors.
        table_days: (N,) stockpile targets of the world table, days of use.
        traders: the TraderAgents, one per zone.
        news: what the traders read about China this month; None in the spin-up, which has no speculators.
    """
    # users hoard beyond working cover only while expected appreciation beats the carry (finance and
    # warehouse rent), like any stockholder (Williams & Wright 1991)
    carry = carry_cost_per_yr(st.price, p.spec_carry_cost_per_yr, p.spec_storage_usd_per_kg_per_yr)
    growth = expected_growth_per_yr(st, fx, p) - carry              # (Z, G)
    need = need_goods_t
    user_order, cover = EndUseIndustry.orders_t(need, st.user, growth[fx.zone], p)
    cap = stage_capacity_t_per_yr(st.assets, "magnets", st.month, p, fx.n_nations) / 12 \
        * (1 - st.controls.lost_frac[MAGNETS])
    util = PlantIndustry.utilisation(magnet_margin(st, fx, p), fx.base_margin_mag,
                                     constant(fx.n_nations, p.magnet_conversion_cost_usd_per_kg),
                                     fx.base_util[MAGNETS], p.util_margin_scale_frac, p.util_min_frac)
    kernels = market.chain_kernels()
    recipe = makers_recipe(st, fx)
    magnet_plan, maker_need, maker_order = PlantIndustry.plan_magnets(
        cap, st.plant_util[1], util, p.util_adjust_rate_per_month, st.magnet_sales_ema, st.magnets, recipe,
        st.maker_oxide, cover[:, OXIDES], p.stock_adjust_months)
    pile_order = NationAgent.stockpile_orders_t(table_days, st.controls, st.stockpile_t, st.use_ema, p)
    use = need[:, OXIDES] + maker_need
    buy, sell = np.zeros_like(use), np.zeros_like(use)
    if news is not None:
        stock = zone_stock_t(st, fx, p, need_goods_t)[:, OXIDES]
        position, split = ((_zone_position_numpy, _split_trades_numpy) if kernels is None
                           else (kernels.zone_position, kernels.split_trades))
        for trader in traders:
            rows = zone_members(fx.zone)[trader.zone]
            zone_use, held = position(use, st.spec_t, rows)
            trader.decide(st, fx, news, stock[trader.zone], held, zone_use)
            split(buy, sell, rows, trader.buy_t, trader.sell_t, use, st.spec_t, zone_use, held)
    return Orders(user_t=user_order, maker_t=maker_order, stockpile_t=pile_order, spec_buy_t=buy,
                  spec_sell_t=sell, magnet_plan_t=magnet_plan, maker_need_t=maker_need,
                  magnet_capacity_t=cap, recipe_t_per_t=recipe)


def _zone_position_numpy(use, spec, rows) -> tuple[np.ndarray, np.ndarray]:
    """A zone's monthly use and speculative stock per oxide (E,), summed over its nations ``rows``; the
    reference of ``sim.chain.kernels.zone_position``."""
    return use.take(rows, axis=0).sum(axis=0), spec.take(rows, axis=0).sum(axis=0)


def _split_trades_numpy(buy, sell, rows, buy_t, sell_t, use, spec, zone_use, held) -> None:
    """Place a zone's traders' purchases through its nations in proportion to use and their sales in
    proportion to the speculative stock each holds (``buy``, ``sell``: (N, E), in place); the reference
    of ``sim.chain.kernels.split_trades``."""
    use, spec = use.take(rows, axis=0), spec.take(rows, axis=0)
    buy[rows] = buy_t * np.divide(use, zone_use, out=np.zeros_like(use), where=zone_use > 0)
    sell[rows] = sell_t * np.divide(spec, held, out=np.zeros_like(use), where=held > 0)
