"""What the speed-ups rely on holds in real runs: the bookkeeping shortcuts never change a result.

- licensed deliveries sit only in the transit slots flagged live (the mass balance sums those alone);
- assets grown into spare buffers behave like plain arrays when the state is copied mid-run;
- the monthly rows reach Mesa's columns the same whenever they are read;
- parameters read as attributes always agree with the mapping, after pickling and copying too.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd

from sim.chain.state import stocks_by_element_t
from sim.model import RareEarthModel
from sim.parameters import resolve_parameters


def test_every_slot_holding_a_licensed_delivery_is_flagged_live():
    model = RareEarthModel("china_2025_licences", seed=2, until="2027-12", keep_flows=False)
    held_months = 0
    while model.running:
        model.step()
        st = model.state
        holding = np.flatnonzero(st.transit.any(axis=(1, 2, 3)))
        assert st.transit_live[holding].all(), model.current_month()
        held_months += len(holding) > 0
        # the shortcut's total is the total over every slot, bit for bit
        full = (st.user + st.stockpile_t + st.transit.sum(axis=(0, 1))).sum(axis=0) @ model.structure.element_content
        full += (st.conc + st.feed + st.oxide + st.maker_oxide + st.spec_t).sum(axis=0)
        full += st.magnets.sum() * model.structure.recipe
        assert np.array_equal(stocks_by_element_t(st, model.structure), full)
    assert held_months > 0, "the licences never delayed a delivery: the check saw nothing"


def test_a_state_copied_mid_run_continues_exactly_like_the_original():
    kept, copied = (RareEarthModel("baseline", seed=4, until="2031-12", keep_flows=False) for _ in range(2))
    kept.run_for(60)
    copied.run_for(60)
    assert len(copied.state.assets.plant_capacity) > len(kept.world.plant_names), "no plant was added"
    copied.state = copy.deepcopy(copied.state)       # the copy's asset arrays are no longer views of a buffer
    kept.run()
    copied.run()
    a = kept.datacollector.get_model_vars_dataframe()
    b = copied.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_the_monthly_columns_are_the_same_read_during_the_run_or_at_its_end():
    read_often = RareEarthModel("baseline", seed=6, until="2025-06", keep_flows=False)
    read_once = RareEarthModel("baseline", seed=6, until="2025-06", keep_flows=False)
    while read_often.running:
        read_often.step()
        columns = read_often.datacollector.model_vars
        assert {len(v) for v in columns.values()} == {read_often.steps}
        assert columns["date"][-1] == read_often.current_month()
    read_once.run()
    pd.testing.assert_frame_equal(read_often.datacollector.get_model_vars_dataframe(),
                                  read_once.datacollector.get_model_vars_dataframe(), check_exact=True)


def test_parameter_attributes_follow_the_mapping_through_pickle_and_copies():
    p = resolve_parameters({"logit_beta": 5.0})
    assert p.logit_beta == p["logit_beta"] == 5.0
    for q in (pickle.loads(pickle.dumps(p)), copy.deepcopy(p), copy.copy(p)):
        assert q == p and q.logit_beta == 5.0
        q["logit_beta"] = 7.0
        q.update(memory_frac=0.5)
        assert (q.logit_beta, q.memory_frac) == (7.0, 0.5)
        assert p.logit_beta == 5.0
    assert not hasattr(p, "no_such_parameter")
