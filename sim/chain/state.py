"""The model's state as explicit objects: what persists between months, what is fixed, what a month yields.

``ChainState`` is everything a month reads and changes (stocks, memories, prices, capacity, the controls
in force); the spin-up snapshot copies it whole, so nothing can be forgotten. ``Structure`` holds what a
run never changes once built (geography, recipes, base-year needs and margins). ``Month`` is what one
month produced, built fresh each month from the phases' return values and read by the recorder.

Shapes: N nations, E oxides, G held goods (oxides + NdFeB), M market goods (ore + G), S end-use sectors,
D deposits, P plants, Z = 2 price zones (0 inside China, 1 outside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim import market
from sim.goods import E
from sim.controls import Controls

if TYPE_CHECKING:
    from sim.chain.trade import ZoneMarket

CHINA_ZONE, OUTSIDE_ZONE = 0, 1
TRANSIT_SLOTS = 25
NEVER = 10**9                  # month index of "not scheduled"
BUYERS = ("user", "maker", "stockpile", "trader")   # who an oxide or magnet order is for


@dataclass
class Assets:
    """Deposits and plants: capacity that investment adds to (arrays grow as projects start)."""

    dep_nation: np.ndarray          # (D,) host nation
    dep_mix: np.ndarray             # (D, E) element split of the ore (0-1)
    dep_cost: np.ndarray            # (D,) cash cost, USD/kg REO
    dep_capacity: np.ndarray        # (D,) nameplate, t REO/yr
    dep_util: np.ndarray            # (D,) utilisation (0-1)
    dep_base_util: np.ndarray       # (D,) base-year utilisation (0-1)
    dep_online: np.ndarray          # (D,) month the deposit starts producing
    dep_finance_at: np.ndarray      # (D,) month an announced project seeks finance
    dep_is_clay: np.ndarray         # (D,) ion-adsorption clay (China's heavy quota)
    dep_base_margin: np.ndarray     # (D,) base-year margin, USD/kg
    dep_planned: dict[int, int]     # announced deposit -> its planned start month
    plant_nation: np.ndarray        # (P,)
    plant_stage: np.ndarray         # (P,) 1 separation, 2 magnets
    plant_capacity: np.ndarray      # (P,) t/yr
    plant_heavy: np.ndarray         # (P,) has a heavy-REE circuit
    plant_quota_line: np.ndarray    # (P,) separation line sized by a quota (resized by a separation quota event)
    plant_online: np.ndarray        # (P,)
    plant_finance_at: np.ndarray    # (P,)
    plant_planned: dict[int, int]   # announced plant -> its planned start month
    version: int = 0                # bumped whenever capacity changes (capacity caches key on it)
    cache: dict = field(default_factory=dict, repr=False, compare=False)   # (stage, month, version) -> capacity
    spare: dict = field(default_factory=dict, repr=False, compare=False)   # field name -> buffer it grows into


@dataclass
class ChainState:
    """Everything that carries over from one month to the next (t unless named otherwise)."""

    month: int
    assets: Assets
    controls: Controls
    conc: np.ndarray                # (N, E) concentrate at mines and in separators' yards
    feed: np.ndarray                # (N, E) concentrate in separation
    oxide: np.ndarray               # (N, E) separated oxides held by sellers
    maker_oxide: np.ndarray         # (N, E) oxides held by magnet makers
    magnets: np.ndarray             # (N,) finished magnets held by makers
    user: np.ndarray                # (N, G) end users' working stock
    stockpile_t: np.ndarray         # (N, G) strategic stockpiles
    spec_t: np.ndarray              # (N, E) speculative stock, off the market
    transit: np.ndarray             # (TRANSIT_SLOTS, buyer, N, G) licensed deliveries on their way: a ring,
                                    # what arrives in k months at (transit_head + k) % TRANSIT_SLOTS
    losses_t: np.ndarray            # (E,) cumulative tailings since the start
    flow_ema: np.ndarray            # (M, N, N) recent monthly trade flows
    use_ema: np.ndarray             # (N, G) recent monthly use
    sales_ema: np.ndarray           # (N, E) separators' recent sales
    magnet_sales_ema: np.ndarray    # (N,) magnet makers' recent sales
    margin_ema: np.ndarray          # (3, N) upstream margin over cost, by stage
    shortage_ema: np.ndarray        # (Z,) recent shortage share of need
    plant_util: np.ndarray          # (2, N) utilisation of separation and magnet plants (0-1)
    offtake: np.ndarray             # (N, N) offtake share a host owes an investor
    hurdle_extra_frac: np.ndarray   # (N,) extra investment hurdle from US trade restrictions
    price: np.ndarray               # (Z, G) USD/kg
    price_hist: np.ndarray          # (24, Z, G) the last 24 months' prices
    intensity: np.ndarray           # (Z, S, G) use per unit of end-use output, relative to base
    intensity_low: np.ndarray       # (Z, S, G) lowest intensity reached (partial rebound)
    export_bind: np.ndarray         # (G,) belief that China's controls hold exports back (0-1)
    capacity_per_need: np.ndarray | None = None  # (3,) base-year nameplate per unit of need, by stage
    long_run_ratio: float = 1.0             # long-run prices over base-year prices: the cost curve's marginal mine
    heavy_intensity: np.ndarray = field(default_factory=lambda: np.ones((2, E)))   # (Z, E) Dy and
                                            # Tb per t of magnet made in each zone, relative to the base-year recipe
                                            # (1 for the other oxides, which ``Structure.heavy_recipe`` leaves at 0)
    heavy_mix: np.ndarray = field(default_factory=lambda: np.ones(E))  # (E,) Dy and Tb per t of magnet
                                            # the world's application mix calls for, relative to the base year's
    normal_cover: np.ndarray | None = None  # (Z, G) months of use held at the end of the spin-up
    base_flows_t: np.ndarray | None = None  # (M, N, N) settled flows at the end of the spin-up
    transit_head: int = 0                   # slot of ``transit`` that arrives this month
    transit_live: np.ndarray = field(default_factory=lambda: np.zeros(TRANSIT_SLOTS, dtype=bool))
                                            # (TRANSIT_SLOTS,) slots that may hold a delivery (others are all 0):
                                            # whoever writes a slot sets its flag; the mass balance and
                                            # the month's arrivals skip the slots not flagged


@dataclass(frozen=True)
class Structure:
    """What a run never changes once built: geography, recipes, base-year needs and anchors."""

    n_nations: int
    china: int                      # index of CHN
    usa: int | None                 # index of USA, if in the world
    zone: np.ndarray                # (N,) price zone of each nation
    freight: np.ndarray             # (N, N) USD/kg
    base_need: np.ndarray           # (N, S, G) base-year monthly need, t
    reo_content: np.ndarray         # (G,) t REO per t good
    element_content: np.ndarray     # (G, E) t element per t good
    recipe: np.ndarray              # (E,) t oxide per t NdFeB carried in the magnet (Nd, Pr)
    heavy_recipe: np.ndarray        # (E,) t Dy and Tb oxide per t NdFeB in the base year, consumed in making
                                    # it (diffused into the grain boundaries; see ``sim.chain.recipe``)
    heavy_grade: np.ndarray         # (S, E) Dy and Tb in the grade each sector buys, over the base-year average
    heavy_trend_per_yr: np.ndarray  # (E,) technology drift of the Dy and Tb content, log per year from the start
    start_month: int                # the run's first month (month index)
    max_sub: np.ndarray             # (1, S, G) largest share of use that can be substituted
    anchor: np.ndarray              # (Z, G) base-year prices, USD/kg
    floor: np.ndarray               # (Z, G) price floor, USD/kg
    base_util: np.ndarray           # (3, N) base-year utilisation by stage
    base_margin_sep: np.ndarray     # (N,) base-year separation margin, USD/kg
    base_margin_mag: np.ndarray     # (N,) base-year magnet margin, USD/kg
    backstop: np.ndarray            # (Z, G) price at which substitution and demand destruction stop the rise, USD/kg
    required_multiple_base: float   # what the base year's marginal mine needs, multiple of its ore's value


@dataclass(frozen=True)
class ChinaNews:
    """What traders read about China in a month: how hard its export controls bite (log units of usual
    exports over what the controls let out) and how much of its mine output is undocumented."""

    tightness: float                # over all goods
    tightness_by_good: np.ndarray   # (M,) per market good
    undocumented_share: np.ndarray  # (E,) undocumented share of China's mine output this month


@dataclass
class Month:
    """What one month produced (t unless named otherwise): read by the recorder and the read API."""

    need_t: np.ndarray              # (N, S, G) material need
    mined_t: np.ndarray             # (N, E)
    undocumented_t: np.ndarray      # (E,) undocumented Chinese output
    separated_t: np.ndarray         # (N, E)
    recycled_t: np.ndarray          # (N, E)
    losses_t: np.ndarray            # (E,) sent to tailings this month
    magnets_made_t: np.ndarray      # (N,)
    consumed_t_by_sector: np.ndarray    # (N, S) t REO
    shortage_t_by_sector: np.ndarray    # (N, S) t REO
    consumed_elements_t: np.ndarray     # (E,)
    released_t: np.ndarray          # (N, G) stockpile releases
    flows: dict[str, np.ndarray]    # "ore", "oxide" (N, N); "oxide_by_element" (E, N, N); "magnet" (N, N)
    maker_need_t: np.ndarray        # (N, E) oxides the magnet makers' plan needed
    zones: ZoneMarket               # what China and the zones saw in the oxide and magnet markets
    mass_balance_error_t: np.ndarray    # (E,) inputs - outputs - change in stocks
    held_t: np.ndarray              # (E,) every tonne held in the chain at the month's end
    china_news: ChinaNews | None = None # what the traders read (None in the spin-up, which has none)


_zone_rows: list = [None, ()]              # the last zone array seen and its nations per zone (it never changes)


def zone_members(zone: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nations of each price zone (China's, the rest), in order: ``np.flatnonzero(zone == z)``."""
    if _zone_rows[0] is not zone:
        _zone_rows[:] = [zone, tuple(np.flatnonzero(zone == z) for z in (CHINA_ZONE, OUTSIDE_ZONE))]
    return _zone_rows[1]


def zone_row_sums(values: np.ndarray, china_rows: np.ndarray, outside_rows: np.ndarray) -> np.ndarray:
    """Sum of per-nation rows (N, ...) within each price zone (Z, ...), given each zone's nations
    (:func:`zone_members`), as the numpy references of the compiled bookkeeping receive them."""
    out = np.empty((2,) + values.shape[1:])
    for z, rows in enumerate((china_rows, outside_rows)):
        np.sum(values.take(rows, axis=0), axis=0, out=out[z, ...])
    return out


def need_by_good_t(need_t: np.ndarray) -> np.ndarray:
    """The month's need (N, S, G) summed over the sectors (N, G)."""
    kernels = market.chain_kernels()
    return (_sum_sectors_numpy if kernels is None else kernels.sum_sectors)(need_t)


def _sum_sectors_numpy(need_t: np.ndarray) -> np.ndarray:
    """The reference of ``sim.chain.kernels.sum_sectors``."""
    return need_t.sum(axis=1)


def mass_balance_t(mined_t: np.ndarray, recycled_t: np.ndarray, consumed_t: np.ndarray, heavy_used_t: np.ndarray,
                   losses_t: np.ndarray, after_t: np.ndarray, before_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The month's elements consumed (E,): used up by end users plus the Dy and Tb diffused into magnets; and
    its mass balance (E,): what came in (mined (N, E), recycled (N, E)) less what left (consumed, ``losses_t``)
    less the change of every stock held (``after_t`` - ``before_t``), 0 up to rounding."""
    kernels = market.chain_kernels()
    balance = _mass_balance_numpy if kernels is None else kernels.mass_balance
    return balance(mined_t, recycled_t, consumed_t, heavy_used_t, losses_t, after_t, before_t)


def _mass_balance_numpy(mined, recycled, consumed, heavy_used, losses, after, before):
    """:func:`mass_balance_t` on arrays; the reference of ``sim.chain.kernels.mass_balance``."""
    inputs = mined.sum(axis=0) + recycled.sum(axis=0)
    consumed = consumed + heavy_used
    outputs = consumed + losses
    return consumed, inputs - outputs - (after - before)


def stocks_by_element_t(st: ChainState, fx: Structure) -> np.ndarray:
    """Every tonne held anywhere in the chain, per element (E,): the stock side of the mass balance.

    Transit is summed over its live slots only: the others hold zeros, and numpy adds the slots one after
    the other, so skipping them gives the same tonnes bit for bit at a fraction of the cost.
    """
    kernels = market.chain_kernels()
    held, add = (_held_goods_numpy, _add_chain_stocks_numpy) if kernels is None else (
        kernels.held_goods, kernels.add_chain_stocks)
    total = held(st.user, st.stockpile_t, st.transit, np.flatnonzero(st.transit_live)) @ fx.element_content
    add(total, st.conc, st.feed, st.oxide, st.maker_oxide, st.spec_t, st.magnets, fx.recipe)
    return total


def _held_goods_numpy(user, stockpile, transit, live) -> np.ndarray:
    """Goods held by users and stockpiles and on their way to them (G,); the reference of
    ``sim.chain.kernels.held_goods``."""
    held = user + stockpile
    if len(live):
        held = held + transit[live].sum(axis=(0, 1))
    return held.sum(axis=0)


def _add_chain_stocks_numpy(total, conc, feed, oxide, maker_oxide, spec, magnets, recipe) -> None:
    """Add the concentrate, oxides and magnets held upstream to ``total`` (E,) in place; the reference of
    ``sim.chain.kernels.add_chain_stocks``."""
    total += (conc + feed + oxide + maker_oxide + spec).sum(axis=0)
    total += magnets.sum() * recipe
