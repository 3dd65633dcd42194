"""One browser session's run, without widgets: model, baseline, shocks, undo and exports.

The Solara components in :mod:`sim.ui.app` hold one :class:`SimSession` per browser session and call
its methods; everything here is plain Python, tested without a browser.

* Scenarios are read only from configs/scenarios (by name) or from files the user uploaded in this
  session (:meth:`SimSession.add_upload`); any other name is refused.
* The baseline (the scenario with the table's values, no levers and no shocks) is run once per
  (scenario, seed) in the process and kept in a small bounded cache.
* Shocks are validated with the scenario files' own rules (:func:`sim.scenarios.scenario_from_dict`)
  before they reach the model; a refused shock changes nothing. Undo rebuilds the run and replays
  the remaining shocks at the steps they were made, so the result is the same as never having made
  the last one.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import tomllib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ConfigError
from sim.ui.levers import UPLOAD_PREFIX, Levers, shipped_scenarios, shown_name

REPO = Path(__file__).resolve().parents[2]
BASELINE_CACHE_SIZE = 8
_baseline_cache: OrderedDict = OrderedDict()
_baseline_lock = threading.Lock()


class RefusedInput(ValueError):
    """Input from the page that is not used (unknown scenario, bad shock); the message says why."""


def public_message(err: BaseException) -> str:
    """An error's text without server paths (the repository folder is cut from it)."""
    text = str(err)
    for prefix in (str(REPO) + "/", str(REPO)):
        text = text.replace(prefix, "")
    return text


def resolve_scenario(name: str, uploads: dict | None = None):
    """A shipped scenario name (loaded from configs/scenarios) or this session's uploaded Scenario.

    Raises:
        RefusedInput: any other name (a path, a file elsewhere): nothing is read.
    """
    from sim.scenarios import SCENARIO_DIR, load_scenario
    uploads = uploads or {}
    if name in uploads:
        return uploads[name]
    if name in shipped_scenarios():
        return load_scenario(SCENARIO_DIR / f"{name}.toml")
    raise RefusedInput(f"scenario {shown_name(name)} is not a shipped scenario or an upload of this session "
                       f"(allowed: {', '.join(sorted([*shipped_scenarios(), *uploads]))})")


def parse_upload(filename: str, content: bytes):
    """Validate an uploaded scenario file; returns (name shown in the picker, Scenario).

    The file may only use a world shipped in configs/ (no other folder is read).
    """
    from sim.scenarios import scenario_from_dict
    from sim.world import CONFIG_DIR
    label = Path(str(filename)).name[:80] or "upload.toml"
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(label, "<toml>", f"not valid TOML: {err}") from None
    worlds = sorted(p.name for p in CONFIG_DIR.iterdir() if (p / "nations.csv").is_file())
    if str(data.get("world", "world")) not in worlds:
        raise ConfigError(label, "world", f"unknown world '{str(data.get('world'))[:60]}'", worlds)
    scenario = scenario_from_dict(data, Path(label))
    return UPLOAD_PREFIX + str(data.get("name", Path(label).stem))[:60], scenario


def _cache_key(scenario, seed: int) -> tuple:
    if isinstance(scenario, str):
        return (scenario, seed)
    blob = json.dumps(scenario.to_dict(), sort_keys=True, default=str).encode()
    return (hashlib.sha256(blob).hexdigest(), seed)


def baseline_frame(scenario, seed: int) -> pd.DataFrame:
    """Monthly series of the scenario's baseline (no levers, no shocks) over its whole horizon.

    Run once per (scenario, seed) in this process; the last :data:`BASELINE_CACHE_SIZE` are kept.
    """
    from sim.model import RareEarthModel
    key = _cache_key(scenario, seed)
    with _baseline_lock:
        if key in _baseline_cache:
            _baseline_cache.move_to_end(key)
            return _baseline_cache[key]
    model = RareEarthModel(scenario, seed=seed, keep_flows=False)
    model.run()
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    with _baseline_lock:
        _baseline_cache[key] = frame
        while len(_baseline_cache) > BASELINE_CACHE_SIZE:
            _baseline_cache.popitem(last=False)
    return frame


def build_model(levers: Levers, uploads: dict | None = None, until: str | None = None):
    """A fresh model for ``levers`` (scenario resolved with :func:`resolve_scenario`)."""
    from sim.model import RareEarthModel
    scenario = resolve_scenario(levers.scenario, uploads)
    return RareEarthModel(scenario, seed=levers.seed, until=until, **levers.overrides())


def validate_shock(model, event: dict) -> dict:
    """The event checked by the scenario files' rules for this run's world and months; returns it with ``at``.

    Raises:
        ConfigError: naming ``shock`` as the file, the key path and the allowed values.
    """
    from sim.calendar import add_months
    from sim.scenarios import scenario_from_dict
    spec = model.spec
    ev = {k: v for k, v in event.items() if v is not None}
    ev.setdefault("at", add_months(model.current_month(), 1))
    scenario_from_dict({"world": spec.world_dir.name, "start": spec.start, "end": spec.end,
                        "events": [ev]}, Path("shock"))
    return ev


@dataclass(frozen=True)
class AppliedShock:
    """A shock made during the run: at which model step, the event (with its month), its label."""

    step: int
    event: dict
    label: str


def toml_value(v) -> str:
    """A TOML literal for the scalars and lists that events and parameters hold."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


@dataclass
class SimSession:
    """One browser session's run. Every mutation holds ``lock`` (the play loop runs in a thread)."""

    levers: Levers = field(default_factory=Levers)
    uploads: dict = field(default_factory=dict)
    model: object = None
    baseline: pd.DataFrame | None = None
    shocks: list = field(default_factory=list)
    frame_ms: float = 0.0
    version: int = 0          # changes on every step, reset, shock and undo
    epoch: int = 0            # changes when the run's structure changes (reset, shock, undo): charts rebuild
    lock: threading.RLock = field(default_factory=threading.RLock)
    _frame: pd.DataFrame | None = field(default=None, repr=False)
    _frame_key: tuple = field(default=(), repr=False)
    _baseline_columns: tuple = field(default=(None, {}), repr=False)

    # -- run
    def reset(self, levers: Levers | None = None) -> None:
        """A new run from the scenario's start with ``levers`` (or the current ones); shocks cleared.

        Raises:
            RefusedInput: an unknown scenario; the current run is kept.
        """
        levers = levers or self.levers
        scenario = resolve_scenario(levers.scenario, self.uploads)
        baseline = baseline_frame(scenario if levers.scenario in self.uploads else levers.scenario, levers.seed)
        model = build_model(levers, self.uploads)
        with self.lock:
            self.levers, self.model, self.baseline, self.shocks = levers, model, baseline, []
            self.version += 1
            self.epoch += 1

    @property
    def running(self) -> bool:
        return self.model is not None and bool(self.model.running)

    @property
    def last_shock_month(self) -> str | None:
        return self.shocks[-1].event["at"] if self.shocks else None

    def step(self, months: int = 1) -> None:
        with self.lock:
            t0 = time.perf_counter()
            self.model.run_for(months)
            self.frame_ms = (time.perf_counter() - t0) * 1000.0
            self.version += 1

    def column(self, name: str) -> np.ndarray | None:
        """One series of the run so far as floats (None if the model has no such column), read from
        the collector's lists: a frame of Play needs a few columns, not the whole table."""
        with self.lock:
            values = self.model.datacollector.model_vars.get(name)
            return None if values is None else np.asarray(values, dtype=float)

    def kpis(self) -> list:
        """The KPI cards' numbers for the latest month (:func:`sim.ui.charts.kpis`)."""
        from sim.ui.charts import kpis
        with self.lock:
            if self._baseline_columns[0] is not self.baseline:     # numpy columns: a frame reads 7 values
                self._baseline_columns = (self.baseline, {c: self.baseline[c].to_numpy() for c in self.baseline})
            return kpis(self.model.datacollector.model_vars, self._baseline_columns[1], self.last_shock_month)

    def frame(self) -> pd.DataFrame:
        """The run's monthly series so far (one row per simulated month); built once per version."""
        with self.lock:
            key = (id(self.model), self.version)
            if self._frame_key != key:
                self._frame = self.model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
                self._frame_key = key
            return self._frame

    # -- shocks
    def shock(self, event: dict, label: str | None = None) -> str:
        """Validate and apply a shock from the next month; returns the month it takes effect.

        Raises:
            ConfigError: the event breaks the scenario schema; the run is unchanged.
        """
        with self.lock:
            ev = validate_shock(self.model, event)
            label = label or ev["type"]
            self.model.inject(dict(ev), label=label)
            self.shocks.append(AppliedShock(self.model.steps, ev, label))
            self.version += 1
            self.epoch += 1
            return ev["at"]

    def undo(self) -> AppliedShock | None:
        """Take back the last shock: rebuild the run and replay the others up to the current month."""
        with self.lock:
            if not self.shocks:
                return None
            target, keep, last = self.model.steps, self.shocks[:-1], self.shocks[-1]
            model = build_model(self.levers, self.uploads)
            for s in keep:
                model.run_for(s.step - model.steps)
                model.inject(dict(s.event), label=s.label)
            model.run_for(target - model.steps)
            self.model, self.shocks = model, list(keep)
            self.version += 1
            self.epoch += 1
            return last

    # -- uploads
    def add_upload(self, filename: str, content: bytes) -> str:
        """Validate an uploaded scenario and make it selectable; returns its name in the picker."""
        name, scenario = parse_upload(filename, content)
        self.uploads[name] = scenario
        return name

    # -- exports
    def scenario_toml(self) -> str:
        """This run as a scenario file: the scenario, the levers as parameters, the shocks as events."""
        spec = self.model.spec
        name = f"{spec.name}_session"
        lines = [f"# Saved from the reesim UI: {spec.name}, seed {self.levers.seed}, "
                 f"run to {self.model.current_month()}.",
                 f"# Run it with: reesim run --scenario {name}.toml --seed {self.levers.seed}",
                 f"name = {toml_value(name)}",
                 f"description = {toml_value(spec.description or spec.name)}",
                 f"world = {toml_value(spec.world_dir.name)}",
                 f"start = {toml_value(spec.start)}", f"end = {toml_value(spec.end)}"]
        if spec.sources:
            lines.append(f"sources = {toml_value(list(spec.sources))}")
        params = {**spec.parameters, **self.levers.overrides()}
        if params:
            lines += ["", "[parameters]"] + [f"{k} = {toml_value(v)}" for k, v in params.items()]
        events = [e.model_dump(exclude_defaults=True) for e in spec.events]
        events += [{**s.event, "note": f"UI shock: {s.label}"} for s in self.shocks]
        for ev in events:
            lines += ["", "[[events]]"] + [f"{k} = {toml_value(v)}" for k, v in ev.items() if v is not None]
        if spec.reactions:
            lines.append("\n# this scenario's reactions are not saved here; copy them from its own file")
        return "\n".join(lines) + "\n"

    def timeseries_csv(self) -> bytes:
        return self.frame().to_csv(index=False).encode()

    def timeseries_parquet(self) -> bytes:
        buf = io.BytesIO()
        self.frame().to_parquet(buf, index=False)
        return buf.getvalue()

    def config_json(self) -> bytes:
        """Everything needed to reproduce the run (sim.outputs' config) with no server path in it."""
        from sim.outputs import resolved_config
        with self.lock:
            cfg = resolved_config(self.model)
        cfg["scenario"]["path"] = self.levers.scenario
        cfg["scenario"]["world"] = self.model.spec.world_dir.name
        cfg["levers"] = {"scenario": self.levers.scenario, "seed": self.levers.seed,
                         "parameters": self.levers.overrides()}
        cfg["shocks"] = [{"step": s.step, "label": s.label, "event": s.event} for s in self.shocks]
        return json.dumps(cfg, indent=2, default=str).encode()
