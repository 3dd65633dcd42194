"""Industries: one agent per (nation, sector); upstream plants and downstream end users.

``PlantIndustry`` (mining, separation, magnets) chooses utilisation from margins and decides when to
invest in new capacity. ``EndUseIndustry`` (ten sectors) turns end-use output into material need, holds
working stock, hoards when prices are expected to rise, and thrifts or substitutes under sustained high
prices. Each decision is a class-level rule applied to the arrays of the whole population at once (the
stocks the markets clear jointly live in the model's state; an agent holds its indices into them), so a
month costs microseconds per agent rather than a Python loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

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


def hoard_multiple(expected_growth_per_yr: np.ndarray, sensitivity: float, cap: float) -> np.ndarray:
    """Wanted cover as a multiple of normal cover, when prices are expected to rise."""
    return np.minimum(np.maximum(1.0 + sensitivity * np.maximum(expected_growth_per_yr, 0.0), 1.0), cap)


def inventory_order_t(need_t: np.ndarray, stock_t: np.ndarray, cover_months: np.ndarray,
                      adjust_months: float) -> np.ndarray:
    """Order = this month's need + a share of the gap to the wanted stock (never negative)."""
    gap = cover_months * need_t - stock_t
    return np.maximum(need_t + gap / adjust_months, 0.0)


def update_intensity(intensity: np.ndarray, low_water: np.ndarray, price_ratio: np.ndarray,
                     max_substitution_frac: np.ndarray, thrift_rate: float, threshold: float,
                     rebound_frac: float) -> tuple[np.ndarray, np.ndarray]:
    """Thrifting and substitution with a lag, and only a partial bounce-back.

    While a price stays above ``threshold`` times its long-run level, users
    move a share ``thrift_rate`` of the way per month toward their lowest
    feasible intensity (1 - max substitution). When prices fall back they
    recover only ``rebound_frac`` of what they gave up (redesigned products stay).

    Returns:
        (new intensity, new low-water mark), same shapes as ``intensity``.
    """
    floor = 1.0 - max_substitution_frac
    high = price_ratio > threshold
    pressure = np.minimum(np.maximum(np.log(np.maximum(price_ratio, 1e-9) / threshold), 0.0), 2.0)
    thrifted = intensity - thrift_rate * pressure * (intensity - floor)
    ceiling = low_water + rebound_frac * (1.0 - low_water)
    recovered = intensity + thrift_rate * (ceiling - intensity)
    new = np.where(high, thrifted, np.minimum(np.maximum(recovered, intensity), ceiling))
    new = np.minimum(np.maximum(new, floor), 1.0)
    return new, np.minimum(low_water, new)


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


def user_orders_numpy(need_t: np.ndarray, stock_t: np.ndarray, expected_growth_per_yr: np.ndarray,
                      sensitivity: float, max_multiple: float, target_cover_months: float,
                      adjust_months: float) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`EndUseIndustry.orders_t` on arrays: the wanted cover (normal cover times
    :func:`hoard_multiple`) and :func:`inventory_order_t` toward it; the reference of
    ``sim.chain.kernels.user_orders``."""
    cover = target_cover_months * hoard_multiple(expected_growth_per_yr, sensitivity, max_multiple)
    return inventory_order_t(need_t, stock_t, cover, adjust_months), cover


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


class EndUseIndustry(IndustryAgent):
    """An end-use sector of a nation: material need, working stock and hoarding, thrifting."""

    @staticmethod
    def material_need_t(base_need_t: np.ndarray, activity: np.ndarray, intensity: np.ndarray,
                        price_response: np.ndarray) -> np.ndarray:
        """Need per nation, sector and good (N, S, G): base need x activity x intensity x price response.

        Args:
            activity: (N, S) end-use output relative to the base year (growth, shocks, noise).
            intensity: (N, S, G) use per unit of output after thrifting, relative to base.
            price_response: (N, 1, G) demand response to the nation's zone price.
        """
        return base_need_t * activity[:, :, None] * (intensity * price_response)

    @staticmethod
    def orders_t(need_t: np.ndarray, stock_t: np.ndarray, expected_growth_per_yr: np.ndarray,
                 p) -> tuple[np.ndarray, np.ndarray]:
        """Orders to replace use and move stock toward the wanted cover; hoarding lifts the cover.

        Args:
            need_t: (N, G) this month's need.
            stock_t: (N, G) working stock held.
            expected_growth_per_yr: (N, G) expected price growth over the carry (``prices.expected_growth_per_yr``).

        Returns:
            (orders (N, G), wanted cover in months (N, G)).
        """
        kernels = market.chain_kernels()
        rule = user_orders_numpy if kernels is None else kernels.user_orders
        return rule(need_t, stock_t, expected_growth_per_yr, p.hoarding_sensitivity, p.hoarding_max_multiple,
                    p.target_cover_months, p.stock_adjust_months)

    thrift = staticmethod(update_intensity)
