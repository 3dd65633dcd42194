"""The monthly row's concentration measures: compiled arithmetic of the month (see ``sim.chain.kernels``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.clearing_kernel import new_stack, pairwise_sum


@njit(cache=True, error_model="numpy")
def concentration(output_t, china):
    """:func:`sim.recording._concentration_numpy` compiled: ``sim.metrics.share_of``, ``herfindahl`` and the
    total, with numpy's pairwise sums."""
    stack = new_stack()
    total = pairwise_sum(output_t, stack)
    share = output_t[china] / total if total > 0 else 0.0
    if not total > 0:
        return share, 0.0, total
    squares = np.empty(output_t.shape[0])
    for i in range(output_t.shape[0]):
        s = output_t[i] / total
        squares[i] = s * s
    return share, 10_000.0 * pairwise_sum(squares, stack), total


@njit(cache=True, error_model="numpy")
def row_totals(need_by_sector, shortage, undocumented, recycled, consumed, losses, piles, released, spec, china):
    """:func:`sim.recording._totals_numpy` compiled: numpy's pairwise sum of each (C-contiguous) array's values
    in memory order."""
    stack = new_stack()
    return (pairwise_sum(need_by_sector.ravel(), stack), pairwise_sum(shortage.ravel(), stack),
            pairwise_sum(undocumented, stack), pairwise_sum(recycled.ravel(), stack),
            pairwise_sum(consumed.ravel(), stack), pairwise_sum(losses, stack), pairwise_sum(piles, stack),
            pairwise_sum(released, stack), pairwise_sum(spec.ravel(), stack), pairwise_sum(spec[china], stack))
