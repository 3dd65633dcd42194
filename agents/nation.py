"""NationAgent: a government with an alignment, policy instruments and a strategic stockpile.

Scheduled and conditional policy events are interpreted by ``sim.policy``; the
nation decides what only it can: how much to put into or take out of its
strategic stockpile, given its target cover and its industries' shortages. The
rules are class-level and vectorised over all nations at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim import market
from sim.calendar import DAYS_PER_MONTH

if TYPE_CHECKING:
    from sim.model import RareEarthModel
    from sim.controls import Controls

HOLD, BUILD, RELEASE = 0, 1, 2


def stockpile_target_t(days: float, monthly_use_t: np.ndarray, days_per_month: float = DAYS_PER_MONTH) -> np.ndarray:
    """Strategic stock wanted, per good, from days of consumption."""
    return days / days_per_month * monthly_use_t


def stockpile_modes(table_days: np.ndarray, days_override: np.ndarray, action_override: np.ndarray,
                    days_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(action, target days) per nation (N,): a scenario event's override, else the table's days and
    building wherever they are positive."""
    days = np.where(np.isnan(days_override), table_days, days_override) * days_scale
    return np.where(action_override < 0, np.where(days > 0, BUILD, HOLD), action_override), days


def stockpile_orders_numpy(table_days, days_override, action_override, held_t, monthly_use_t, days_scale,
                           build_months, build, days_per_month) -> np.ndarray:
    """:meth:`NationAgent.stockpile_orders_t` on arrays; the reference of ``sim.chain.kernels.stockpile_orders``."""
    action, days = stockpile_modes(table_days, days_override, action_override, days_scale)
    gap = stockpile_target_t(days[:, None], monthly_use_t, days_per_month) - held_t
    building = (action == build) & (days > 0)
    return np.where(building[:, None], np.maximum(gap, 0.0) / build_months, 0.0)


class NationAgent(mesa.Agent):
    """A nation: ISO3 code, bloc, country risk, strategic stockpile policy.

    Args:
        model: the RareEarthModel.
        index: row of the nation in the world tables.
    """

    def __init__(self, model: RareEarthModel, index: int) -> None:
        super().__init__(model)
        w = model.world
        self.index = index
        self.iso3 = w.nations[index]
        self.name = w.nation_names[index]
        self.bloc = w.bloc[index]
        self.stockpile_target_days = float(w.stockpile_target_days[index])

    @property
    def stockpile_t(self) -> float:
        """Strategic stock held, t REO content."""
        return float(self.model.stockpile_reo_t()[self.index])

    @staticmethod
    def stockpile_modes(table_days: np.ndarray, c: Controls, days_scale: float) -> tuple[np.ndarray, np.ndarray]:
        """(action, target days) per nation (N,): a scenario event overrides the standing rule."""
        return stockpile_modes(table_days, c.stockpile_days_override, c.stockpile_action, days_scale)

    @classmethod
    def stockpile_orders_t(cls, table_days: np.ndarray, c: Controls, held_t: np.ndarray,
                           monthly_use_t: np.ndarray, p) -> np.ndarray:
        """Purchases for the strategic stockpiles this month (N, G): a share of the gap to the target."""
        kernels = market.chain_kernels()
        rule = stockpile_orders_numpy if kernels is None else kernels.stockpile_orders
        return rule(table_days, c.stockpile_days_override, c.stockpile_action, held_t, monthly_use_t,
                    p.stockpile_days_scale, p.stockpile_build_months, BUILD, DAYS_PER_MONTH)

    @classmethod
    def release_t(cls, table_days: np.ndarray, c: Controls, held_t: np.ndarray, shortfall_t: np.ndarray,
                  need_t: np.ndarray, reo_content: np.ndarray, p) -> np.ndarray:
        """Stock released to domestic users (N, G), given their shortfall this month.

        Released when told to by an event, or by the standing rule when the nation's shortage
        exceeds the trigger share of its need (both compared in t REO: magnets and oxides alike).
        """
        action, _ = cls.stockpile_modes(table_days, c, p.stockpile_days_scale)
        total_need = need_t @ reo_content
        short_frac = np.divide(shortfall_t @ reo_content, total_need, out=np.zeros(len(total_need)),
                               where=total_need > 0)
        releasing = (action == RELEASE) | (short_frac > p.stockpile_release_trigger_frac)
        releasing &= shortfall_t.any(axis=1) & held_t.any(axis=1)
        return np.where(releasing[:, None], np.minimum(held_t, shortfall_t), 0.0)
