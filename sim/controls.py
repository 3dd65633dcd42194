"""The arrays the markets read for one month (``Controls``), and how an instrument's goods and a tonnage
quota map onto the market axis.

Market goods (axis ``M``): ``ore`` (mixed concentrate), the 9 separated oxides (policy stages ``oxide`` and
``metal`` both map to them), and NdFeB magnets (stage ``magnet``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.goods import MAGNET_ELEMENTS, MARKET_GOODS, NDFEB_MARKET, ORE_MARKET, element_index, market_index


def goods_mask(elements: list[str], stages: list[str]) -> np.ndarray:
    """Market goods an instrument covers, shape (M,)."""
    mask = np.zeros(len(MARKET_GOODS), dtype=bool)
    if "ore" in stages:
        mask[ORE_MARKET] = True
    if "oxide" in stages or "metal" in stages:
        for el in elements:
            mask[market_index(element_index(el))] = True
    if "magnet" in stages and any(el in MAGNET_ELEMENTS for el in elements):
        mask[NDFEB_MARKET] = True
    return mask


@dataclass
class Controls:
    """Arrays the markets read for one month (M goods, N nations)."""

    pair_cap_frac: np.ndarray        # (M, N, N) share of the importer's order an exporter may fill; inf = free
    pair_cap_t: np.ndarray           # (M, N, N) tonnes per month a pair may trade; inf = free
    export_quota_t: np.ndarray       # (M, N) this month's quota per good, inf = none
    duty_frac: np.ndarray            # (M, N)
    tariff_frac: np.ndarray          # (M, N importer, N exporter)
    licence_delay_months: np.ndarray  # (M, N, N)
    risk_frac: np.ndarray            # (N,) political-risk premium toward everyone
    friction_frac: np.ndarray        # (N, N) extra cost of a pair, lowered by alliances
    finance_prob_multiplier: np.ndarray  # (N,)
    lead_time_multiplier: np.ndarray  # (N,) on separation and magnet projects
    producer_floor_usd_per_kg: np.ndarray  # (M, N) price floor received by producers
    mining_quota_t_per_yr: np.ndarray  # (N,) inf = none
    separation_quota_t_per_yr: np.ndarray  # (N,) inf = none (China only: its quota line's licensed size)
    lost_frac: np.ndarray            # (3 stages, N) capacity out of action
    undocumented_cut_frac: np.ndarray  # (N,) share of undocumented mine output a crackdown stops (China only)
    demand_multiplier: np.ndarray    # (N, S)
    stockpile_action: np.ndarray     # (N,) 0 hold/default rule, 1 build, 2 release, -1 none set
    stockpile_days_override: np.ndarray  # (N,) nan = from the world table
    trade_status: np.ndarray | None = None  # (N importer, N exporter) codes in force
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def capped_rows(self) -> np.ndarray:
        """(M, N exporter): True where the exporter has a finite pair cap or approval share toward anyone.

        The compiled clearing reads the dense pair arrays only on these rows (computed once per object).
        """
        if "capped_rows" not in self._derived:
            self._derived["capped_rows"] = (np.isfinite(self.pair_cap_t).any(axis=2)
                                            | np.isfinite(self.pair_cap_frac).any(axis=2))
        return self._derived["capped_rows"]

    def tariff_exporter_first(self) -> np.ndarray:
        """``tariff_frac`` as (M, N exporter, N importer), contiguous (computed once per object)."""
        if "tariff_exporter_first" not in self._derived:
            self._derived["tariff_exporter_first"] = np.ascontiguousarray(self.tariff_frac.transpose(0, 2, 1))
        return self._derived["tariff_exporter_first"]

    def delayed_markets(self) -> np.ndarray:
        """(M,): True where some pair's deliveries wait for a licence (computed once per object)."""
        if "delayed_markets" not in self._derived:
            self._derived["delayed_markets"] = self.licence_delay_months.any(axis=(1, 2))
        return self._derived["delayed_markets"]


def split_quota_t(total_t: float, usual_t: np.ndarray, value_usd_per_kg: np.ndarray, tilt: float) -> np.ndarray:
    """Spread a tonnage quota over goods, given each good's usual exports and what a kg of quota earns on it.

    A quota above usual exports cuts nothing (the slack is spread pro rata). A tighter
    one keeps a share ``min(1, lam * (value / mean value) ** tilt)`` of each good's usual
    exports, with ``lam`` set so the shares use up the quota: exporters cut the goods a
    tonne of quota earns least on first (the model passes the quota rent, so before any
    gap opens that is the cheap La and Ce); ``tilt`` 0 cuts all alike.
    """
    usual = np.maximum(np.asarray(usual_t, dtype=float), 0.0)
    if usual.sum() <= 0:
        return np.full(len(usual), total_t / max(len(usual), 1))
    if total_t >= usual.sum():
        return usual * total_t / usual.sum()
    value = np.maximum(np.asarray(value_usd_per_kg, dtype=float), 1e-9)
    weight = (value / np.average(value, weights=usual + 1e-12)) ** tilt
    lo, hi = 0.0, 1.0 / weight.min()
    for _ in range(60):                                  # bisection on the monotone total
        lam = 0.5 * (lo + hi)
        if (usual * np.minimum(1.0, lam * weight)).sum() > total_t:
            hi = lam
        else:
            lo = lam
    return usual * np.minimum(1.0, lo * weight)
