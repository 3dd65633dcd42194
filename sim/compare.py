"""``reesim compare``: several scenarios, one seed, one table and side-by-side plots.

Every scenario runs with the same seed (common random numbers), so the
differences in the table come from the policies rather than from the draw.
The runs go through the sweep engine (:func:`sim.engine.execute`: in this
process, on local Dask workers or a scheduler). The summary measures are pure
functions of the monthly frames (:func:`compare_table`, :func:`compare_figures`);
only :mod:`sim.outputs` writes files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from matplotlib.figure import Figure

from sim.calendar import add_months, is_month
from sim.engine import Cluster, RunOutput, execute
from sim.errors import ConfigError
from sim.plots import month_dates
from sim.scenarios import list_scenarios
from sim.sweep_command import INTERRUPTED_EXIT, SCHEDULER, cluster_of, fail
from sim.sweep_spec import RunPlan
from sim.world import GOODS

TABLE_YEARS = (2030, 2040)
STAGES = ("mining", "separation", "magnets")
SHORTAGE_NATIONS = ("USA", "JPN", "KOR", "DEU", "CHN")
RATIO_GOODS = ("Nd", "Dy", "Tb", "Ce")
PLOT_GOODS = ("Nd", "Dy", "Tb", "Ce")
RATIO_WINDOW_MONTHS = 12


def _year_rows(df: pd.DataFrame, year: int) -> pd.DataFrame:
    return df[df["date"].astype(str).str.startswith(f"{year}-")]


def _year_mean(df: pd.DataFrame, col: str, year: int) -> float:
    rows = _year_rows(df, year)
    return float(rows[col].mean()) if len(rows) else float("nan")


def _year_sum(df: pd.DataFrame, col: str, year: int) -> float:
    rows = _year_rows(df, year)
    return float(rows[col].sum()) if len(rows) == 12 else float("nan")


def max_ratio_in_window(df: pd.DataFrame, ref: pd.DataFrame, col: str, start: str | None,
                        months: int = RATIO_WINDOW_MONTHS) -> float:
    """Largest ``df[col] / ref[col]`` over ``months`` months from ``start`` (NaN without a start).

    Args:
        df, ref: monthly frames with a ``date`` column (``YYYY-MM``).
        col: series to compare, e.g. ``price_Dy_usd_per_kg``.
        start: first month of the window, e.g. the month a ban starts.
    """
    if start is None:
        return float("nan")
    end = add_months(start, months)
    a = df.set_index("date")[col]
    b = ref.set_index("date")[col]
    dates = [d for d in a.index if start <= d < end and d in b.index]
    if not dates:
        return float("nan")
    return float((a.loc[dates] / b.loc[dates]).max())


def scenario_row(df: pd.DataFrame, ref: pd.DataFrame | None = None,
                 first_event: str | None = None) -> dict:
    """Summary measures of one run (one row of compare.csv).

    Yearly measures are calendar-year means of the monthly series (prices, China shares,
    HHI, US supply share) or calendar-year totals (mine output, t); they are NaN when the
    run stops before the year ends. Shortages are summed over the whole run (t REO).

    Args:
        df: the run's monthly frame (DataCollector output, ``date`` column).
        ref: the reference run (same seed) for the price ratios; ``None`` skips them.
        first_event: first month of the scenario's policy timeline (start of the ratio window).
    """
    row: dict = {"months": len(df), "first_event": first_event or ""}
    for g in GOODS:
        col = f"price_{g}_usd_per_kg"
        row[f"price_{g}_peak_usd_per_kg"] = float(df[col].max())
        row[f"price_{g}_peak_date"] = str(df.loc[df[col].idxmax(), "date"])
        for year in TABLE_YEARS:
            row[f"price_{g}_{year}_usd_per_kg"] = _year_mean(df, col, year)
    if ref is not None:
        for g in RATIO_GOODS:
            col = f"price_{g}_usd_per_kg"
            row[f"price_{g}_max_ratio_to_ref_{RATIO_WINDOW_MONTHS}m"] = max_ratio_in_window(
                df, ref, col, first_event)
    for stage in STAGES:
        for year in TABLE_YEARS:
            row[f"china_share_{stage}_{year}"] = _year_mean(df, f"china_share_{stage}", year)
    for stage in STAGES:
        for year in TABLE_YEARS:
            row[f"hhi_{stage}_{year}"] = _year_mean(df, f"hhi_{stage}", year)
    row["shortage_cum_t"] = float(df["shortage_t"].sum())
    row["shortage_frac_peak"] = float(df["shortage_frac"].max())
    for iso in SHORTAGE_NATIONS:
        row[f"shortage_{iso}_cum_t"] = float(df[f"shortage_{iso}_t"].sum())
    row["central_asia_mine_output_2035_t"] = _year_sum(df, "central_asia_mine_output_t", 2035)
    for year in TABLE_YEARS:
        row[f"usa_supply_china_share_{year}"] = _year_mean(df, "usa_supply_china_share", year)
    return row


def compare_table(frames: dict[str, pd.DataFrame], first_events: dict[str, str | None] | None = None,
                  reference: str | None = None) -> pd.DataFrame:
    """One row per scenario; price ratios against ``reference`` (default: the first scenario)."""
    first_events = first_events or {}
    reference = reference or next(iter(frames))
    ref = frames[reference]
    rows = []
    for name, df in frames.items():
        row = {"scenario": name, "reference": reference}
        row.update(scenario_row(df, ref, first_events.get(name)))
        rows.append(row)
    return pd.DataFrame(rows)


def _lines(ax, frames: dict[str, pd.DataFrame], col: str, scale: float = 1.0) -> None:
    for name, df in frames.items():
        ax.plot(month_dates(df), df[col] * scale, lw=1.3, label=name)
    ax.grid(alpha=0.3)


def compare_figures(frames: dict[str, pd.DataFrame], seed: int) -> dict[str, Figure]:
    """Side-by-side paths, one line per scenario, by file stem."""
    tag = f"(seed {seed})"
    figs: dict[str, Figure] = {}

    fig = Figure(figsize=(12, 7), layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, g in zip(axes, PLOT_GOODS):
        _lines(ax, frames, f"price_{g}_usd_per_kg")
        ax.set_yscale("log")
        ax.set_title(f"{g} oxide outside China", fontsize=10)
        ax.set_ylabel("USD/kg (log)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Prices outside China {tag}")
    figs["compare_prices"] = fig

    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.add_subplot()
    _lines(ax, frames, "china_share_separation")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("share (0-1)")
    ax.set_title(f"China's share of world separation {tag}")
    ax.legend(fontsize=8)
    figs["compare_china_share_separation"] = fig

    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    _lines(ax1, frames, "shortage_t")
    ax1.set_ylabel("t REO per month")
    ax1.set_title("Unmet demand, world", fontsize=10)
    for name, df in frames.items():
        ax2.plot(month_dates(df), sum(df[f"shortage_{iso}_t"] for iso in SHORTAGE_NATIONS[:-1]).cumsum(),
                 lw=1.3, label=name)
    ax2.grid(alpha=0.3)
    ax2.set_ylabel("t REO, cumulative")
    ax2.set_title("Cumulative unmet demand, USA+JPN+KOR+DEU", fontsize=10)
    ax1.legend(fontsize=8)
    fig.suptitle(f"Shortages {tag}")
    figs["compare_shortages"] = fig

    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.add_subplot()
    _lines(ax, frames, "central_asia_mine_output_t", scale=12.0)
    ax.set_ylabel("t REO per year (monthly rate x 12)")
    ax.set_title(f"Central Asian mine output {tag}")
    ax.legend(fontsize=8)
    figs["compare_central_asia"] = fig
    return figs


def _first_event(spec) -> str | None:
    months = [e.at for e in spec.events]
    return min(months) if months else None


@dataclass(frozen=True)
class ScenarioRun:
    """One scenario as a sweep-engine run function: ``params["scenario"]`` run to ``until`` (picklable).

    Returns the monthly frame as its series and the run's resolved configuration as its one metric.
    """

    until: str | None
    overrides: tuple = ()

    def __call__(self, params: dict, seed: int) -> RunOutput:
        from sim import outputs
        from sim.model import RareEarthModel
        model = RareEarthModel(params["scenario"], seed=seed, until=self.until, keep_flows=False,
                               **dict(self.overrides))
        model.run()
        return RunOutput({"config": outputs.model_config(model)}, model.datacollector.get_model_vars_dataframe())


def check_inputs(names: list[str], until: str | None) -> list:
    """The scenarios' specs, once every file and the month are valid (ConfigError otherwise)."""
    from sim.scenarios import load_scenario

    specs = [load_scenario(n) for n in names]
    labels = [s.name for s in specs]
    if len(set(labels)) != len(labels):
        raise ConfigError("<command line>", "scenarios", f"a scenario is named twice: {labels}")
    if until is not None and not is_month(until):
        raise ConfigError("<command line>", "--until", f"'{until}' is not a month YYYY-MM")
    return specs


def run_compare(names: list[str], seed: int = 1, until: str | None = None, cluster: Cluster = Cluster(workers=0),
                **params):
    """Run every scenario with the same seed; returns (table, frames, configs by scenario name).

    All scenario files are validated before the first run starts; a failed run raises RuntimeError.
    """
    specs = check_inputs(names, until)
    labels = [s.name for s in specs]
    plans = [RunPlan(f"{k}-{label}", k, 0, seed, {"scenario": str(name)})
             for k, (name, label) in enumerate(zip(names, labels))]
    records, series = {}, []

    def sink(batch: list[dict], frames: pd.DataFrame | None) -> None:
        records.update({r["point"]: r for r in batch})
        if frames is not None:
            series.append(frames)
    ran = execute(ScenarioRun(until, tuple(sorted(params.items()))), plans, sink, cluster=cluster)
    if ran.interrupted:
        raise KeyboardInterrupt
    failed = [f"{labels[k]}: {r['error']}" for k, r in sorted(records.items()) if r["status"] != "ok"]
    if failed:
        raise RuntimeError("; ".join(failed))
    stacked = pd.concat(series, ignore_index=True)
    frames = {label: stacked[stacked["point"] == k].drop(columns=["run_key", "point", "replicate", "seed"])
              .reset_index(drop=True) for k, label in enumerate(labels)}
    configs = {label: records[k]["metrics"]["config"] for k, label in enumerate(labels)}
    firsts = {s.name: _first_event(s) for s in specs}
    return compare_table(frames, firsts), frames, configs


def format_table(table: pd.DataFrame) -> str:
    """The table with scenarios as columns and measures as rows, for the terminal."""
    t = table.set_index("scenario").T

    def fmt(v):
        if isinstance(v, float):
            return "nan" if np.isnan(v) else f"{v:,.4g}"
        return str(v)
    return t.map(fmt).to_string()


def compare(scenarios: list[str] = typer.Argument(..., help="Two or more scenario names or TOML paths; "
                                                  "the first is the reference for the price ratios."),
            seed: int = typer.Option(1, help="Random seed, the same for every scenario."),
            until: str = typer.Option(None, help="Last month to simulate, YYYY-MM."),
            out: Path = typer.Option(Path("out/compare"), help="Output directory."),
            workers: int = typer.Option(0, "--workers", "-w", min=0,
                                        help="Local Dask worker processes (0, the default: run in this process; "
                                             "starting workers costs more than it saves below ~4 scenarios)."),
            scheduler: str = SCHEDULER,
            ) -> None:
    """Run scenarios with the same seed; write compare.csv/.parquet, config.json, reesim.log and PNG plots
    into OUT."""
    from sim import outputs

    if len(scenarios) < 2:
        fail(f"SCENARIOS: compare needs at least two scenarios, got {len(scenarios)} ({', '.join(scenarios)}) "
             f"(allowed: shipped names {', '.join(name for name, _ in list_scenarios())}, or scenario TOML paths)")
    where = cluster_of(min(workers, len(scenarios)), scheduler, "local", 1, [], dashboard=False)
    try:
        check_inputs(list(scenarios), until)
    except ConfigError as err:
        fail(str(err))
    with outputs.log_file(out):
        outputs.log.info("compare %s, seed %s, until %s, on %s", list(scenarios), seed, until, where.describe())
        try:
            table, frames, configs = run_compare(list(scenarios), seed, until, cluster=where)
        except RuntimeError as err:
            fail(f"a run failed: {err}")
        except KeyboardInterrupt:
            typer.secho("interrupted: compare stopped; nothing was written", fg=typer.colors.YELLOW, err=True)
            raise typer.Exit(INTERRUPTED_EXIT)
        written = outputs.write_table(table, out, "compare")
        long = pd.concat([df.assign(scenario=name) for name, df in frames.items()], ignore_index=True)
        written += outputs.write_table(long, out, "compare_timeseries", csv=False)
        written.append(outputs.write_config(out, command="compare", seed=seed, until=until,
                                            reference=table["scenario"].iloc[0], runs=configs))
        written += outputs.write_figures(compare_figures(frames, seed), out)
    typer.echo(format_table(table))
    typer.echo("\nwrote: " + ", ".join(str(p) for p in written))
