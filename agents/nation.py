"""NationAgent: a government with an alignment, policy instruments and a strategic stockpile.

Scheduled and conditional policy events are interpreted by ``sim.policy``; the
nation decides what only it can: how much to put into or take out of its
strategic stockpile, given its target cover and its industries' shortages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from sim.model import RareEarthModel

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
        self.released_t = 0.0

    @property
    def stockpile_t(self) -> float:
        """Strategic stock held, t REO content."""
        return float(self.model.stockpile_reo_t()[self.index])

    def stockpile_mode(self) -> tuple[int, float]:
        """(action, target days) in force: a scenario event overrides the standing rule."""
        c = self.model.controls
        days = c.stockpile_days_override[self.index]
        days = self.stockpile_target_days if np.isnan(days) else float(days)
        days *= self.model.p.stockpile_days_scale
        action = int(c.stockpile_action[self.index])
        if action < 0:
            action = BUILD if days > 0 else HOLD
        return action, days

    def stockpile_orders_t(self, monthly_use_t: np.ndarray) -> np.ndarray:
        """Purchases for the strategic stockpile this month, per good (oxides and magnets)."""
        action, days = self.stockpile_mode()
        if action != BUILD or days <= 0:
            return np.zeros_like(monthly_use_t)
        held = self.model.stockpile_t[self.index]
        gap = stockpile_target_t(days, monthly_use_t) - held
        return np.maximum(gap, 0.0) / self.model.p.stockpile_build_months

    def release_t(self, shortfall_t: np.ndarray, need_t: np.ndarray) -> np.ndarray:
        """Stock to release to domestic users, per good, given their shortfall this month.

        Released when told to by an event, or by the standing rule when the
        nation's shortage exceeds the trigger share of its need.
        """
        action, _ = self.stockpile_mode()
        reo = self.model.reo_content                      # compare in t REO: magnets and oxides alike
        total_need = float(need_t @ reo)
        short_frac = float(shortfall_t @ reo) / total_need if total_need > 0 else 0.0
        if action == RELEASE or short_frac > self.model.p.stockpile_release_trigger_frac:
            out = np.minimum(self.model.stockpile_t[self.index], shortfall_t)
            self.released_t += float(out @ reo)
            return out
        return np.zeros_like(shortfall_t)
