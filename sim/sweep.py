"""Batch parameter sweeps: run functions, the Dask engine, the results store and sweep figures.

Three layers, each usable alone:

* **A run as a function.** :func:`run_one` (the simulator) and any picklable
  ``fn(params, seed) -> {output: value}`` (e.g. :func:`sim.sensitivity.ishigami`)
  are what workers call; :class:`SimulatorRun` binds a spec's scenario, window,
  events and metrics to :func:`run_one`.
* **The engine.** :func:`run_sweep` plans the runs of a spec, skips those already
  on disk, sends batches of runs to Dask workers (a ``LocalCluster`` by default,
  any scheduler address to scale out; ``workers=0`` runs in this process), keeps
  a bounded number of batches in flight and writes each batch as it finishes.
  A run that raises is recorded with its error; the sweep goes on.
* **The store.** :class:`ResultStore` is the only code here that touches the
  disk: ``runs/`` (one Parquet row per run), ``series/`` (monthly series, one
  file per finished batch) and ``spec.json`` beside them. Every file is written
  as a dot-file and renamed into place, so a sweep killed at any moment leaves
  only whole files, and ``resume`` recomputes nothing that was written.
"""

from __future__ import annotations

import json
import itertools
import math
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.sweep_spec import (DEFAULT_METRICS, Metric, RunPlan, SweepSpec, event_list,
                            load_sweep_spec, plan_runs)

RunFunction = Callable[[dict, int], Any]
FIXED_COLUMNS = ("run_key", "point", "replicate", "seed")
TAIL_COLUMNS = ("status", "error", "duration_s", "finished_unix")
SERIES_KEYS = ("run_key", "point", "replicate", "seed", "date")


class SweepError(RuntimeError):
    """A sweep that cannot start as asked (e.g. results already in the output folder)."""


# ---------------------------------------------------------------------- run functions
@dataclass
class RunOutput:
    """What one run returns: summary metrics and, optionally, monthly series (one row a month)."""

    metrics: dict
    series: pd.DataFrame | None = None


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


def run_function(spec: SweepSpec, fn: RunFunction | None = None) -> Callable[[dict, int], RunOutput]:
    """The function workers call for each run of ``spec`` (``fn`` overrides the spec's model)."""
    if fn is not None:
        return OutputsRun(fn, spec.metrics)
    if spec.model == "reesim":
        return SimulatorRun.from_spec(spec)
    from sim.sensitivity import TEST_FUNCTIONS
    return OutputsRun(TEST_FUNCTIONS[spec.model], spec.metrics)


def run_batch(fn: Callable[[dict, int], RunOutput], plans: list[RunPlan]) -> tuple[list[dict], pd.DataFrame | None]:
    """Run several runs in one task (a worker's unit of work); a run that raises is recorded.

    Returns one record per run (status ``ok`` or ``failed`` with the error) and the
    kept series of the successful runs, stacked.
    """
    records, frames = [], []
    for plan in plans:
        t0 = time.perf_counter()
        rec = {"run_key": plan.key, "point": plan.point, "replicate": plan.replicate,
               "seed": plan.seed, "params": plan.params}
        try:
            out = fn(plan.params, plan.seed)
            rec.update(metrics=out.metrics, status="ok", error=None)
            if out.series is not None:
                s = out.series.copy()
                for k in ("run_key", "point", "replicate", "seed"):
                    s.insert(0, k, rec[k])
                frames.append(s)
        except Exception as err:  # noqa: BLE001 - a failed run is data, not a crash
            tb = traceback.extract_tb(err.__traceback__)
            where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
            rec.update(metrics={}, status="failed", error=f"{type(err).__name__}: {err}{where}")
        rec["duration_s"] = time.perf_counter() - t0
        rec["finished_unix"] = time.time()
        records.append(rec)
    series = pd.concat(frames, ignore_index=True) if frames else None
    return records, series


def _warm_up() -> None:
    """Import the model once on a worker, before the first task."""
    import sim.model  # noqa: F401


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
        self._atomic_text(spec_file, json.dumps(
            {**self.spec.to_dict(), "fingerprint": self.spec.fingerprint()}, indent=2))
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

    def _atomic_text(self, path: Path, text: str) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)

    def _atomic_table(self, table: pa.Table, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)

    def write_batch(self, records: list[dict], series: pd.DataFrame | None) -> None:
        """Write one finished batch: its series first, then its rows in ``runs/`` (the commit)."""
        token = uuid.uuid4().hex[:16]
        if series is not None and len(series) and self.spec.series:
            self._atomic_table(pa.Table.from_pandas(series, preserve_index=False),
                               self.series_dir / f"part-{token}.parquet")
        self._atomic_table(records_table(records, self.spec, self.schema),
                           self.runs_dir / f"part-{token}.parquet")

    def compact(self) -> None:
        """Merge the per-batch files into one per folder (safe to kill: readers deduplicate)."""
        series_parts = sorted(self.series_dir.glob("part-*.parquet")) if self.series_dir.exists() else []
        if len(series_parts) > 1:
            table = pa.Table.from_pandas(self.read_series(), preserve_index=False)
            self._atomic_table(table, self.series_dir / f"part-keptall{uuid.uuid4().hex[:8]}.parquet")
            for p in series_parts:
                p.unlink()
        parts = sorted(self.runs_dir.glob("part-*.parquet"))
        if len(parts) > 1:
            table = pa.Table.from_pandas(self.read_runs(), schema=self.schema, preserve_index=False)
            self._atomic_table(table, self.runs_dir / f"part-all{uuid.uuid4().hex[:8]}.parquet")
            for p in parts:
                p.unlink()

    def write_table(self, frame: pd.DataFrame, name: str) -> Path:
        """A CSV table beside the results."""
        path = self.root / name
        self._atomic_text(path, frame.to_csv(index=False))
        return path

    def write_figure(self, fig, name: str) -> Path:
        """A matplotlib ``Figure`` as PNG beside the results."""
        path = self.root / name
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        os.replace(tmp, path)
        return path

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
    from sim.outputs import column_units
    units = column_units([m.column for m in spec.metrics]) if spec.model == "reesim" else {}
    meta = {"units": json.dumps({m.name: units.get(m.column, "") for m in spec.metrics})}
    return pa.schema(fields, metadata=meta)


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
    """One row per run key (an ``ok`` row wins over a ``failed`` one), from every finished file."""
    runs_dir = Path(root) / "runs"
    files = sorted(runs_dir.glob("part-*.parquet")) if runs_dir.exists() else []
    if not files:
        if schema is None:
            return pd.DataFrame(columns=columns or list(FIXED_COLUMNS) + list(TAIL_COLUMNS))
        return schema.empty_table().to_pandas()[columns or schema.names]
    cols = None if columns is None else list(dict.fromkeys(["run_key", "status", *columns]))
    frame = pd.concat([pq.read_table(f, columns=cols).to_pandas() for f in files], ignore_index=True)
    frame["_ok"] = frame["status"] == "ok"
    frame = (frame.sort_values(["_ok"], ascending=False, kind="stable")
             .drop_duplicates("run_key").drop(columns="_ok"))
    sort = [c for c in ("point", "replicate") if c in frame.columns]
    frame = frame.sort_values(sort or "run_key").reset_index(drop=True)
    return frame[columns] if columns else frame


def read_series(root: str | Path) -> pd.DataFrame:
    """Monthly series of every finished run (``run_key``, ``point``, ``replicate``, ``seed``, ``date``, ...)."""
    d = Path(root) / "series"
    files = sorted(d.glob("part-*.parquet")) if d.exists() else []
    if not files:
        return pd.DataFrame(columns=list(SERIES_KEYS))
    frame = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    return frame.drop_duplicates(["run_key", "date"]).reset_index(drop=True)


def read_spec(root: str | Path) -> dict:
    """The resolved spec a results folder was written from."""
    return json.loads((Path(root) / "spec.json").read_text())


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


def default_batch_size(n_runs: int, workers: int) -> int:
    """Runs per task: about eight tasks per worker, at most 16 runs (resume loses at most a batch in flight)."""
    return max(1, min(16, math.ceil(n_runs / max(1, workers) / 8)))


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _point_batches(plans: list, size: int):
    """Batches of about ``size`` runs that keep every seed of a design point together.

    Runs of one point share the model's cached spin-up, so splitting a point across workers
    would make each of them spin the same world up again.
    """
    batch: list = []
    for _, group in itertools.groupby(sorted(plans, key=lambda p: (p.point, p.replicate)),
                                      key=lambda p: p.point):
        batch.extend(group)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Progress:
    """A tqdm bar counting runs done and failed, with time left."""

    def __init__(self, total: int, skipped: int, enabled: bool) -> None:
        self.failed = 0
        self.bar = None
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="run", desc="sweep", dynamic_ncols=True,
                            file=sys.stderr, mininterval=0.5)
            self.bar.set_postfix_str(self._text(skipped))
        self.skipped = skipped

    def _text(self, skipped: int) -> str:
        return f"failed={self.failed}" + (f", resumed={skipped}" if skipped else "")

    def update(self, records: list[dict]) -> None:
        self.failed += sum(r["status"] != "ok" for r in records)
        if self.bar is not None:
            self.bar.update(len(records))
            self.bar.set_postfix_str(self._text(self.skipped), refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _failed_records(plans: list[RunPlan], err: BaseException) -> list[dict]:
    now = time.time()
    return [{"run_key": p.key, "point": p.point, "replicate": p.replicate, "seed": p.seed,
             "params": p.params, "metrics": {}, "status": "failed",
             "error": f"{type(err).__name__}: {err} (the task was lost)", "duration_s": math.nan,
             "finished_unix": now} for p in plans]


def run_sweep(spec: SweepSpec | str | Path, out: str | Path, *, workers: int = 2,
              scheduler: str | None = None, resume: bool = False, fn: RunFunction | None = None,
              batch_size: int | None = None, tasks_per_worker: int = 2, progress: bool = True,
              retry_failed: bool = False, plots: bool = True) -> SweepResult:
    """Run every run of a sweep not yet in ``out``; write each batch as it finishes.

    Args:
        spec: a validated spec, or a spec name/path.
        out: output folder (created).
        workers: local Dask worker processes; 0 runs in this process (no Dask).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``); overrides workers.
        resume: continue a sweep already in ``out`` (finished runs are kept, not recomputed).
        fn: a picklable ``fn(params, seed) -> {output: value}`` instead of the spec's model.
        batch_size: runs per task (default: the spec's, else :func:`default_batch_size`).
        tasks_per_worker: tasks in flight per worker (bounds the driver's memory).
        progress: show a progress bar.
        retry_failed: with ``resume``, run again the runs recorded as failed.
        plots: write the summary figures at the end.
    """
    t0 = time.perf_counter()
    if not isinstance(spec, SweepSpec):
        spec = load_sweep_spec(spec)
    store = ResultStore(out, spec)
    done = store.open(resume)
    if retry_failed:
        done = store.done_keys(include_failed=False)
    plans = plan_runs(spec)
    todo = [p for p in plans if p.key not in done]
    skipped = len(plans) - len(todo)
    call = run_function(spec, fn)
    bar = _Progress(len(plans), skipped, progress)
    if bar.bar is not None and skipped:
        bar.bar.update(skipped)
    done_now, startup_s = 0, 0.0
    try:
        if todo and workers == 0 and scheduler is None:
            done_now = _run_here(call, todo, store, bar, batch_size or spec.batch_size)
        elif todo:
            done_now, startup_s = _run_on_dask(call, todo, store, bar, workers=workers,
                                               scheduler=scheduler,
                                               batch_size=batch_size or spec.batch_size,
                                               tasks_per_worker=tasks_per_worker)
    finally:
        bar.close()
    if done_now == len(todo):
        store.compact()
    figures = write_sweep_figures(store) if plots else []
    return SweepResult(out=Path(out), total=len(plans), done_now=done_now, skipped=skipped,
                       failed=bar.failed, wall_s=time.perf_counter() - t0, figures=figures,
                       startup_s=startup_s)


def _run_here(call, todo: list[RunPlan], store: ResultStore, bar: _Progress, batch_size: int | None,
              flush_s: float = 0.5) -> int:
    """Run in this process; write whenever ``flush_s`` has passed (every run, for the simulator)."""
    records, frames, last = [], [], time.perf_counter()
    for i, plan in enumerate(todo):
        recs, series = run_batch(call, [plan])
        records += recs
        if series is not None:
            frames.append(series)
        full = batch_size is not None and len(records) >= batch_size
        if full or time.perf_counter() - last >= flush_s or i == len(todo) - 1:
            store.write_batch(records, pd.concat(frames, ignore_index=True) if frames else None)
            bar.update(records)
            records, frames, last = [], [], time.perf_counter()
    return len(todo)


def _run_on_dask(call, todo: list[RunPlan], store: ResultStore, bar: _Progress, *, workers: int,
                 scheduler: str | None, batch_size: int | None, tasks_per_worker: int) -> tuple[int, float]:
    from distributed import Client, LocalCluster, as_completed

    t0 = time.perf_counter()
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    else:
        client = Client(scheduler, timeout="30s")
    done_now = 0
    try:
        n_workers = max(1, workers)
        if scheduler is not None:
            client.wait_for_workers(1, timeout=120)
            n_workers = len(client.scheduler_info(n_workers=-1)["workers"])
        if isinstance(call, SimulatorRun):
            client.run(_warm_up)
        startup_s = time.perf_counter() - t0
        size = batch_size or default_batch_size(len(todo), n_workers)
        batches = iter(_point_batches(todo, size))
        in_flight = {}
        limit = max(1, tasks_per_worker * n_workers)

        def submit() -> bool:
            batch = next(batches, None)
            if batch is None:
                return False
            fut = client.submit(run_batch, call, batch, pure=False, retries=1)
            in_flight[fut.key] = batch
            ac.add(fut)
            return True

        ac = as_completed([], with_results=True, raise_errors=False)
        for _ in range(limit):
            if not submit():
                break
        for fut, result in ac:
            batch = in_flight.pop(fut.key)
            if fut.status == "error" or isinstance(result, BaseException):
                records, series = _failed_records(batch, result), None
            else:
                records, series = result
            store.write_batch(records, series)
            bar.update(records)
            done_now += len(records)
            fut.release()
            submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return done_now, startup_s


# ---------------------------------------------------------------------- figures
def fan_chart(series: pd.DataFrame, column: str, *, max_points: int = 6, title: str | None = None):
    """Median and 5-95 % / 25-75 % bands of a monthly series across replicates (a ``Figure``).

    One fan per design point when there are few points, else one fan across every run.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    points = sorted(series["point"].unique())
    groups = [(f"point {p}", series[series["point"] == p]) for p in points] \
        if len(points) <= max_points else [("all runs", series)]
    for i, (label, g) in enumerate(groups):
        wide = g.pivot_table(index="date", columns="run_key", values=column)
        q = wide.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T
        x = pd.PeriodIndex(q.index, freq="M").to_timestamp()
        colour = f"C{i % 10}"
        ax.fill_between(x, q[0.05], q[0.95], color=colour, alpha=0.15, lw=0)
        ax.fill_between(x, q[0.25], q[0.75], color=colour, alpha=0.3, lw=0)
        ax.plot(x, q[0.5], color=colour, lw=1.6, label=f"{label} (n={wide.shape[1]})")
    ax.set_title(title or f"{column}: median, 25-75 % and 5-95 % of runs")
    unit = column.rsplit("_", 1)[-1] if "_" in column else ""
    ax.set_ylabel(column if not unit else f"{column} [{unit}]")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return fig


def heatmap(runs: pd.DataFrame, x: str, y: str, metric: str, *, bins: int = 8):
    """Mean of a metric over two parameters (averaged over seeds and other parameters) as a ``Figure``."""
    from matplotlib.figure import Figure

    ok = runs[runs["status"] == "ok"].copy()
    for c in (x, y):
        if pd.api.types.is_numeric_dtype(ok[c]) and ok[c].nunique() > bins:
            ok[c] = pd.cut(ok[c], bins).apply(lambda iv: round(iv.mid, 6))
    table = ok.pivot_table(index=y, columns=x, values=metric, aggfunc="mean", observed=True)
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.add_subplot()
    im = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]), [_fmt(v) for v in table.columns], rotation=45, ha="right")
    ax.set_yticks(range(table.shape[0]), [_fmt(v) for v in table.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for (i, j), v in np.ndenumerate(table.to_numpy(dtype=float)):
        if table.size <= 100 and np.isfinite(v):
            ax.text(j, i, _fmt(v), ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(im, ax=ax, label=metric)
    ax.set_title(f"mean {metric}")
    return fig


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


def write_sweep_figures(store: ResultStore) -> list[Path]:
    """Fan charts of the kept series and heatmaps of the spec, written beside the results."""
    spec, paths = store.spec, []
    plots = spec.plots or {}
    if plots.get("fan"):
        series = store.read_series()
        if len(series):
            for column in plots["fan"]:
                paths.append(store.write_figure(fan_chart(series, column), f"fan_{column}.png"))
    if plots.get("heatmap"):
        runs = store.read_runs()
        if (runs["status"] == "ok").any():
            for h in plots["heatmap"]:
                fig = heatmap(runs, h["x"], h["y"], h["metric"])
                paths.append(store.write_figure(fig, f"heatmap_{h['metric']}__{h['x']}__{h['y']}.png"))
    return paths
