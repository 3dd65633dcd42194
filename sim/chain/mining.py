"""Mining: utilisation from margins, China's two mining quotas, undocumented output (ODD 7.2, 7.13, 7.14).

Mines choose utilisation from their margin against the base year (``PlantIndustry.utilisation``) and
ease off when concentrate piles up unsold; disruptions and production quotas cap what leaves the pit.
China's documented output is capped by MIIT's rock (light) and ion-adsorption clay (heavy) quotas;
undocumented Chinese output adds to it, more when prices outside China run above those inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.plant import PlantIndustry, surplus_brake
from sim import market
from sim.chain.capacity import by_nation_and_element_t, online_frac, world_mix
from sim.chain.margins import deposit_margin
from sim.chain.state import CHINA_ZONE, OUTSIDE_ZONE, Assets, ChainState, Structure
from sim.goods import NDPR, OXIDES


@dataclass
class Mined:
    """This month's mine output (t REO)."""

    mined_t: np.ndarray             # (N, E), undocumented Chinese output included
    undocumented_t: np.ndarray      # (E,)
    undocumented_share: np.ndarray  # (E,) of China's output (traders' news of a campaign against illegal mines)
    by_deposit_t: np.ndarray        # (D,) documented output per deposit, t REO


def mine(st: ChainState, fx: Structure, p, start_month: int) -> Mined:
    """Set utilisation, mine, and add the output to the concentrate stocks."""
    a, c, n = st.assets, st.controls, fx.n_nations
    target = PlantIndustry.utilisation(deposit_margin(st, fx, p), a.dep_base_margin, a.dep_cost,
                                       a.dep_base_util, p.util_margin_scale_frac, p.util_min_frac)
    kernels = market.chain_kernels()
    output = _mine_output_numpy if kernels is None else kernels.mine_output
    out = output(target, st.conc, a.dep_nation, a.dep_capacity, online_frac(a, "dep", st.month, p), a.dep_util,
                 a.dep_mix, c.lost_frac[0], c.mining_quota_t_per_yr, p.surplus_cover_months, p.util_min_frac,
                 p.util_adjust_rate_per_month)
    out = china_quota_cap(st, fx, p, out, start_month)
    mined = by_nation_and_element_t(out, a, n)
    mix = world_mix(a)
    ratio = min(max(float((st.price[OUTSIDE_ZONE, OXIDES] @ mix) / max(st.price[CHINA_ZONE, OXIDES] @ mix, 1e-9)),
                    0.5), 2.0)
    illegal = (p.illegal_supply_frac * p.china_mining_quota_t_per_yr / 12 * ratio ** p.illegal_price_elasticity
               * (1.0 - c.lost_frac[0, fx.china])                 # idled districts idle their illegal pits too
               * (1.0 - c.undocumented_cut_frac[fx.china]))       # a campaign against illegal mining
    clay, _, clay_mix = china_deposits(a, fx.china)
    if not len(clay):
        clay_mix = mined[fx.china]
    add = _add_undocumented_numpy if kernels is None else kernels.add_undocumented
    undocumented, share = add(mined, clay_mix, illegal, fx.china, st.conc)
    return Mined(mined_t=mined, undocumented_t=undocumented, undocumented_share=share, by_deposit_t=out)


def _add_undocumented_numpy(mined, clay_mix, illegal, china, conc) -> tuple[np.ndarray, np.ndarray]:
    """Spread ``illegal`` t over the elements as ``clay_mix`` (E,), add it to China's row of ``mined`` (N, E),
    then all of ``mined`` to the concentrate stocks ``conc`` (both in place). Returns (undocumented output (E,),
    its share of China's output). The reference of ``sim.chain.kernels.add_undocumented``."""
    undocumented = illegal * clay_mix / max(clay_mix.sum(), 1e-9)
    mined[china] += undocumented
    share = np.divide(undocumented, mined[china], out=np.zeros_like(undocumented), where=mined[china] > 0)
    conc += mined
    return undocumented, share


def _mine_output_numpy(target, conc, dep_nation, dep_capacity, online, dep_util, dep_mix, lost, quota_t_per_yr,
                       surplus_cover_months, util_min_frac, adjust_rate_per_month) -> np.ndarray:
    """Each deposit's output this month (D,), t REO: utilisation moves toward the margin's ``target`` eased
    by unsold concentrate (:func:`~agents.plant.surplus_brake`), less what disruptions idle (``lost``:
    (N,) share), cut pro rata to a nation's production quota (t/yr; inf = none). Updates ``dep_util``.

    The reference of ``sim.chain.kernels.mine_output``.
    """
    n = len(conc)
    potential = np.zeros_like(conc)       # what the mines would put out at their current utilisation (N, E)
    np.add.at(potential, dep_nation, (dep_capacity * online / 12 * dep_util)[:, None] * dep_mix)
    cover = conc.sum(axis=1)[dep_nation] / np.maximum(potential.sum(axis=1)[dep_nation], 1e-9)
    target = target * surplus_brake(cover, surplus_cover_months, util_min_frac)
    dep_util += adjust_rate_per_month * (target - dep_util)
    out = dep_capacity * online / 12 * dep_util
    out *= 1.0 - lost[dep_nation]
    by_nation = np.bincount(dep_nation, out, minlength=n)
    scale = np.minimum(1.0, np.divide(quota_t_per_yr / 12, by_nation, out=np.ones(n), where=by_nation > 0))
    out *= scale[dep_nation]
    return out


def china_deposits(a: Assets, china: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """China's ion-adsorption clay and rock deposits (indices, in order) and the element mix (E,) of the clay
    deposits' capacity (None without any), kept until the assets change (read-only)."""
    key = ("china_deposits", a.version, china)
    found = a.cache.get(key)
    if found is None:
        ours = a.dep_nation == china
        clay, rock = np.flatnonzero(ours & a.dep_is_clay), np.flatnonzero(ours & ~a.dep_is_clay)
        mix = (a.dep_capacity[clay] @ a.dep_mix[clay]) if len(clay) else None
        found = a.cache[key] = (clay, rock, mix)
    return found


def _mean_ndpr(price: np.ndarray) -> np.float64:
    """``price[NDPR].mean()`` of a row (G,) without the fancy index and ``mean``'s checks: numpy adds the
    two and divides by their count, as here."""
    return (price[NDPR[0]] + price[NDPR[1]]) / 2


def china_quota_cap(st: ChainState, fx: Structure, p, out_t: np.ndarray, start_month: int) -> np.ndarray:
    """Cap China's documented mine output (per deposit, t/month) by MIIT's two quotas (t REO/yr).

    The ion-adsorption (heavy) quota has stayed flat while the rock (light) quota grows each year and
    faster when NdPr prices inside China are high; an event ``production_quota`` for CHN replaces the total
    (the rock quota takes what the flat clay quota leaves).
    """
    a = st.assets
    clay, rock, _ = china_deposits(a, fx.china)
    years = max((st.month - start_month) / 12.0, 0.0)
    tight = max(float(np.log(_mean_ndpr(st.price[CHINA_ZONE]) / _mean_ndpr(fx.anchor[CHINA_ZONE]))), 0.0)
    clay_quota = p.china_clay_quota_t_per_yr
    rock_quota = ((p.china_mining_quota_t_per_yr - clay_quota)
                  * (1 + p.china_quota_growth_frac_per_yr) ** years * (1 + p.china_quota_price_response * tight))
    override = st.controls.mining_quota_t_per_yr[fx.china]
    if np.isfinite(override):      # MIIT sets the total; the ion-adsorption part has its own, flat quota
        clay_quota = min(clay_quota, override)
        rock_quota = override - clay_quota
    kernels = market.chain_kernels()
    cap = _cap_groups_numpy if kernels is None else kernels.cap_groups
    return cap(out_t, clay, rock, float(clay_quota), float(rock_quota))


def _cap_groups_numpy(out_t, clay, rock, clay_quota, rock_quota) -> np.ndarray:
    """``out_t`` (D,) with the deposits of each group (``clay``, ``rock``: indices) scaled down pro rata to their
    quota (t/yr) where they would exceed it (all to 0 under a quota of 0); the reference of
    ``sim.chain.kernels.cap_groups``."""
    out = out_t.copy()
    for group, quota in ((clay, clay_quota), (rock, rock_quota)):
        total = out.take(group).sum() * 12
        if total > quota > 0 or quota == 0:
            out[group] *= quota / total if total > 0 else 0.0
    return out
