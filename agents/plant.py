"""Upstream industries (mining, separation, magnets): utilisation, the makers' Dy and Tb, investment.

``PlantIndustry`` chooses utilisation from margins (eased by unsold stock), and decides when to invest in
new capacity; magnet makers cut the Dy and Tb per magnet under sustained high prices. Each rule is applied
to the arrays of the whole population at once (ODD 7.2, 7.7, 7.17).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agents.industry import IndustryAgent
from sim import market

if TYPE_CHECKING:
    from sim.model import RareEarthModel


def target_utilisation(margin_usd_per_kg: np.ndarray, base_margin_usd_per_kg: np.ndarray,
                       cost_usd_per_kg: np.ndarray, base_util_frac: np.ndarray,
                       margin_scale_frac: float, util_min_frac: float) -> np.ndarray:
    """Utilisation a plant aims for, given its margin now and in the 2024 base year.

    At base-year margins a plant runs at its base-year utilisation; better
    margins raise it toward full capacity, worse margins lower it toward the
    care-and-maintenance minimum; a negative margin idles it down to that minimum.
    """
    shift = np.tanh((margin_usd_per_kg - base_margin_usd_per_kg)
                    / (margin_scale_frac * np.maximum(cost_usd_per_kg, 1e-9)))
    kernels = market.chain_kernels()
    rule = utilisation_from_shift if kernels is None else kernels.utilisation_from_shift
    return rule(shift, margin_usd_per_kg, base_util_frac, util_min_frac)


def utilisation_from_shift(shift: np.ndarray, margin_usd_per_kg: np.ndarray, base_util_frac: np.ndarray,
                           util_min_frac: float) -> np.ndarray:
    """:func:`target_utilisation` from the margin's shift (-1..1): up toward full capacity, down toward the
    minimum, the minimum at a negative margin (numpy; ``sim.chain.kernels`` repeats it compiled)."""
    up = base_util_frac + (1.0 - base_util_frac) * np.maximum(shift, 0.0)
    down = base_util_frac + (base_util_frac - util_min_frac) * np.minimum(shift, 0.0)
    util = np.where(shift >= 0, up, down)
    return np.where(margin_usd_per_kg < 0, util_min_frac, np.minimum(np.maximum(util, util_min_frac), 1.0))


def surplus_brake(cover_months: np.ndarray, limit_months: float, floor_frac: float) -> np.ndarray:
    """Utilisation multiplier that eases output down once own stocks exceed ``limit_months`` of sales.

    Linear from 1 at the limit to ``floor_frac`` at twice the limit, so plants slow down
    smoothly instead of switching on and off.
    """
    excess = np.minimum(np.maximum((cover_months - limit_months) / limit_months, 0.0), 1.0)  # np.clip, faster
    return 1.0 - (1.0 - floor_frac) * excess


def heavy_ree_intensity(intensity: np.ndarray, content_price_ratio: np.ndarray, elasticity: float,
                        min_frac: float, adjust_months: float) -> np.ndarray:
    """Magnet makers' Dy and Tb per t of magnet (relative to the base-year recipe) after one month.

    Makers move toward ``content_price_ratio ** elasticity`` (the content's price against the base year's),
    never below ``min_frac``, with a time constant of ``adjust_months``: grain-boundary diffusion and
    Dy-free grades take years to requalify (Sprecher et al. 2017; Nakamura 2018). The move is one way: a
    redesigned grade is not undone when the price falls back (after 2011 Dy per t of magnet stayed low).
    """
    target = np.maximum(np.minimum(np.maximum(content_price_ratio, 1e-9) ** elasticity, 1.0), min_frac)
    return np.minimum(intensity, intensity + (target - intensity) / adjust_months)


def ready_to_invest_numpy(waited: np.ndarray, retry_months: float, stage: np.ndarray, nation: np.ndarray,
                          zone: np.ndarray, signal: np.ndarray, margin_frac: np.ndarray,
                          hurdle_frac: np.ndarray) -> np.ndarray:
    """The agents (indices) that weigh a project this month: a month more on every clock (``waited``, in
    place), then those whose clock reached ``retry_months``, whose market is short and whose margin clears
    its hurdle, their clocks restarted (:meth:`PlantIndustry.plan_investment`'s arrays; the reference of
    ``sim.chain.kernels.ready_to_invest``)."""
    waited += 1
    ready = (waited >= retry_months) & (signal[stage, zone] > 0) & (margin_frac[stage, nation] > hurdle_frac[nation])
    waited[ready] = 0
    return np.flatnonzero(ready)


_population: list = [None, None]          # the plant population that planned last and its shared clock


class PlantIndustry(IndustryAgent):
    """A nation's mines, separation plants or magnet plants: utilisation and investment."""

    upstream = True

    def __init__(self, model: RareEarthModel, nation: int, sector: str) -> None:
        super().__init__(model, nation, sector)
        self._clock, self._slot = np.array([10**6], dtype=np.int64), 0   # its own until its population plans

    utilisation = staticmethod(target_utilisation)

    @classmethod
    def plan_investment(cls, agents, stage: np.ndarray, nation: np.ndarray, zone: np.ndarray, signal: np.ndarray,
                        margin_frac: np.ndarray, hurdle_frac: np.ndarray, finance_multiplier: np.ndarray,
                        retry_months: float, rng: np.random.Generator) -> list[tuple[IndustryAgent, float]]:
        """Which industries commission a project this month, and at what size (0-1 of a step).

        An industry decides at most every ``retry_months``: when its market is short (``signal`` > 0)
        and its expected margin clears its hurdle, it seeks finance, which succeeds with probability
        ``signal`` times the nation's finance multiplier.

        Args:
            agents: the PlantIndustry agents, in creation order (their random draws follow it).
            stage, nation, zone: per agent (A,): its stage, nation and the nation's price zone.
            signal: (3, Z) scarcity signal by stage and zone.
            margin_frac: (3, N) remembered margin over cost by stage and nation.
            hurdle_frac, finance_multiplier: per nation (N,).
        """
        waited = cls._waits(agents)                  # every agent's months_since_decision, updated in place
        kernels = market.chain_kernels()
        decide = ready_to_invest_numpy if kernels is None else kernels.ready_to_invest
        ready = decide(waited, retry_months, stage, nation, zone, signal, margin_frac, hurdle_frac)
        size = signal[stage[ready], zone[ready]]
        odds = finance_multiplier[nation[ready]] * size
        odds = np.where(odds < 1.0, odds, 1.0)          # min(1.0, odds), a NaN counting as 1 as in Python's min
        won = rng.random(len(ready)) < odds              # one draw per agent in order, as drawn one by one
        return [(agents[k], float(f)) for k, f in zip(ready[won].tolist(), size[won].tolist())]

    @property
    def months_since_decision(self) -> int:
        """Months since the industry last weighed a project (the population's clock, one array)."""
        return int(self._clock[self._slot])

    @months_since_decision.setter
    def months_since_decision(self, months: int) -> None:
        self._clock[self._slot] = months

    @staticmethod
    def _waits(agents) -> np.ndarray:
        """The clock of ``agents`` (A,), shared by all of them: made once for a population (again if another
        population planned in between), so a month's rule reads and sets it without a loop over agents."""
        if _population[0] is not agents:
            clock = np.array([a.months_since_decision for a in agents], dtype=np.int64)
            for slot, agent in enumerate(agents):
                agent._clock, agent._slot = clock, slot
            _population[:] = [agents, clock]
        return _population[1]
