"""The execution layer: where runs go (this process, a local Dask cluster, a scheduler, SLURM) and how.

Every batch job (``sweep``, ``sensitivity``, ``validate``, ``calibrate``, ``compare``) hands
:func:`execute` a picklable run function ``call(params, seed) -> RunOutput``, a list of run plans and a
``sink(records, series)`` that stores each finished batch. :func:`execute` sends batches to Dask
workers, keeps a bounded number of them in flight (the driver's memory does not grow with the number
of runs) and gives each finished batch to the sink as it arrives.

Where the runs go is a :class:`Cluster`: ``workers=0`` runs in this process; else a ``LocalCluster``
(Dask's dashboard when bokeh is installed), a running scheduler (``scheduler="tcp://host:8786"``), or
SLURM through dask-jobqueue with ``adapt()`` (``kind="slurm"``). One cluster can serve several
:func:`execute` calls (calibration's generations) through :func:`open_client`.

Ctrl-C: the first stops sending new batches and waits for those in flight (every finished run is
kept); a second drops them. Either way :func:`execute` returns with ``interrupted`` set, and the
caller says how to resume. Local workers are started with SIGINT ignored, so a Ctrl-C in the
terminal reaches only the driver (no worker tracebacks).
"""

from __future__ import annotations

import gc
import importlib.util
import itertools
import logging
import math
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.sweep_spec import RunPlan

log = logging.getLogger("reesim")

CLUSTER_KINDS = ("local", "slurm")
GC_EVERY_BATCHES = 25


@dataclass
class RunOutput:
    """What one run returns: summary metrics and, optionally, monthly series (one row a month)."""

    metrics: dict
    series: pd.DataFrame | None = None


@dataclass(frozen=True)
class Cluster:
    """Where runs go.

    Args:
        workers: local worker processes (``kind="local"``); 0 runs in this process, without Dask.
        scheduler: address of a running Dask scheduler; overrides ``workers`` and ``kind``.
        kind: ``local`` or ``slurm`` (dask-jobqueue's SLURMCluster, scaled with ``adapt()``).
        jobs: most SLURM jobs ``adapt()`` may start.
        options: keyword arguments of ``SLURMCluster`` (cores, processes, memory, walltime, queue,
            account, job_script_prologue...).
        dashboard: serve Dask's dashboard when bokeh is installed (local and SLURM clusters).
    """

    workers: int = 2
    scheduler: str | None = None
    kind: str = "local"
    jobs: int = 4
    options: dict = field(default_factory=dict)
    dashboard: bool = True

    @property
    def in_process(self) -> bool:
        return self.workers == 0 and self.scheduler is None and self.kind == "local"

    def describe(self) -> str:
        if self.scheduler:
            return f"the Dask scheduler at {self.scheduler}"
        if self.kind == "slurm":
            return f"SLURM (dask-jobqueue, adapt up to {self.jobs} jobs)"
        return "this process" if self.workers == 0 else f"{self.workers} local Dask workers"


@dataclass
class ExecResult:
    """What :func:`execute` did: runs finished now, seconds to start the cluster, and whether Ctrl-C
    stopped it."""

    done_now: int = 0
    startup_s: float = 0.0
    interrupted: bool = False


# ----------------------------------------------------------------------------- run functions
def run_batch(fn: Callable[[dict, int], RunOutput], plans: list[RunPlan]) -> tuple[list[dict], pd.DataFrame | None]:
    """Run several runs in one task (a worker's unit of work); a run that raises is recorded.

    Returns one record per run (status ``ok`` or ``failed`` with the error) and the kept series of
    the successful runs, stacked.
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
                for k in ("seed", "replicate", "point", "run_key"):
                    s.insert(0, k, rec[k])
                frames.append(s)
        except Exception as err:  # noqa: BLE001 - a failed run is data, not a crash
            tb = traceback.extract_tb(err.__traceback__)
            where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
            rec.update(metrics={}, status="failed", error=f"{type(err).__name__}: {err}{where}")
        rec["duration_s"] = time.perf_counter() - t0
        rec["finished_unix"] = time.time()
        records.append(rec)
    return records, (pd.concat(frames, ignore_index=True) if frames else None)


def failed_records(plans: list[RunPlan], err: BaseException | str) -> list[dict]:
    """Records of runs whose task was lost (a worker died twice, say)."""
    now = time.time()
    return [{"run_key": p.key, "point": p.point, "replicate": p.replicate, "seed": p.seed,
             "params": p.params, "metrics": {}, "status": "failed",
             "error": f"{type(err).__name__ if isinstance(err, BaseException) else 'Error'}: {err} "
                      "(the task was lost)", "duration_s": math.nan, "finished_unix": now} for p in plans]


def warm_up() -> None:
    """Import the model once on a worker, before the first task."""
    import sim.model  # noqa: F401


# ----------------------------------------------------------------------------- batches
#: Shortest worthwhile task: Dask costs 5-10 ms of wall time per task, and its threads slow the model
#: in the workers when tasks arrive fast.
MIN_TASK_S = 0.5


def default_batch_size(n_runs: int, workers: int, run_s: float | None = None) -> int:
    """Runs per task: about eight tasks per worker, at most 16 runs, and no more than needed for a task
    of :data:`MIN_TASK_S` when a run's duration ``run_s`` is known (long runs: one run per task, so
    the last tasks leave no worker idle for long)."""
    size = max(1, min(16, math.ceil(n_runs / max(1, workers) / 8)))
    if run_s:
        size = min(size, max(1, math.ceil(MIN_TASK_S / run_s)))
    return size


def point_batches(plans: list[RunPlan], size: int) -> Iterator[list[RunPlan]]:
    """Batches of about ``size`` runs that keep every seed of a design point together.

    Runs of one point share the model's cached spin-up, so splitting a point across workers would
    make each of them spin the same world up again.
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


# ----------------------------------------------------------------------------- clusters
def dashboard_available() -> bool:
    """Dask serves its dashboard only when bokeh is installed (the ``cluster`` extra)."""
    return importlib.util.find_spec("bokeh") is not None


def slurm_cluster(jobs: int = 4, dashboard: bool = True, **options):
    """A dask-jobqueue ``SLURMCluster`` that adapts between 0 and ``jobs`` jobs to the work queued.

    ``options`` go to ``SLURMCluster`` (defaults: 1 core, 1 worker process per job, 2 GB, 1 h).
    Building it submits nothing: jobs start when ``adapt()`` sees tasks.
    """
    from dask_jobqueue import SLURMCluster
    kwargs = {"cores": 1, "processes": 1, "memory": "2GB", "walltime": "01:00:00",
              "scheduler_options": {"dashboard_address": ":8787" if dashboard and dashboard_available()
                                    else None}, **options}
    cluster = SLURMCluster(**kwargs)
    cluster.adapt(minimum_jobs=0, maximum_jobs=jobs)
    return cluster


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Processes started inside the block inherit SIGINT ignored (Python keeps an inherited SIG_IGN)."""
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:      # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextmanager
def open_client(cluster: Cluster) -> Iterator[Any]:
    """A Dask ``Client`` on the cluster asked for (started here unless it is a running scheduler)."""
    from distributed import Client, LocalCluster

    if cluster.kind not in CLUSTER_KINDS:
        raise ValueError(f"cluster: '{cluster.kind}' is not one of {', '.join(CLUSTER_KINDS)}")
    dask_cluster = None
    if cluster.scheduler:
        client = Client(cluster.scheduler, timeout="30s")
    elif cluster.kind == "slurm":
        dask_cluster = slurm_cluster(cluster.jobs, cluster.dashboard, **cluster.options)
        client = Client(dask_cluster)
    else:
        address = ":0" if cluster.dashboard and dashboard_available() else None
        with _sigint_ignored():
            dask_cluster = LocalCluster(n_workers=max(1, cluster.workers), threads_per_worker=1,
                                        processes=True, dashboard_address=address, silence_logs=logging.ERROR)
        client = Client(dask_cluster)
    try:
        if dask_cluster is not None and getattr(dask_cluster, "dashboard_link", None) and \
                (cluster.kind == "slurm" or cluster.dashboard and dashboard_available()):
            log.info("Dask dashboard: %s", client.dashboard_link)
            print(f"Dask dashboard: {client.dashboard_link}", file=sys.stderr)
        log.info("Dask scheduler %s (%s)", client.scheduler.address, cluster.describe())
        yield client
    finally:
        client.close()
        if dask_cluster is not None:
            dask_cluster.close()


def _worker_count(client, cluster: Cluster) -> int:
    if cluster.scheduler:
        client.wait_for_workers(1, timeout=120)
    elif cluster.kind == "slurm":
        return max(1, cluster.jobs * int(cluster.options.get("processes", 1)))
    return max(1, len(client.scheduler_info(n_workers=-1)["workers"]))


# ----------------------------------------------------------------------------- running
Sink = Callable[[list[dict], "pd.DataFrame | None"], None]


def execute(call: Callable[[dict, int], RunOutput], plans: list[RunPlan], sink: Sink, *,
            cluster: Cluster = Cluster(), client=None, batch_size: int | None = None,
            tasks_per_worker: int = 2, warm: bool = True, run_s: float | None = None) -> ExecResult:
    """Run every plan; hand each finished batch (records, series) to ``sink`` as it arrives.

    Args:
        call: picklable ``call(params, seed) -> RunOutput``.
        plans: the runs.
        sink: stores a finished batch (called in this process, in the order batches finish).
        cluster: where to run (ignored when ``client`` is given).
        client: an open Dask client to reuse (see :func:`open_client`).
        batch_size: runs per task (default :func:`default_batch_size`).
        run_s: a guess of one run's seconds, for the default batch size.
        tasks_per_worker: tasks in flight per worker (bounds the driver's memory).
        warm: import the model on every worker before the clock of the first task starts.
    """
    if not plans:
        return ExecResult()
    if client is None and cluster.in_process:
        return _execute_here(call, plans, sink, batch_size)
    t0 = time.perf_counter()
    if client is None:
        with open_client(cluster) as own:
            return _execute_on(own, cluster, call, plans, sink, batch_size, tasks_per_worker, warm, t0, run_s)
    return _execute_on(client, cluster, call, plans, sink, batch_size, tasks_per_worker, warm, t0, run_s)


def _execute_here(call, plans: list[RunPlan], sink: Sink, batch_size: int | None,
                  flush_s: float = 0.5) -> ExecResult:
    """Run in this process; hand over whenever ``flush_s`` has passed (every run, for the simulator)."""
    result = ExecResult()
    records, frames, last = [], [], time.perf_counter()

    def flush() -> None:
        nonlocal records, frames, last
        if records:
            sink(records, pd.concat(frames, ignore_index=True) if frames else None)
            result.done_now += len(records)
        records, frames, last = [], [], time.perf_counter()
    try:
        for plan in plans:
            recs, series = run_batch(call, [plan])
            records += recs
            if series is not None:
                frames.append(series)
            if (batch_size is not None and len(records) >= batch_size) or time.perf_counter() - last >= flush_s:
                flush()
    except KeyboardInterrupt:
        result.interrupted = True
        log.warning("interrupted: the run in progress is dropped, %d finished runs kept",
                    result.done_now + len(records))
    flush()
    return result


def _execute_on(client, cluster: Cluster, call, plans: list[RunPlan], sink: Sink, batch_size: int | None,
                tasks_per_worker: int, warm: bool, t0: float, run_s: float | None = None) -> ExecResult:
    from distributed import as_completed

    result = ExecResult()
    n_workers = _worker_count(client, cluster)
    if warm and cluster.kind == "local":
        client.run(warm_up)
    result.startup_s = time.perf_counter() - t0
    log.info("cluster ready in %.1f s: %d workers; %d runs", result.startup_s, n_workers, len(plans))
    size = batch_size or default_batch_size(len(plans), n_workers, run_s)
    batches = point_batches(plans, size)
    in_flight: dict = {}
    ac = as_completed([], with_results=True, raise_errors=False)
    stopping, finished = False, 0

    def submit() -> None:
        batch = None if stopping else next(batches, None)
        if batch is not None:
            fut = client.submit(run_batch, call, batch, pure=False, retries=1)
            in_flight[fut.key] = (fut, batch)
            ac.add(fut)

    for _ in range(max(1, tasks_per_worker * n_workers)):
        submit()
    while in_flight:
        try:
            for fut, out in ac:
                batch = in_flight.pop(fut.key)[1]
                if fut.status == "error" or isinstance(out, BaseException):
                    log.error("task of %d runs lost: %s", len(batch), out)
                    records, series = failed_records(batch, out), None
                else:
                    records, series = out
                sink(records, series)
                result.done_now += len(records)
                fut.release()
                submit()
                finished += 1
                if finished % GC_EVERY_BATCHES == 0:
                    gc.collect()     # results come back in reference cycles: keep the driver's memory flat
        except KeyboardInterrupt:
            if stopping:            # a second Ctrl-C: drop the runs in flight
                log.warning("interrupted again: %d runs in flight dropped", _runs_in(in_flight))
                client.cancel([f for f, _ in in_flight.values()], force=True)
                break
            stopping = result.interrupted = True
            msg = (f"stopping: waiting for the {_runs_in(in_flight)} runs in flight to finish "
                   "(Ctrl-C again to drop them)")
            log.warning(msg)
            print(msg, file=sys.stderr)
    return result


def _runs_in(in_flight: dict) -> int:
    return sum(len(batch) for _, batch in in_flight.values())
