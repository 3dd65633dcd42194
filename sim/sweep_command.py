"""``reesim sweep`` and ``reesim sensitivity``: plain typer functions the CLI registers.

The options that say where runs go (``--workers``, ``--scheduler``, ``--cluster``, ``--jobs``,
``--cluster-option``) are shared with ``validate``, ``calibrate`` and ``compare`` (:func:`cluster_of`).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from sim.errors import ConfigError

INTERRUPTED_EXIT = 130      # the shell's code for a command stopped by Ctrl-C

WORKERS = typer.Option(2, "--workers", "-w", min=0, help="Local Dask worker processes (0: run in this process).")
SCHEDULER = typer.Option(None, "--scheduler", help="Address of a running Dask scheduler, e.g. tcp://HOST:8786.")
CLUSTER = typer.Option("local", "--cluster", help="'local' (a Dask LocalCluster) or 'slurm' (dask-jobqueue, "
                                                  "jobs started and stopped by adapt()).")
JOBS = typer.Option(4, "--jobs", min=1, help="With --cluster slurm: most SLURM jobs at once.")
CLUSTER_OPTIONS = typer.Option([], "--cluster-option",
                               help="With --cluster slurm: a SLURMCluster setting KEY=VALUE (repeatable), e.g. "
                                    "queue=normal, account=ree, walltime=02:00:00, memory=4GB, cores=4, processes=4.")
DASHBOARD = typer.Option(True, "--dashboard/--no-dashboard",
                         help="Serve Dask's dashboard (needs bokeh: pip install 'reesim\\[cluster]').")


def fail(message: str) -> None:
    """Print an error and exit with code 2 (bad input)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _option_value(text: str):
    """A --cluster-option value: an int where it is one, else the text."""
    try:
        return int(text)
    except ValueError:
        return text


def cluster_of(workers: int, scheduler: str | None, cluster: str, jobs: int,
               cluster_option: list[str], dashboard: bool = True):
    """The :class:`sim.engine.Cluster` the command-line options ask for (exit 2 on a bad one)."""
    from sim.engine import CLUSTER_KINDS, Cluster
    if cluster not in CLUSTER_KINDS:
        fail(f"--cluster: '{cluster}' is not one of {', '.join(CLUSTER_KINDS)}")
    options = {}
    for kv in cluster_option:
        if "=" not in kv:
            fail(f"--cluster-option: '{kv}' is not KEY=VALUE")
        key, value = kv.split("=", 1)
        options[key.strip().replace("-", "_")] = _option_value(value.strip())
    if options and cluster != "slurm":
        fail("--cluster-option: only with --cluster slurm")
    import importlib.util
    if cluster == "slurm" and importlib.util.find_spec("dask_jobqueue") is None:
        fail("--cluster slurm needs dask-jobqueue: pip install 'reesim[cluster]'")
    if (workers > 0 or scheduler or cluster != "local") and importlib.util.find_spec("distributed") is None:
        fail("runs on Dask need the sweeps extra: pip install 'reesim[sweeps]' (or --workers 0)")
    return Cluster(workers=workers, scheduler=scheduler, kind=cluster, jobs=jobs, options=options,
                   dashboard=dashboard)


def resume_hint(out: Path, done: int, total: int, command: list[str]) -> None:
    """Tell the user a stopped job kept its finished runs and the command that goes on."""
    command = shlex.join(["reesim", *command])
    typer.secho(f"interrupted: {done} of {total} runs are finished and kept in {out}", fg=typer.colors.YELLOW,
                err=True)
    typer.echo(f"resume with: {command}", err=True)


def _where_args(scheduler: str | None, cluster: str) -> list[str]:
    return (["--scheduler", scheduler] if scheduler else []) + (["--cluster", cluster] if cluster != "local" else [])


def _default_out(name: str) -> Path:
    return Path("out") / "sweeps" / name


def sweep(spec: str = typer.Argument(..., help="Sweep spec: a name in configs/sweeps or a TOML path."),
          workers: int = WORKERS, scheduler: str = SCHEDULER, cluster: str = CLUSTER, jobs: int = JOBS,
          cluster_option: list[str] = CLUSTER_OPTIONS, dashboard: bool = DASHBOARD,
          out: Path = typer.Option(None, "--out", "-o", help="Output folder [default: out/sweeps/NAME]."),
          resume: bool = typer.Option(False, "--resume", help="Continue a sweep in OUT: keep finished runs."),
          retry_failed: bool = typer.Option(False, "--retry-failed",
                                            help="With --resume, run again the runs recorded as failed."),
          batch_size: int = typer.Option(None, "--batch-size", min=1, help="Runs per Dask task."),
          plots: bool = typer.Option(True, "--plots/--no-plots", help="Write fan charts and heatmaps."),
          ) -> None:
    """Run a parameter sweep; stream each finished run to Parquet in OUT (runs/, series/, spec.json,
    config.json, reesim.log). Ctrl-C keeps every finished run; --resume goes on."""
    from sim.sweep import SweepError, run_sweep
    from sim.sweep_spec import load_sweep_spec, plan_runs
    try:
        resolved = load_sweep_spec(spec)
    except ConfigError as err:
        fail(str(err))
    where = cluster_of(workers, scheduler, cluster, jobs, cluster_option, dashboard)
    out = out or _default_out(resolved.name)
    typer.echo(f"sweep '{resolved.name}': {len(plan_runs(resolved))} runs "
               f"({resolved.design}, {len(resolved.seeds)} seeds) on {where.describe()} -> {out}", err=True)
    try:
        result = run_sweep(resolved, out, cluster=where, resume=resume, batch_size=batch_size,
                           retry_failed=retry_failed, plots=plots)
    except SweepError as err:
        fail(str(err))
    if result.interrupted:
        resume_hint(out, result.skipped + result.done_now, result.total,
                    ["sweep", spec, "--out", str(out), "--resume", *_where_args(scheduler, cluster)])
        raise typer.Exit(INTERRUPTED_EXIT)
    typer.echo(f"done: {result.done_now} runs now, {result.skipped} already done, "
               f"{result.failed} failed, {result.wall_s:.1f} s")
    typer.echo(f"results: {out / 'runs'}" + (f", {out / 'series'}" if resolved.series else ""))
    for p in result.figures:
        typer.echo(f"figure: {p}")
    if result.failed:
        typer.echo(f"{result.failed} runs failed: see the status and error columns of {out / 'runs'}")


def sensitivity(target: str = typer.Argument(..., help="A finished sweep folder, or a sweep spec to run first."),
                workers: int = WORKERS, scheduler: str = SCHEDULER, cluster: str = CLUSTER, jobs: int = JOBS,
                cluster_option: list[str] = CLUSTER_OPTIONS, dashboard: bool = DASHBOARD,
                out: Path = typer.Option(None, "--out", "-o",
                                         help="Sweep folder when TARGET is a spec [default: out/sweeps/NAME]."),
                metric: list[str] = typer.Option([], "--metric", "-m",
                                                 help="Metric to analyse (repeatable; default: all)."),
                ) -> None:
    """Sobol (first and total order, with confidence intervals) or Morris indices of a sweep.

    A spec is first run through the sweep engine (resuming what OUT already holds). Writes
    sensitivity.csv and sensitivity.png into the sweep folder.
    """
    from sim.sensitivity import sensitivity_report
    from sim.sweep import SweepError, run_sweep
    from sim.sweep_spec import load_sweep_spec
    folder = Path(target)
    try:
        if not (folder.is_dir() and (folder / "spec.json").exists()):
            resolved = load_sweep_spec(target)
            if resolved.design not in ("sobol", "morris"):
                fail(f"{resolved.path}: design: sensitivity needs design = 'sobol' or 'morris' "
                     f"(got '{resolved.design}')")
            folder = out or _default_out(resolved.name)
            where = cluster_of(workers, scheduler, cluster, jobs, cluster_option, dashboard)
            result = run_sweep(resolved, folder, cluster=where, resume=(folder / "spec.json").exists())
            if result.interrupted:
                resume_hint(folder, result.skipped + result.done_now, result.total,
                            ["sensitivity", target, "--out", str(folder), *_where_args(scheduler, cluster)])
                raise typer.Exit(INTERRUPTED_EXIT)
        table, paths = sensitivity_report(folder, list(metric) or None)
    except (ConfigError, SweepError, ValueError) as err:
        fail(str(err))
    import pandas as pd
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for p in paths:
        typer.echo(f"wrote: {p}")
