"""Industries: one agent per (nation, sector), the base of upstream plants and downstream end users.

``IndustryAgent`` holds what both report (output, capacity, shortage, read from the model's arrays) and
:func:`inventory_order_t`, the anchor-and-adjust order both place. Their decisions live in their own
modules: ``agents.plant.PlantIndustry`` (mining, separation, magnets: utilisation, the makers' Dy and Tb,
investment) and ``agents.end_use.EndUseIndustry`` (ten sectors: need, orders with hoarding, thrifting).
Each decision is a class-level rule applied to the arrays of the whole population at once (the stocks the
markets clear jointly live in the model's state; an agent holds its indices into them), so a month costs
microseconds per agent rather than a Python loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from sim.model import RareEarthModel


def inventory_order_t(need_t: np.ndarray, stock_t: np.ndarray, cover_months: np.ndarray,
                      adjust_months: float) -> np.ndarray:
    """Order = this month's need + a share of the gap to the wanted stock (never negative)."""
    gap = cover_months * need_t - stock_t
    return np.maximum(need_t + gap / adjust_months, 0.0)


_report_groups: list = [None]             # the industries that reported last: their names and groups by sector


class IndustryAgent(mesa.Agent):
    """An industry of one nation: a supply-chain stage or an end-use sector.

    Args:
        model: the RareEarthModel.
        nation: index of the nation in the world tables.
        sector: one of ``mining``, ``separation``, ``magnets`` or a downstream sector.
    """

    upstream = False

    def __init__(self, model: RareEarthModel, nation: int, sector: str) -> None:
        super().__init__(model)
        self.nation = nation
        self.sector = sector
        self.iso3 = model.world.nations[nation]

    @property
    def capacity_t_per_yr(self) -> float:
        return float(self.model.stage_capacity_t_per_yr(self.sector)[self.nation]) if self.upstream else 0.0

    @property
    def output_t(self) -> float:
        """Last month's output (upstream) or consumption (downstream), t REO."""
        return float(self.model.sector_output_t(self.sector)[self.nation])

    @property
    def shortage_t(self) -> float:
        return 0.0 if self.upstream else float(self.model.sector_shortage_t(self.sector)[self.nation])

    REPORTED = ("iso3", "sector", "output_t", "capacity_t_per_yr", "shortage_t")

    @staticmethod
    def report_columns(agents: list) -> dict[str, list]:
        """The agent table's columns :attr:`REPORTED` of ``agents`` (in their order): what each agent's
        attributes give, read from the model's arrays once per stage or sector instead of once per agent."""
        if _report_groups[0] is not agents:        # who is where: worked out once for a list of agents
            groups: dict[tuple[bool, str], list[int]] = {}
            for k, agent in enumerate(agents):
                groups.setdefault((agent.upstream, agent.sector), []).append(k)
            _report_groups[:] = [agents, [a.iso3 for a in agents], [a.sector for a in agents],
                                 [(up, sector, np.array(rows), np.array([agents[k].nation for k in rows]))
                                  for (up, sector), rows in groups.items()]]
        _, iso3, sectors, groups = _report_groups
        output, capacity, shortage = np.zeros(len(agents)), np.zeros(len(agents)), np.zeros(len(agents))
        if agents:
            model = agents[0].model
            for upstream, sector, rows, nations in groups:
                output[rows] = model.sector_output_t(sector)[nations]
                if upstream:
                    capacity[rows] = model.stage_capacity_t_per_yr(sector)[nations]
                else:
                    shortage[rows] = model.sector_shortage_t(sector)[nations]
        return {"iso3": iso3, "sector": sectors, "output_t": output.tolist(), "capacity_t_per_yr": capacity.tolist(),
                "shortage_t": shortage.tolist()}
