"""Tables of one run beyond its monthly series: bilateral trade flows and the yearly agent table.

:class:`FlowLog` reads the model's public ``last_flows`` / ``last_oxide_flows`` after each step and
keeps the flows of at least :data:`FLOW_MIN_T` as a long table (``month``, ``exporter``, ``importer``, ``good``, ``t``);
:func:`agent_table` turns the yearly agent records into one long table. :mod:`sim.outputs` writes them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calendar import month_name
from sim.world import ELEMENTS, MAGNET

#: Goods of the flows table: mine concentrate, each separated oxide, and NdFeB magnets.
FLOW_GOODS = ("concentrate", *ELEMENTS, MAGNET)
#: Flows below 1 kg a month are left out (about three in four pairs carry only such traces).
FLOW_MIN_T = 1e-3


class FlowLog:
    """Collects each month's bilateral flows (t) of a model that is stepped by its caller."""

    def __init__(self, nations: tuple[str, ...]) -> None:
        self.nations = np.array(nations)
        self.parts: list[pd.DataFrame] = []

    def record(self, model) -> None:
        """Keep the flows of the month the model has just simulated."""
        flows = model.last_flows
        stacked = np.concatenate([flows["ore"][None], model.last_oxide_flows, flows["magnet"][None]])
        good, exporter, importer = np.nonzero(stacked >= FLOW_MIN_T)
        self.parts.append(pd.DataFrame({
            "month": model.current_month(),
            "exporter": self.nations[exporter],
            "importer": self.nations[importer],
            "good": np.array(FLOW_GOODS)[good],
            "t": stacked[good, exporter, importer],
        }))

    def frame(self) -> pd.DataFrame:
        """Every recorded flow, by month, good, exporter and importer."""
        if not self.parts:
            return pd.DataFrame({"month": [], "exporter": [], "importer": [], "good": [], "t": []})
        return pd.concat(self.parts, ignore_index=True)


def agent_table(model) -> pd.DataFrame:
    """The agents' yearly records (industry plants, nations, traders) as one long table.

    Columns: ``date`` (the month recorded), ``agent_type``, ``agent_id``, then each type's fields
    (NaN where a field does not apply to a type).
    """
    collector = model.agent_datacollector
    frames = []
    for agent_type in collector.agenttype_reporters:
        df = collector.get_agenttype_vars_dataframe(agent_type).reset_index()
        if df.empty:
            continue
        df.insert(0, "agent_type", agent_type.__name__.removesuffix("Agent").lower())
        df.insert(0, "date", [month_name(model.start_month + int(s) - 1) for s in df.pop("Step")])
        frames.append(df.rename(columns={"AgentID": "agent_id"}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
