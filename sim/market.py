"""Market clearing and price formation as pure numpy functions.

Nothing here knows about Mesa or agents: arrays in, arrays out, so every
formula can be tested on a hand-computed micro market.

Array conventions: ``G`` goods cleared side by side (independently), ``N``
nations. Matrices indexed ``[good, exporter, importer]``. Clearing works on
the block of participating nations only (sellers x buyers); it can run in
numba kernels (``sim.clearing_kernel``) that give the same tonnes bit for bit
(:func:`use_compiled` says when).
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

EPS_T = 1e-9
HAVE_NUMBA = importlib.util.find_spec("numba") is not None   # the compiled clearing (extra "fast")
#: True / False forces the model's markets to clear compiled / in numpy; None decides (:func:`use_compiled`).
COMPILED: bool | None = None
#: Markets of at least this many goods x nation pairs clear compiled from the start (hundreds of nations).
COMPILED_MIN_CELLS = 100_000
#: numba costs a fixed ~0.6 s per process (its import, then the first load of the cached kernels) and
#: saves ~0.7 ms per month on the 41-nation world: a process clears the small markets in numpy until it
#: has cleared about one 2024-2050 run's markets (3 a month, spin-up included), then compiled.
COMPILED_AFTER_CLEARS = 1_100
_numpy_clears = 0
_kernel: ModuleType | None = None
_kernel_failed = False
_chain_kernels: ModuleType | None = None
_chain_kernels_failed = False


def use_compiled(cells: int) -> bool:
    """Whether a market of ``cells`` goods x nation pairs clears in the numba kernels (counts numpy clears)."""
    global _numpy_clears
    if COMPILED is not None:
        return COMPILED and kernel() is not None
    if HAVE_NUMBA and not _kernel_failed and (
            _kernel is not None or cells >= COMPILED_MIN_CELLS or _numpy_clears >= COMPILED_AFTER_CLEARS):
        return kernel() is not None
    _numpy_clears += 1
    return False


def _import_kernel() -> ModuleType:
    return importlib.import_module("sim.clearing_kernel")


def kernel() -> ModuleType | None:
    """``sim.clearing_kernel``, imported on first use; None if numba is missing or cannot load it.

    numba caches the compiled code next to the module or in the user's cache directory; if neither
    is writable it refuses to define the kernels, and the clearing stays in numpy (same results).
    """
    global _kernel, _kernel_failed
    if _kernel is None and HAVE_NUMBA and not _kernel_failed:
        try:
            _kernel = _import_kernel()
        except (ImportError, RuntimeError, OSError) as err:
            _kernel_failed = True
            warnings.warn(f"compiled clearing unavailable, clearing in numpy (same results): {err}",
                          RuntimeWarning, stacklevel=2)
    return _kernel


def chain_kernels() -> ModuleType | None:
    """``sim.chain.kernels`` (the month's bookkeeping compiled) while the markets clear compiled, else None.

    The submodels' arithmetic follows the clearing's policy: in numpy while a fresh process still clears
    in numpy (loading numba would cost more than it saves), compiled once the clearing kernels are loaded
    or forced (``COMPILED``). Both paths give the same numbers bit for bit (``tests/test_chain_kernels.py``).
    """
    global _chain_kernels, _chain_kernels_failed
    if _chain_kernels is not None and _kernel is not None and COMPILED is not False and not _chain_kernels_failed:
        return _chain_kernels                        # (the usual case, asked ~40 times a month: the same answer)
    if COMPILED is False or (COMPILED is None and _kernel is None) or _chain_kernels_failed or kernel() is None:
        return None
    if _chain_kernels is None:
        try:
            _chain_kernels = importlib.import_module("sim.chain.kernels")
        except (ImportError, RuntimeError, OSError) as err:
            _chain_kernels_failed = True
            warnings.warn(f"compiled bookkeeping unavailable, computing it in numpy (same results): {err}",
                          RuntimeWarning, stacklevel=2)
    return _chain_kernels


@dataclass(frozen=True)
class Clearing:
    """Result of one month's clearing of ``G`` goods among ``N`` nations.

    Attributes:
        flows_t: delivered tonnes, shape (G, N exporter, N importer).
        unsold_t: offered but not sold, shape (G, N).
        unmet_t: ordered but not delivered (shortage), shape (G, N).
        sold_t, bought_t: flows summed over importers and over exporters, shape (G, N).
    """

    flows_t: np.ndarray
    unsold_t: np.ndarray
    unmet_t: np.ndarray
    sold_t: np.ndarray          # (G, N) flows summed over importers
    bought_t: np.ndarray        # (G, N) flows summed over exporters
    goods_total_t: np.ndarray | None = field(default=None, repr=False, compare=False)   # (N, N), if known

    def total_over_goods_t(self) -> np.ndarray:
        """``flows_t`` summed over the goods (N, N) (the compiled clearing hands it over already summed)."""
        return self.flows_t.sum(axis=0) if self.goods_total_t is None else self.goods_total_t


def delivered_cost(
    price_usd_per_kg: np.ndarray,
    freight_usd_per_kg: np.ndarray,
    tariff_frac: np.ndarray,
    duty_frac: np.ndarray,
    risk_frac: np.ndarray,
    sellers: np.ndarray | None = None,
    buyers: np.ndarray | None = None,
) -> np.ndarray:
    """Cost to an importer of one kg from each exporter.

    Args:
        price_usd_per_kg: seller-side price, shape (G, N exporter).
        freight_usd_per_kg: shape (N, N) [exporter, importer].
        tariff_frac: the importer's tariff on the exporter, shape (G, N exporter, N importer).
        duty_frac: exporter's export duty, shape (G, N).
        risk_frac: political-risk premium of the exporter, shape (N,).
        sellers, buyers: nation indices to price (default all): the result is then the
            (G, sellers, buyers) block, computed without touching the other pairs.

    Returns:
        Delivered cost in USD/kg, shape (G, N, N) (or the block).
    """
    if sellers is None and buyers is None:
        fob = price_usd_per_kg * (1.0 + duty_frac + risk_frac[None, :])
        cost = fob[:, :, None] * (1.0 + tariff_frac) + freight_usd_per_kg[None, :, :]
        idx = np.arange(cost.shape[1])
        # at home there is no export duty, tariff or foreign risk
        cost[:, idx, idx] = price_usd_per_kg + freight_usd_per_kg[idx, idx][None, :]
        return cost
    fob = price_usd_per_kg[:, sellers] * (1.0 + duty_frac[:, sellers] + risk_frac[None, sellers])
    freight = pairs(freight_usd_per_kg, sellers, buyers)
    cost = fob[:, :, None] * (1.0 + pairs(tariff_frac, sellers, buyers)) + freight[None]
    home_s, home_b = np.nonzero(sellers[:, None] == buyers[None, :])
    home = sellers[home_s]
    cost[:, home_s, home_b] = price_usd_per_kg[:, home] + freight_usd_per_kg[home, home][None, :]
    return cost


def clear_markets(
    supply_t: np.ndarray,
    demand_t: np.ndarray,
    cost_usd_per_kg: np.ndarray,
    pair_cap_t: np.ndarray,
    export_quota_t: np.ndarray,
    pair_cap_frac: np.ndarray | None = None,
    licence_base_t: np.ndarray | None = None,
    logit_beta: float = 8.0,
    rounds: int = 3,
    export_first: np.ndarray | None = None,
) -> Clearing:
    """Allocate supply to orders, respecting export controls, rationing scarcity.

    Each importer spreads its open orders over sellers in proportion to their
    remaining supply times a logit weight of relative delivered cost (cheap,
    near, low-risk sellers get more). Orders are then cut to the pair caps
    (bans, licences) and each exporter's total export quota, and an
    oversubscribed seller rations pro rata. Unfilled orders go round again so
    that demand spills over to other sellers; what remains is shortage.

    Args:
        supply_t: offered tonnes, shape (G, N).
        demand_t: ordered tonnes, shape (G, N).
        cost_usd_per_kg: delivered cost, shape (G, N, N).
        pair_cap_t: max tonnes per pair this month (``inf`` = uncontrolled,
            0 = banned), shape (G, N, N); the diagonal is domestic trade.
        export_quota_t: max total exports per exporter this month
            (``inf`` = none), shape (G, N).
        pair_cap_frac: max share of the importer's order a pair may fill
            (licences: the approved share of applications; ``inf`` = free),
            shape (G, N, N).
        licence_base_t: what importers apply for, shape (G, N): their normal
            monthly use, so that stock-building orders do not inflate licences;
            defaults to ``demand_t``.
        logit_beta: sensitivity of sourcing to relative cost (dimensionless).
        rounds: how many times unfilled orders are re-placed.
        export_first: shape (G, N), True where a seller earns more abroad than at
            home (the export price net of duty beats the home price): when it is
            oversubscribed it serves export orders, within its quota, before home
            ones. Default: all buyers rationed alike.

    Returns:
        A :class:`Clearing` in which every tonne delivered left a seller's
        supply (mass is conserved exactly up to rounding).
    """
    supply = np.maximum(np.asarray(supply_t, dtype=float), 0.0)
    demand = np.maximum(np.asarray(demand_t, dtype=float), 0.0)
    sellers, buyers = participants(supply, demand)
    frac = None if pair_cap_frac is None else pairs(np.asarray(pair_cap_frac, dtype=float), sellers, buyers)
    return clear_pairs(supply, demand, sellers, buyers,
                       pairs(np.asarray(cost_usd_per_kg, dtype=float), sellers, buyers),
                       pairs(np.asarray(pair_cap_t, dtype=float), sellers, buyers),
                       np.asarray(export_quota_t, dtype=float), frac, licence_base_t, logit_beta, rounds,
                       export_first)


def participants(supply: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the nations that offer (sellers) and that order (buyers) anything, (G, N) each."""
    return np.flatnonzero((supply > EPS_T).any(axis=0)), np.flatnonzero((demand > EPS_T).any(axis=0))


def pairs(a: np.ndarray, sellers: np.ndarray, buyers: np.ndarray) -> np.ndarray:
    """The (G, sellers, buyers) block of a (G, N, N) pair array (or (sellers, buyers) of an (N, N) one)."""
    return a.take(sellers, axis=-2).take(buyers, axis=-1)         # twice as fast as one fancy index


def clear_pairs(supply: np.ndarray, demand: np.ndarray, sellers: np.ndarray, buyers: np.ndarray,
                cost: np.ndarray, cap: np.ndarray, export_quota_t: np.ndarray,
                pair_cap_frac: np.ndarray | None = None, licence_base_t: np.ndarray | None = None,
                logit_beta: float = 8.0, rounds: int = 3, export_first: np.ndarray | None = None,
                compiled: bool | None = None) -> Clearing:
    """:func:`clear_markets` on pair arrays already cut to the participants (no N x N work).

    Args:
        supply, demand: (G, N) offers and orders, non-negative.
        sellers, buyers: from :func:`participants`.
        cost, cap, pair_cap_frac: (G, sellers, buyers) blocks of the arrays of :func:`clear_markets`.
        export_quota_t, licence_base_t, export_first: (G, N), as in :func:`clear_markets`.
        compiled: as in :func:`_allocate`.
    """
    n_goods, n = supply.shape
    flows = np.zeros((n_goods, n, n))
    sold, bought = np.zeros((n_goods, n)), np.zeros((n_goods, n))
    if len(sellers) and len(buyers):
        if pair_cap_frac is not None and not np.isinf(pair_cap_frac).all():
            base = demand if licence_base_t is None else np.minimum(demand, licence_base_t)
            frac_cap = np.where(np.isinf(pair_cap_frac), np.inf,
                                np.nan_to_num(pair_cap_frac, posinf=0.0) * base[:, None, buyers])
            cap = np.minimum(cap, frac_cap)
        first = None if export_first is None else np.asarray(export_first, dtype=bool)[:, sellers]
        block = _allocate(supply[:, sellers], demand[:, buyers], cost, cap, export_quota_t[:, sellers],
                          sellers[:, None] != buyers[None, :], logit_beta, rounds, first, compiled)
        flows[:, sellers[:, None], buyers[None, :]] = block
        # a seller's full row, zeros included, so that the sum runs in the same order as over all nations
        sold[:, sellers] = flows[:, sellers].sum(axis=2)
        bought[:, buyers] = _sum_over_sellers(block)
    return Clearing(flows_t=flows, unsold_t=np.maximum(supply - sold, 0.0),
                    unmet_t=np.maximum(demand - bought, 0.0), sold_t=sold, bought_t=bought)


def _sum_over_sellers(block: np.ndarray) -> np.ndarray:
    """(G, buyers) sums over the sellers axis of a (G, sellers, buyers) block, added seller by seller.

    Numpy adds in that order along a non-contiguous axis, so the result equals the sum over all
    nations (the other rows being zeros) bit for bit; with one buyer the axis is contiguous and numpy
    would sum pairwise, hence the running sum there.
    """
    if block.shape[2] > 1:
        return block.sum(axis=1)
    return np.cumsum(block, axis=1)[:, -1]


def _allocate(supply: np.ndarray, demand: np.ndarray, cost: np.ndarray, cap: np.ndarray,
              quota: np.ndarray, foreign: np.ndarray, logit_beta: float, rounds: int,
              export_first: np.ndarray | None = None, compiled: bool | None = None) -> np.ndarray:
    """Rounds of logit sourcing, caps, quotas and rationing on the participating nations.

    Args:
        foreign: (sellers, buyers) True where the pair is an export (counts against quotas).
        export_first: (G, sellers) True where an oversubscribed seller serves exports first.
        compiled: run the rounds in the numba kernel (``sim.clearing_kernel``, the same tonnes
            bit for bit) or in numpy; default: the kernel for large markets when numba is installed.
    """
    preference = _preference(supply, cost, logit_beta)
    if compiled is None:
        compiled = HAVE_NUMBA and preference.size >= COMPILED_MIN_CELLS
    clearing_kernel = kernel() if compiled else None
    if clearing_kernel is None:
        return _rounds_numpy(supply, demand, preference, cap, quota, foreign, rounds, export_first)
    first = np.zeros(supply.shape, dtype=bool) if export_first is None else np.ascontiguousarray(export_first)
    c = np.ascontiguousarray
    return clearing_kernel.allocate(c(supply, dtype=float), c(demand, dtype=float), preference,
                                    c(cap, dtype=float), c(quota, dtype=float), c(foreign), int(rounds), first,
                                    bool(first.any()), bool(np.isfinite(cap).any()), bool(np.isfinite(quota).any()),
                                    float(1e-6 * demand.sum()))


def _preference(supply: np.ndarray, cost: np.ndarray, logit_beta: float) -> np.ndarray:
    """Logit weight of each seller for each buyer (G, sellers, buyers), relative to the cheapest offer."""
    offered_cost = np.where((supply > EPS_T)[:, :, None], cost, np.inf)
    best = offered_cost.min(axis=1, keepdims=True)
    best = np.where(np.isfinite(best), best, 1.0)
    return np.exp(-logit_beta * np.maximum(cost / np.maximum(best, 1e-12) - 1.0, 0.0))


def _rounds_numpy(supply: np.ndarray, demand: np.ndarray, preference: np.ndarray, cap: np.ndarray,
                  quota: np.ndarray, foreign: np.ndarray, rounds: int,
                  export_first: np.ndarray | None) -> np.ndarray:
    """The clearing rounds in numpy: the reference the compiled kernel is tested against."""
    foreign = foreign[None]
    if export_first is not None and not export_first.any():
        export_first = None                                          # checked once, not every round
    flows = np.zeros(preference.shape)
    s, d, cap, quota = supply.copy(), demand.copy(), cap.copy(), quota.copy()
    capped, quota_set = bool(np.isfinite(cap).any()), bool(np.isfinite(quota).any())
    settled = 1e-6 * demand.sum()
    for _ in range(rounds):
        open_pair = (s > EPS_T)[:, :, None]
        if capped:
            open_pair = open_pair & (cap > EPS_T)
        if quota_set:
            open_pair = open_pair & (~foreign | (quota > EPS_T)[:, :, None])
        weight = np.where(open_pair, s[:, :, None] * preference, 0.0)
        total = weight.sum(axis=1, keepdims=True)
        share = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
        order = share * d[:, None, :]
        if capped:
            order = np.minimum(order, cap)
        if quota_set:
            exports = np.where(foreign, order, 0.0).sum(axis=2)
            q_scale = np.divide(quota, exports, out=np.ones_like(exports), where=exports > quota + EPS_T)
            order = np.where(foreign, order * q_scale[:, :, None], order)

        order = _cut_to_supply(order, s, foreign, export_first)

        flows += order
        s = np.maximum(s - order.sum(axis=2), 0.0)
        d = np.maximum(d - order.sum(axis=1), 0.0)
        if capped:
            cap = np.maximum(cap - order, 0.0)
        if quota_set:
            quota = np.maximum(quota - np.where(foreign, order, 0.0).sum(axis=2), 0.0)
        if d.sum() <= settled or order.sum() <= settled:     # all served, or nothing more to get
            break
    return flows


def link_zone_prices(
    inside_usd_per_kg: np.ndarray,
    outside_usd_per_kg: np.ndarray,
    binding: np.ndarray | float,
    export_wedge_frac: np.ndarray,
    arbitrage_rate: float,
    inside_weight: np.ndarray | float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Pull the two zone prices together where exports are not constrained.

    Where the controlling country's exports are free, traders arbitrage the
    gap: the inside price tends to the outside price net of the export wedge
    (duty and friction). The zone holding more of the stock (``inside_weight``,
    0–1, the inside zone's share) anchors the common price: when a quota ends,
    a well-stocked China pulls the outside price down rather than the reverse.
    Where an export quota, ban or licence binds, the two prices are left to
    their own markets and the gap (the quota rent) opens. ``binding`` is how
    far the controls are believed to bind, 0 (free) to 1 (held back; booleans
    work): arbitrage is scaled by what is left free.
    """
    parity_inside = outside_usd_per_kg / (1.0 + export_wedge_frac)
    gap = np.log(parity_inside / inside_usd_per_kg)
    # (np.minimum(np.maximum(...)) is np.clip's value but for the sign of a zero, which no product here keeps)
    move = (1.0 - np.minimum(np.maximum(np.asarray(binding, dtype=float), 0.0), 1.0)) * arbitrage_rate * gap
    w = np.minimum(np.maximum(inside_weight, 0.0), 1.0)
    inside = inside_usd_per_kg * np.exp((1.0 - w) * move)
    outside = outside_usd_per_kg * np.exp(-w * move)
    return inside, outside


def ration(need_t: np.ndarray, available_t: np.ndarray) -> np.ndarray:
    """Fill rate when ``available_t`` is shared pro rata among needs.

    Args:
        need_t: needs summed over the axis that shares, any shape.
        available_t: same shape.

    Returns:
        Fraction of need that can be met (0–1), same shape.
    """
    fill = np.divide(available_t, need_t, out=np.ones_like(need_t, dtype=float), where=need_t > EPS_T)
    return np.minimum(np.maximum(fill, 0.0), 1.0)                    # np.clip's result, faster


def _cut_to_supply(order: np.ndarray, supply: np.ndarray, foreign: np.ndarray,
                   export_first: np.ndarray | None) -> np.ndarray:
    """Cut orders (G, sellers, buyers) to each seller's supply (G, sellers).

    Pro rata, except that a seller flagged ``export_first`` fills its export orders
    before its home ones (the home buyers share what is left).
    """
    sold = order.sum(axis=2)
    scale = np.divide(supply, sold, out=np.ones_like(sold), where=sold > supply)
    if export_first is None or not export_first.any():
        return order * scale[:, :, None]
    exports = np.where(foreign, order, 0.0).sum(axis=2)
    home = sold - exports
    export_scale = np.divide(supply, exports, out=np.ones_like(exports), where=exports > supply)
    left = np.maximum(supply - exports * export_scale, 0.0)
    home_scale = np.divide(left, home, out=np.ones_like(home), where=home > left)
    export_scale = np.where(export_first, export_scale, scale)
    home_scale = np.where(export_first, home_scale, scale)
    return order * np.where(foreign, export_scale[:, :, None], home_scale[:, :, None])
