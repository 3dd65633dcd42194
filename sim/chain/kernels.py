"""The month's bookkeeping compiled with numba: one call per phase instead of dozens of small numpy calls.

Each kernel repeats a numpy reference in ``sim.chain`` operation for operation, in the same order, and
sums as numpy does (``sim.clearing_kernel``'s pairwise sums for contiguous rows; element by element along
any other axis), so both paths give the same numbers bit for bit; no ``exp``/``log``/``pow`` here (numba's
may differ from numpy's in the last bit). ``np.maximum(a, b)`` is ``a if a >= b else b`` and
``np.minimum(a, b)`` is ``a if a <= b else b``, as numpy computes them for numbers.

The agent classes and submodels name and document the rules; these are only their arithmetic. Imported
through ``sim.market.chain_kernels`` once the markets clear compiled; cached on disk like the clearing.
"""

from __future__ import annotations

from sim.chain.kernels_capacity import (nation_has_heavy_separation, pipelines,  # noqa: F401
                                        ready_to_invest, remember_margins, stage_capacities)
from sim.chain.kernels_margins import deposit_margin, magnet_margin, separation_margin  # noqa: F401
from sim.chain.kernels_markets import (arrive, export_first, make_magnets, offers_and_orders,  # noqa: F401
                                      sell_oxides, zone_sums)
from sim.chain.kernels_orders import maker_orders, split_trades, stockpile_orders, user_orders, zone_position  # noqa: F401
from sim.chain.kernels_recording import concentration, row_totals  # noqa: F401
from sim.chain.kernels_prices import availability, zone_held, zone_use  # noqa: F401
from sim.chain.kernels_supply import (add_undocumented, by_nation_and_element, cap_groups, mine_output,  # noqa: F401
                                      nation_plant_capacity, plan_separation, separate, utilisation_from_shift)
from sim.chain.kernels_use import (add_chain_stocks, consume, held_goods, mass_balance, stocks_in_range,  # noqa: F401
                                  sum_sectors, zone_fraction)
