"""``reesim sweep`` and ``reesim sensitivity``: plain typer functions the CLI registers."""

from __future__ import annotations

from pathlib import Path

import typer

from sim.errors import ConfigError


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _default_out(name: str) -> Path:
    return Path("out") / "sweeps" / name


def sweep(spec: str = typer.Argument(..., help="Sweep spec: a name in configs/sweeps or a TOML path."),
          workers: int = typer.Option(2, "--workers", "-w", min=0,
                                      help="Local Dask worker processes (0: run in this process)."),
          scheduler: str = typer.Option(None, "--scheduler",
                                        help="Address of a running Dask scheduler, e.g. tcp://HOST:8786."),
          out: Path = typer.Option(None, "--out", "-o", help="Output folder [default: out/sweeps/NAME]."),
          resume: bool = typer.Option(False, "--resume", help="Continue a sweep in OUT: keep finished runs."),
          retry_failed: bool = typer.Option(False, "--retry-failed",
                                            help="With --resume, run again the runs recorded as failed."),
          batch_size: int = typer.Option(None, "--batch-size", min=1, help="Runs per Dask task."),
          plots: bool = typer.Option(True, "--plots/--no-plots", help="Write fan charts and heatmaps."),
          ) -> None:
    """Run a parameter sweep; stream each finished run to Parquet in OUT (runs/, series/, spec.json)."""
    from sim.sweep import SweepError, run_sweep
    from sim.sweep_spec import load_sweep_spec, plan_runs
    try:
        resolved = load_sweep_spec(spec)
    except ConfigError as err:
        _fail(str(err))
    out = out or _default_out(resolved.name)
    where = scheduler or ("this process" if workers == 0 else f"{workers} local workers")
    typer.echo(f"sweep '{resolved.name}': {len(plan_runs(resolved))} runs "
               f"({resolved.design}, {len(resolved.seeds)} seeds) on {where} -> {out}", err=True)
    try:
        result = run_sweep(resolved, out, workers=workers, scheduler=scheduler, resume=resume,
                           batch_size=batch_size, retry_failed=retry_failed, plots=plots)
    except SweepError as err:
        _fail(str(err))
    typer.echo(f"done: {result.done_now} runs now, {result.skipped} already done, "
               f"{result.failed} failed, {result.wall_s:.1f} s")
    typer.echo(f"results: {out / 'runs'}" + (f", {out / 'series'}" if resolved.series else ""))
    for p in result.figures:
        typer.echo(f"figure: {p}")
    if result.failed:
        typer.echo(f"{result.failed} runs failed: see the status and error columns of {out / 'runs'}")


def sensitivity(target: str = typer.Argument(..., help="A finished sweep folder, or a sweep spec to run first."),
                workers: int = typer.Option(2, "--workers", "-w", min=0,
                                            help="Local Dask workers if a spec must be run first."),
                scheduler: str = typer.Option(None, "--scheduler", help="Dask scheduler address."),
                out: Path = typer.Option(None, "--out", "-o",
                                         help="Sweep folder when TARGET is a spec [default: out/sweeps/NAME]."),
                metric: list[str] = typer.Option([], "--metric", "-m",
                                                 help="Metric to analyse (repeatable; default: all)."),
                ) -> None:
    """Sobol (first and total order, with confidence intervals) or Morris indices of a sweep.

    Writes sensitivity.csv and sensitivity.png into the sweep folder.
    """
    from sim.sensitivity import sensitivity_report
    from sim.sweep import SweepError, run_sweep
    from sim.sweep_spec import load_sweep_spec
    folder = Path(target)
    try:
        if not (folder.is_dir() and (folder / "spec.json").exists()):
            resolved = load_sweep_spec(target)
            if resolved.design not in ("sobol", "morris"):
                _fail(f"{resolved.path}: design: sensitivity needs design = 'sobol' or 'morris' "
                      f"(got '{resolved.design}')")
            folder = out or _default_out(resolved.name)
            run_sweep(resolved, folder, workers=workers, scheduler=scheduler,
                      resume=(folder / "spec.json").exists())
        table, paths = sensitivity_report(folder, list(metric) or None)
    except (ConfigError, SweepError, ValueError) as err:
        _fail(str(err))
    import pandas as pd
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for p in paths:
        typer.echo(f"wrote: {p}")
