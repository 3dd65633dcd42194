"""The clearing rounds of ``sim.market`` compiled with numba: the same arithmetic in the same order.

``sim.market._allocate_numpy`` is the reference; this kernel repeats it operation for operation and sums
in numpy's order (numpy adds a contiguous row pairwise, eight running sums in blocks of at most 128,
and a non-contiguous axis one element at a time), so that both give the same tonnes bit for bit
(``tests/test_market.py`` checks that on random markets). The logit preferences are computed by numpy
before the call (numba's ``exp`` may differ from numpy's in the last bit).

The module is imported on the first clearing, not with the model: numba costs about 0.3 s to import.
The compiled code is cached on disk (``cache=True``), so only the first process on a machine compiles.
``error_model="numpy"``: a division by zero gives inf/nan as in numpy instead of raising, which lets
the divisions pipeline (three times faster here); every division in these kernels is guarded anyway.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EPS_T = 1e-9
BLOCK = 128                  # numpy's pairwise-summation block


@njit(cache=True, inline="always", error_model="numpy")
def _block_sum(a, lo, n):
    """numpy's pairwise sum of ``a[lo:lo + n]`` for n <= 128 (eight running sums)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, error_model="numpy")
def new_stack():
    """Scratch space for :func:`pairwise_sum` (pending ranges and partial sums), allocated once."""
    return np.empty((3, 128), np.int64), np.empty(128, np.float64)


@njit(cache=True, error_model="numpy")
def pairwise_sum(a, stack):
    """``a.sum()`` of a contiguous 1-d float array exactly as numpy computes it (no recursion).

    numpy halves the range (the first half a multiple of 8) until blocks are <= 128 and adds the halves
    back up; ``stack`` (from :func:`new_stack`) holds the pending ranges and the partial sums.
    """
    n = a.shape[0]
    if n <= BLOCK:
        return _block_sum(a, 0, n)
    todo, partial = stack
    todo[0, 0], todo[1, 0], todo[2, 0] = 0, n, 0         # (start, length, 1 = add the two last partials)
    top, held = 1, 0
    while top > 0:
        top -= 1
        lo, m, join = todo[0, top], todo[1, top], todo[2, top]
        if join:
            held -= 1
            partial[held - 1] = partial[held - 1] + partial[held]
        elif m <= BLOCK:
            partial[held] = _block_sum(a, lo, m)
            held += 1
        else:
            half = m // 2
            half -= half % 8
            todo[0, top], todo[1, top], todo[2, top] = lo, m, 1
            todo[0, top + 1], todo[1, top + 1], todo[2, top + 1] = lo + half, m - half, 0
            todo[0, top + 2], todo[1, top + 2], todo[2, top + 2] = lo, half, 0
            top += 3
    return partial[0]


@njit(cache=True, error_model="numpy")
def _sum_sellers(x, g, out, column, stack):
    """numpy's ``x.sum(axis=1)[g]`` for x (G, S, B) into ``out`` (B,): seller by seller in order, or
    pairwise when B == 1 (the axis is then contiguous)."""
    n_s, n_b = x.shape[1], x.shape[2]
    if n_b == 1:
        for k in range(n_s):
            column[k] = x[g, k, 0]
        out[0] = pairwise_sum(column[:n_s], stack)
        return
    for b in range(n_b):
        out[b] = x[g, 0, b]
    for k in range(1, n_s):
        for b in range(n_b):
            out[b] += x[g, k, b]


@njit(cache=True, error_model="numpy")
def _foreign_sum(line, k, foreign, row, stack):
    """numpy's ``np.where(foreign, order, 0.0).sum(axis=2)[g, k]`` of seller ``k``'s orders ``line``
    (``order[g, k]``): its export orders."""
    for b in range(line.shape[0]):
        row[b] = line[b] if foreign[k, b] else 0.0
    return pairwise_sum(row, stack)


@njit(cache=True, inline="always", error_model="numpy")
def _plain_line(line, offer, preference, g, k, total, d):
    """Seller ``k``'s orders of good ``g`` without caps or quotas: its share of each buyer's open orders
    (``total``) times the buyer's demand."""
    for b in range(line.shape[0]):
        t = total[b]
        o = (offer * preference[g, k, b]) / t
        line[b] = (o if t > 0 else 0.0) * d[g, b]


@njit(cache=True, inline="always", error_model="numpy")
def _cut_line(line, supply, exports_first, k, foreign, row, stack):
    """Cut seller ``k``'s orders ``line`` to its ``supply`` in place (export orders first if ``exports_first``);
    returns (the orders' sum before the cut, whether they were scaled). :func:`allocate` writes the same steps
    out in its loop (called there, they cost the 41-nation oxide market a fifth more time)."""
    sold = pairwise_sum(line, stack)
    scale = supply / sold if sold > supply else 1.0
    export_scale, home_scale = scale, scale
    if exports_first:
        exports = _foreign_sum(line, k, foreign, row, stack)
        home = sold - exports
        export_scale = supply / exports if exports > supply else 1.0
        left = max(supply - exports * export_scale, 0.0)
        home_scale = left / home if home > left else 1.0
    scaled = export_scale != 1.0 or home_scale != 1.0     # (x * 1.0 is x: no pass needed)
    if scaled:
        for b in range(line.shape[0]):
            line[b] = line[b] * (export_scale if foreign[k, b] else home_scale)
    return sold, scaled


@njit(cache=True, error_model="numpy")
def allocate(supply, demand, preference, cap, quota, foreign, rounds, export_first, use_first, capped,
             quota_set, settled):
    """The rounds of ``sim.market._rounds_numpy`` given its preferences; returns the flows (G, S, B).

    Each good is two passes over its (sellers, buyers) block: the open orders' column sums (and, with caps
    or quotas, the orders themselves), then seller by seller the share of each buyer's demand, caps, quotas,
    the cut to supply and the delivery (every step of a seller's row needs only that row and the first
    pass's sums). The sums are numpy's: a buyer's column seller by seller, a seller's row pairwise.
    """
    n_g, n_s, n_b = preference.shape
    plain = not (capped or quota_set) and n_b > 1       # no caps or quotas: every offering seller's pair is open
    flows = np.zeros((n_g, n_s, n_b))
    # without caps or quotas a seller's row of orders is needed only while it is worked out: one row is kept
    # (and the round's start, in case its orders must be added up: :func:`_plain_orders` remakes them). At
    # hundreds of nations this halves the memory the rounds stream through. (The row is picked by index, not
    # as one array or another: numba compiles that choice into far slower loops.)
    order = np.zeros((1, 1, n_b)) if plain else np.zeros((n_g, n_s, n_b))
    s, d = supply.copy(), demand.copy()
    s0, d0 = np.empty_like(s), np.empty_like(d)
    quota = quota.copy()
    if capped:                                   # (uncapped, ``cap`` is never read: no copy of a large block)
        cap = cap.copy()
    row, total, taken = np.empty(n_b), np.empty(n_b), np.empty(n_b)
    column = np.empty(n_s)
    stack = new_stack()
    first_round = True
    for _ in range(rounds):
        delivered_sum = 0.0
        if plain:
            s0[:] = s
            d0[:] = d
        for g in range(n_g):
            if plain:                            # the open orders' sums only: each row is remade below
                _open_totals(s, preference, g, total)
            else:
                _open_orders(s, preference, cap, quota, foreign, capped, quota_set, order, g, total, column, stack)
            for k in range(n_s):
                gi, ki = (0, 0) if plain else (g, k)
                line = order[gi, ki]
                if not (s[g, k] > EPS_T or capped or quota_set):
                    # nothing offered: its open orders are zeros, so are its shares of demand; delivering
                    # them would add zeros and leave its supply as it is
                    line[:] = 0.0
                    if k == 0 and n_b > 1:
                        taken[:] = 0.0
                    continue
                if plain:
                    _plain_line(line, s[g, k], preference, g, k, total, d)
                elif capped:
                    for b in range(n_b):         # each buyer's open order spread over the sellers in proportion
                        o = (line[b] / total[b] if total[b] > 0 else 0.0) * d[g, b]
                        line[b] = min(o, cap[g, k, b])
                else:
                    for b in range(n_b):
                        t = total[b]
                        o = line[b] / t
                        line[b] = (o if t > 0 else 0.0) * d[g, b]
                if quota_set:
                    out = _foreign_sum(line, k, foreign, row, stack)
                    if out > quota[g, k] + EPS_T:
                        q_scale = quota[g, k] / out
                        for b in range(n_b):
                            if foreign[k, b]:
                                line[b] = line[b] * q_scale
                # cut to the seller's supply (export orders first where flagged)
                sold = pairwise_sum(line, stack)
                scale = s[g, k] / sold if sold > s[g, k] else 1.0
                export_scale, home_scale = scale, scale
                if use_first and export_first[g, k]:
                    exports = _foreign_sum(line, k, foreign, row, stack)
                    home = sold - exports
                    export_scale = s[g, k] / exports if exports > s[g, k] else 1.0
                    left = max(s[g, k] - exports * export_scale, 0.0)
                    home_scale = left / home if home > left else 1.0
                scaled = export_scale != 1.0 or home_scale != 1.0     # (x * 1.0 is x: no pass needed)
                if scaled:
                    for b in range(n_b):
                        line[b] = line[b] * (export_scale if foreign[k, b] else home_scale)
                # deliver, and what is left of supply, caps and quotas (the first round's flows are zeros:
                # 0.0 + x is x + 0.0, written without reading them)
                delivered = flows[g, k]
                if n_b == 1:
                    delivered[0] += line[0]
                elif first_round:
                    for b in range(n_b):
                        x = line[b]
                        delivered[b] = x + 0.0
                        taken[b] = x if k == 0 else taken[b] + x
                elif k == 0:
                    for b in range(n_b):
                        delivered[b] += line[b]
                        taken[b] = line[b]
                else:
                    for b in range(n_b):
                        x = line[b]
                        delivered[b] += x
                        taken[b] += x
                row_sum = pairwise_sum(line, stack) if scaled else sold
                delivered_sum += row_sum
                s[g, k] = max(s[g, k] - row_sum, 0.0)
                if capped:
                    for b in range(n_b):
                        cap[g, k, b] = max(cap[g, k, b] - line[b], 0.0)
                if quota_set:
                    quota[g, k] = max(quota[g, k] - _foreign_sum(line, k, foreign, row, stack), 0.0)
            if n_s == 0:
                taken[:] = 0.0
            elif n_b == 1:
                _sum_sellers(order, g, taken, column, stack)
            for b in range(n_b):
                d[g, b] = max(d[g, b] - taken[b], 0.0)
        if pairwise_sum(d.ravel(), stack) <= settled:
            break
        call = _rows_call(delivered_sum, settled)
        if call == 1 or (call == 0 and pairwise_sum((_plain_orders(s0, d0, preference, foreign, export_first, use_first)
                                                     if plain else order).ravel(), stack) <= settled):
            break
        first_round = False
    return flows


@njit(cache=True, error_model="numpy")
def _rows_call(rows_total, settled):
    """Whether the round's orders add up to at most ``settled``, told from ``rows_total`` (the same non-negative
    orders added row sum by row sum: the two totals differ by far less than a millionth): 1 yes, -1 no, 0 too
    close to call (the orders must then be added up as numpy does)."""
    margin = 1e-6 * rows_total
    if rows_total - margin > settled:
        return -1
    if rows_total + margin < settled:
        return 1
    return 0


@njit(cache=True, error_model="numpy")
def _at_most(rows_total, settled, order, stack):
    """``pairwise_sum(order.ravel()) <= settled``, from ``rows_total`` where :func:`_rows_call` can tell."""
    call = _rows_call(rows_total, settled)
    return call == 1 or (call == 0 and pairwise_sum(order.ravel(), stack) <= settled)


@njit(cache=True, error_model="numpy")
def _plain_orders(s0, d0, preference, foreign, export_first, use_first):
    """A round's orders (G, S, B) without caps or quotas, remade from the supply ``s0`` and demand ``d0`` at its
    start exactly as :func:`allocate` worked them out row by row (each row then needs nothing else)."""
    n_g, n_s, n_b = preference.shape
    order = np.zeros((n_g, n_s, n_b))
    total, row = np.empty(n_b), np.empty(n_b)
    stack = new_stack()
    for g in range(n_g):
        _open_totals(s0, preference, g, total)
        for k in range(n_s):
            if s0[g, k] > EPS_T:
                line = order[g, k]
                _plain_line(line, s0[g, k], preference, g, k, total, d0)
                _cut_line(line, s0[g, k], use_first and export_first[g, k], k, foreign, row, stack)
    return order


@njit(cache=True, inline="always", error_model="numpy")
def _open_totals(s, preference, g, total):
    """:func:`_open_orders`' sums over the sellers per buyer of good ``g`` without caps or quotas (more than
    one buyer), the orders themselves not kept."""
    n_s, n_b = preference.shape[1], preference.shape[2]
    for k in range(n_s):
        supply = s[g, k]
        if k == 0:
            for b in range(n_b):
                total[b] = supply * preference[g, k, b] if supply > EPS_T else 0.0
        elif supply > EPS_T:                     # (a closed row adds zeros: the sums stay as they are)
            for b in range(n_b):
                total[b] += supply * preference[g, k, b]
    if n_s == 0:
        total[:] = 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _open_orders(s, preference, cap, quota, foreign, capped, quota_set, order, g, total, column, stack):
    """A round's open orders of good ``g`` (each seller's supply times its preference, where the pair is open)
    into ``order[g]``, and their sum over the sellers per buyer into ``total`` (as :func:`_sum_sellers`)."""
    n_s, n_b = order.shape[1], order.shape[2]
    for k in range(n_s):
        line, supply = order[g, k], s[g, k]
        if not supply > EPS_T:
            line[:] = 0.0
        elif capped or quota_set:
            for b in range(n_b):
                is_open = True
                if capped:
                    is_open = cap[g, k, b] > EPS_T
                if quota_set:
                    is_open = is_open and (not foreign[k, b] or quota[g, k] > EPS_T)
                line[b] = supply * preference[g, k, b] if is_open else 0.0
        elif n_b > 1 and k > 0:
            for b in range(n_b):
                v = supply * preference[g, k, b]
                line[b] = v
                total[b] += v
            continue
        else:
            for b in range(n_b):
                line[b] = supply * preference[g, k, b]
        if n_b > 1:
            if k == 0:
                total[:n_b] = line
            else:
                for b in range(n_b):
                    total[b] += line[b]
    if n_s == 0:
        total[:] = 0.0
    elif n_b == 1:
        _sum_sellers(order, g, total, column, stack)


_TARIFFED: list = [None, None]     # the last tariff array seen (never written: the month's controls) and its rows


def tariffed_rows(tariff):
    """:func:`_tariffed_rows` of the controls' tariff array, found once per array (the controls' arrays are
    read-only and shared while the same events are in force)."""
    if _TARIFFED[0] is not tariff:
        _TARIFFED[:] = [tariff, _tariffed_rows(tariff)]
    return _TARIFFED[1]


@njit(cache=True, error_model="numpy")
def export_first(markets, n, china, price, duty_frac, held_start, china_zone, outside_zone):
    """:func:`sim.chain.china._export_first_numpy` compiled."""
    first = np.zeros((markets.shape[0], n), np.bool_)
    for g in range(markets.shape[0]):
        m = markets[g]
        if m >= held_start:
            h = m - held_start
            rent = price[outside_zone, h] - price[china_zone, h] * (1.0 + duty_frac[m, china])
            first[g, china] = rent > 0.0
    return first


@njit(cache=True, error_model="numpy")
def offers_and_orders(supply, demand, eps_t):
    """:func:`sim.chain.trade._offers_and_orders_numpy` compiled."""
    n_g, n = supply.shape
    s, d = np.empty((n_g, n)), np.empty((n_g, n))
    sells, buys = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    for g in range(n_g):
        for k in range(n):
            x = supply[g, k]
            x = x if x >= 0.0 else 0.0
            s[g, k] = x
            sells[k] = sells[k] or x > eps_t
            y = demand[g, k]
            y = y if y >= 0.0 else 0.0
            d[g, k] = y
            buys[k] = buys[k] or y > eps_t
    return s, d, np.flatnonzero(sells), np.flatnonzero(buys)


@njit(cache=True, error_model="numpy")
def prepare_market(price, supply, demand, licence_base, own_licence_base, markets, china, zone_price, held_start,
                   china_zone, outside_zone, freight, tariff, tariffed, duty, risk, base_friction, friction,
                   offtake_cut, offtake, pair_cap_t, pair_cap_frac, capped_rows, logit_beta, eps_t):
    """A controlled market's terms in one call: :func:`offers_and_orders`, China's :func:`export_first` flags and
    the block's :func:`_block_terms` (licences applied for up to ``licence_base`` if ``own_licence_base``, else
    up to the orders).

    Returns:
        (offers, orders, sellers, buyers, export-first flags, logit exponent, pair caps, any cap finite).
    """
    s, d, sellers, buyers = offers_and_orders(supply, demand, eps_t)
    first = export_first(markets, s.shape[1], china, zone_price, duty, held_start, china_zone, outside_zone)
    if sellers.shape[0] == 0 or buyers.shape[0] == 0:
        return s, d, sellers, buyers, first, np.empty((0, 0, 0)), np.empty((0, 0, 0)), False
    lic = licence_base if own_licence_base else d
    exponent, cap, capped = _block_terms(price, s, d, lic, sellers, buyers, markets, freight, tariff, tariffed, duty,
                                         risk, base_friction, friction, offtake_cut, offtake, pair_cap_t,
                                         pair_cap_frac, capped_rows, logit_beta)
    return s, d, sellers, buyers, first, exponent, cap, capped


@njit(cache=True, error_model="numpy")
def _tariffed_rows(tariff):
    """(M, N exporter): True where the exporter's row of ``tariff`` (M, exporter, importer) has a non-zero entry."""
    n_m, n = tariff.shape[0], tariff.shape[1]
    out = np.zeros((n_m, n), np.bool_)
    for m in range(n_m):
        for k in range(n):
            for j in range(n):
                if tariff[m, k, j] != 0.0:
                    out[m, k] = True
                    break
    return out


@njit(cache=True, error_model="numpy")
def _block_terms(price, supply, demand, licence_base, sellers, buyers, markets, freight, tariff, tariffed, duty, risk,
                 base_friction, friction, offtake_cut, offtake, pair_cap_t, pair_cap_frac, capped_rows, logit_beta):
    """Delivered cost, logit exponent and pair caps of the (g, sellers, buyers) block of a controlled market.

    The same arithmetic, in the same order, as ``sim.chain.trade._clear_numpy`` (``market.delivered_cost``,
    frictions, offtake discounts, licence caps and ``market._preference`` up to its ``exp``), reading the
    month's dense control arrays in place instead of cutting blocks out of them (``tariff`` exporter-first,
    (M, exporter, importer)); the pair caps only on the rows ``capped_rows`` (M, N) flags as having any.

    Returns:
        (exponent, cap, capped): the logit exponent (its ``exp`` is the preference), the pair caps in t
        (an empty array when no seller in the block has any), and whether any cap is finite.
    """
    n_g, n_s, n_b = price.shape[0], sellers.shape[0], buyers.shape[0]
    exponent = np.empty((n_g, n_s, n_b))
    cap = np.empty((0, 0, 0))                    # filled with inf at the first seller with any cap
    # what does not depend on the good: freight and the friction and offtake factors of each pair
    pair_freight, frictions, offtakes = np.empty((n_s, n_b)), np.empty((n_s, n_b)), np.empty((n_s, n_b))
    for si in range(n_s):
        k = sellers[si]
        for bi in range(n_b):
            j = buyers[bi]
            rub = base_friction * (1.0 - (1.0 if k == j else 0.0)) + friction[k, j]
            pair_freight[si, bi] = freight[k, j]
            frictions[si, bi] = 1.0 + max(rub, 0.0)
            offtakes[si, bi] = 1.0 - offtake_cut * offtake[k, j]
    home_at = np.full(n_s, -1)                   # a seller's own column among the buyers, if it buys
    for si in range(n_s):
        for bi in range(n_b):
            if sellers[si] == buyers[bi]:
                home_at[si] = bi
    best = np.empty(n_b)
    capped = False
    for g in range(n_g):
        m = markets[g]
        best[:] = np.inf
        for si in range(n_s):
            k = sellers[si]
            fob = price[g, k] * (1.0 + duty[m, k] + risk[k])
            row = exponent[g, si]
            if tariffed[m, k]:
                for bi in range(n_b):
                    row[bi] = (fob * (1.0 + tariff[m, k, buyers[bi]]) + pair_freight[si, bi]) \
                        * frictions[si, bi] * offtakes[si, bi]
            else:                                    # fob * (1.0 + 0.0) is fob
                for bi in range(n_b):
                    row[bi] = (fob + pair_freight[si, bi]) * frictions[si, bi] * offtakes[si, bi]
            h = home_at[si]
            if h >= 0:                               # at home: no export duty, tariff or foreign risk
                row[h] = (price[g, k] + pair_freight[si, h]) * frictions[si, h] * offtakes[si, h]
            if supply[g, k] > EPS_T:
                for bi in range(n_b):
                    best[bi] = min(best[bi], row[bi])
            if capped_rows[m, k]:
                if cap.size == 0:
                    cap = np.full((n_g, n_s, n_b), np.inf)
                for bi in range(n_b):
                    j = buyers[bi]
                    c = pair_cap_t[m, k, j]
                    frac = pair_cap_frac[m, k, j]
                    if not np.isinf(frac):
                        c = min(c, frac * min(demand[g, j], licence_base[g, j]))
                    cap[g, si, bi] = c
                    if np.isfinite(c):
                        capped = True
        for bi in range(n_b):
            best[bi] = max(best[bi], 1e-12) if np.isfinite(best[bi]) else 1.0
        for si in range(n_s):
            for bi in range(n_b):
                exponent[g, si, bi] = -logit_beta * max(exponent[g, si, bi] / best[bi] - 1.0, 0.0)
    return exponent, cap, capped


@njit(cache=True, error_model="numpy")
def allocate_block(supply, demand, preference, cap, quota, export_first, sellers, buyers, rounds, capped):
    """:func:`allocate` on the participants of (G, N) supply, demand, quotas and export-first flags.

    Cuts the blocks and sets the flags ``sim.market._allocate`` derives with numpy (``1e-6 * d.sum()`` as
    numpy's pairwise sum of the buyers' block).
    """
    n_g, n_s, n_b = supply.shape[0], sellers.shape[0], buyers.shape[0]
    s, q, first = np.empty((n_g, n_s)), np.empty((n_g, n_s)), np.empty((n_g, n_s), np.bool_)
    d = np.empty((n_g, n_b))
    quota_set, use_first = False, False
    for g in range(n_g):
        for si in range(n_s):
            k = sellers[si]
            s[g, si], q[g, si], first[g, si] = supply[g, k], quota[g, k], export_first[g, k]
            quota_set = quota_set or np.isfinite(quota[g, k])
            use_first = use_first or export_first[g, k]
        for bi in range(n_b):
            d[g, bi] = demand[g, buyers[bi]]
    foreign = np.empty((n_s, n_b), np.bool_)
    for si in range(n_s):
        for bi in range(n_b):
            foreign[si, bi] = sellers[si] != buyers[bi]
    settled = 1e-6 * pairwise_sum(d.ravel(), new_stack())
    return allocate(s, d, preference, cap, q, foreign, rounds, first, use_first, capped, quota_set, settled)


@njit(cache=True, error_model="numpy")
def allocate_and_settle(supply, demand, preference, cap, quota, export_first, sellers, buyers, rounds, capped,
                        flow_ema, markets, memory_frac):
    """:func:`allocate_block` then :func:`settle` in one call (the block stays inside)."""
    block = allocate_block(supply, demand, preference, cap, quota, export_first, sellers, buyers, rounds, capped)
    return settle(block, sellers, buyers, supply, demand, flow_ema, markets, memory_frac)


@njit(cache=True, error_model="numpy")
def settle(block, sellers, buyers, supply, demand, flow_ema, markets, memory_frac):
    """The cleared block spread onto all nations, the sums per seller and buyer, and the flow memory.

    As ``sim.market.clear_pairs`` sums them (a seller's full row pairwise, a buyer's column seller by
    seller) and ``flow_ema[markets] += memory_frac * (flows - flow_ema[markets])``, in place, in one
    pass over the nation pairs.

    Returns:
        (flows (g, N, N), unsold, unmet, sold, bought (g, N) each, flows summed over the goods (N, N),
        added good by good as numpy's ``flows.sum(axis=0)``).
    """
    n_g, n = supply.shape
    n_s, n_b = sellers.shape[0], buyers.shape[0]
    total = np.zeros((n, n))
    seller_at, buyer_at = np.full(n, -1), np.full(n, -1)
    for si in range(n_s):
        seller_at[sellers[si]] = si
    for bi in range(n_b):
        buyer_at[buyers[bi]] = bi
    flows = np.empty((n_g, n, n))
    sold, bought = np.zeros((n_g, n)), np.zeros((n_g, n))
    unsold, unmet = np.empty((n_g, n)), np.empty((n_g, n))
    stack = new_stack()
    for g in range(n_g):
        ema = flow_ema[markets[g]]
        for i in range(n):
            si = seller_at[i]
            if si < 0:                               # no offer: no flows (``total`` keeps its 0 + 0)
                for j in range(n):
                    flows[g, i, j] = 0.0
                    ema[i, j] += memory_frac * (0.0 - ema[i, j])
                continue
            line, memory, together = flows[g, i], ema[i], total[i]
            line[:] = 0.0
            for bi in range(n_b):
                line[buyers[bi]] = block[g, si, bi]
            for j in range(n):
                f = line[j]
                memory[j] += memory_frac * (f - memory[j])
                if g > 0:                            # (the goods' flows added in order, as numpy's sum)
                    together[j] += f
                else:
                    together[j] = f
            sold[g, i] = pairwise_sum(flows[g, i], stack)
    column = np.empty(n_b)
    for g in range(n_g):
        if n_s > 0:                                  # each buyer's column added seller by seller, row-wise
            for bi in range(n_b):
                column[bi] = block[g, 0, bi]
            for si in range(1, n_s):
                for bi in range(n_b):
                    column[bi] += block[g, si, bi]
            for bi in range(n_b):
                bought[g, buyers[bi]] = column[bi]
        for i in range(n):
            unsold[g, i] = max(supply[g, i] - sold[g, i], 0.0)
            unmet[g, i] = max(demand[g, i] - bought[g, i], 0.0)
    return flows, unsold, unmet, sold, bought, total
