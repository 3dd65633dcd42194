"""The policy book builds the controls of a set of events in force once and shares them until it changes.

A shared object must be exactly what a fresh book builds in that month (quotas included, which follow
each month's flows), must not be writable (a phase that wrote into it would change later months), and
must change when an event starts, ends or is injected.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from sim.calendar import month_index
from sim.model import RareEarthModel
from sim.policy import PolicyBook


def _fresh(model: RareEarthModel, month: int, usual: np.ndarray, value: np.ndarray):
    book = PolicyBook(model.world, list(model.book.events), base_friction_frac=model.p.base_friction_frac,
                      quota_value_tilt=model.p.quota_value_tilt)
    return book.controls(month, usual, value)


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name), equal_nan=True) for f in fields(a) if f.init)


@pytest.mark.parametrize("scenario, until", [("china_2010_quota", "2011-06"), ("china_2025_licences", "2026-06")])
def test_shared_controls_equal_a_fresh_books_every_month(scenario, until):
    model = RareEarthModel(scenario, seed=1, until=until, keep_flows=False)
    rng = np.random.default_rng(0)
    while model.running:
        model.step()
        st = model.state
        usual = np.maximum(st.flow_ema, st.base_flows_t)
        value = rng.random(usual.shape[0]) + 0.5
        assert _same(model.book.controls(st.month, usual, value), _fresh(model, st.month, usual, value))


def test_controls_are_shared_until_the_events_in_force_change_and_cannot_be_written():
    model = RareEarthModel("baseline", seed=1, until="2024-06", keep_flows=False)
    model.run_for(5)                                     # still running: an ended run takes no more events
    book, month = model.book, model.state.month
    flows = np.zeros_like(model.state.flow_ema)
    first = book.controls(month, flows)
    assert book.controls(month + 1, flows) is first
    with pytest.raises(ValueError):
        first.pair_cap_frac[:, 0, 1] = 0.0
    model.inject({"type": "export_ban", "nation": "CHN", "stages": ["magnet"]})
    banned = book.controls(month + 1, flows)
    assert banned is not first and not np.isinf(banned.pair_cap_frac[-1, model.structure.china]).all()
    assert book.controls(month, flows) is first          # the ban starts next month
    ends = month_index("2024-06") + 3
    book.add(book.events[-1].model_copy(update={"at": "2024-07", "until": "2024-09"}))
    assert book.controls(ends, flows) is not book.controls(ends - 1, flows)
