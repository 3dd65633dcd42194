"""The one map of goods and element positions used by every module.

Two axes share it. The *held* axis (``GOODS``: the nine separated oxides, then NdFeB magnets) indexes
stocks, use, prices and need. The *market* axis (``MARKET_GOODS``: mixed concentrate first, then the
held goods in the same order) indexes what is traded and controlled (policy arrays, trade flows).
Code names positions through the constants below instead of shifting indices by hand.
"""

from __future__ import annotations

import numpy as np

ELEMENTS: tuple[str, ...] = ("La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy", "Y")
MAGNET = "NdFeB"
GOODS: tuple[str, ...] = ELEMENTS + (MAGNET,)
MARKET_GOODS: tuple[str, ...] = ("ore",) + GOODS

E = len(ELEMENTS)                       # number of oxides
G = len(GOODS)                          # held goods: oxides + magnet
OXIDES = slice(0, E)                    # oxides on the held axis
NDFEB = E                               # magnets on the held axis
# the oxides lead the held axis, so an element's index is its oxide's position (the compiled kernels index
# prices [zone, e] with e < E on this)
assert OXIDES.start == 0 and NDFEB == OXIDES.stop

ORE_MARKET = 0                          # mixed concentrate on the market axis
HELD_MARKETS = slice(1, 1 + G)          # the held goods on the market axis, in held order
OXIDE_MARKETS = slice(1, 1 + E)         # the oxides on the market axis
NDFEB_MARKET = 1 + E                    # magnets on the market axis
NDFEB_MARKETS = slice(NDFEB_MARKET, NDFEB_MARKET + 1)

HEAVY_REE: tuple[str, ...] = ("Sm", "Gd", "Tb", "Dy", "Y")     # separated only by a heavy-REE circuit
MAGNET_ELEMENTS: tuple[str, ...] = ("Pr", "Nd", "Sm", "Tb", "Dy")  # controls on these reach magnets
HEAVY_MASK = np.array([e in HEAVY_REE for e in ELEMENTS])
NDPR = np.array([ELEMENTS.index("Pr"), ELEMENTS.index("Nd")])    # the magnet metals, didymium
LA_CE = np.array([ELEMENTS.index("La"), ELEMENTS.index("Ce")])   # the bulk co-products


def element_index(element: str) -> int:
    """Position of an element's oxide on the held axis (and on ``ELEMENTS``)."""
    return ELEMENTS.index(element)


def market_index(good: int) -> int:
    """Position on the market axis of a good given by its position on the held axis."""
    return good + HELD_MARKETS.start


def held_index(market_good: int) -> int:
    """Position on the held axis of a market good (not defined for ore)."""
    if market_good == ORE_MARKET:
        raise ValueError("mixed concentrate is traded, not held as a good")
    return market_good - HELD_MARKETS.start
