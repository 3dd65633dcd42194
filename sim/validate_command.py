"""``reesim validate`` and ``reesim calibrate``: plain typer functions the CLI registers.

The backtest itself (targets, metrics, loss, the search) is :mod:`sim.validate`; this module reads the
options, prints the tables and writes the files through :mod:`sim.outputs`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from sim.errors import ConfigError
from sim.sweep_command import (CLUSTER, CLUSTER_OPTIONS, DASHBOARD, INTERRUPTED_EXIT, JOBS, SCHEDULER,
                               cluster_of, fail)


def _print_table(summary: pd.DataFrame) -> None:
    show = summary[["target", "historical", "model_median", "model_p10", "model_p90", "band_low", "band_high",
                    "margin_to_edge", "passed"]].copy()
    show["passed"] = [("pass" if ok else "FAIL") if np.isfinite(med) else "n/a"
                      for ok, med in zip(summary["passed"], summary["model_median"])]
    typer.echo(show.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


def _overrides(set_: list[str]) -> dict[str, float]:
    params = {}
    for kv in set_:
        name, sep, value = kv.partition("=")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            fail(f"--set: '{kv}' is not NAME=NUMBER")
        if not sep:
            fail(f"--set: '{kv}' is not NAME=NUMBER")
    return params


def _stopped(what: str) -> None:
    typer.secho(f"interrupted: {what} stopped; nothing was written (run the command again to start over)",
                fg=typer.colors.YELLOW, err=True)
    raise typer.Exit(INTERRUPTED_EXIT)


def _validate(params: dict, seeds: int, until: str | None, where, out: Path) -> list[Path]:
    """Run, print and write the validation (inside the command's log file)."""
    from sim import constraints as market_constraints
    from sim import episodes, outputs
    from sim import validate as v
    outputs.log.info("validate: %s, %d seeds, until %s, overrides %s, on %s", v.SCENARIO, seeds, until, params,
                     where.describe())
    targets, constraints = v.load_targets(), v.load_constraints()
    seed_list = list(range(1, seeds + 1))
    try:
        ev = v.evaluate_points([params], seed_list, until=until, constraints=constraints, cluster=where,
                               keep_paths=True)
    except ConfigError as err:
        fail(str(err))
    if ev.interrupted:
        _stopped("validate")
    per_seed = ev.per_point[0]
    if isinstance(per_seed, str):
        fail(f"the replay failed: {per_seed}")
    summary = v.summarise(per_seed, targets + constraints)
    typer.echo("2010-2011 quota crisis (outside-China prices vs 2009) and the calm constraints:")
    _print_table(summary)
    score = v.loss(summary, targets + constraints)
    passed = summary["passed"].to_numpy()
    unscored = int((~np.isfinite(summary["model_median"].to_numpy()[:len(targets)])).sum())
    typer.echo(f"\npassed {int(passed[:len(targets)].sum())}/{len(targets)} historical targets"
               + (f" ({unscored} not reached before --until {until})" if unscored else "")
               + f", {int(passed[len(targets):].sum())}/{len(constraints)} calm constraints; loss {score:.3f} "
               "(sum of squared log distances of the medians to their band centres, docs/backtest.md)")
    outputs.log.info("validate: loss %.3f", score)
    written = outputs.write_table(summary, out, "validation")
    written += outputs.write_table(per_seed, out, "validation_per_seed")
    written.append(outputs.write_json(out / "validation.json", {
        "scenario": v.SCENARIO, "seeds": seed_list, "until": until, "overrides": params, "loss": score,
        "cut_month": v.CUT_MONTH, "base_year": v.BASE_YEAR, "targets": summary.to_dict(orient="records"),
        "per_seed": per_seed.to_dict(orient="records")}))
    written.append(outputs.write_config(out, command="validate", scenario=v.SCENARIO, seeds=seed_list,
                                        until=until, overrides=params,
                                        parameters=outputs.parameter_values(params)))
    frames = {s: ev.paths[(0, s)] for s in seed_list}
    written += outputs.write_figures(v.path_figures(frames, v._history()), out)
    text, more = episodes.report_2020(params, seed_list, out, outputs.write_table, outputs.write_figures)
    typer.echo(text)
    text, checked, _ = market_constraints.report(seed_list, params, out, outputs.write_table, outputs.write_figures)
    typer.echo(text)
    return written + more + checked


def validate(seeds: int = typer.Option(5, help="Number of seeds (1..N)."),
             out: Path = typer.Option(Path("out/validation"), help="Output directory."),
             until: str = typer.Option(None, help="Last month of the 2010 replay (YYYY-MM); default its end, "
                                                  "2015-12. Targets after it are shown n/a. The 2020 replay and "
                                                  "the market constraints always run in full."),
             workers: int = typer.Option(2, "--workers", "-w", min=0,
                                         help="Local Dask worker processes (0: run in this process)."),
             scheduler: str = SCHEDULER, cluster: str = CLUSTER, jobs: int = JOBS,
             cluster_option: list[str] = CLUSTER_OPTIONS, dashboard: bool = DASHBOARD,
             set_: list[str] = typer.Option([], "--set", help="Parameter override NAME=VALUE (repeatable)."),
             ) -> None:
    """Replay the 2010 quota crisis and the 2020-2023 demand boom over N seeds; write tables,
    config.json, reesim.log and a PNG per element."""
    from sim import outputs
    params = _overrides(set_)
    where = cluster_of(workers, scheduler, cluster, jobs, cluster_option, dashboard)
    with outputs.log_file(out):
        written = _validate(params, seeds, until, where, out)
    typer.echo("wrote: " + ", ".join(str(p) for p in written))


def calibrate(budget: int = typer.Option(40, help="Parameter sets to evaluate (each on K seeds)."),
              seeds: int = typer.Option(3, help="Seeds per parameter set (common random numbers 1..K)."),
              out: Path = typer.Option(Path("out/calibration"),
                                       help="Output directory: fitted_2010.csv, the search log, config.json."),
              params: list[str] = typer.Option([], "--param", help="Fit only these parameters (repeatable)."),
              workers: int = typer.Option(2, "--workers", "-w", min=0,
                                          help="Local Dask worker processes (0: run in this process)."),
              scheduler: str = SCHEDULER, cluster: str = CLUSTER, jobs: int = JOBS,
              cluster_option: list[str] = CLUSTER_OPTIONS, dashboard: bool = DASHBOARD,
              search_seed: int = typer.Option(2010, help="Seed of the search itself (reproducible)."),
              fitted: Path = typer.Option(None, help="Where to write the fitted values \\[default: OUT/fitted_2010.csv]."),
              update_shipped: bool = typer.Option(False, "--update-shipped",
                                                  help="Also replace the shipped fit (configs/calibration/"
                                                       "fitted_2010.csv), which every run then uses."),
              start: Path = typer.Option(None, help="Refine a fitted file: the first generation is its values "
                                                    "and points around them (no hypercube)."),
              joint: bool = typer.Option(True, "--joint/--only-2010",
                                         help="Fit both episodes and the calm 2024-2050 market constraints "
                                              "together (one physics; each candidate also runs the 2020-2023 "
                                              "replay and the 2024-2050 baseline), or the 2010 targets alone."),
              ) -> None:
    """Fit the behavioural parameters to both episodes and the calm constraints with differential evolution.

    Each parameter is searched over its range (min to max) in configs/parameters.csv, in the unit cube
    (log scale where positive). The first generation is the priors plus a scrambled Latin hypercube
    (seed SEARCH_SEED); each generation's members run on the sweep engine (the 2010 replay and its calm
    companion runs and, by default, the 2020-2023 replay and the 2024-2050 baseline; seeds 1..K). The
    same budget, seeds and search seed reproduce the same fit. Writes OUT/fitted_2010.csv (or --fitted), OUT/calibration_log.csv,
    calibration_best.csv and calibration.png (the search's losses; each fitted value in its range);
    the shipped fit changes only with --update-shipped.
    """
    from sim import outputs, plots
    from sim import validate as v
    where = cluster_of(workers, scheduler, cluster, jobs, cluster_option, dashboard)
    seed_list = list(range(1, seeds + 1))
    try:
        space = v.calibration_space(list(params) or None)
    except ConfigError as err:
        fail(str(err))
    begun = None
    if start is not None:
        if not start.is_file():
            fail(f"--start: {start} is not a file")
        begun = pd.read_csv(start)
        known = dict(zip(begun["name"], begun["value"]))
        start_values = {p.name: float(known.get(p.name, p.value)) for p in space}
    with outputs.log_file(out):
        outputs.log.info("calibrate: %d parameters, budget %d, seeds %s, search_seed %d, on %s", len(space),
                         budget, seed_list, search_seed, where.describe())
        try:
            result = v.calibrate_search(space, seed_list, budget, search_seed,
                                        start=start_values if begun is not None else None, cluster=where,
                                        joint=joint,
                                        on_generation=lambda g, best: outputs.log.info(
                                            "generation %d: best loss %.3f", g, best))
        except KeyboardInterrupt:
            _stopped("calibrate")
        stage = result.method + (f"; refined from {start.name} ({begun['calibrated_to'].iloc[0]})"
                                 if begun is not None else "")
        if result.interrupted:
            stage += " (stopped by Ctrl-C: the best so far)"
        if result.summary is not None:
            _print_table(result.summary)
        typer.echo(f"\nbest loss {result.loss:.3f} (priors: {result.prior_loss:.3f}); {stage}")
        table = v.fitted_rows(result, space, seed_list, stage, joint)
        fitted = fitted or out / "fitted_2010.csv"
        written = [outputs.write_csv(table, fitted)]
        if update_shipped:
            written.append(outputs.write_csv(table, v.FITTED_PATH))
        written += outputs.write_table(result.log, out, "calibration_log")
        written.append(outputs.write_figure(plots.calibration_figure(result.log, table, result.prior_loss),
                                            out / "calibration.png"))
        if result.summary is not None:
            written += outputs.write_table(result.summary, out, "calibration_best")
        scenarios = [v.SCENARIO] + ([v.episodes.SCENARIO_2020, v.market_constraints.CALM_SCENARIO] if joint else [])
        written.append(outputs.write_config(out, command="calibrate", scenario=scenarios, seeds=seed_list,
                                            budget=budget, search_seed=search_seed, method=stage, joint=joint,
                                            space={p.name: [p.min, p.max] for p in space},
                                            parameters=outputs.parameter_values(result.values)))
        outputs.log.info("wrote %s", ", ".join(str(p) for p in written))
    typer.echo("wrote: " + ", ".join(str(p) for p in written))
    if not update_shipped:
        typer.echo(f"the shipped fit is unchanged; to use this one: --update-shipped, or copy {fitted} to "
                   f"configs/calibration/fitted_2010.csv")
    if result.interrupted:
        raise typer.Exit(INTERRUPTED_EXIT)
