"""The magnet recipe: Nd and Pr carried in the magnet; Dy and Tb follow the application mix and are thrifted
with their price (ODD 7.7, 7.9).

Dy and Tb raise a magnet's coercivity; grain-boundary diffusion puts them only at the grain boundaries, so
their tonnes per t of magnet are a design choice that makers revise when the heavy oxides turn dear
(``agents.plant.heavy_ree_intensity``). They are accounted as consumed when the magnet is made (diffused
into it), so the magnet good keeps one content (its Nd and Pr) wherever it is held, and the mass balance
stays exact while the heavy content per magnet moves.

Applications buy different grades: a traction motor runs hot and needs a high-coercivity grade (in 2024
mostly Tb diffused into the grain boundaries), a hard-disk magnet works at room temperature and needs almost
none (``magnet_grades.csv``). The world's average recipe is the demand-weighted mix of those grades, so it
moves with the mix: when electric vehicles take a growing share of magnets, each tonne carries more Tb.
"""

from __future__ import annotations

import numpy as np

from agents.plant import heavy_ree_intensity
from sim.chain.state import ChainState, Structure
from sim.goods import NDFEB, element_index

MAGNET_HEAVY = [element_index("Tb"), element_index("Dy")]


def split_recipe(recipe_t_per_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A world's magnet recipe (E,) as (carried in the magnet, consumed in making it: Dy and Tb)."""
    heavy = np.zeros_like(recipe_t_per_t)
    heavy[MAGNET_HEAVY] = recipe_t_per_t[MAGNET_HEAVY]
    return recipe_t_per_t - heavy, heavy


def relative_grades(w, base_need_t: np.ndarray) -> np.ndarray:
    """Dy and Tb in the grade each sector buys over their base-year average across the world's magnet use
    (S, E; 0 for the other elements): the weights with which the application mix moves the recipe."""
    magnets_t = base_need_t[:, :, NDFEB].sum(axis=0)
    average = magnets_t @ w.magnet_grade_mass_pct / max(magnets_t.sum(), 1e-12)
    return np.divide(w.magnet_grade_mass_pct, average, out=np.zeros_like(w.magnet_grade_mass_pct),
                     where=average > 0)


def follow_application_mix(st: ChainState, fx: Structure, need_t: np.ndarray) -> None:
    """Set this month's Dy and Tb per t of magnet, relative to the base year, from the world's magnet need
    by sector (``need_t``: N, S, G): makers sell to every zone, so they make for the world's mix."""
    magnets_t = need_t[:, :, NDFEB].sum(axis=0)
    total = magnets_t.sum()
    if total > 0:
        mix = st.heavy_mix.copy()
        mix[MAGNET_HEAVY] = magnets_t @ fx.heavy_grade[:, MAGNET_HEAVY] / total
        st.heavy_mix = mix


def heavy_content_frac(st: ChainState, fx: Structure) -> np.ndarray:
    """Dy and Tb per t of magnet made in each zone this month, relative to the base-year recipe (Z, E): the
    makers' thrift, the application mix and the world's technology path (``magnet_recipe.csv``'s drift:
    the spread of grain-boundary diffusion between two worlds' recipes)."""
    years = max(st.month - fx.start_month, 0) / 12.0
    return st.heavy_intensity * (st.heavy_mix * np.exp(fx.heavy_trend_per_yr * years))[None, :]


def heavy_per_magnet_t(st: ChainState, fx: Structure) -> np.ndarray:
    """t Dy and Tb oxide in a t of magnet made (or scrapped) in each nation this month (N, E; 0 elsewhere)."""
    return heavy_content_frac(st, fx)[fx.zone] * fx.heavy_recipe[None, :]


def makers_recipe(st: ChainState, fx: Structure) -> np.ndarray:
    """t oxide per t magnet each nation's makers use this month (N, E): the carried Nd and Pr plus their
    zone's Dy and Tb."""
    return fx.recipe[None, :] + heavy_per_magnet_t(st, fx)


def thrift_heavy(st: ChainState, fx: Structure, p) -> None:
    """Makers in each zone move their Dy and their Tb per t of magnet, each along its own price against
    the base year (each has its own grades: Dy-diffused and Tb-diffused).

    The price they read is the geometric mean over the last ``dy_tb_intensity_price_window_months``:
    grades are redesigned on a sustained price, not on a month's spike, and since the move is one way a
    spot reading would ratchet the content down on every passing rise.
    """
    window = int(p.dy_tb_intensity_price_window_months)
    sustained = np.exp(np.log(st.price_hist[-window:, :, MAGNET_HEAVY]).mean(axis=0))
    ratio = sustained / fx.anchor[:, MAGNET_HEAVY]
    intensity = st.heavy_intensity.copy()
    intensity[:, MAGNET_HEAVY] = heavy_ree_intensity(
        intensity[:, MAGNET_HEAVY], ratio, p.dy_tb_intensity_price_elasticity, p.dy_tb_intensity_min_frac,
        p.dy_tb_intensity_adjust_months)
    st.heavy_intensity = intensity
