"""Backtest against the 2010-2011 rare-earth crisis: ``reesim validate`` and ``reesim calibrate``.

The historical replay (``configs/scenarios/china_2010_quota.toml``, world ``configs/world_2009``) is run
with the same model and parameters as every other scenario: there is no backtest mode. This module
only measures the runs against the targets in ``configs/validation/targets_2010.csv`` (historical
values, their sources and the accepted bands) and, for calibration, searches the parameters of kind
``calibrated`` in ``configs/parameters.csv`` for the smallest distance to those bands.

Metrics per element (outside-China prices unless said otherwise), from one run:

- ``peak_multiple``: highest price from the 2010 quota cut (2010-07) on, over the 2009 average;
- ``peak_month``: months from 2010-07 to that peak;
- ``outside_inside_ratio_at_peak``: outside/inside-China price in the peak month;
- ``share_of_peak_3y_later``: price 36 months after the peak over the peak price;
- ``china_share_mining_2014``: China's share of world mine output, 2014 average (not per element).
"""

from __future__ import annotations

import csv
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from matplotlib.figure import Figure

from sim.calendar import month_index, month_name
from sim.world import CONFIG_DIR

SCENARIO = "china_2010_quota"
TARGETS_PATH = CONFIG_DIR / "validation" / "targets_2010.csv"
CONSTRAINTS_PATH = CONFIG_DIR / "validation" / "calm_constraints.csv"
FITTED_PATH = CONFIG_DIR / "calibration" / "fitted_2010.csv"
HISTORY_PATH = CONFIG_DIR / "validation" / "history_2010_prices.csv"   # 2010-2011 prices, each row with its source
CUT_MONTH = "2010-07"            # the 2010 quota cut (second 2010 batch)
BASE_YEAR = "2009"
PEAK_SEARCH_MONTHS = 42          # the peak is looked for from the cut to 3.5 years after it
PLOT_ELEMENTS = ("Dy", "Nd", "La", "Ce")
LOCAL_BATCH = 4                  # points per round of the local search
LOCAL_PATIENCE = 2               # rounds without improvement before the local radius shrinks by 0.7
IN_BAND_WEIGHT = 0.05            # loss weight of the distance to the band centre for a median inside the band
CONSTRAINT_WEIGHT = 10.0         # loss weight of a broken calm constraint (a bubble without a shock)
CONSTRAINT_METRICS = ("max_price_ratio", "max_12m_rise")


# ----------------------------------------------------------------------------- targets and metrics
@dataclass(frozen=True)
class Target:
    """One row of the targets table."""

    name: str
    element: str
    metric: str
    historical: float
    band_low: float
    band_high: float
    unit: str
    source: str
    scenario: str = SCENARIO
    window: tuple[str, str] = ("", "")     # months a ``max_price_ratio`` constraint looks at

    @property
    def key(self) -> str:
        """Column of the per-seed metrics table."""
        if self.metric in CONSTRAINT_METRICS:
            return self.name
        return f"{self.element}_{self.metric}" if self.element else self.metric

    @property
    def centre(self) -> float:
        """Band centre: geometric mean where the band is positive, else the midpoint."""
        if self.band_low > 0:
            return math.sqrt(self.band_low * self.band_high)
        return 0.5 * (self.band_low + self.band_high)

    def inside(self, value: float) -> bool:
        return bool(np.isfinite(value) and self.band_low <= value <= self.band_high)


def load_targets(path: Path = TARGETS_PATH) -> list[Target]:
    """The historical targets with their accepted bands."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return [Target(r["target"], r["element"], r["metric"], float(r["historical"]), float(r["band_low"]),
                       float(r["band_high"]), r["unit"], r["source"]) for r in csv.DictReader(fh)]


def load_constraints(path: Path = CONSTRAINTS_PATH) -> list[Target]:
    """The calm constraints: no price bubble where history (or common sense) had none.

    They keep the fit honest: speculative feedback strong enough to reproduce 2010-2011 must not
    blow bubbles in 2009 before the cut or in the 2024 world without a shock.
    """
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return [Target(r["target"], r["element"], r["metric"], float("nan"), float(r["band_low"]),
                       float(r["band_high"]), r["unit"], r["source"], r["scenario"],
                       (r["window_start"], r["window_end"])) for r in csv.DictReader(fh)]


def companion_runs(constraints: list[Target]) -> dict[str, str]:
    """Scenarios other than the replay that constraints need, with the last month each must reach."""
    ends: dict[str, str] = {}
    for c in constraints:
        if c.scenario != SCENARIO:
            ends[c.scenario] = max(ends.get(c.scenario, c.window[1]), c.window[1])
    return ends


def constraint_metrics(frames: dict[str, pd.DataFrame], constraints: list[Target]) -> dict[str, float]:
    """Per constraint: the highest outside-China price over its base-year level within the window
    (``max_price_ratio``), or the largest rise of that price over any 12 months ending in the window
    (``max_12m_rise``: a bubble, as against a slow structural trend)."""
    from sim.scenarios import load_scenario
    from sim.world import GOODS, load_world
    base_prices = {sc: load_world(load_scenario(sc).world_dir).price_usd_per_kg
                   for sc in {c.scenario for c in constraints}}
    out = {}
    for c in constraints:
        df = frames[c.scenario]
        price = (df.set_index("date") if "date" in df.columns else df)[f"price_{c.element}_usd_per_kg"]
        if c.metric == "max_12m_rise":
            series = price / price.shift(12)
        else:
            series = price / base_prices[c.scenario][GOODS.index(c.element)]
        window = series.loc[c.window[0]:c.window[1]].dropna()
        out[c.key] = float(window.max()) if len(window) else float("nan")
    return out


def run_metrics(df: pd.DataFrame, cut: str = CUT_MONTH, base_year: str = BASE_YEAR) -> dict[str, float]:
    """Every target metric of one run (NaN where the run is too short to tell).

    Args:
        df: the model's monthly table with a ``date`` column (``YYYY-MM``).
        cut: the month of the quota cut the peak timing is measured from.
        base_year: the year whose average price is the base of the peak multiple.
    """
    d = df.set_index("date") if "date" in df.columns else df
    dates = list(d.index)
    out: dict[str, float] = {}
    after = [m for m in dates if month_index(cut) <= month_index(m) < month_index(cut) + PEAK_SEARCH_MONTHS]
    for el in PLOT_ELEMENTS:
        outside, inside = d[f"price_{el}_usd_per_kg"], d[f"price_{el}_china_usd_per_kg"]
        base = outside[[m for m in dates if m.startswith(base_year)]].mean()
        keys = ("peak_multiple", "peak_month", "outside_inside_ratio_at_peak", "share_of_peak_3y_later")
        if not after or not np.isfinite(base):
            out.update({f"{el}_{k}": float("nan") for k in keys})
            continue
        peak = outside[after].idxmax()
        later = month_name(month_index(peak) + 36)
        out[f"{el}_peak_multiple"] = float(outside[peak] / base)
        out[f"{el}_peak_month"] = float(month_index(peak) - month_index(cut))
        out[f"{el}_outside_inside_ratio_at_peak"] = float(outside[peak] / inside[peak])
        out[f"{el}_share_of_peak_3y_later"] = float(outside[later] / outside[peak]) if later in d.index \
            else float("nan")
    year = [m for m in dates if m.startswith("2014")]
    out["china_share_mining_2014"] = float(d.loc[year, "china_share_mining"].mean()) if year else float("nan")
    return out


def summarise(per_seed: pd.DataFrame, targets: list[Target]) -> pd.DataFrame:
    """Historical value, model median and 10-90 % range, band and pass/fail per target."""
    rows = []
    for t in targets:
        values = per_seed[t.key].to_numpy(dtype=float) if t.key in per_seed else np.array([np.nan])
        ok = values[np.isfinite(values)]
        med = float(np.median(ok)) if len(ok) else float("nan")
        rows.append({
            "target": t.name, "unit": t.unit, "historical": t.historical,
            "model_median": med,
            "model_p10": float(np.percentile(ok, 10)) if len(ok) else float("nan"),
            "model_p90": float(np.percentile(ok, 90)) if len(ok) else float("nan"),
            "band_low": t.band_low, "band_high": t.band_high, "passed": t.inside(med),
            "seeds": int(len(ok)), "source": t.source,
        })
    return pd.DataFrame(rows)


def loss(summary: pd.DataFrame, targets: list[Target]) -> float:
    """Sum of squared log-distances of the medians to the band centres, a twentieth of it inside the band.

    Inside its band a median still pays a little for being off centre, so a fit does not settle on
    band edges that another seed crosses. Targets whose band starts at 0 (``share_of_peak_3y_later``,
    the calm constraints) pay only outside, by the log-distance to the band's upper edge (a broken
    calm constraint ``CONSTRAINT_WEIGHT`` times over); a missing median counts as a miss of 2 log units.
    """
    total = 0.0
    for t, (_, row) in zip(targets, summary.iterrows()):
        v = row["model_median"]
        if not np.isfinite(v):
            total += 4.0
        elif t.inside(v):
            total += IN_BAND_WEIGHT * math.log(max(v, 1e-9) / t.centre) ** 2 if t.band_low > 0 else 0.0
        elif t.band_low > 0:
            total += math.log(max(v, 1e-9) / t.centre) ** 2
        else:
            weight = CONSTRAINT_WEIGHT if t.metric in CONSTRAINT_METRICS else 1.0
            total += weight * math.log(max(v, 1e-9) / t.band_high) ** 2
    return total


# ----------------------------------------------------------------------------- running
def run_one(params: dict, seed: int, until: str | None = None, scenario: str = SCENARIO) -> pd.DataFrame:
    """One replay: the model's monthly table (picklable, for any process pool)."""
    from sim.model import RareEarthModel
    model = RareEarthModel(scenario, seed=seed, until=until, keep_flows=False, **params)
    model.run()
    return model.datacollector.get_model_vars_dataframe()


def _job(args: tuple) -> tuple[tuple, pd.DataFrame | str]:
    """One run; a failure comes back as its message (so one bad parameter set cannot stop a search)."""
    key, params, seed, scenario, until = args
    try:
        return (key, seed, scenario), run_one(params, seed, until, scenario)
    except Exception as err:  # noqa: BLE001 - reported per run, never silently dropped
        return (key, seed, scenario), f"{type(err).__name__}: {err}"


def run_many(jobs: list[tuple], workers: int = 1, desc: str = "runs",
             pool: ProcessPoolExecutor | None = None) -> dict[tuple, pd.DataFrame | str]:
    """Run (key, params, seed, scenario, until) jobs, in parallel when ``workers`` > 1, with a progress bar.

    Results are keyed (key, seed, scenario). ``pool`` reuses an open process pool (calibration).
    """
    import sys

    from tqdm import tqdm
    results: dict[tuple, pd.DataFrame | str] = {}
    with tqdm(total=len(jobs), desc=desc, unit="run", file=sys.stderr) as bar:
        if pool is None and workers <= 1:
            for job in jobs:
                k, df = _job(job)
                results[k] = df
                bar.update(1)
            return results
        own = pool is None
        pool = pool or ProcessPoolExecutor(max_workers=workers)
        try:
            for k, df in pool.map(_job, jobs):
                results[k] = df
                bar.update(1)
        finally:
            if own:
                pool.shutdown()
    return results


def plan_runs(points: list[dict], seeds: list[int], until: str | None, constraints: list[Target]) -> list[tuple]:
    """Every run a set of parameter points needs: the replay and the constraints' companions, per seed."""
    companions = companion_runs(constraints)
    return [(k, p, s, scenario, end) for k, p in enumerate(points) for s in seeds
            for scenario, end in [(SCENARIO, until), *companions.items()]]


def point_metrics(runs: dict[tuple, pd.DataFrame | str], key: int, seeds: list[int],
                  constraints: list[Target]) -> pd.DataFrame | str:
    """Per-seed metrics of one parameter point (rows), or the first failure's message."""
    rows = []
    scenarios = [SCENARIO, *companion_runs(constraints)]
    for s in seeds:
        frames = {sc: runs[(key, s, sc)] for sc in scenarios}
        failed = [f for f in frames.values() if isinstance(f, str)]
        if failed:
            return failed[0]
        rows.append({"seed": s, **run_metrics(frames[SCENARIO]), **constraint_metrics(frames, constraints)})
    return pd.DataFrame(rows)


def evaluate(params: dict, seeds: list[int], until: str | None = None, workers: int = 1,
             constraints: list[Target] | None = None) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """Metrics per seed (rows) and the replays themselves, for one parameter set."""
    constraints = load_constraints() if constraints is None else constraints
    runs = run_many(plan_runs([params], seeds, until, constraints), workers, desc="validate")
    per_seed = point_metrics(runs, 0, seeds, constraints)
    if isinstance(per_seed, str):
        raise typer.BadParameter(f"the replay failed: {per_seed}")
    return per_seed, {s: runs[(0, s, SCENARIO)] for s in seeds}


# ----------------------------------------------------------------------------- figures
def _history(path: Path = HISTORY_PATH) -> pd.DataFrame:
    if not Path(path).exists():
        return pd.DataFrame(columns=["oxide", "series", "date", "price_usd_per_kg"])
    h = pd.read_csv(path, dtype={"date": str})
    h["when"] = pd.to_datetime([d + "-07" if len(d) == 4 else d for d in h["date"]], format="%Y-%m")
    return h


def path_figures(frames: dict[int, pd.DataFrame], history: pd.DataFrame, label: str = "") -> dict[str, Figure]:
    """Per element: model paths (median and 10-90 % band over seeds) against the historical points."""
    figs = {}
    for el in PLOT_ELEMENTS:
        fig = Figure(figsize=(9, 5))
        ax = fig.add_subplot()
        dates = pd.to_datetime(next(iter(frames.values()))["date"], format="%Y-%m")
        for col, colour, name in ((f"price_{el}_usd_per_kg", "tab:blue", "model, outside China"),
                                  (f"price_{el}_china_usd_per_kg", "tab:orange", "model, inside China")):
            paths = np.array([df[col].to_numpy() for df in frames.values()])
            ax.fill_between(dates, np.percentile(paths, 10, axis=0), np.percentile(paths, 90, axis=0),
                            color=colour, alpha=0.2, lw=0)
            ax.plot(dates, np.median(paths, axis=0), color=colour, lw=1.8, label=f"{name} (median, 10-90 %)")
        h = history[history["oxide"] == el]
        for series, marker, colour in (("FOB China", "o", "black"), ("China domestic", "x", "tab:red")):
            pts = h[h["series"] == series]
            if len(pts):
                ax.scatter(pts["when"], pts["price_usd_per_kg"], marker=marker, color=colour, zorder=5,
                           label=f"history: {series}")
        ax.axvline(pd.Timestamp(CUT_MONTH + "-01"), color="grey", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_ylabel("USD/kg oxide (log scale)")
        ax.set_title(f"{el} oxide: 2010 quota replay vs history {label}".strip())
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper left")
        fig.tight_layout()
        figs[f"validation_{el}"] = fig
    return figs


def _print_table(summary: pd.DataFrame) -> None:
    show = summary[["target", "historical", "model_median", "model_p10", "model_p90", "band_low", "band_high",
                    "passed"]].copy()
    show["passed"] = show["passed"].map({True: "pass", False: "FAIL"})
    typer.echo(show.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


# ----------------------------------------------------------------------------- commands
def validate(seeds: int = typer.Option(5, help="Number of seeds (1..N)."),
             out: Path = typer.Option(Path("out/validation"), help="Output directory."),
             until: str = typer.Option(None, help="Last month to simulate (YYYY-MM); default the scenario's end."),
             workers: int = typer.Option(1, help="Parallel processes."),
             set_: list[str] = typer.Option([], "--set", help="Parameter override NAME=VALUE (repeatable)."),
             ) -> None:
    """Replay the 2010 quota crisis and the 2020-2023 demand boom over N seeds; write tables and a PNG per element."""
    from sim import episodes, outputs
    params = {k: float(v) for k, v in (kv.split("=", 1) for kv in set_)}
    targets, constraints = load_targets(), load_constraints()
    seed_list = list(range(1, seeds + 1))
    per_seed, frames = evaluate(params, seed_list, until, workers, constraints)
    summary = summarise(per_seed, targets + constraints)
    _print_table(summary)
    score = loss(summary, targets + constraints)
    passed = summary["passed"].to_numpy()
    typer.echo(f"\npassed {int(passed[:len(targets)].sum())}/{len(targets)} historical targets, "
               f"{int(passed[len(targets):].sum())}/{len(constraints)} calm constraints; loss {score:.3f}")
    written = outputs.write_table(summary, out, "validation")
    written += outputs.write_table(per_seed, out, "validation_per_seed", csv=True)
    written.append(outputs.write_json(out / "validation.json", {
        "scenario": SCENARIO, "seeds": seed_list, "until": until, "overrides": params, "loss": score,
        "cut_month": CUT_MONTH, "base_year": BASE_YEAR, "targets": summary.to_dict(orient="records"),
        "per_seed": per_seed.to_dict(orient="records")}))
    written += outputs.write_figures(path_figures(frames, _history()), out)
    text, more = episodes.report_2020(params, seed_list, out, outputs.write_table, outputs.write_figures)
    typer.echo(text)
    typer.echo("wrote: " + ", ".join(str(p) for p in written + more))


# the behavioural parameters the 2010-2011 crisis identifies (the others of kind ``calibrated`` were set
# against other facts, each named in its source column)
FITTED_TO_2010 = ("spec_max_stock_share", "spec_sensitivity", "spec_chartist_weight", "spec_reversion_per_yr",
                  "spec_trend_months", "spec_news_weight", "spec_news_good_weight", "spec_news_memory_months",
                  "spec_max_cover_months", "quota_value_tilt", "price_flexibility", "price_adjust_rate_per_month",
                  "thrift_rate_per_month", "export_bind_memory_months")


def calibration_space(names: list[str] | None = None) -> list:
    """Parameters to fit (default FITTED_TO_2010), with their prior values and ranges."""
    from sim.parameters import load_parameter_table
    from sim.scenarios import load_scenario
    table = load_parameter_table(fitted=None)
    fixed = set(load_scenario(SCENARIO).parameters)
    chosen = names or [n for n in FITTED_TO_2010 if n not in fixed]
    unknown = [n for n in chosen if n not in table]
    if unknown:
        raise typer.BadParameter(f"unknown parameters {unknown}")
    return [table[n] for n in chosen]


def _to_values(unit: np.ndarray, space: list) -> dict[str, float]:
    """Map a point of the unit cube to parameter values (log scale where the range is positive)."""
    vals = {}
    for u, p in zip(unit, space):
        if p.min > 0:
            v = math.exp(math.log(p.min) + u * (math.log(p.max) - math.log(p.min)))
        else:
            v = p.min + u * (p.max - p.min)
        vals[p.name] = float(min(max(v, p.min), p.max))
    return vals


def _to_unit(values: dict[str, float], space: list) -> np.ndarray:
    out = []
    for p in space:
        v = min(max(values[p.name], p.min), p.max)
        out.append((math.log(v) - math.log(p.min)) / (math.log(p.max) - math.log(p.min)) if p.min > 0
                   else (v - p.min) / (p.max - p.min))
    return np.array(out)


def _nudge(centre: np.ndarray, radius: float, rng: np.random.Generator) -> np.ndarray:
    """A local candidate: a Gaussian step of size ``radius`` in about a quarter of the unit-cube axes."""
    axes = rng.choice(len(centre), size=max(1, round(len(centre) / 4)), replace=False)
    point = centre.copy()
    point[axes] += radius * rng.standard_normal(len(axes))
    return np.clip(point, 0.0, 1.0)


def _score_points(points: list[dict], seeds: list[int], pool: ProcessPoolExecutor, targets: list[Target],
                  constraints: list[Target], desc: str):
    runs = run_many(plan_runs(points, seeds, None, constraints), desc=desc, pool=pool)
    scored = []
    every = targets + constraints
    for i, p in enumerate(points):
        per_seed = point_metrics(runs, i, seeds, constraints)
        if isinstance(per_seed, str):
            typer.secho(f"run failed for {p}: {per_seed}", fg=typer.colors.YELLOW, err=True)
            scored.append((float("inf"), p, None))
            continue
        summary = summarise(per_seed, every)
        scored.append((loss(summary, every), p, summary))
    return scored


def calibrate(budget: int = typer.Option(40, help="Parameter sets to evaluate (each on K seeds)."),
              seeds: int = typer.Option(3, help="Seeds per parameter set (common random numbers 1..K)."),
              out: Path = typer.Option(Path("out/calibration"), help="Output directory (search log)."),
              params: list[str] = typer.Option([], "--param", help="Fit only these parameters (repeatable)."),
              workers: int = typer.Option(max(1, (os.cpu_count() or 1)), help="Parallel processes."),
              search_seed: int = typer.Option(2010, help="Seed of the search itself (reproducible)."),
              fitted: Path = typer.Option(FITTED_PATH, help="Where to write the fitted values (every run reads "
                                                           "configs/calibration/fitted_2010.csv)."),
              start: Path = typer.Option(None, help="Refine a fitted file: local search from its values "
                                                    "(no hypercube; the whole budget is local)."),
              ) -> None:
    """Fit the behavioural parameters to the 2010 targets: Latin hypercube, then local refinement.

    70 % of the budget is a scrambled Latin hypercube (scipy.stats.qmc, seed ``search_seed``) over each
    parameter's range (min to max) in configs/parameters.csv (log scale where positive) plus the priors
    (the table's values); the rest is a shrinking random search around the best point. Each point runs
    the replay and the calm constraints' companion runs (configs/validation/calm_constraints.csv) on
    seeds 1..K. Loss: see :func:`loss`. Writes the fitted values (by default
    configs/calibration/fitted_2010.csv, which every run then uses: one physics) and
    OUT/calibration_log.csv. The same budget, seeds and search seed reproduce the same file.
    With ``--start FILE`` the hypercube is skipped and the local search starts from FILE's values
    (a second, refining stage; its ``calibrated_to`` records both stages).
    """
    from scipy.stats import qmc

    from sim import outputs
    targets, constraints = load_targets(), load_constraints()
    every = targets + constraints
    space = calibration_space(list(params) or None)
    seed_list = list(range(1, seeds + 1))
    rng = np.random.default_rng(search_seed)
    priors = {p.name: p.value for p in space}
    if start is None:
        n_global = max(1, int(round(0.7 * budget)) - 1)
        sampler = qmc.LatinHypercube(d=len(space), scramble=True, seed=search_seed)
        points = [priors] + [_to_values(u, space) for u in sampler.random(n_global)]
        stage = f"search: LHS+local, budget {budget}, search_seed {search_seed}"
    else:
        begun = pd.read_csv(start)
        known = dict(zip(begun["name"], begun["value"]))
        points = [priors, {n: float(known.get(n, v)) for n, v in priors.items()}]
        stage = (f"refined from {start.name} ({begun['calibrated_to'].iloc[0]}) by local search, budget "
                 f"{budget}, search_seed {search_seed}")
    log = []
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        scored = _score_points(points, seed_list, pool, targets, constraints, "calibrate: hypercube")
        log += [(s, p, "hypercube") for s, p, _ in scored]
        best = min(scored, key=lambda x: x[0])
        radius = 0.15 if start is None else 0.08
        remaining = budget - len(points)
        failures = 0
        while remaining > 0:
            batch = min(remaining, LOCAL_BATCH)
            local = [_to_values(_nudge(_to_unit(best[1], space), radius, rng), space) for _ in range(batch)]
            more = _score_points(local, seed_list, pool, targets, constraints, f"calibrate: local r={radius:.2f}")
            log += [(s, p, f"local r={radius:.2f}") for s, p, _ in more]
            cand = min(more, key=lambda x: x[0])
            if cand[0] < best[0]:
                best, failures = cand, 0
            else:
                failures += 1
                if failures >= LOCAL_PATIENCE:
                    radius, failures = max(radius * 0.7, 0.01), 0
            remaining -= batch
    score, values, summary = best
    _print_table(summary)
    typer.echo(f"\nbest loss {score:.3f} (priors: {scored[0][0]:.3f}); passed "
               f"{int(summary['passed'][:len(targets)].sum())}/{len(targets)} targets, "
               f"{int(summary['passed'][len(targets):].sum())}/{len(constraints)} calm constraints")
    calibrated_to = (f"configs/validation/targets_2010.csv ({len(targets)} targets) and calm_constraints.csv "
                     f"({len(constraints)}), medians over seeds {seed_list[0]}-{seed_list[-1]}; scenario {SCENARIO}; "
                     f"loss {score:.3f} vs {scored[0][0]:.3f} at the priors; {stage}")
    rows = [{"name": p.name, "value": round(values[p.name], 6), "prior": p.value, "min": p.min, "max": p.max,
             "unit": p.unit, "calibrated_to": calibrated_to} for p in space]
    fitted.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(fitted, index=False)
    written = [fitted]
    log_df = pd.DataFrame([{"loss": s, "phase": ph, **p} for s, p, ph in log])
    written += outputs.write_table(log_df, out, "calibration_log")
    written += outputs.write_table(summary, out, "calibration_best")
    typer.echo("wrote: " + ", ".join(str(p) for p in written))
