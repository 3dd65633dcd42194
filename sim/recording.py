"""What the model records each month: one row of named, unit-suffixed series.

The row is built once per step from the model's arrays; Mesa's DataCollector
stores it column by column (a picklable reporter per column), so
``model.datacollector.get_model_vars_dataframe()`` is the output contract.
"""

from __future__ import annotations

import functools
import itertools
import operator
from functools import partial
from typing import TYPE_CHECKING

import mesa
import numpy as np

from agents.industry import IndustryAgent
from agents.nation import NationAgent
from agents.trader import TraderAgent

from sim import market
from sim.calendar import DAYS_PER_MONTH
from sim.metrics import herfindahl, share_of, supplier_share
from sim.chain.recipe import MAGNET_HEAVY, heavy_content_frac
from sim.chain.state import CHINA_ZONE, OUTSIDE_ZONE
from sim.goods import ELEMENTS, GOODS
from sim.world import CENTRAL_ASIA, SECTORS, UPSTREAM

if TYPE_CHECKING:
    from sim.model import RareEarthModel

AGENT_RECORD_EVERY_MONTHS = 12
MAGNET_HEAVY_ELEMENTS = [ELEMENTS[k] for k in MAGNET_HEAVY]


def column_value(name: str, model: RareEarthModel):
    """DataCollector reporter: one field of the model's latest row (picklable via partial)."""
    return model.recorder.last[name]


class RowCollector(mesa.DataCollector):
    """Mesa's DataCollector, fed one prepared row per month.

    Every model series is a reporter as usual (so the collector pickles, validates and builds
    ``get_model_vars_dataframe()`` the Mesa way), but ``collect`` keeps the row's values directly:
    they are plain floats and strings, so Mesa's per-value deepcopy is not needed. The month's row is
    held as one tuple and moved into Mesa's columns (``model_vars``) whenever they are read, so a
    month costs one append rather than one per column.
    """

    def __init__(self, model_reporters: dict) -> None:
        self._pending: list[tuple] = []             # rows collected since ``model_vars`` was last read
        self._order_checked: tuple | None = None    # (column table, row columns) last compared, and the answer
        self._order_ok = False
        super().__init__(model_reporters=model_reporters)

    @property
    def model_vars(self) -> dict[str, list]:
        """Mesa's columns (series name -> its value each collection), up to the last collection."""
        if self._pending:
            for values, column in zip(self._columns.values(), zip(*self._pending, strict=True)):
                values.extend(column)
            self._pending.clear()
        return self._columns

    @model_vars.setter
    def model_vars(self, columns: dict[str, list]) -> None:
        self._pending = []
        self._columns = columns

    def collect(self, model) -> None:
        recorder = model.recorder
        # Mesa keeps the step of each collection in ``_collection_steps`` (``mesa.batch_run`` reads it to
        # pick the rows of a ``data_collection_period``). Mesa 3.5 has no public way to record that step
        # other than its own ``collect``, which deep-copies every value (~0.25 ms a month here, 175
        # columns): so the step is appended as Mesa's ``collect`` does (tests/test_recording.py checks
        # that batch_run still finds each month's row).
        self._collection_steps.append(model.time)
        if self._in_table_order(recorder.columns):                  # the row holds the columns in table order
            self._pending.append(tuple(recorder.values))
        else:
            row = recorder.last
            for name, values in self.model_vars.items():
                values.append(row[name])

    def _in_table_order(self, columns: list[str]) -> bool:
        """Whether ``columns`` are Mesa's columns in table order (checked once per column table and list)."""
        key = (id(self._columns), id(columns))
        if self._order_checked != key:
            self._order_checked, self._order_ok = key, tuple(columns) == tuple(self._columns)
        return self._order_ok


class AgentCollector(mesa.DataCollector):
    """Mesa's DataCollector for the agent tables, with the model's per-nation read API computed once.

    Each agent reports through its own properties (``output_t`` reads ``model.sector_output_t(sector)``
    and picks its nation); during one collection the model's read methods are memoised, so hundreds of
    agents share one array per sector instead of rebuilding it each. Every reporter is an attribute
    name whose value is a plain float or string, so the records Mesa's ``collect`` would build
    (``(time, unique_id, *values)`` per agent of each type, in the model's agent order) are built with
    one ``attrgetter`` per type instead of a Python reporter call per value; a class whose ``REPORTED``
    names are the reporters gives its columns at once (``report_columns``: the same values, read per
    sector rather than per agent).
    """

    SHARED_READS = ("sector_output_t", "sector_shortage_t", "stage_capacity_t_per_yr", "stockpile_reo_t")

    def __init__(self, agenttype_reporters: dict[type, dict[str, str]]) -> None:
        super().__init__(agenttype_reporters=agenttype_reporters)
        self._names = {t: tuple(names.values()) for t, names in agenttype_reporters.items()}
        self._getters = {t: _tuple_getter(names) for t, names in self._names.items()}
        self._agent_lists: dict[type, tuple] = {}    # type -> ((model, agent count), its agents, their ids)

    def collect(self, model) -> None:
        for name in self.SHARED_READS:
            setattr(model, name, functools.cache(getattr(model, name)))
        try:
            time, records = model.time, {}
            for agent_type, getter in self._getters.items():
                agents, ids = self._agents_of(model, agent_type)
                names = self._names[agent_type]
                if getattr(agent_type, "REPORTED", None) == names:     # the class reads its table at once
                    columns = agent_type.report_columns(agents)
                    records[agent_type] = list(zip(itertools.repeat(time), ids, *(columns[name] for name in names)))
                else:
                    records[agent_type] = [(time, a.unique_id) + getter(a) for a in agents]
            self._agenttype_records[time] = records
        finally:
            for name in self.SHARED_READS:
                delattr(model, name)


    def _agents_of(self, model, agent_type: type) -> tuple[list, list]:
        """The model's agents of ``agent_type`` (subclasses included), in the model's order, and their ids; kept
        while the model has the same agents (a run creates them all at the start)."""
        key = (id(model), len(model.agents))
        kept = self._agent_lists.get(agent_type)
        if kept is None or kept[0] != key:
            agents = (list(model.agents_by_type[agent_type]) if agent_type in model.agent_types
                      else [a for a in model.agents if isinstance(a, agent_type)])
            kept = self._agent_lists[agent_type] = (key, agents, [a.unique_id for a in agents])
        return kept[1], kept[2]


def _tuple_getter(names: tuple[str, ...]):
    """``agent -> tuple of its attributes`` (``attrgetter`` returns a bare value for a single name)."""
    get = operator.attrgetter(*names)
    return get if len(names) > 1 else (lambda agent: (get(agent),))


def _concentration_numpy(output_t: np.ndarray, china: int) -> tuple[float, float, float]:
    """A stage's China share, Herfindahl index and total of its output per nation (N,); the reference of
    ``sim.chain.kernels.concentration``."""
    return share_of(output_t, china), herfindahl(output_t), float(output_t.sum())


def _totals_numpy(need_by_sector, shortage, undocumented, recycled, consumed, losses, piles, released, spec,
                  china) -> tuple[float, ...]:
    """The row's totals: each array summed (all C-contiguous), and China's speculative stock; the reference of
    ``sim.chain.kernels.row_totals``."""
    return tuple(float(a.sum()) for a in (need_by_sector, shortage, undocumented, recycled, consumed, losses, piles,
                                         released, spec, spec[china]))


def column_names(nations: tuple[str, ...]) -> list[str]:
    """Every model series, in table order."""
    cols = ["date"]
    for g in GOODS:
        cols += [f"price_{g}_usd_per_kg", f"price_{g}_china_usd_per_kg"]
    for stage in ("mining", "separation", "magnets"):
        cols += [f"china_share_{stage}", f"hhi_{stage}", f"production_{stage}_t"]
    cols += ["undocumented_mining_t", "recycled_t", "consumption_t", "losses_t", "shortage_t",
             "shortage_frac", "stockpile_total_t", "stockpile_release_t", "speculative_stock_t",
             "speculative_stock_china_t", "central_asia_mine_output_t",
             "usa_supply_china_share", "mass_balance_error_t"]
    for el in MAGNET_HEAVY_ELEMENTS:                 # Dy and Tb per t of magnet made, relative to the base year
        cols += [f"magnet_{el}_intensity_frac", f"magnet_{el}_intensity_china_frac", f"magnet_{el}_application_mix_frac"]
    cols += [f"shortage_{s}_t" for s in SECTORS]
    cols += [f"shortage_{iso}_t" for iso in nations]
    cols += [f"mine_output_{iso}_t" for iso in nations]
    cols += [f"stockpile_{iso}_t" for iso in nations]
    return cols


class Recorder:
    """Builds each month's row and feeds Mesa's DataCollectors (monthly model, yearly agents)."""

    def __init__(self, model: RareEarthModel) -> None:
        self.model = model
        self.columns = column_names(model.world.nations)
        nations = model.world.nations
        self.central_asia = [nations.index(c) for c in CENTRAL_ASIA if c in nations]
        self.values: list | None = None            # this month's row, in the order of ``columns``
        self._last: dict | None = None
        self.datacollector = RowCollector(model_reporters={c: partial(column_value, c) for c in self.columns})
        self.agent_datacollector = AgentCollector(agenttype_reporters={
            IndustryAgent: {"iso3": "iso3", "sector": "sector", "output_t": "output_t",
                            "capacity_t_per_yr": "capacity_t_per_yr", "shortage_t": "shortage_t"},
            NationAgent: {"iso3": "iso3", "bloc": "bloc", "stockpile_t": "stockpile_t"},
            TraderAgent: {"label": "label", "held_t": "held_t"},
        })

    @property
    def last(self) -> dict | None:
        """This month's row (series name -> value), None before the first month."""
        if self._last is None and self.values is not None:
            self._last = dict(zip(self.columns, self.values, strict=True))
        return self._last

    def record(self) -> None:
        """Build this month's row and collect it (agents once a year)."""
        m = self.model
        self.values, self._last = self.row_values(), None
        self.datacollector.collect(m)
        if (m.month - m.start_month) % AGENT_RECORD_EVERY_MONTHS == 0:
            self.agent_datacollector.collect(m)
        if m.keep_flows:
            flows = m.last_month.flows                             # (what ``m.last_flows`` copies)
            m.flows_history.append({k: flows[k].astype(np.float32) for k in ("ore", "oxide", "magnet")})

    def row(self) -> dict:
        """This month's row (series name -> value)."""
        return dict(zip(self.columns, self.row_values(), strict=True))

    def row_values(self) -> list:
        """This month's row, its values in the order of ``columns``."""
        m = self.model
        st, fx, month = m.state, m.structure, m.last_month
        values: list = [m.current_month()]
        values += st.price[::-1].T.ravel().tolist()                  # each good's price outside, then in China
        outputs = {stage: m.sector_output_t(stage) for stage in UPSTREAM}
        kernels = market.chain_kernels()
        concentration, totals = ((_concentration_numpy, _totals_numpy) if kernels is None
                                 else (kernels.concentration, kernels.row_totals))
        for out in outputs.values():
            values += concentration(out, fx.china)
        piles = m.stockpile_reo_t()
        mining = outputs["mining"]
        (need, shortage, undocumented, recycled, consumed, losses, piled, released, speculative,
         speculative_china) = totals(month.need_t @ fx.reo_content, month.shortage_t_by_sector, month.undocumented_t,
                                     month.recycled_t, month.consumed_t_by_sector, month.losses_t, piles,
                                     month.released_t @ fx.reo_content, st.spec_t, fx.china)
        values += (
            undocumented,                                            # undocumented_mining_t
            recycled,                                                # recycled_t
            consumed,                                                # consumption_t
            losses,                                                  # losses_t
            shortage,                                                # shortage_t
            shortage / need if need > 0 else 0.0,                    # shortage_frac
            piled,                                                   # stockpile_total_t
            released,                                                # stockpile_release_t
            speculative,                                             # speculative_stock_t
            speculative_china,                                       # speculative_stock_china_t
            float(sum(mining[i] for i in self.central_asia)),        # central_asia_mine_output_t
            self._usa_china_share(),                                 # usa_supply_china_share
            float(np.abs(month.mass_balance_error_t).max()),         # mass_balance_error_t
        )
        content = heavy_content_frac(st, fx)
        for k in MAGNET_HEAVY:            # magnet_{el}_intensity_frac, ..._china_frac, ..._application_mix_frac
            values += (float(content[OUTSIDE_ZONE, k]), float(content[CHINA_ZONE, k]), float(st.heavy_mix[k]))
        values += month.shortage_t_by_sector.sum(axis=0).tolist()    # shortage_{sector}_t
        values += month.shortage_t_by_sector.sum(axis=1).tolist()    # shortage_{iso}_t
        values += mining.tolist()                                    # mine_output_{iso}_t
        values += piles.tolist()                                     # stockpile_{iso}_t
        return values

    def _usa_china_share(self) -> float:
        """Share of US deliveries of oxides and magnets (t REO) that came from China directly."""
        m = self.model
        fx = m.structure
        if fx.usa is None:
            return 0.0
        flows = m.last_month.flows
        into_usa = flows["oxide"][:, fx.usa] + flows["magnet"][:, fx.usa] * m.world.magnet_reo_t_per_t   # (N,)
        return supplier_share(into_usa[:, None], 0, fx.china)      # only the US column: no N x N sum

    def condition_value(self, cond) -> float:
        """Current value of a reaction's condition metric."""
        m = self.model
        st, fx, month = m.state, m.structure, m.last_month
        row = self.last or {}
        ix = m.world.nations.index
        match cond.metric:
            case "shortage_frac":
                if cond.nation is None:
                    return row.get("shortage_frac", 0.0)
                i = ix(cond.nation)
                need = float((month.need_t[i] @ fx.reo_content).sum())
                return float(month.shortage_t_by_sector[i].sum()) / need if need > 0 else 0.0
            case "tariff_frac":
                return float(st.controls.tariff_frac[:, ix(cond.nation), ix(cond.partner)].max())
            case "price_usd_per_kg":
                zone = CHINA_ZONE if cond.nation == "CHN" else OUTSIDE_ZONE
                return float(st.price[zone, ELEMENTS.index(cond.element or "Dy")])
            case "china_share_separation":
                return row.get("china_share_separation", 0.0)
            case _:
                i = ix(cond.nation)
                use = float(st.use_ema[i] @ fx.reo_content)
                return float(m.stockpile_reo_t()[i]) / use * DAYS_PER_MONTH if use > 0 else 0.0
