"""Backstop prices (configs/world/backstop_prices.csv): where substitution, recycling and demand destruction stop a price.

One table for every world: the backstops are technologies (ferrite and induction motors, Dy-free magnet
grades, LED phosphors), priced in USD/kg; no zone's price may exceed them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import Field

from sim.goods import GOODS
from sim.world import WORLD_DIR, _Row, read_table


class BackstopRow(_Row):
    good: Literal[GOODS]  # type: ignore[valid-type]
    backstop_usd_per_kg: float = Field(gt=0, allow_inf_nan=False)


@lru_cache(maxsize=1)
def backstop_usd_per_kg() -> np.ndarray:
    """Backstop price per held good (G,), USD/kg."""
    rows = {r.good: r.backstop_usd_per_kg for r in read_table(WORLD_DIR / "backstop_prices.csv", BackstopRow, "good")}
    return np.array([rows[g] for g in GOODS])
