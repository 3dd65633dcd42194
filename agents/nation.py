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

if TYPE_CHECKING:
    from sim.model import RareEarthModel
    from sim.policy import Controls

HOLD, BUILD, RELEASE = 0, 1, 2


def stockpile_target_t(days: float, monthly_use_t: np.ndarray) -> np.ndarray:
    """Strategic stock wanted, per good, from days of consumption."""
    return days / 30.4 * monthly_use_t


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
        days = np.where(np.isnan(c.stockpile_days_override), table_days, c.stockpile_days_override) * days_scale
        action = np.where(c.stockpile_action < 0, np.where(days > 0, BUILD, HOLD), c.stockpile_action)
        return action, days

    @classmethod
    def stockpile_orders_t(cls, table_days: np.ndarray, c: Controls, held_t: np.ndarray,
                           monthly_use_t: np.ndarray, p) -> np.ndarray:
        """Purchases for the strategic stockpiles this month (N, G): a share of the gap to the target."""
        action, days = cls.stockpile_modes(table_days, c, p.stockpile_days_scale)
        gap = stockpile_target_t(days[:, None], monthly_use_t) - held_t
        building = (action == BUILD) & (days > 0)
        return np.where(building[:, None], np.maximum(gap, 0.0) / p.stockpile_build_months, 0.0)

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
