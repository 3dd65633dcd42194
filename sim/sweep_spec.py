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

import numpy as np

from sim.calendar import is_month, month_index
from sim.errors import ConfigError
from sim.scenarios import named_toml, read_toml
from sim.world import CONFIG_DIR

SWEEP_DIR = CONFIG_DIR / "sweeps"
TOP_KEYS = ("name", "description", "model", "scenario", "until", "design", "samples", "levels",
            "replicates", "seeds", "seed", "check_ranges", "batch_size", "events", "parameters",
            "metrics", "series", "plots")
DESIGNS = ("grid", "lhs", "sobol", "morris")
MODELS = ("reesim", "ishigami")
PARAM_KEYS = ("values", "range", "levels", "scale", "integer", "event", "field")
SCALES = ("linear", "log")
STATS = ("max", "min", "mean", "sum", "last", "first", "at", "argmax")
METRIC_KEYS = ("column", "stat", "month", "from", "to", "scale")
PLOT_KEYS = ("fan", "heatmap")
HEATMAP_KEYS = ("x", "y", "metric")
SPEC_VERSION = 1

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


def sweep_from_dict(data: dict, path: str | Path | None = None) -> SweepSpec:
    """Validate a sweep spec given as a dict (as read from TOML)."""
    where = Path(path) if path else Path("<sweep>")
    if not isinstance(data, dict):
        raise ConfigError(where, "<root>", "a sweep spec is a table of keys")
    for key in data:
        if key not in TOP_KEYS:
            raise ConfigError(where, key, "unknown key", TOP_KEYS)
    model = str(data.get("model", "reesim"))
    if model not in MODELS:
        raise ConfigError(where, "model", f"unknown model '{model}'", MODELS)
    sim = model == "reesim"

    design = data.get("design", "grid")
    if design not in DESIGNS:
        raise ConfigError(where, "design", f"unknown design '{design}'", DESIGNS)
    samples = _int(data.get("samples", 0 if design == "grid" else 64), where, "samples", 0)
    if design != "grid" and samples < 1:
        raise ConfigError(where, "samples", f"design '{design}' needs samples >= 1")
    if design == "sobol" and samples & (samples - 1):
        raise ConfigError(where, "samples", f"Sobol sampling needs a power of two (got {samples})",
                          [2 ** k for k in range(3, 14)])
    seeds = _seeds(data, where)
    check_ranges = data.get("check_ranges", True)
    if not isinstance(check_ranges, bool):
        raise ConfigError(where, "check_ranges", f"not true/false: {check_ranges!r}")
    batch_size = data.get("batch_size")
    if batch_size is not None:
        batch_size = _int(batch_size, where, "batch_size", 1)

    scenario, until, scen = "baseline", None, None
    if sim:
        from sim.scenarios import load_scenario
        scenario = str(data.get("scenario", "baseline"))
        try:
            scen = load_scenario(scenario)
        except ConfigError as err:
            raise ConfigError(where, "scenario", str(err), err.allowed) from None
        until = data.get("until")
        if until is not None:
            until = str(until)
            if not is_month(until):
                raise ConfigError(where, "until", f"'{until}' is not a month YYYY-MM")
            if not month_index(scen.start) <= month_index(until) <= month_index(scen.end):
                raise ConfigError(where, "until", f"{until} is outside the scenario's "
                                  f"{scen.start}..{scen.end}")
    elif "scenario" in data or "until" in data or "events" in data:
        bad = next(k for k in ("scenario", "until", "events") if k in data)
        raise ConfigError(where, bad, f"only the reesim model takes '{bad}'")

    events = data.get("events", {}) or {}
    if not isinstance(events, dict):
        raise ConfigError(where, "events", "a table of named event templates, e.g. [events.quota]")
    params = data.get("parameters", {})
    if not isinstance(params, dict) or not params:
        raise ConfigError(where, "parameters", "at least one swept parameter is needed "
                          "([parameters.NAME] with values or range)")
    parameters = tuple(_parameter(name, raw, where, sim, check_ranges, events, design)
                       for name, raw in params.items())
    if design in ("sobol", "morris") and len(parameters) < 2:
        raise ConfigError(where, "parameters", f"design '{design}' needs two or more parameters")
    reserved = ("run_key", "point", "replicate", "seed", "status", "error", "duration_s",
                "finished_unix", "date")
    for p in parameters:
        if p.name in reserved:
            raise ConfigError(where, f"parameters.{p.name}", "a reserved column name", reserved)
    used = {(p.event, p.field) for p in parameters if p.is_event}
    if len(used) < sum(p.is_event for p in parameters):
        raise ConfigError(where, "parameters", "two parameters set the same event field")

    spec_partial = dict(scenario=scenario, until=until)
    if sim:
        _check_events(events, parameters, where, scen, until)
    metrics = _metrics(data.get("metrics"), where, sim, scen, until)
    for m in metrics:
        if m.name in [p.name for p in parameters]:
            raise ConfigError(where, f"metrics.{m.name}", "a metric may not share a parameter's name")
    series = _series(data.get("series", []), where, sim, scen)
    spec = SweepSpec(
        name=str(data.get("name", where.stem)), description=str(data.get("description", "")).strip(),
        path=str(path) if path else None, model=model, design=design, samples=samples, seeds=seeds,
        parameters=parameters, events=copy.deepcopy(events), metrics=metrics, series=series,
        check_ranges=check_ranges, batch_size=batch_size, plots={}, **spec_partial)
    plots = _plots(data.get("plots", {}), where, spec)
    return SweepSpec(**{**spec.__dict__, "plots": plots})


def _int(value, where: Path, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(where, key, f"needs a whole number >= {minimum} (got {value!r})")
    return value


def _seeds(data: dict, where: Path) -> tuple[int, ...]:
    if "seeds" in data:
        if "replicates" in data:
            raise ConfigError(where, "seeds", "give either seeds (a list) or replicates, not both")
        seeds = data["seeds"]
        if (not isinstance(seeds, list) or not seeds
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
            raise ConfigError(where, "seeds", f"a non-empty list of whole numbers >= 0 (got {seeds!r})")
        if len(set(seeds)) != len(seeds):
            raise ConfigError(where, "seeds", "repeated seed")
        return tuple(seeds)
    n = _int(data.get("replicates", 1), where, "replicates", 1)
    base = _int(data.get("seed", 1), where, "seed", 0)
    return tuple(range(base, base + n))


def _number(x, where: Path, key: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ConfigError(where, key, f"not a number: {x!r}")
    return float(x)


def _parameter(name: str, raw, where: Path, sim: bool, check_ranges: bool, events: dict,
               design: str) -> SweepParameter:
    key = f"parameters.{name}"
    if isinstance(raw, list):
        raw = {"values": raw}
    if not isinstance(raw, dict):
        raise ConfigError(where, key, "a table with values = [...] or range = [low, high]")
    for k in raw:
        if k not in PARAM_KEYS:
            raise ConfigError(where, f"{key}.{k}", "unknown key", PARAM_KEYS)
    event, fld = raw.get("event"), raw.get("field")
    if (event is None) != (fld is None):
        raise ConfigError(where, f"{key}.{'field' if event else 'event'}",
                          "an event parameter needs both event (template name) and field")
    table = None
    if event is not None:
        if event not in events:
            raise ConfigError(where, f"{key}.event", f"no event template '{event}'", sorted(events))
        if not isinstance(fld, str) or fld == "type":
            raise ConfigError(where, f"{key}.field", f"not a settable event field: {fld!r}")
    elif sim:
        from sim.parameters import load_parameter_table
        table = load_parameter_table()
        if name not in table:
            raise ConfigError(where, key, "unknown model parameter (an event parameter needs "
                              "event and field)", sorted(table))
    scale = raw.get("scale", "linear")
    if scale not in SCALES:
        raise ConfigError(where, f"{key}.scale", f"unknown scale '{scale}'", SCALES)
    integer = raw.get("integer", False)
    if not isinstance(integer, bool):
        raise ConfigError(where, f"{key}.integer", f"not true/false: {integer!r}")
    levels = _int(raw.get("levels", 3), where, f"{key}.levels", 1)
    values = low = high = None
    if "values" in raw:
        if "range" in raw:
            raise ConfigError(where, f"{key}.values", "give either values or range, not both")
        values = raw["values"]
        if not isinstance(values, list) or not values:
            raise ConfigError(where, f"{key}.values", "a non-empty list")
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise ConfigError(where, f"{key}.values", "repeated value")
        if table is not None:
            values = [_number(v, where, f"{key}.values[{i}]") for i, v in enumerate(values)]
        values = tuple(values)
        if design in ("sobol", "morris") and not all(isinstance(v, (int, float)) for v in values):
            raise ConfigError(where, f"{key}.values", f"design '{design}' needs numbers")
    else:
        rng = raw.get("range")
        if rng is None and table is not None:
            rng = [table[name].min, table[name].max]
        if not isinstance(rng, list) or len(rng) != 2:
            raise ConfigError(where, f"{key}.range", f"[low, high] is needed (got {rng!r})")
        low, high = (_number(v, where, f"{key}.range[{i}]") for i, v in enumerate(rng))
        if not low < high:
            raise ConfigError(where, f"{key}.range", f"low {low} is not below high {high}")
        if scale == "log" and low <= 0:
            raise ConfigError(where, f"{key}.range", "a log scale needs a positive low end")
    if table is not None and check_ranges:
        p = table[name]
        for i, v in enumerate(values if values is not None else (low, high)):
            if not p.min <= float(v) <= p.max:
                sub = f"values[{i}]" if values is not None else f"range[{i}]"
                raise ConfigError(where, f"{key}.{sub}", f"{v} outside the parameter's range "
                                  f"[{p.min}, {p.max}] {p.unit} (set check_ranges = false to let "
                                  "the model refuse it run by run)")
    return SweepParameter(name=name, values=values, low=low, high=high, levels=levels, scale=scale,
                          integer=integer, event=event, field=fld)


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
    corners = [{}]
    for p in parameters:
        if p.is_event:
            ends = list(p.values) if p.values is not None else [p.low, p.high]
            ends = [_as_number(v, p.integer) if isinstance(v, (int, float)) else v for v in ends]
            corners = [{**c, p.name: v} for c in corners for v in (ends[0], ends[-1])]
    base = scen.to_dict()
    base.pop("path")
    base["world"] = scen.world_dir.name
    if until:
        base["end"] = until
    n_base = len(base["events"])
    for values in corners[:64]:
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


def _metrics(raw, where: Path, sim: bool, scen, until: str | None) -> tuple[Metric, ...]:
    if raw is None:
        if not sim:
            raise ConfigError(where, "metrics", "name at least one metric ([metrics.NAME] column = ...)")
        raw = DEFAULT_METRICS
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(where, "metrics", "a table of named metrics, e.g. "
                          "[metrics.peak_dy] column = 'price_Dy_usd_per_kg', stat = 'max'")
    cols = _columns(scen) if sim else None
    lo = month_index(scen.start) if sim else None
    hi = month_index(until or scen.end) if sim else None
    out = []
    for name, m in raw.items():
        key = f"metrics.{name}"
        if isinstance(m, str):
            m = {"column": m, "stat": "last"}
        if not isinstance(m, dict):
            raise ConfigError(where, key, "a table with column and stat (top-level keys such as "
                              "series must come before the first [table] in TOML)")
        for k in m:
            if k not in METRIC_KEYS:
                raise ConfigError(where, f"{key}.{k}", "unknown key", METRIC_KEYS)
        column = m.get("column")
        if not isinstance(column, str):
            raise ConfigError(where, f"{key}.column", "needs the name of a model series")
        if cols is not None and (column not in cols or column == "date"):
            raise ConfigError(where, f"{key}.column", f"unknown series '{column}'",
                              [c for c in cols if c != "date"])
        stat = m.get("stat", "max")
        if stat not in STATS:
            raise ConfigError(where, f"{key}.stat", f"unknown stat '{stat}'", STATS)
        months = {}
        for k in ("month", "from", "to"):
            if k in m:
                v = str(m[k])
                if not sim:
                    raise ConfigError(where, f"{key}.{k}", "months apply only to the reesim model")
                if not is_month(v):
                    raise ConfigError(where, f"{key}.{k}", f"'{v}' is not a month YYYY-MM")
                if not lo <= month_index(v) <= hi:
                    raise ConfigError(where, f"{key}.{k}", f"{v} is outside the runs "
                                      f"{scen.start}..{until or scen.end}")
                months[k] = v
        if stat == "at" and "month" not in months:
            raise ConfigError(where, f"{key}.month", "stat 'at' needs a month")
        if stat != "at" and "month" in months:
            raise ConfigError(where, f"{key}.month", "month goes with stat = 'at' (use from/to for a window)")
        if "from" in months and "to" in months and months["to"] < months["from"]:
            raise ConfigError(where, f"{key}.to", "window ends before it starts")
        scale = _number(m.get("scale", 1.0), where, f"{key}.scale")
        out.append(Metric(name=name, column=column, stat=stat, month=months.get("month"),
                          start=months.get("from"), end=months.get("to"), scale=scale))
    return tuple(out)


def _series(raw, where: Path, sim: bool, scen) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise ConfigError(where, "series", "a list of model series names")
    if raw and not sim:
        raise ConfigError(where, "series", "monthly series apply only to the reesim model")
    cols = _columns(scen) if raw else []
    for i, c in enumerate(raw):
        if c not in cols or c == "date":
            raise ConfigError(where, f"series[{i}]", f"unknown series '{c}'", [x for x in cols if x != "date"])
    if len(set(raw)) != len(raw):
        raise ConfigError(where, "series", "repeated series")
    return tuple(raw)


def _plots(raw, where: Path, spec: SweepSpec) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(where, "plots", "a table with fan = [...] and heatmap = {x, y, metric}")
    for k in raw:
        if k not in PLOT_KEYS:
            raise ConfigError(where, f"plots.{k}", "unknown key", PLOT_KEYS)
    fan = raw.get("fan", list(spec.series))
    if not isinstance(fan, list):
        raise ConfigError(where, "plots.fan", "a list of kept series")
    for i, c in enumerate(fan):
        if c not in spec.series:
            raise ConfigError(where, f"plots.fan[{i}]", f"'{c}' is not a kept series", spec.series)
    heat = raw.get("heatmap")
    names = spec.parameter_names
    metric_names = [m.name for m in spec.metrics]
    heatmaps = []
    for i, h in enumerate([heat] if isinstance(heat, dict) else (heat or [])):
        key = f"plots.heatmap" if isinstance(heat, dict) else f"plots.heatmap[{i}]"
        if not isinstance(h, dict):
            raise ConfigError(where, key, "a table {x, y, metric}")
        for k in h:
            if k not in HEATMAP_KEYS:
                raise ConfigError(where, f"{key}.{k}", "unknown key", HEATMAP_KEYS)
        for k, allowed in (("x", names), ("y", names), ("metric", metric_names)):
            if h.get(k) not in allowed:
                raise ConfigError(where, f"{key}.{k}", f"unknown {k} {h.get(k)!r}", allowed)
        if h["x"] == h["y"]:
            raise ConfigError(where, f"{key}.y", "x and y must be two different parameters")
        heatmaps.append({"x": h["x"], "y": h["y"], "metric": h["metric"]})
    if heat is None and spec.design == "grid" and len(names) >= 2:
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
