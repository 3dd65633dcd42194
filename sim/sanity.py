"""Checks that a run's numbers stay possible; a run that leaves them stops with the month and the quantity.

A price far past anything on record, a negative stock, a NaN or a month that loses or
creates material is a defect of the run, not a result: :func:`check_month` raises
:class:`~sim.errors.RunInvalidError` so that the run (and a sweep's row) never finishes as ok.

The price ceiling is each good's backstop (configs/world/backstop_prices.csv, where substitution,
recycling and demand destruction stop a price): the market clips prices there, so a price above it
is a defect, never a result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sim.errors import RunInvalidError

#: Largest mass-balance error of a month (t): floating-point sums over ~10^5 t stay far below it.
MASS_BALANCE_TOL_T = 1e-6
#: ... or this share of the tonnes held in the chain, when that is larger (rounding grows with the sums).
MASS_BALANCE_TOL_FRAC = 1e-9
#: A stock below this (t) is negative, not rounding.
NEGATIVE_STOCK_TOL_T = -1e-6
#: Relative slack above a backstop that is floating-point rounding, not a price past it.
BACKSTOP_TOL_FRAC = 1e-9


def price_ceilings_usd_per_kg(backstop_usd_per_kg: np.ndarray, zones: int = 2) -> np.ndarray:
    """The ceiling of every price, shape (zones, goods): the good's backstop, the same in every zone."""
    backstop = np.asarray(backstop_usd_per_kg, dtype=float)
    return np.broadcast_to(backstop * (1.0 + BACKSTOP_TOL_FRAC), (zones, backstop.shape[-1])).copy()


def _labelled(values: Mapping[str, object] | np.ndarray, names: Sequence[str] | None) -> dict[str, np.ndarray]:
    """A mapping name -> array; an array's last axis is labelled by ``names``."""
    if isinstance(values, Mapping):
        return {str(k): np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}
    arr = np.asarray(values, dtype=float)
    labels = list(names) if names is not None else [str(i) for i in range(arr.shape[-1])]
    return {label: np.atleast_1d(arr[..., j]) for j, label in enumerate(labels)}


def _all_possible(prices, ceilings, stocks, mass_balance_error_t: float, tolerance_t: float) -> bool:
    """One vectorised pass over array inputs: True when nothing is wrong (mappings take the slow path)."""
    if isinstance(prices, Mapping) or isinstance(ceilings, Mapping):
        return False
    p = np.asarray(prices, dtype=float)
    if p.size and not (p.min() > 0 and (p <= np.asarray(ceilings, dtype=float)).all()):   # (NaN fails both)
        return False
    for value in (stocks or {}).values():
        v = np.asarray(value, dtype=float)
        # a NaN or an infinity makes the sum non-finite (an overflow too: the slow path then clears it)
        if v.size and not (v.min() >= NEGATIVE_STOCK_TOL_T and np.isfinite(v.sum())):
            return False
    return bool(np.isfinite(mass_balance_error_t) and abs(mass_balance_error_t) <= tolerance_t)


def check_month(month: str, prices_usd_per_kg: Mapping[str, object] | np.ndarray,
                ceiling_usd_per_kg: Mapping[str, object] | np.ndarray,
                stocks_t: Mapping[str, object] | None = None,
                mass_balance_error_t: float = 0.0, *, goods: Sequence[str] | None = None,
                held_t: float = 0.0, mass_balance_tol_t: float = MASS_BALANCE_TOL_T) -> None:
    """Raise :class:`RunInvalidError` if month ``month``'s numbers left the possible.

    Args:
        month: the month checked, ``YYYY-MM`` (named in the error).
        prices_usd_per_kg: prices by good (mapping), or an array whose last axis is ``goods``
            (e.g. shape (zone, good)).
        ceiling_usd_per_kg: the ceilings, same layout as the prices (see :func:`price_ceilings_usd_per_kg`).
        stocks_t: named stocks (t), each a number or an array (e.g. ``{"inventory_t": ..., "stockpile_t": ...}``).
        mass_balance_error_t: this month's inflows minus outflows minus the change of stocks (t).
        goods: labels of the last axis when prices are arrays.
        held_t: tonnes held in the whole chain; the mass-balance tolerance is the larger of
            ``mass_balance_tol_t`` and :data:`MASS_BALANCE_TOL_FRAC` of it.
        mass_balance_tol_t: largest allowed absolute mass-balance error (t).
    """
    tolerance_t = max(mass_balance_tol_t, MASS_BALANCE_TOL_FRAC * held_t)
    if _all_possible(prices_usd_per_kg, ceiling_usd_per_kg, stocks_t, mass_balance_error_t, tolerance_t):
        return                                  # the usual case, checked at once; the loops below name a fault
    prices = _labelled(prices_usd_per_kg, goods)
    ceilings = _labelled(ceiling_usd_per_kg, goods)
    for good, value in prices.items():
        if not np.all(np.isfinite(value)):
            raise RunInvalidError(month, f"price_{good}_usd_per_kg", f"price is not a finite number: {value.tolist()}")
        if np.any(value <= 0):
            raise RunInvalidError(month, f"price_{good}_usd_per_kg", f"price is not positive: {value.tolist()}")
        ceiling = ceilings.get(good)
        if ceiling is not None and np.any(value > ceiling):
            ratio = value / ceiling
            i = int(np.argmax(ratio))
            raise RunInvalidError(month, f"price_{good}_usd_per_kg",
                                  f"price {float(value.flat[i]):,.6g} USD/kg is {float(ratio.flat[i]):,.3g}x its "
                                  f"backstop {float(np.broadcast_to(ceiling, value.shape).flat[i]):,.6g} USD/kg "
                                  "(configs/world/backstop_prices.csv): the run left the possible")
    for name, value in _labelled(stocks_t or {}, None).items():
        if not np.all(np.isfinite(value)):
            raise RunInvalidError(month, name, "stock is not a finite number")
        if np.any(value < NEGATIVE_STOCK_TOL_T):
            raise RunInvalidError(month, name, f"stock below zero: {float(np.min(value)):,.6g} t")
    if not np.isfinite(mass_balance_error_t) or abs(mass_balance_error_t) > tolerance_t:
        raise RunInvalidError(month, "mass_balance_error_t",
                              f"material not conserved: {mass_balance_error_t:.6g} t (tolerance {tolerance_t:g} t)")
