"""Upstream industries (mining, separation, magnets): utilisation, runs and orders, the makers' Dy and Tb,
investment.

``PlantIndustry`` chooses utilisation from margins (eased by unsold stock); separators plan their run,
order concentrate and set what they pay for it; magnet makers plan output and order oxides; it decides when
to invest in new capacity; magnet makers cut the Dy and Tb per magnet under sustained high prices. Each rule is applied
to the arrays of the whole population at once (ODD 7.2, 7.7, 7.17).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agents.industry import IndustryAgent, inventory_order_t
from sim import market
from sim.goods import OXIDES

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


def maker_orders_numpy(cap, plant_util, util, adjust_rate_per_month, sales_ema, magnets, recipe, maker_oxide,
                        cover, stock_adjust_months) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnet makers' plan: utilisation ramps toward ``util`` (``plant_util`` in place, like mines), output
    replaces sales and moves the magnet stock toward a month's sales within capacity; the oxides of each
    nation's ``recipe`` (N, E) for it are ordered toward the users' ``cover`` (N, E). (numpy; ``sim.chain.kernels.maker_orders``
    repeats it compiled).

    Returns:
        (magnets planned (N,), oxides the plan needs (N, E), oxide orders (N, E)).
    """
    plant_util += adjust_rate_per_month * (util - plant_util)
    wanted = inventory_order_t(sales_ema, magnets, 1.0, 2.0)
    plan = np.minimum(cap * plant_util, wanted)
    need = plan[:, None] * recipe
    return plan, need, inventory_order_t(need, maker_oxide, cover, stock_adjust_months)


def separation_plan_numpy(util, cap, plant_util, price, zone, oxide, sales_ema, conc, feed, surplus_cover_months,
                           util_min_frac, adjust_rate_per_month, payability_frac):
    """Separators' run and the ore market's terms (all (N,) but ``comp``).

    Utilisation (``plant_util``, in place) ramps toward the margin's ``util`` eased by unsold oxide
    (value-weighted, so surplus Ce counts little; :func:`~agents.plant.surplus_brake`); the plan is
    capacity times utilisation; concentrate is ordered toward a month's feed; every source's concentrate
    is paid the same: the world's value-weighted payable value. (numpy;
    ``sim.chain.kernels.plan_separation`` repeats it compiled).

    Returns:
        (plan, concentrate offered, ordered, its element split (N, E), payable value USD/kg).
    """
    worth = price[zone][:, OXIDES]
    oxide_cover = (oxide * worth).sum(1) / np.maximum((sales_ema * worth).sum(1), 1e-9)
    target = util * surplus_brake(oxide_cover, surplus_cover_months, util_min_frac)
    plant_util += adjust_rate_per_month * (target - plant_util)
    plan = cap * plant_util
    supply = conc.sum(axis=1)
    order = inventory_order_t(plan, feed.sum(axis=1), 1.0, 2.0)
    comp = conc / np.maximum(supply[:, None], 1e-12)
    value = (comp * worth).sum(axis=1) * payability_frac
    weight = np.maximum(supply, 1e-12)
    payable = np.full(len(conc), (value * weight).sum() / weight.sum())   # np.average's arithmetic, no checks
    return plan, supply, order, comp, payable


class PlantIndustry(IndustryAgent):
    """A nation's mines, separation plants or magnet plants: utilisation and investment."""

    upstream = True

    def __init__(self, model: RareEarthModel, nation: int, sector: str) -> None:
        super().__init__(model, nation, sector)
        self._clock, self._slot = np.array([10**6], dtype=np.int64), 0   # its own until its population plans

    utilisation = staticmethod(target_utilisation)

    @staticmethod
    def plan_separation(*args):
        """Separators' run this month and what they pay for concentrate (:func:`separation_plan_numpy`,
        compiled when the chain's kernels are in use)."""
        kernels = market.chain_kernels()
        return (separation_plan_numpy if kernels is None else kernels.plan_separation)(*args)

    @staticmethod
    def plan_magnets(*args):
        """Magnet makers' plan and oxide orders this month (:func:`maker_orders_numpy`, compiled when the
        chain's kernels are in use)."""
        kernels = market.chain_kernels()
        return (maker_orders_numpy if kernels is None else kernels.maker_orders)(*args)

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
