"""Demand: material need per nation, sector and good this month (ODD 7.8).

End-use output grows from the base year at each sector's sourced rates (EV motors scaled by a lever),
moved by demand shocks and noise; end users turn it into material need through their intensity of use
(thrifting, ``EndUseIndustry.thrift``) and the price response, which bends toward zero as a price
approaches the choke price of the backstop technologies (ferrite, induction motors, Dy-free grades).
"""

from __future__ import annotations

import numpy as np

from agents.end_use import EndUseIndustry
from sim.chain.state import ChainState, Structure
from sim.goods import LA_CE
from sim.world import SECTORS, World

EV = SECTORS.index("ev_motors")


_rates: list = [None, None, None, None]    # the last world, its scales, 1 + its rates 2024-30 and 2030-50


def growth_factor(w: World, p, months_since_start: int) -> np.ndarray:
    """End-use output relative to the start of the run (the world's base year), per sector (S,)."""
    years = max(months_since_start / 12.0, 0.0)
    first, later = min(years, 6.0), max(years - 6.0, 0.0)
    scales = (p.demand_growth_scale, p.ev_growth_scale)
    if _rates[0] is not w or _rates[1] != scales:   # a run's rates never change: computed once, not each call
        g1 = w.growth_frac_per_yr_2024_2030 * p.demand_growth_scale
        g2 = w.growth_frac_per_yr_2030_2050 * p.demand_growth_scale
        g1[EV] *= p.ev_growth_scale
        g2[EV] *= p.ev_growth_scale
        _rates[:] = [w, scales, 1.0 + g1, 1.0 + g2]
    return _rates[2] ** first * _rates[3] ** later


def price_response(st: ChainState, fx: Structure, p) -> np.ndarray:
    """Demand multiplier per zone and good (Z, G), 1 at base-year prices.

    A small short-run elasticity, demand destruction that grows as a price nears its backstop (at the
    backstop half of the base demand is gone: substitutes take it), and for La and Ce the low-price uses
    that take up surplus below a threshold price (Al-Ce alloys, Ce in place of other oxides; Nguyen &
    Imholte 2016).
    """
    b = fx.backstop
    response = (st.price / fx.anchor) ** p.demand_price_elasticity / (1.0 + (st.price / b) ** 2)
    response *= 1.0 + (fx.anchor / b) ** 2
    below = np.maximum(p.la_ce_low_price_threshold_usd_per_kg / st.price[:, LA_CE], 1.0)
    base_below = np.maximum(p.la_ce_low_price_threshold_usd_per_kg / fx.anchor[:, LA_CE], 1.0)
    response[:, LA_CE] *= (below / base_below) ** -p.la_ce_low_price_elasticity
    return response


def material_need_t(st: ChainState, fx: Structure, w: World, p, start_month: int,
                    rng: np.random.Generator | None) -> np.ndarray:
    """Need per nation, sector and good (N, S, G) this month.

    Args:
        rng: draws the activity noise; None in the spin-up, which is deterministic (and so shareable).
    """
    activity = growth_factor(w, p, st.month - start_month)[None, :] * st.controls.demand_multiplier
    if rng is not None:
        noise = 1.0 + p.demand_noise_sd_frac * rng.standard_normal((fx.n_nations, len(SECTORS)))
        activity = activity * np.minimum(np.maximum(noise, 0.5), 1.5)
    response = price_response(st, fx, p)
    return EndUseIndustry.material_need_t(fx.base_need, activity, st.intensity[fx.zone],
                                          response[fx.zone][:, None, :])


def thrift(st: ChainState, fx: Structure, p) -> None:
    """End users move their intensity of use along this month's prices (``EndUseIndustry.thrift``)."""
    st.intensity, st.intensity_low = EndUseIndustry.thrift(
        st.intensity, st.intensity_low, (st.price / fx.anchor)[:, None, :], fx.max_sub,
        p.thrift_rate_per_month, p.thrift_price_ratio, p.thrift_rebound_frac)
