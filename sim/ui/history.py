"""History mode: recorded prices drawn as points over a replay scenario's run.

:data:`HISTORY_TABLES` maps a replay scenario to its table of recorded prices (a CSV under configs/,
with columns ``oxide``, ``series``, ``date`` (``YYYY`` or ``YYYY-MM``), ``price_usd_per_kg``,
``source``). A new replay plugs in with one entry here and its table; no other code changes.
Series named "China domestic" are prices inside China; every other series is an export
(outside-China) price, which is what the model's ``price_<el>_usd_per_kg`` columns are. Quotes of a
"VAT incl." series are drawn net of China's VAT, as the model states its inside prices.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from sim.episodes import china_oxide_vat_frac, net_of_vat_usd_per_kg
from sim.world import CONFIG_DIR

HISTORY_TABLES: dict[str, str] = {
    "china_2010_quota": "validation/history_2010_prices.csv",
    "demand_boom_2021": "validation/history_2020_prices.csv",
}
INSIDE_CHINA_SERIES = ("China domestic",)


@lru_cache(maxsize=8)
def history_prices(scenario: str) -> pd.DataFrame | None:
    """Recorded prices for a replay scenario (columns ``element``, ``date``, ``price_usd_per_kg``,
    ``inside_china``, ``series``, ``source``), or None when the scenario has no table (or it is not shipped).

    A year (``2008``) is placed at its middle month (``2008-07``).
    """
    rel = HISTORY_TABLES.get(scenario)
    if rel is None or not (CONFIG_DIR / rel).is_file():
        return None
    raw = pd.read_csv(CONFIG_DIR / rel, dtype={"date": str})
    dates = raw["date"].str.strip().map(lambda d: f"{d}-07" if len(d) == 4 else d[:7])
    # the model's inside prices are net of VAT: "VAT incl." quotes are drawn net of it too
    price = net_of_vat_usd_per_kg(raw["series"], raw["price_usd_per_kg"].astype(float), china_oxide_vat_frac(scenario))
    return pd.DataFrame({"element": raw["oxide"], "date": dates,
                         "price_usd_per_kg": price,
                         "inside_china": raw["series"].str.startswith(INSIDE_CHINA_SERIES),
                         "series": raw["series"], "source": raw.get("source", "")})
