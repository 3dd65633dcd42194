"""Downstream industries (ten end-use sectors): material need, orders with hoarding, thrifting.

``EndUseIndustry`` turns end-use output into material need, holds working stock, hoards when prices are
expected to rise, and thrifts or substitutes under sustained high prices (ODD 7.8, 7.9, 7.11). Each rule
is applied to the arrays of the whole population at once.
"""

from __future__ import annotations

import numpy as np

from agents.industry import IndustryAgent, inventory_order_t
from sim import market


def hoard_multiple(expected_growth_per_yr: np.ndarray, sensitivity: float, cap: float) -> np.ndarray:
    """Wanted cover as a multiple of normal cover, when prices are expected to rise."""
    return np.minimum(np.maximum(1.0 + sensitivity * np.maximum(expected_growth_per_yr, 0.0), 1.0), cap)


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


def user_orders_numpy(need_t: np.ndarray, stock_t: np.ndarray, expected_growth_per_yr: np.ndarray,
                      sensitivity: float, max_multiple: float, target_cover_months: float,
                      adjust_months: float) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`EndUseIndustry.orders_t` on arrays: the wanted cover (normal cover times
    :func:`hoard_multiple`) and :func:`inventory_order_t` toward it; the reference of
    ``sim.chain.kernels.user_orders``."""
    cover = target_cover_months * hoard_multiple(expected_growth_per_yr, sensitivity, max_multiple)
    return inventory_order_t(need_t, stock_t, cover, adjust_months), cover


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
