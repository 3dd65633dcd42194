"""Batch parameter sweeps: run functions, the sweep runner, the results store and sweep figures.

* **A run as a function.** :func:`run_one` (the simulator) and any picklable
  ``fn(params, seed) -> {output: value}`` (e.g. :func:`ishigami`)
  are what workers call; :class:`SimulatorRun` binds a spec's scenario, window,
  events and metrics to :func:`run_one`.
* **The runner.** :func:`run_sweep` plans the runs of a spec, skips those already
  on disk and hands the rest to :func:`sim.engine.execute` (this process, a local
  Dask cluster, a scheduler or SLURM), which gives back each finished batch.
  A run that raises is recorded with its error; the sweep goes on. Ctrl-C keeps
  every finished run; ``resume`` continues.
* **The store.** :class:`ResultStore` holds ``runs/`` (one Parquet row per run),
  ``series/`` (monthly series, one file per finished batch), ``spec.json``,
  ``config.json`` and ``reesim.log``; every file goes through :mod:`sim.outputs`
  (a dot-file renamed into place), so a sweep killed at any moment leaves only
  whole files, and ``resume`` recomputes nothing that was written.
"""

from __future__ import annotations

import json
import math
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim import outputs, sweep_results
from sim.engine import Cluster, RunOutput, execute, run_batch  # noqa: F401  (run_batch: public here too)
from sim.sweep_spec import (DEFAULT_METRICS, Metric, SweepSpec, event_list,
                            load_sweep_spec, plan_runs)

RunFunction = Callable[[dict, int], Any]
FIXED_COLUMNS = ("run_key", "point", "replicate", "seed")
TAIL_COLUMNS = ("status", "error", "duration_s", "finished_unix")
SERIES_KEYS = ("run_key", "point", "replicate", "seed", "date")


class SweepError(RuntimeError):
    """A sweep that cannot start as asked (e.g. results already in the output folder)."""


# ---------------------------------------------------------------------- run functions
def summarise(frame: pd.DataFrame, metrics: Iterable[Metric]) -> dict[str, float]:
    """Summary metrics of one run's monthly frame (``date`` column as ``YYYY-MM``)."""
    out: dict[str, float] = {}
    dates = frame["date"].astype(str)
    for m in metrics:
        col = frame[m.column]
        if m.start is not None:
            col = col[dates >= m.start]
        if m.end is not None:
            col = col[dates.loc[col.index] <= m.end]
        if m.stat == "at":
            sel = frame.loc[dates == m.month, m.column]
            value = float(sel.iloc[0]) if len(sel) else math.nan
        elif len(col) == 0:
            value = math.nan
        elif m.stat == "argmax":
            value = float(np.argmax(col.to_numpy()))
        else:
            value = float(getattr(col, m.stat)()) if m.stat not in ("first", "last") else \
                float(col.iloc[0] if m.stat == "first" else col.iloc[-1])
        out[m.name] = value * m.scale
    return out


def run_one(params: Mapping, seed: int, *, scenario: str = "baseline", until: str | None = None,
            events: list[dict] | None = None, metrics: Iterable[Metric] | None = None,
            series: Iterable[str] = ()) -> RunOutput:
    """Run the simulator once and summarise it.

    Args:
        params: overrides of model parameters (names in ``configs/parameters.csv``).
        seed: random seed.
        scenario: scenario name or path.
        until: last month (``YYYY-MM``); the scenario's end if None.
        events: extra policy events (dicts as in a scenario file).
        metrics: summaries to compute; :data:`DEFAULT_METRICS` if None.
        series: monthly series to keep (column names of the model's frame).
    """
    from sim.model import RareEarthModel
    if metrics is None:
        metrics = [Metric(name=k, **v) for k, v in DEFAULT_METRICS.items()]
    model = RareEarthModel(config=scenario, seed=seed, until=until, keep_flows=False,
                           extra_events=events or None, **dict(params))
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    series = list(series)
    kept = frame[["date", *series]].reset_index(drop=True) if series else None
    return RunOutput(summarise(frame, metrics), kept)


@dataclass(frozen=True)
class SimulatorRun:
    """:func:`run_one` bound to a spec's scenario, window, event templates and outputs (picklable)."""

    scenario: str
    until: str | None
    events: dict
    parameters: tuple
    metrics: tuple
    series: tuple

    @classmethod
    def from_spec(cls, spec: SweepSpec) -> SimulatorRun:
        return cls(spec.scenario, spec.until, spec.events, spec.parameters, spec.metrics, spec.series)

    def __call__(self, params: dict, seed: int) -> RunOutput:
        model_params = {p.name: params[p.name] for p in self.parameters if not p.is_event}
        events = event_list(self.events, self.parameters, params)
        return run_one(model_params, seed, scenario=self.scenario, until=self.until, events=events,
                       metrics=self.metrics, series=self.series)


@dataclass(frozen=True)
class OutputsRun:
    """A generic ``fn(params, seed) -> {output: value}`` with the spec's metrics picked from it."""

    fn: RunFunction
    metrics: tuple

    def __call__(self, params: dict, seed: int) -> RunOutput:
        result = self.fn(dict(params), seed)
        if isinstance(result, RunOutput):
            return result
        return RunOutput({m.name: float(result[m.column]) * m.scale for m in self.metrics})


def ishigami(params: dict, seed: int, a: float = 7.0, b: float = 0.1) -> dict:
    """The Ishigami test function (inputs on [-pi, pi]); analytic Sobol indices are known.

    First order S1 = [0.314, 0.442, 0], total ST = [0.558, 0.442, 0.244] for a=7, b=0.1.
    """
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": math.sin(x1) + a * math.sin(x2) ** 2 + b * x3 ** 4 * math.sin(x1)}


#: Pure-Python models a spec may name (``model = "ishigami"``): checks of the pipeline itself.
TEST_FUNCTIONS = {"ishigami": ishigami}

ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def run_function(spec: SweepSpec, fn: RunFunction | None = None) -> Callable[[dict, int], RunOutput]:
    """The function workers call for each run of ``spec`` (``fn`` overrides the spec's model)."""
    if fn is not None:
        return OutputsRun(fn, spec.metrics)
    if spec.model == "reesim":
        return SimulatorRun.from_spec(spec)
    return OutputsRun(TEST_FUNCTIONS[spec.model], spec.metrics)


# ---------------------------------------------------------------------- the store
class ResultStore:
    """A sweep's output folder: ``spec.json``, ``runs/``, ``series/``, tables and figures.

    Args:
        root: the folder.
        spec: the resolved spec whose results it holds.
    """

    def __init__(self, root: str | Path, spec: SweepSpec) -> None:
        self.root = Path(root)
        self.spec = spec
        self.runs_dir = self.root / "runs"
        self.series_dir = self.root / "series"
        self.schema = runs_schema(spec)

    # -- writing
    def open(self, resume: bool) -> set[str]:
        """Create the folder (or reopen it with ``resume``); return the keys of runs already done."""
        spec_file = self.root / "spec.json"
        if spec_file.exists():
            old = json.loads(spec_file.read_text())
            if not resume:
                raise SweepError(f"{self.root} already holds a sweep ({old.get('name')}); "
                                 "pass --resume to continue it or choose another --out")
            if old.get("fingerprint") != self.spec.fingerprint():
                raise SweepError(f"{self.root} holds a different sweep (spec fingerprint "
                                 f"{old.get('fingerprint')}, this spec {self.spec.fingerprint()}); "
                                 "resume needs the same spec, or choose another --out")
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        if self.spec.series:
            self.series_dir.mkdir(parents=True, exist_ok=True)
        self._clean()
        outputs.write_json(spec_file, {**self.spec.to_dict(), "fingerprint": self.spec.fingerprint()})
        outputs.write_config(self.root, sweep=self.spec.name, scenario=self.spec.scenario,
                             seeds=list(self.spec.seeds), spec=self.spec.to_dict(),
                             parameters=_base_parameters(self.spec))
        return self.done_keys()

    def _clean(self) -> None:
        """Drop half-written dot-files and series files whose runs file never landed."""
        for d in (self.runs_dir, self.series_dir):
            for p in d.glob(".*.tmp") if d.exists() else ():
                p.unlink(missing_ok=True)
        if self.series_dir.exists():
            batches = {p.stem.split("-", 1)[1] for p in self.runs_dir.glob("part-*.parquet")}
            for p in self.series_dir.glob("part-*.parquet"):
                token = p.stem.split("-", 1)[1]
                if not token.startswith("kept") and token not in batches:
                    p.unlink(missing_ok=True)

    def write_batch(self, records: list[dict], series: pd.DataFrame | None) -> None:
        """Write one finished batch: its series first, then its rows in ``runs/`` (the commit)."""
        token = uuid.uuid4().hex[:16]
        if series is not None and len(series) and self.spec.series:
            outputs.write_arrow(outputs.to_arrow(series), self.series_dir / f"part-{token}.parquet")
        outputs.write_arrow(records_table(records, self.spec, self.schema), self.runs_dir / f"part-{token}.parquet")

    def compact(self) -> None:
        """Merge the per-batch files into one per folder, a file at a time (the driver's memory does not
        grow with the sweep). One row per run (an ``ok`` row wins over a ``failed`` one), one run's
        series once. Safe to kill: until the old files go, readers deduplicate."""
        series_parts = sorted(self.series_dir.glob("part-*.parquet")) if self.series_dir.exists() else []
        if len(series_parts) > 1:
            seen: set[str] = set()

            def new_runs(table: pa.Table) -> pa.Array:
                keys = table.column("run_key").to_pylist()
                mask = pa.array([k not in seen for k in keys])
                seen.update(keys)
                return mask
            outputs.merge_parquet(series_parts, self.series_dir / f"part-keptall{uuid.uuid4().hex[:8]}.parquet",
                                  new_runs)
            for p in series_parts:
                p.unlink()
        parts = sorted(self.runs_dir.glob("part-*.parquet"))
        if len(parts) > 1:
            ok = {k for p in parts for k, s in zip(*pq.read_table(p, columns=["run_key", "status"])
                                                  .to_pydict().values()) if s == "ok"}
            written: set[str] = set()

            def first_best_row(table: pa.Table) -> pa.Array:
                mask = []
                for k, s in zip(table.column("run_key").to_pylist(), table.column("status").to_pylist()):
                    keep = k not in written and (s == "ok" or k not in ok)
                    written.update([k] if keep else [])
                    mask.append(keep)
                return pa.array(mask, pa.bool_())
            outputs.merge_parquet(parts, self.runs_dir / f"part-all{uuid.uuid4().hex[:8]}.parquet", first_best_row)
            for p in parts:
                p.unlink()

    def write_table(self, frame: pd.DataFrame, name: str) -> Path:
        """A CSV table beside the results."""
        return outputs.write_csv(frame, self.root / name)

    def write_figure(self, fig, name: str) -> Path:
        """A matplotlib ``Figure`` as PNG beside the results."""
        return outputs.write_figure(fig, self.root / name)

    # -- reading
    def done_keys(self, include_failed: bool = True) -> set[str]:
        runs = self.read_runs(columns=["run_key", "status"])
        if not include_failed:
            runs = runs[runs["status"] == "ok"]
        return set(runs["run_key"])

    def read_runs(self, columns: list[str] | None = None) -> pd.DataFrame:
        return read_runs(self.root, columns=columns, schema=self.schema)

    def read_series(self) -> pd.DataFrame:
        return read_series(self.root)


def _param_type(p) -> pa.DataType:
    vals = p.values if p.values is not None else (p.low, p.high)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        if p.integer or (p.values is not None and all(isinstance(v, int) for v in vals)):
            return pa.int64()
        return pa.float64()
    return pa.string()


def runs_schema(spec: SweepSpec) -> pa.Schema:
    """Columns of ``runs/``: key, point, replicate, seed, parameters, metrics, status, error, timing."""
    fields = [pa.field("run_key", pa.string()), pa.field("point", pa.int64()),
              pa.field("replicate", pa.int64()), pa.field("seed", pa.int64())]
    fields += [pa.field(p.name, _param_type(p)) for p in spec.parameters]
    fields += [pa.field(m.name, pa.float64()) for m in spec.metrics]
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string()),
               pa.field("duration_s", pa.float64()), pa.field("finished_unix", pa.float64())]
    units = outputs.column_units([m.column for m in spec.metrics]) if spec.model == "reesim" else {}
    return pa.schema(fields, metadata=outputs.units_metadata({m.name: units.get(m.column, "")
                                                             for m in spec.metrics}))


#: Seconds a simulated month takes (a 2024-2050 run in about 1.5 s on an idle 2-core machine): only to
#: size the Dask tasks.
MONTH_S = 0.005


def run_seconds(spec: SweepSpec) -> float | None:
    """A guess of one run's duration from its number of months (None for the pure-Python test models)."""
    if spec.model != "reesim":
        return None
    from sim.calendar import month_index
    from sim.scenarios import load_scenario
    scenario = load_scenario(spec.scenario)
    months = month_index(spec.until or scenario.end) - month_index(scenario.start) + 1
    return months * MONTH_S


def _base_parameters(spec: SweepSpec) -> dict:
    """The model parameters every run starts from (the table with the shipped fit), before the
    sweep's own values: for config.json."""
    return outputs.parameter_values() if spec.model == "reesim" else {}


def records_table(records: list[dict], spec: SweepSpec, schema: pa.Schema) -> pa.Table:
    rows = []
    for r in records:
        row = {k: r[k] for k in FIXED_COLUMNS}
        for p in spec.parameters:
            v = r["params"].get(p.name)
            row[p.name] = str(v) if schema.field(p.name).type == pa.string() else v
        for m in spec.metrics:
            row[m.name] = r["metrics"].get(m.name)
        row.update({k: r[k] for k in TAIL_COLUMNS})
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema)


def read_runs(root: str | Path, columns: list[str] | None = None,
              schema: pa.Schema | None = None) -> pd.DataFrame:
    """One row per run key (an ``ok`` row wins over a ``failed`` one): :func:`sim.sweep_results.read_runs`."""
    return sweep_results.read_runs(root, columns=columns, schema=schema)


def read_series(root: str | Path) -> pd.DataFrame:
    """Monthly series of every finished run: :func:`sim.sweep_results.read_series`."""
    return sweep_results.read_series(root)


def read_spec(root: str | Path) -> dict:
    """The resolved spec a results folder was written from: :func:`sim.sweep_results.read_spec`."""
    return sweep_results.read_spec(root)


# ---------------------------------------------------------------------- the engine
@dataclass
class SweepResult:
    """What a sweep did: where, how many runs were done now, skipped (resumed) and failed."""

    out: Path
    total: int
    done_now: int
    skipped: int
    failed: int
    wall_s: float
    figures: list[Path] = field(default_factory=list)
    startup_s: float = 0.0   # starting the cluster and importing the model on its workers
    interrupted: bool = False  # stopped by Ctrl-C: resume with --resume


class _Progress:
    """A tqdm bar counting runs done and failed, with time left."""

    def __init__(self, total: int, skipped: int, enabled: bool) -> None:
        self.failed = 0
        self.bar = None
        self.skipped = skipped
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=skipped, unit="run", desc="sweep", dynamic_ncols=True,
                            file=sys.stderr, mininterval=0.5)
            self.bar.set_postfix_str(self._text())

    def _text(self) -> str:
        return f"failed={self.failed}" + (f", resumed={self.skipped}" if self.skipped else "")

    def update(self, records: list[dict]) -> None:
        self.failed += sum(r["status"] != "ok" for r in records)
        if self.bar is not None:
            self.bar.update(len(records))
            self.bar.set_postfix_str(self._text(), refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_sweep(spec: SweepSpec | str | Path, out: str | Path, *, workers: int = 2,
              scheduler: str | None = None, cluster: Cluster | None = None, resume: bool = False,
              fn: RunFunction | None = None, batch_size: int | None = None, tasks_per_worker: int = 2,
              progress: bool = True, retry_failed: bool = False, plots: bool = True) -> SweepResult:
    """Run every run of a sweep not yet in ``out``; write each batch as it finishes.

    Args:
        spec: a validated spec, or a spec name/path.
        out: output folder (created; holds ``config.json`` and ``reesim.log`` too).
        workers: local Dask worker processes; 0 runs in this process (no Dask).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``); overrides workers.
        cluster: where to run (overrides ``workers`` and ``scheduler``), e.g. SLURM.
        resume: continue a sweep already in ``out`` (finished runs are kept, not recomputed).
        fn: a picklable ``fn(params, seed) -> {output: value}`` instead of the spec's model.
        batch_size: runs per task (default: the spec's, else :func:`sim.engine.default_batch_size`).
        tasks_per_worker: tasks in flight per worker (bounds the driver's memory).
        progress: show a progress bar.
        retry_failed: with ``resume``, run again the runs recorded as failed.
        plots: write the summary figures at the end.
    """
    t0 = time.perf_counter()
    if not isinstance(spec, SweepSpec):
        spec = load_sweep_spec(spec)
    cluster = cluster or Cluster(workers=workers, scheduler=scheduler)
    store = ResultStore(out, spec)
    done = store.open(resume)
    with outputs.log_file(out):
        if retry_failed:
            done = store.done_keys(include_failed=False)
        plans = plan_runs(spec)
        todo = [p for p in plans if p.key not in done]
        skipped = len(plans) - len(todo)
        outputs.log.info("sweep %s: %d runs, %d already done, %d to run on %s", spec.name, len(plans),
                         skipped, len(todo), cluster.describe())
        bar = _Progress(len(plans), skipped, progress)

        def sink(records: list[dict], series: pd.DataFrame | None) -> None:
            store.write_batch(records, series)
            bar.update(records)
            for r in records:
                if r["status"] != "ok":
                    outputs.log.warning("run %s (point %s, seed %s) failed: %s", r["run_key"], r["point"],
                                        r["seed"], r["error"])
        try:
            ran = execute(run_function(spec, fn), todo, sink, cluster=cluster,
                          batch_size=batch_size or spec.batch_size, tasks_per_worker=tasks_per_worker,
                          run_s=run_seconds(spec) if fn is None else None)
        finally:
            bar.close()
        interrupted = ran.interrupted and ran.done_now < len(todo)
        if ran.done_now == len(todo):
            store.compact()
        figures = write_sweep_figures(store) if plots and not interrupted else []
        result = SweepResult(out=Path(out), total=len(plans), done_now=ran.done_now, skipped=skipped,
                             failed=bar.failed, wall_s=time.perf_counter() - t0, figures=figures,
                             startup_s=ran.startup_s, interrupted=interrupted)
        outputs.log.info("sweep %s: %s, %d runs now, %d skipped, %d failed, %.1f s", spec.name,
                         "interrupted" if interrupted else "done", result.done_now, skipped,
                         result.failed, result.wall_s)
    return result


# ---------------------------------------------------------------------- figures
def fan_chart(series: pd.DataFrame, column: str, *, title: str | None = None):
    """Median and 5-95 % / 25-75 % bands of a monthly series across runs (a Plotly figure, drawn by
    :mod:`sim.sweep_results`, the same code as the UI's Sweep results page)."""
    bands = sweep_results.fan_bands(series, column)
    return sweep_results.fan_figure(bands, column, sweep_results.unit_of(column), title=title)


def heatmap(runs: pd.DataFrame, x: str, y: str, metric: str, *, bins: int = 8):
    """Mean of a metric over two parameters (averaged over seeds and other parameters), a Plotly figure."""
    table = sweep_results.heatmap_table(runs, x, y, metric, bins=bins)
    return sweep_results.heatmap_figure(table, x, y, metric, sweep_results.unit_of(metric))


def _write_png(store: ResultStore, fig, name: str) -> Path:
    """A figure as PNG beside the results, through the one atomic writer."""
    from sim.static_figures import render
    with outputs.atomic_path(store.root / name) as tmp:
        tmp.write_bytes(render(fig, "png"))
    return store.root / name


def write_sweep_figures(store: ResultStore) -> list[Path]:
    """Fan charts of the kept series and heatmaps of the spec, written beside the results."""
    spec, paths = store.spec, []
    plots = spec.plots or {}
    if plots.get("fan"):
        series = store.read_series()
        if len(series):
            ok = set(store.read_runs(columns=["run_key", "status"]).query("status == 'ok'")["run_key"])
            series = series[series["run_key"].isin(ok)]
            for column in plots["fan"]:
                if len(series):
                    paths.append(_write_png(store, fan_chart(series, column), f"fan_{column}.png"))
    if plots.get("heatmap"):
        runs = store.read_runs()
        if (runs["status"] == "ok").any():
            for h in plots["heatmap"]:
                fig = heatmap(runs, h["x"], h["y"], h["metric"])
                paths.append(_write_png(store, fig, f"heatmap_{h['metric']}__{h['x']}__{h['y']}.png"))
    return paths
