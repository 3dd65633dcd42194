"""IndustryAgent: one per (nation, sector); upstream plants and downstream users.

Upstream sectors (mining, separation, magnets) choose utilisation from expected
margins and decide when to invest in new capacity. Downstream sectors turn
end-use output into material needs, hold working stock, hoard when prices are
expected to rise, and thrift or substitute under sustained high prices.

State that markets clear jointly lives in the model's arrays; an agent holds
its indices into them. The population-wide rules are the vectorised functions
below, so a month costs microseconds per agent rather than a Python loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

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
    up = base_util_frac + (1.0 - base_util_frac) * np.maximum(shift, 0.0)
    down = base_util_frac + (base_util_frac - util_min_frac) * np.minimum(shift, 0.0)
    util = np.where(shift >= 0, up, down)
    return np.where(margin_usd_per_kg < 0, util_min_frac, np.clip(util, util_min_frac, 1.0))


def surplus_brake(cover_months: np.ndarray, limit_months: float, floor_frac: float) -> np.ndarray:
    """Utilisation multiplier that eases output down once own stocks exceed ``limit_months`` of sales.

    Linear from 1 at the limit to ``floor_frac`` at twice the limit, so plants slow down
    smoothly instead of switching on and off.
    """
    excess = np.clip((cover_months - limit_months) / limit_months, 0.0, 1.0)
    return 1.0 - (1.0 - floor_frac) * excess


def hoard_multiple(expected_growth_per_yr: np.ndarray, sensitivity: float, cap: float) -> np.ndarray:
    """Wanted cover as a multiple of normal cover, when prices are expected to rise."""
    return np.clip(1.0 + sensitivity * np.maximum(expected_growth_per_yr, 0.0), 1.0, cap)


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
    pressure = np.clip(np.log(np.maximum(price_ratio, 1e-9) / threshold), 0.0, 2.0)
    thrifted = intensity - thrift_rate * pressure * (intensity - floor)
    ceiling = low_water + rebound_frac * (1.0 - low_water)
    recovered = intensity + thrift_rate * (ceiling - intensity)
    new = np.where(high, thrifted, np.minimum(np.maximum(recovered, intensity), ceiling))
    new = np.clip(new, floor, 1.0)
    return new, np.minimum(low_water, new)


class IndustryAgent(mesa.Agent):
    """An industry of one nation: a supply-chain stage or an end-use sector.

    Args:
        model: the RareEarthModel.
        nation: index of the nation in the world tables.
        sector: one of ``mining``, ``separation``, ``magnets`` or a downstream sector.
    """

    def __init__(self, model: RareEarthModel, nation: int, sector: str) -> None:
        super().__init__(model)
        self.nation = nation
        self.sector = sector
        self.iso3 = model.world.nations[nation]
        self.upstream = sector in ("mining", "separation", "magnets")
        self.months_since_decision = 10**6
        self.projects_started = 0

    @property
    def capacity_t_per_yr(self) -> float:
        return float(self.model.stage_capacity_t_per_yr(self.sector)[self.nation]) if self.upstream else 0.0

    @property
    def output_t(self) -> float:
        """Last month's output (upstream) or consumption (downstream), t REO."""
        if self.upstream:
            return float(self.model.stage_output_t(self.sector)[self.nation])
        s = self.model.sector_index[self.sector]
        return float(self.model.consumed_t_by_sector[self.nation, s])

    @property
    def shortage_t(self) -> float:
        if self.upstream:
            return 0.0
        return float(self.model.shortage_t_by_sector[self.nation, self.model.sector_index[self.sector]])

    def plan_investment(self) -> None:
        """Commission new capacity when the expected margin clears the hurdle and the market is short."""
        self.months_since_decision += 1
        m = self.model
        p = m.p
        if self.months_since_decision < p.project_retry_months:
            return
        signal = m.investment_signal(self.sector, self.nation)
        if signal <= 0:
            return
        margin_frac = m.expected_margin_frac(self.sector)[self.nation]
        hurdle = p.hurdle_rate_frac + m.controls.risk_frac[self.nation] + m.hurdle_extra_frac[self.nation]
        if margin_frac <= hurdle:
            return
        self.months_since_decision = 0
        prob = min(1.0, m.controls.finance_prob_multiplier[self.nation] * signal)
        if m.rng_projects.random() >= prob:
            return
        if m.commission(self.sector, self.nation, signal):
            self.projects_started += 1
