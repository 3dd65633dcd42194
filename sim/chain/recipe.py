"""The magnet recipe: Nd and Pr carried in the magnet, Dy and Tb thrifted with their price (ODD 7.7, 7.9).

Dy and Tb raise a magnet's coercivity; grain-boundary diffusion puts them only at the grain boundaries, so
their tonnes per t of magnet are a design choice that makers revise when the heavy oxides turn dear
(``agents.industry.heavy_ree_intensity``). They are accounted as consumed when the magnet is made (diffused
into it), so the magnet good keeps one content (its Nd and Pr) wherever it is held, and the mass balance
stays exact while the heavy content per magnet moves.
"""

from __future__ import annotations

import numpy as np

from agents.industry import heavy_ree_intensity
from sim.chain.state import ChainState, Structure
from sim.goods import element_index

MAGNET_HEAVY = [element_index("Tb"), element_index("Dy")]


def split_recipe(recipe_t_per_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A world's magnet recipe (E,) as (carried in the magnet, consumed in making it: Dy and Tb)."""
    heavy = np.zeros_like(recipe_t_per_t)
    heavy[MAGNET_HEAVY] = recipe_t_per_t[MAGNET_HEAVY]
    return recipe_t_per_t - heavy, heavy


def heavy_per_magnet_t(st: ChainState, fx: Structure) -> np.ndarray:
    """t Dy and Tb oxide in a t of magnet made (or scrapped) in each nation this month (N, E; 0 elsewhere)."""
    return st.heavy_intensity[fx.zone] * fx.heavy_recipe[None, :]


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
