"""Command line: ``reesim run | scenarios | compare | ui | sweep | sensitivity``."""

from __future__ import annotations

import functools
import importlib
import inspect
import re
import sys
from pathlib import Path

import typer

from sim.errors import ConfigError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Rare-earth trade simulator: run scenarios, compare them, sweep parameters.")

SUMMARY_ELEMENTS = ("Nd", "Pr", "Dy", "Tb", "Ce", "La")


def simulate(scenario: str, seed: int, until: str | None, progress: bool = True, on_step=None,
             keep_flows: bool = True, **params):
    """Build and run one model with a progress bar (``on_step(model)`` after each month); returns the model."""
    from tqdm import tqdm

    from sim.model import RareEarthModel

    model = RareEarthModel(scenario, seed=seed, until=until, keep_flows=keep_flows, **params)
    months = model.end_month - model.start_month + 1
    with tqdm(total=months, desc=f"{model.spec.name} seed {seed}", unit="month",
              disable=not progress, file=sys.stderr) as bar:
        while model.running:
            model.step()
            if on_step is not None:
                on_step(model)
            bar.update(1)
            bar.set_postfix_str(model.current_month(), refresh=False)
    return model


def summary_table(df):
    """A short table: prices, China shares, shortages at a few dates."""
    import pandas as pd
    dates = [d for d in (df["date"].iloc[0], "2030-12", "2040-12", df["date"].iloc[-1]) if d in set(df["date"])]
    rows = df.set_index("date").loc[list(dict.fromkeys(dates))]
    cols = [f"price_{e}_usd_per_kg" for e in SUMMARY_ELEMENTS] + [
        "china_share_mining", "china_share_separation", "china_share_magnets", "shortage_frac"]
    out = rows[cols].rename(columns=lambda c: c.replace("price_", "").replace("_usd_per_kg", " $/kg"))
    return pd.DataFrame(out).T


def _fail(err: ConfigError) -> None:
    typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


SCHEDULER = re.compile(r"([a-z]+://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5}")


def check_flags(command: str, args: dict) -> None:
    """Every flag of a command checked before any work: output folder, months, seeds, overrides.

    A bad flag is a :class:`ConfigError` naming the flag and what is allowed, raised before a run
    starts, so a long run is never lost to a flag read at its end.
    """
    from sim.parameters import load_parameter_table, parse_overrides
    from sim.paths import check_out_dir
    from sim.scenarios import load_scenario, run_end

    if args.get("out") is not None:
        check_out_dir(args["out"], "--out")
    for flag, minimum in (("seeds", 1), ("budget", 1), ("seed", 0), ("search_seed", 0)):
        value = args.get(flag)
        if value is not None and value < minimum:
            raise ConfigError(f"--{flag.replace('_', '-')}", f"--{flag.replace('_', '-')}",
                              f"{value} is below {minimum}", [f"a whole number >= {minimum}"])
    if args.get("fitted") is not None:                       # calibrate writes its fit there
        fitted = Path(args["fitted"])
        if fitted.is_dir():
            raise ConfigError("--fitted", "--fitted", f"'{fitted}' is a folder", ["a CSV file path"])
        check_out_dir(fitted.parent, "--fitted")
    if args.get("start") is not None and not Path(args["start"]).is_file():
        raise ConfigError("--start", "--start", f"no file '{args['start']}'", ["an existing fitted CSV file"])
    if args.get("set_"):
        parse_overrides(list(args["set_"]))
    unknown = [p for p in args.get("params") or [] if p not in load_parameter_table()]
    if unknown:
        raise ConfigError("--param", "--param", f"unknown parameter '{unknown[0]}'",
                          sorted(load_parameter_table()))
    scheduler = args.get("scheduler")
    if scheduler is not None and not SCHEDULER.fullmatch(scheduler):
        raise ConfigError("--scheduler", "--scheduler", f"{scheduler!r} is not a scheduler address",
                          ["tcp://HOST:PORT", "HOST:PORT"])
    names = list(args.get("scenarios") or [])
    if len(set(names)) < len(names):
        raise ConfigError("<command line>", "scenarios", f"a scenario is named twice: {names}",
                          ["two or more distinct scenarios"])
    if args.get("scenario") is not None:
        names.append(args["scenario"])
    if command in ("validate", "calibrate"):
        from sim.validate import SCENARIO
        names.append(SCENARIO)
    specs = [load_scenario(name) for name in names]
    if "until" in args and args["until"] is not None:
        if not specs:
            raise ConfigError("--until", "until", "this command takes no --until")
        for spec in specs:
            run_end(spec, args["until"], "--until")


def guarded(command: str, fn):
    """``fn`` (a typer command) with its flags checked first and bad input as exit code 2."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            check_flags(command, dict(signature.bind_partial(*args, **kwargs).arguments))
            return fn(*args, **kwargs)
        except ConfigError as err:
            _fail(err)
    return wrapper


def run(scenario: str = typer.Option("baseline", help="Scenario name in configs/scenarios or a TOML path."),
        seed: int = typer.Option(1, help="Random seed."),
        until: str = typer.Option(None, help="Last month to simulate, YYYY-MM."),
        out: Path = typer.Option(Path("out/run"), help="Output directory."),
        set_: list[str] = typer.Option([], "--set", help="Parameter override NAME=VALUE (repeatable)."),
        ) -> None:
    """Run one scenario; write into OUT the monthly series (timeseries.parquet/.csv), the bilateral
    trade flows (flows.parquet: month, exporter, importer, good, t), the yearly agent table
    (agents.parquet/.csv), config.json, reesim.log and PNG plots."""
    from sim import outputs, plots
    from sim.parameters import parse_overrides
    from sim.run_tables import FlowLog, agent_table
    flows: FlowLog | None = None

    def record_flows(model) -> None:
        nonlocal flows
        flows = flows or FlowLog(model.world.nations)
        flows.record(model)
    model = simulate(scenario, seed, until, on_step=record_flows, keep_flows=False, **parse_overrides(list(set_)))
    with outputs.log_file(out):
        outputs.log.info("run %s seed %s until %s", model.spec.name, seed, model.current_month())
        df = model.datacollector.get_model_vars_dataframe()
        written = outputs.write_table(df, out, "timeseries")
        written += outputs.write_table(flows.frame(), out, "flows", csv=False)
        written += outputs.write_table(agent_table(model), out, "agents")
        written.append(outputs.write_config(out, **outputs.model_config(model)))
        written += outputs.write_figures(plots.run_figures(df, model.world.nations, model.spec.name), out)
        outputs.log.info("wrote %s", ", ".join(p.name for p in written))
    typer.echo(summary_table(df).to_string(float_format=lambda v: f"{v:,.3g}"))
    typer.echo("\nwrote: " + ", ".join(str(p) for p in written))


app.command(name="run")(guarded("run", run))


@app.command()
def scenarios() -> None:
    """List the scenarios in configs/scenarios with their descriptions."""
    from sim.scenarios import list_scenarios
    for name, description in list_scenarios():
        typer.secho(name, bold=True)
        typer.echo("  " + description.replace("\n", "\n  "))


def _register_optional(module: str, names: tuple[str, ...]) -> None:
    """Commands that live in their own modules (UI, sweeps): registered when present."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        return
    for name in names:
        fn = getattr(mod, name, None)
        if fn is not None:
            app.command(name=name)(guarded(name, fn))


_register_optional("sim.compare", ("compare",))
_register_optional("sim.ui_command", ("ui",))
_register_optional("sim.sweep_command", ("sweep", "sensitivity"))
_register_optional("sim.validate_command", ("validate", "calibrate"))


if __name__ == "__main__":
    app()
