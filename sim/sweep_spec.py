"""Sweep specs (``configs/sweeps/*.toml``): schema, validation and the experimental design.

A sweep spec names the scenario every run starts from, the parameters to vary
(model parameters from ``configs/parameters.csv`` or *event parameters*: one
field of a templated policy event), a design (full grid, Latin hypercube,
Sobol/Saltelli, Morris), replicates (seeds) and what to keep of each run
(summary metrics, optionally monthly series). Every key is checked before any
run; a bad key is a :class:`~sim.errors.ConfigError` naming the file, the key
path and the allowed values. Nothing in a spec is executed.

The design is pure: :func:`design_points` turns a spec into a list of
parameter dicts, :func:`plan_runs` crosses them with the seeds and keys every
run by a hash of what determines its result.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import re
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.calendar import check_month, month_index
from sim.errors import Allowed, ConfigError, from_validation_error
from sim.policy_events import STRICT
from sim.scenarios import named_toml, read_toml
from sim.world import CONFIG_DIR

SWEEP_DIR = CONFIG_DIR / "sweeps"
DESIGNS = ("grid", "lhs", "sobol", "morris")
STATS = ("max", "min", "mean", "sum", "last", "first", "at", "argmax")
SPEC_VERSION = 1
#: A sweep's name names its folder under out/sweeps/: a plain name, never a path.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
NAME_ALLOWED = ["letters, digits, '_', '-' and '.' (no '/', no '..'), starting with a letter or digit"]
RESERVED = ("run_key", "point", "replicate", "seed", "status", "error", "duration_s", "finished_unix", "date")

#: Summary metrics kept when a spec of the simulator names none.
DEFAULT_METRICS: dict[str, dict] = {
    "peak_price_Dy_usd_per_kg": {"column": "price_Dy_usd_per_kg", "stat": "max"},
    "peak_price_Nd_usd_per_kg": {"column": "price_Nd_usd_per_kg", "stat": "max"},
    "cum_shortage_USA_t": {"column": "shortage_USA_t", "stat": "sum"},
    "cum_shortage_t": {"column": "shortage_t", "stat": "sum"},
    "china_share_separation_end": {"column": "china_share_separation", "stat": "last"},
    "central_asia_mine_output_end_t": {"column": "central_asia_mine_output_t", "stat": "last"},
}


@dataclass(frozen=True)
class SweepParameter:
    """One swept input.

    Args:
        name: the parameter's name (a model parameter, or a label for an event field).
        values: explicit values (grid levels, or categories for sampling designs).
        low, high: the range when no explicit values are given.
        levels: grid levels drawn from the range.
        scale: ``linear`` or ``log`` spacing/sampling of the range.
        integer: round sampled values to whole numbers (months, counts).
        event: name of the event template this parameter sets (None: a model parameter).
        field: the event field it sets.
    """

    name: str
    values: tuple | None = None
    low: float | None = None
    high: float | None = None
    levels: int = 3
    scale: str = "linear"
    integer: bool = False
    event: str | None = None
    field: str | None = None

    @property
    def is_event(self) -> bool:
        return self.event is not None

    def from_unit(self, u: np.ndarray) -> list:
        """Map points of [0, 1] onto the parameter (uniform, log-uniform or categorical)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.values is not None:
            idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self.values[i] for i in idx]
        lo, hi = float(self.low), float(self.high)
        if self.scale == "log":
            x = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
        else:
            x = lo + u * (hi - lo)
        return [_as_number(v, self.integer) for v in x]

    def grid(self) -> list:
        """Grid levels: the explicit values, or ``levels`` evenly spaced points of the range."""
        if self.values is not None:
            return list(self.values)
        if self.levels == 1:
            return [_as_number((self.low + self.high) / 2, self.integer)]
        return self.from_unit(np.linspace(0.0, 1.0, self.levels))


def _as_number(x: float, integer: bool):
    return int(round(float(x))) if integer else float(x)


@dataclass(frozen=True)
class Metric:
    """A summary of one monthly series: ``stat`` of ``column`` (optionally within from..to)."""

    name: str
    column: str
    stat: str = "max"
    month: str | None = None
    start: str | None = None
    end: str | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep."""

    name: str
    description: str
    path: str | None
    model: str
    scenario: str
    until: str | None
    design: str
    samples: int
    seeds: tuple[int, ...]
    parameters: tuple[SweepParameter, ...]
    events: dict = field(default_factory=dict)
    metrics: tuple[Metric, ...] = ()
    series: tuple[str, ...] = ()
    check_ranges: bool = True
    batch_size: int | None = None
    plots: dict = field(default_factory=dict)

    @property
    def parameter_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def to_dict(self) -> dict:
        """The resolved spec as plain JSON-able data (written beside the results)."""
        d = asdict(self)
        d["spec_version"] = SPEC_VERSION
        return json.loads(json.dumps(d, default=list))

    def fingerprint(self) -> str:
        """Hash of everything that decides which runs the sweep holds (not its name or path)."""
        d = self.to_dict()
        for k in ("name", "description", "path", "batch_size", "plots"):
            d.pop(k, None)
        return _hash(d)[:16]

    def salib_problem(self) -> dict:
        """The SALib problem, in unit coordinates (indices do not depend on the scale)."""
        return {"num_vars": len(self.parameters), "names": self.parameter_names,
                "bounds": [[0.0, 1.0]] * len(self.parameters)}


@dataclass(frozen=True)
class RunPlan:
    """One run: a design point and a seed, keyed by a hash of what decides its result."""

    key: str
    point: int
    replicate: int
    seed: int
    params: dict


def _hash(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------- loading
def sweep_path(name_or_path: str | Path) -> Path:
    """A spec name from ``configs/sweeps`` or a path to a TOML file."""
    return named_toml(name_or_path, SWEEP_DIR, "sweep")


def load_sweep_spec(name_or_path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec."""
    path = sweep_path(name_or_path)
    return sweep_from_dict(read_toml(path), path)


class ParameterSpec(BaseModel):
    """``[parameters.NAME]``: explicit values or a range, optionally one field of an event template."""

    model_config = STRICT
    values: list[Any] | None = Field(None, min_length=1)
    range: list[Any] | None = None
    levels: int = Field(3, ge=1)
    scale: Literal["linear", "log"] = "linear"
    integer: bool = False
    event: str | None = None
    field: str | None = None


class MetricSpec(BaseModel):
    """``[metrics.NAME]``: ``stat`` of one monthly series, optionally at a month or within from..to."""

    model_config = ConfigDict(**STRICT, populate_by_name=True)
    column: str
    stat: Literal["max", "min", "mean", "sum", "last", "first", "at", "argmax"] = "max"
    month: str | None = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    scale: float = 1.0

    @field_validator("month", "from_", "to")
    @classmethod
    def _month(cls, v: str | None) -> str | None:
        return v if v is None else check_month(v)


class HeatmapSpec(BaseModel):
    model_config = STRICT
    x: str
    y: str
    metric: str


class PlotsSpec(BaseModel):
    model_config = STRICT
    fan: list[str] | None = None
    heatmap: list[HeatmapSpec] | None = None

    @field_validator("heatmap", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, dict) else v


class SweepFile(BaseModel):
    """The keys of a sweep spec; cross-checks (names, ranges, months, plots) follow in code."""

    model_config = STRICT
    name: str | None = None
    description: str = ""
    model: Literal["reesim", "ishigami"] = "reesim"
    scenario: str | None = None
    until: str | None = None
    design: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    samples: int | None = Field(None, ge=1)
    levels: int | None = Field(None, ge=1)
    replicates: int | None = Field(None, ge=1)
    seeds: list[Annotated[int, Field(ge=0)]] | None = Field(None, min_length=1)
    seed: int = Field(1, ge=0)
    check_ranges: bool = True
    batch_size: int | None = Field(None, ge=1)
    events: dict[str, dict[str, Any]] = {}
    parameters: dict[str, ParameterSpec] = Field(min_length=1)
    metrics: dict[str, MetricSpec] | None = Field(None, min_length=1)
    series: list[str] = []
    plots: PlotsSpec = PlotsSpec()

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str | None) -> str | None:
        """The name becomes a folder under out/sweeps/: no path separators, no '..'."""
        if v is not None and not SAFE_NAME.fullmatch(v):
            raise Allowed(f"{v!r} is not a plain name", NAME_ALLOWED)
        return v

    @field_validator("until")
    @classmethod
    def _month(cls, v: str | None) -> str | None:
        return v if v is None else check_month(v)

    @field_validator("parameters", mode="before")
    @classmethod
    def _values_shorthand(cls, v):
        """``NAME = [..]`` is short for ``[parameters.NAME] values = [..]``."""
        return {k: {"values": x} if isinstance(x, list) else x for k, x in v.items()} if isinstance(v, dict) else v

    @field_validator("metrics", mode="before")
    @classmethod
    def _column_shorthand(cls, v):
        """``NAME = "column"`` is short for the column's last value."""
        return ({k: {"column": x, "stat": "last"} if isinstance(x, str) else x for k, x in v.items()}
                if isinstance(v, dict) else v)

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and len(set(v)) != len(v):
            raise Allowed("repeated seed", ["distinct whole numbers >= 0"])
        return v


TOP_KEYS = tuple(SweepFile.model_fields)


def sweep_from_dict(data: dict, path: str | Path | None = None) -> SweepSpec:
    """Validate a sweep spec given as a dict (as read from TOML)."""
    where = Path(path) if path else Path("<sweep>")
    if not isinstance(data, dict):
        raise ConfigError(where, "<root>", "a sweep spec is a table of keys", TOP_KEYS)
    try:
        raw = SweepFile.model_validate(data)
    except ValidationError as err:
        raise _located(from_validation_error(err, where, model=SweepFile)) from None
    if raw.seeds is not None and raw.replicates is not None:
        raise ConfigError(where, "seeds", "give either seeds (a list) or replicates, not both",
                          ["seeds", "replicates"])
    sim = raw.model == "reesim"
    design = raw.design
    samples = raw.samples if raw.samples is not None else (0 if design == "grid" else 64)
    if design == "sobol" and samples & (samples - 1):
        raise ConfigError(where, "samples", f"Sobol sampling needs a power of two (got {samples})",
                          [2 ** k for k in range(3, 14)])
    seeds = tuple(raw.seeds) if raw.seeds is not None else tuple(
        range(raw.seed, raw.seed + (raw.replicates or 1)))

    scenario, until, scen = "baseline", None, None
    if sim:
        from sim.scenarios import load_scenario, run_end
        scenario = raw.scenario or "baseline"
        try:
            scen = load_scenario(scenario)
        except ConfigError as err:
            raise ConfigError(where, "scenario", str(err), err.allowed) from None
        until = None if raw.until is None else run_end(scen, raw.until, where)
    else:
        bad = next((k for k in ("scenario", "until", "events", "series") if data.get(k)), None)
        if bad:
            raise ConfigError(where, bad, f"only the reesim model takes '{bad}'", ["model = 'reesim'"])

    events = raw.events
    parameters = tuple(_parameter(name, p, where, sim, raw.check_ranges, events, design)
                       for name, p in raw.parameters.items())
    if design in ("sobol", "morris") and len(parameters) < 2:
        raise ConfigError(where, "parameters", f"design '{design}' needs two or more parameters",
                          ["two or more [parameters.NAME] tables"])
    for p in parameters:
        if p.name in RESERVED:
            raise ConfigError(where, f"parameters.{p.name}", "a reserved column name; allowed: any other name",
                              RESERVED)
    used = {(p.event, p.field) for p in parameters if p.is_event}
    if len(used) < sum(p.is_event for p in parameters):
        raise ConfigError(where, "parameters", "two parameters set the same event field",
                          ["one parameter per (event, field)"])
    if sim:
        _check_events(events, parameters, where, scen, until)
    metrics = _metrics(raw.metrics, where, sim, scen, until)
    for m in metrics:
        if m.name in [p.name for p in parameters]:
            raise ConfigError(where, f"metrics.{m.name}", "a metric may not share a parameter's name",
                              ["a name no parameter has"])
    series = _series(raw.series, where, sim, scen)
    spec = SweepSpec(
        name=raw.name if raw.name is not None else where.stem, description=raw.description.strip(),
        path=str(path) if path else None, model=raw.model, design=design, samples=samples, seeds=seeds,
        parameters=parameters, events=copy.deepcopy(events), metrics=metrics, series=series,
        check_ranges=raw.check_ranges, batch_size=raw.batch_size, plots={}, scenario=scenario, until=until)
    plots = _plots(raw.plots, where, spec)
    return SweepSpec(**{**spec.__dict__, "plots": plots})


def _located(err: ConfigError) -> ConfigError:
    """Pydantic's alias ``from_`` shown as the key users write, ``from``."""
    if err.key_path.endswith(".from_"):
        err.key_path = err.key_path[:-1]
        err.args = (str(err).replace(".from_:", ".from:"),)
    return err


def _number(x, where: Path, key: str, allowed: list[str]) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ConfigError(where, key, f"not a finite number: {x!r}", allowed)
    return float(x)


def _parameter(name: str, raw: ParameterSpec, where: Path, sim: bool, check_ranges: bool, events: dict,
               design: str) -> SweepParameter:
    key = f"parameters.{name}"
    event, fld = raw.event, raw.field
    if (event is None) != (fld is None):
        raise ConfigError(where, f"{key}.{'field' if event else 'event'}",
                          "an event parameter needs both event (template name) and field",
                          ["event = TEMPLATE and field = FIELD together"])
    table = None
    if event is not None:
        if event not in events:
            raise ConfigError(where, f"{key}.event", f"no event template '{event}'",
                              sorted(events) or ["an [events.NAME] template (none defined)"])
        if fld == "type":
            raise ConfigError(where, f"{key}.field", "the type of an event cannot be swept",
                              ["any field of the template but type"])
    elif sim:
        from sim.parameters import load_parameter_table
        table = load_parameter_table()
        if name not in table:
            raise ConfigError(where, key, "unknown model parameter (an event parameter needs "
                              "event and field)", sorted(table))
    span = ([f"[{table[name].min}, {table[name].max}] {table[name].unit}"] if table is not None
            else ["a finite number"])
    values = low = high = None
    if raw.values is not None:
        if raw.range is not None:
            raise ConfigError(where, f"{key}.values", "give either values or range, not both",
                              ["values", "range"])
        values = raw.values
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise ConfigError(where, f"{key}.values", "repeated value", ["distinct values"])
        if table is not None:
            values = [_number(v, where, f"{key}.values[{i}]", span) for i, v in enumerate(values)]
        values = tuple(values)
        if design in ("sobol", "morris") and not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise ConfigError(where, f"{key}.values", f"design '{design}' needs numbers", span)
    else:
        rng = raw.range
        if rng is None and table is not None:
            rng = [table[name].min, table[name].max]
        if not isinstance(rng, list) or len(rng) != 2:
            raise ConfigError(where, f"{key}.range", f"two numbers are needed (got {rng!r})",
                              ["[low, high]", *span])
        low, high = (_number(v, where, f"{key}.range[{i}]", span) for i, v in enumerate(rng))
        if not low < high:
            raise ConfigError(where, f"{key}.range", f"low {low} is not below high {high}", ["low < high"])
        if raw.scale == "log" and low <= 0:
            raise ConfigError(where, f"{key}.range", "a log scale needs a positive low end",
                              ["low > 0 (positive)"])
    if table is not None and check_ranges:
        p = table[name]
        for i, v in enumerate(values if values is not None else (low, high)):
            if not p.min <= float(v) <= p.max:
                sub = f"values[{i}]" if values is not None else f"range[{i}]"
                raise ConfigError(where, f"{key}.{sub}", f"{v} outside the parameter's range (set "
                                  "check_ranges = false to let the model refuse it run by run)", span)
    return SweepParameter(name=name, values=values, low=low, high=high, levels=raw.levels, scale=raw.scale,
                          integer=raw.integer, event=event, field=fld)


def event_list(events: dict, parameters: tuple[SweepParameter, ...], values: dict) -> list[dict]:
    """The extra events of one run: every template with its swept fields filled in."""
    out = {name: dict(t) for name, t in events.items()}
    for p in parameters:
        if p.is_event:
            out[p.event][p.field] = values[p.name]
    return [out[name] for name in events]


def _check_events(events: dict, parameters, where: Path, scen, until: str | None) -> None:
    """Validate each template, with every swept field at both ends of its range."""
    from sim.scenarios import scenario_from_dict
    names = list(events)
    for name, t in events.items():
        if not isinstance(t, dict):
            raise ConfigError(where, f"events.{name}", "an event template is a table")
    def levels(p: SweepParameter) -> list:
        every = list(p.values) if p.values is not None else [p.low, p.high]
        return [_as_number(v, p.integer) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
                for v in every]

    swept = [p for p in parameters if p.is_event]
    corners = [{}]
    for p in swept:                                  # every corner of the swept ranges ...
        corners = [{**c, p.name: v} for c in corners for v in (levels(p)[0], levels(p)[-1])]
    first = {p.name: levels(p)[0] for p in swept}
    corners = corners[:64] + [{**first, p.name: v} for p in swept for v in levels(p)]  # ... and every value
    base = scen.to_dict()
    base.pop("path")
    base["world"] = scen.world_dir.name
    if until:
        base["end"] = until
    n_base = len(base["events"])
    for values in corners:
        merged = dict(base, events=base["events"] + event_list(events, parameters, values))
        try:
            scenario_from_dict(merged, where)
        except ConfigError as err:
            key = err.key_path
            if key.startswith("events[") and "]" in key:
                i = int(key[7:key.index("]")]) - n_base
                if 0 <= i < len(names):
                    key = f"events.{names[i]}{key[key.index(']') + 1:]}"
            msg = str(err).split(": ", 2)[-1].rsplit(" (allowed:", 1)[0]
            swept = {k: v for k, v in values.items()}
            if swept:
                msg += f" (with swept values {swept})"
            raise ConfigError(where, key, msg, err.allowed) from None


def _columns(scen) -> list[str]:
    from sim.recording import column_names
    from sim.world import load_world
    return column_names(load_world(scen.world_dir).nations)


def _metrics(raw: dict[str, MetricSpec] | None, where: Path, sim: bool, scen, until: str | None
             ) -> tuple[Metric, ...]:
    if raw is None:
        if not sim:
            raise ConfigError(where, "metrics", "name at least one metric",
                              ["[metrics.NAME] column = ..., stat = ..."])
        raw = {k: MetricSpec.model_validate(v) for k, v in DEFAULT_METRICS.items()}
    cols = [c for c in _columns(scen) if c != "date"] if sim else None
    lo = month_index(scen.start) if sim else None
    hi = month_index(until or scen.end) if sim else None
    out = []
    for name, m in raw.items():
        key = f"metrics.{name}"
        if cols is not None and m.column not in cols:
            raise ConfigError(where, f"{key}.column", f"unknown series '{m.column}'", cols)
        months = {"month": m.month, "from": m.from_, "to": m.to}
        for k, v in months.items():
            if v is None:
                continue
            if not sim:
                raise ConfigError(where, f"{key}.{k}", "months apply only to the reesim model",
                                  ["model = 'reesim'"])
            if not lo <= month_index(v) <= hi:
                raise ConfigError(where, f"{key}.{k}", f"{v} is outside the runs",
                                  [f"{scen.start}..{until or scen.end}"])
        if m.stat == "at" and m.month is None:
            raise ConfigError(where, f"{key}.month", "stat 'at' needs a month", ["YYYY-MM within the runs"])
        if m.stat != "at" and m.month is not None:
            raise ConfigError(where, f"{key}.month", "month goes with stat = 'at' (use from/to for a window)",
                              ["from", "to"])
        if m.from_ and m.to and m.to < m.from_:
            raise ConfigError(where, f"{key}.to", "window ends before it starts", [f"a month from {m.from_}"])
        out.append(Metric(name=name, column=m.column, stat=m.stat, month=m.month, start=m.from_,
                          end=m.to, scale=float(m.scale)))
    return tuple(out)


def _series(raw: list[str], where: Path, sim: bool, scen) -> tuple[str, ...]:
    cols = [c for c in _columns(scen) if c != "date"] if raw else []
    for i, c in enumerate(raw):
        if c not in cols:
            raise ConfigError(where, f"series[{i}]", f"unknown series '{c}'", cols)
    if len(set(raw)) != len(raw):
        raise ConfigError(where, "series", "repeated series", ["distinct series names"])
    return tuple(raw)


def _plots(raw: PlotsSpec, where: Path, spec: SweepSpec) -> dict:
    fan = raw.fan if raw.fan is not None else list(spec.series)
    for i, c in enumerate(fan):
        if c not in spec.series:
            raise ConfigError(where, f"plots.fan[{i}]", f"'{c}' is not a kept series",
                              spec.series or ["a name from series = [...] (none kept)"])
    names = spec.parameter_names
    metric_names = [m.name for m in spec.metrics]
    heatmaps = []
    for i, h in enumerate(raw.heatmap or []):
        key = "plots.heatmap" if len(raw.heatmap) == 1 else f"plots.heatmap[{i}]"
        for k, allowed in (("x", names), ("y", names), ("metric", metric_names)):
            if getattr(h, k) not in allowed:
                raise ConfigError(where, f"{key}.{k}", f"unknown {k} {getattr(h, k)!r}", allowed)
        if h.x == h.y:
            raise ConfigError(where, f"{key}.y", "x and y must be two different parameters",
                              [n for n in names if n != h.x])
        heatmaps.append({"x": h.x, "y": h.y, "metric": h.metric})
    if raw.heatmap is None and spec.design == "grid" and len(names) >= 2:
        heatmaps = [{"x": names[0], "y": names[1], "metric": metric_names[0]}]
    return {"fan": list(fan), "heatmap": heatmaps}


# ---------------------------------------------------------------------- design
def unit_samples(spec: SweepSpec) -> np.ndarray | None:
    """The design in unit coordinates (rows = points), or None for a grid."""
    d = len(spec.parameters)
    seed = spec.seeds[0]
    if spec.design == "grid":
        return None
    if spec.design == "lhs":
        from scipy.stats import qmc
        return qmc.LatinHypercube(d=d, seed=seed).random(spec.samples)
    if spec.design == "sobol":
        from SALib.sample import sobol
        return sobol.sample(spec.salib_problem(), spec.samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris
    return morris.sample(spec.salib_problem(), spec.samples, num_levels=4, seed=seed)


def design_points(spec: SweepSpec) -> list[dict]:
    """Every design point as {parameter name: value}, in design order."""
    if spec.design == "grid":
        axes = [p.grid() for p in spec.parameters]
        return [dict(zip(spec.parameter_names, combo)) for combo in itertools.product(*axes)]
    u = unit_samples(spec)
    cols = [p.from_unit(u[:, j]) for j, p in enumerate(spec.parameters)]
    return [dict(zip(spec.parameter_names, row)) for row in zip(*cols)]


def run_key(spec: SweepSpec, params: dict, seed: int) -> str:
    """Hash of (model, scenario, window, events, parameters, seed): equal keys, equal results."""
    ident = {"model": spec.model, "seed": int(seed), "params": params}
    if spec.model == "reesim":
        ident.update(scenario=spec.scenario, until=spec.until,
                     events=event_list(spec.events, spec.parameters, params))
        ident["params"] = {k: v for k, v in params.items()
                           if not next(p for p in spec.parameters if p.name == k).is_event}
    return _hash(ident)[:20]


def plan_runs(spec: SweepSpec) -> list[RunPlan]:
    """Every run of the sweep: each design point with each seed (common seeds across points)."""
    plans, seen = [], set()
    for i, params in enumerate(design_points(spec)):
        for r, seed in enumerate(spec.seeds):
            key = run_key(spec, params, seed)
            if key in seen:   # Morris/grid designs can repeat a point; run it once
                key = f"{key}-{i}"
            seen.add(key)
            plans.append(RunPlan(key=key, point=i, replicate=r, seed=seed, params=params))
    return plans
