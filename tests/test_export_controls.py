"""China's export controls in the model: licence holders fill a quota; the market learns gradually that it binds."""

from __future__ import annotations

import numpy as np
import pytest

from sim.chain import china
from sim.chain.state import CHINA_ZONE, OUTSIDE_ZONE
from sim.goods import HELD_MARKETS, MARKET_GOODS
from sim.model import RareEarthModel
from sim.world import ELEMENTS

CUT = {"type": "export_quota", "nation": "CHN", "t_per_yr": 20_000, "at": "2024-03"}


@pytest.fixture(scope="module")
def tight_quota():
    """The 2024 world with a tight total export quota from 2024-03, month by month to 2025-06."""
    m = RareEarthModel("baseline", seed=1, until="2025-06", keep_flows=False, extra_events=[CUT])
    rows = []
    while m.running:
        m.step()
        quota = m.state.controls.export_quota_t[HELD_MARKETS, m.structure.china].copy()
        rows.append((m.current_month(), m.last_month.zones.china_quota_fill.copy(), m.state.export_bind.copy(),
                     m.state.price.copy(), quota))
    return m, rows


def test_licence_holders_use_up_a_tight_quota(tight_quota):
    """The quota as a whole is (95 %+) used up every month, and so is the share of the good with the most rent (La).

    A good whose share of the quota is worth more at home some months (Nd, Dy) may leave part of it unused:
    licence holders move tonnes to where the rent is the next month (the split by rent).
    """
    m, rows = tight_quota
    la = ELEMENTS.index("La")
    late = [(fill, quota) for month, fill, _, _, quota in rows if month >= "2024-09"]
    assert min(f[la] for f, _ in late) > 0.98
    for fill, quota in late:
        capped = np.isfinite(quota)
        assert (fill * quota)[capped].sum() > 0.95 * quota[capped].sum()


def test_the_belief_that_controls_bind_moves_gradually_and_opens_the_gap(tight_quota):
    m, rows = tight_quota
    step = 1.0 / m.p.export_bind_memory_months
    beliefs = np.array([b for _, _, b, _, _ in rows])
    assert np.all((beliefs >= 0.0) & (beliefs <= 1.0))
    assert np.abs(np.diff(beliefs, axis=0)).max() <= step + 1e-12
    la = ELEMENTS.index("La")
    before = next(p for month, _, _, p, _ in rows if month == "2024-02")
    after = rows[-1][3]
    gap = lambda p: p[OUTSIDE_ZONE, la] / p[CHINA_ZONE, la]      # noqa: E731
    assert beliefs[-1, la] > 0.9
    assert gap(after) > 1.5 * gap(before)


def test_only_chinas_sellers_serve_exports_first(tight_quota):
    m, _ = tight_quota
    first = china.export_first(m.state, m.structure, np.arange(len(MARKET_GOODS)))
    others = np.delete(first, m.structure.china, axis=1)
    assert not others.any()
    assert first[:, m.structure.china].any()
