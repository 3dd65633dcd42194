"""Backtest against the 2010-2011 rare-earth crisis: what ``reesim validate`` and ``reesim calibrate`` do.

The historical replay (``configs/scenarios/china_2010_quota.toml``, world ``configs/world_2009``) is run
with the same model and parameters as every other scenario: there is no backtest mode. This module
only measures the runs against the targets in ``configs/validation/targets_2010.csv`` (historical
values, their sources and the accepted bands) and, for calibration, searches the parameters of kind
``calibrated`` in ``configs/parameters.csv`` for the smallest distance to those bands (scipy's
differential evolution). Every run goes through the sweep engine (:func:`sim.engine.execute`), so
both use a local Dask cluster, a scheduler or SLURM alike. The commands are in
:mod:`sim.validate_command`.

Metrics per element (outside-China prices unless said otherwise), from one run:

- ``peak_multiple``: highest price from the 2010 quota cut (2010-07) on, over the 2009 average;
- ``peak_month``: months from 2010-07 to that peak;
- ``outside_inside_ratio_at_peak``: outside/inside-China price in the peak month;
- ``share_of_peak_3y_later``: price 36 months after the peak over the peak price;
- ``china_share_mining_2014``: China's share of world mine output, 2014 average (not per element).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim import constraints as market_constraints
from sim import episodes
from sim.calendar import month_index, month_name
from sim.engine import Cluster, RunOutput, execute
from sim.errors import ConfigError
from sim.metrics import band_margin
from sim.sweep_spec import RunPlan
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
IN_BAND_WEIGHT = 0.05            # loss weight of the distance to the band centre for a median inside the band
CONSTRAINT_WEIGHT = 10.0         # loss weight of a broken calm constraint (a bubble without a shock)
CONSTRAINT_METRICS = ("max_price_ratio", "max_12m_rise")
EPISODE_2020_PREFIX = "2020:"    # the 2020-2023 bands among the joint fit's targets
MARKET_BOUNDS = tuple(b for b in market_constraints.BOUNDS if b.name.startswith("calm_"))


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


def joint_targets() -> list[Target]:
    """What the joint fit adds to the 2010 targets: the 2020-2023 bands (``2020:`` names) and the calm
    market constraints of the no-shock 2024-2050 baseline (``sim.constraints``), each as a target.

    The market constraints are judged per seed here (the median over seeds of each seed's lowest yearly
    ratio, largest 12-month rise...), where ``reesim validate`` takes the median path first: close, and
    one baseline run per seed.
    """
    rows = [Target(EPISODE_2020_PREFIX + t.name, "", EPISODE_2020_PREFIX + t.name, t.historical, t.band_low,
                   t.band_high, t.metric, "configs/validation/targets_2020.csv", episodes.SCENARIO_2020)
            for t in episodes.load_targets_2020()]
    rows += [Target(b.name, "", b.name, float("nan"), b.band_low, b.band_high, "ratio", b.meaning,
                    market_constraints.CALM_SCENARIO) for b in MARKET_BOUNDS]
    return rows


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
    """Historical value, model median and 10-90 % range, band, margin inside the band
    (:func:`sim.metrics.band_margin`: 0 on an edge, negative outside) and pass/fail per target."""
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
            "band_low": t.band_low, "band_high": t.band_high,
            "margin_to_edge": band_margin(med, t.band_low, t.band_high),
            "passed": t.inside(med), "seeds": int(len(ok)), "source": t.source,
        })
    return pd.DataFrame(rows)


def loss(summary: pd.DataFrame, targets: list[Target]) -> float:
    """Sum of squared log-distances of the medians to the band centres, a twentieth of it inside the band.

    Inside its band a median still pays a little for being off centre, so a fit does not settle on
    band edges that another seed crosses. Targets whose band starts at 0 (``share_of_peak_3y_later``,
    the calm constraints) pay only outside, by the log-distance to the band's upper edge (a broken
    calm constraint ``CONSTRAINT_WEIGHT`` times over); a market constraint of the joint fit
    (``MARKET_BOUNDS``) pays ``CONSTRAINT_WEIGHT`` times the squared log-distance to the edge it crosses
    and nothing inside; a missing median counts as a miss of 2 log units.
    """
    total = 0.0
    for t, (_, row) in zip(targets, summary.iterrows()):
        v = row["model_median"]
        if not np.isfinite(v):
            total += 4.0
        elif t.metric in (b.name for b in MARKET_BOUNDS):
            edge = t.band_low if v < t.band_low else t.band_high
            total += 0.0 if t.inside(v) else CONSTRAINT_WEIGHT * math.log(max(v, 1e-9) / edge) ** 2
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
    """One replay: the model's monthly table."""
    from sim.model import RareEarthModel
    model = RareEarthModel(scenario, seed=seed, until=until, keep_flows=False, **params)
    model.run()
    return model.datacollector.get_model_vars_dataframe()


PATH_COLUMNS = tuple(f"price_{el}{zone}_usd_per_kg" for el in PLOT_ELEMENTS for zone in ("", "_china"))


@dataclass(frozen=True)
class BacktestRun:
    """One parameter set and seed of the backtest, as a sweep-engine run function (picklable).

    Runs the replay and the calm constraints' companion runs; returns every target and constraint
    metric, and (with ``keep_paths``) the replay's price paths for the figures.
    """

    until: str | None = None
    constraints: tuple = ()
    keep_paths: bool = False
    joint: bool = False              # also the 2020-2023 replay and the calm 2024-2050 baseline (joint_targets)

    def __call__(self, params: dict, seed: int) -> RunOutput:
        frames = {SCENARIO: run_one(params, seed, self.until)}
        if self.joint:               # the full baseline serves the calm constraints' window too
            frames[market_constraints.CALM_SCENARIO] = run_one(params, seed, None, market_constraints.CALM_SCENARIO)
        for scenario, end in companion_runs(list(self.constraints)).items():
            if scenario not in frames:
                frames[scenario] = run_one(params, seed, end, scenario)
        metrics = {**run_metrics(frames[SCENARIO]), **constraint_metrics(frames, list(self.constraints))}
        if self.joint:
            replay = run_one(params, seed, None, episodes.SCENARIO_2020)
            metrics.update({EPISODE_2020_PREFIX + k: v for k, v in episodes.episode_metrics(replay).items()})
            calm = frames[market_constraints.CALM_SCENARIO].set_index("date")
            metrics.update(market_constraints.calm_values([calm]))
        paths = frames[SCENARIO][["date", *PATH_COLUMNS]] if self.keep_paths else None
        return RunOutput(metrics, paths)


def _plan_key(point: dict, seed: int, until: str | None) -> str:
    text = json.dumps({"point": point, "seed": seed, "until": until}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Evaluation:
    """Per-seed metrics of each parameter point (or its first failure) and the kept price paths."""

    per_point: list[pd.DataFrame | str]
    paths: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict)
    interrupted: bool = False


def evaluate_points(points: list[dict], seeds: list[int], *, until: str | None = None,
                    constraints: list[Target] | None = None, cluster: Cluster = Cluster(), client=None,
                    keep_paths: bool = False, on_batch: Callable[[list[dict]], None] | None = None,
                    joint: bool = False) -> Evaluation:
    """Run every point on every seed through the sweep engine (:func:`sim.engine.execute`).

    Args:
        points: parameter overrides, one dict per point.
        seeds: seeds (common random numbers: every point runs on the same ones).
        until: last month of the replay (its scenario's end if None).
        constraints: calm constraints (default: configs/validation/calm_constraints.csv).
        cluster, client: where to run (an open client is reused, e.g. across calibration generations).
        keep_paths: keep the replay's price paths (for the figures).
        on_batch: called with each finished batch's records (e.g. a progress bar).
        joint: also measure the 2020-2023 replay and the calm baseline (:func:`joint_targets`).
    """
    constraints = load_constraints() if constraints is None else constraints
    plans = [RunPlan(_plan_key(p, s, until) + ("-joint" if joint else ""), i, j, s, p)
             for i, p in enumerate(points) for j, s in enumerate(seeds)]
    records: dict[str, dict] = {}
    paths: dict[tuple[int, int], pd.DataFrame] = {}

    def sink(batch: list[dict], series: pd.DataFrame | None) -> None:
        records.update({r["run_key"]: r for r in batch})
        if series is not None:
            for (point, seed), frame in series.groupby(["point", "seed"]):
                paths[(int(point), int(seed))] = frame.drop(columns=["run_key", "point", "replicate", "seed"])
        if on_batch is not None:
            on_batch(batch)
    ran = execute(BacktestRun(until, tuple(constraints), keep_paths, joint), plans, sink, cluster=cluster,
                  client=client)
    per_point: list[pd.DataFrame | str] = []
    for i in range(len(points)):
        rows, failure = [], None
        for plan in plans[i * len(seeds):(i + 1) * len(seeds)]:
            rec = records.get(plan.key)
            if rec is None:
                failure = failure or "not run (interrupted)"
            elif rec["status"] != "ok":
                failure = failure or rec["error"]
            else:
                rows.append({"seed": plan.seed, **rec["metrics"]})
        per_point.append(failure if failure else pd.DataFrame(rows))
    return Evaluation(per_point, paths, ran.interrupted)


def evaluate(params: dict, seeds: list[int], until: str | None = None, workers: int = 1,
             constraints: list[Target] | None = None, scheduler: str | None = None
             ) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """Metrics per seed (rows) and the replays' price paths by seed, for one parameter set.

    ``workers`` local Dask workers (1 or less: in this process), or a running ``scheduler``.
    """
    cluster = Cluster(workers=workers if workers > 1 else 0, scheduler=scheduler)
    ev = evaluate_points([params], seeds, until=until, constraints=constraints, cluster=cluster,
                         keep_paths=True)
    if ev.interrupted:
        raise KeyboardInterrupt
    per_seed = ev.per_point[0]
    if isinstance(per_seed, str):
        raise RuntimeError(f"the replay failed: {per_seed}")
    return per_seed, {s: ev.paths[(0, s)] for s in seeds}


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


# ----------------------------------------------------------------------------- calibration
# the behavioural parameters the two episodes identify (the others of kind ``calibrated`` were set against
# other facts, each named in its source column)
FITTED_TO_EPISODES = ("spec_max_stock_share", "spec_sensitivity", "spec_chartist_weight", "spec_reversion_per_yr",
                      "spec_trend_months", "spec_news_weight", "spec_news_good_weight", "spec_news_memory_months",
                      "spec_max_cover_months", "quota_value_tilt", "price_flexibility", "price_adjust_rate_per_month",
                      "thrift_rate_per_month", "export_bind_memory_months", "hoarding_sensitivity",
                      "hoarding_max_multiple")


def calibration_space(names: list[str] | None = None) -> list:
    """Parameters to fit (default FITTED_TO_EPISODES), with their prior values and ranges."""
    from sim.parameters import load_parameter_table
    from sim.scenarios import load_scenario
    table = load_parameter_table(fitted=None)
    fixed = set(load_scenario(SCENARIO).parameters)
    chosen = names or [n for n in FITTED_TO_EPISODES if n not in fixed]
    unknown = [n for n in chosen if n not in table]
    if unknown:
        raise ConfigError("--param", ", ".join(unknown), "not a parameter of configs/parameters.csv; "
                          f"allowed: {', '.join(sorted(table))}")
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


FAILED_LOSS = 1e6                # loss of a parameter set whose runs failed (finite: the optimiser compares)
MIN_POPULATION = 5               # scipy's differential evolution needs at least five members
REFINE_SPREAD = 0.08             # with a start file: the first generation's spread around it (unit cube)


@dataclass
class Calibration:
    """The search's outcome: best values and loss, the loss at the priors, and every point tried."""

    values: dict[str, float]
    loss: float
    summary: pd.DataFrame
    prior_loss: float
    log: pd.DataFrame
    method: str
    interrupted: bool = False


def population_size(budget: int) -> int:
    """Members per generation: about a third of the budget, 5 to 15 (a few generations at least)."""
    return max(MIN_POPULATION, min(15, budget // 3)) if budget >= MIN_POPULATION else budget


def _first_generation(space: list, size: int, search_seed: int, start: dict[str, float] | None) -> np.ndarray:
    """The priors (and the start values), then a scrambled Latin hypercube, or a cloud around the start."""
    from scipy.stats import qmc
    rows = [_to_unit({p.name: p.value for p in space}, space)]
    if start is not None:
        rows.append(_to_unit(start, space))
    rest = size - len(rows)
    if rest > 0:
        if start is None:
            rows += list(qmc.LatinHypercube(d=len(space), scramble=True, seed=search_seed).random(rest))
        else:
            noise = np.random.default_rng(search_seed).normal(0.0, REFINE_SPREAD, (rest, len(space)))
            rows += list(np.clip(rows[1] + noise, 0.0, 1.0))
    return np.array(rows[:size])


def calibrate_search(space: list, seeds: list[int], budget: int, search_seed: int = 2010, *,
                     start: dict[str, float] | None = None, cluster: Cluster = Cluster(),
                     on_generation: Callable[[int, float], None] | None = None,
                     joint: bool = True) -> Calibration:
    """Fit ``space`` with scipy's differential evolution to the 2010 targets and calm constraints and, with
    ``joint`` (the default: one physics for both episodes), the 2020-2023 bands and the calm 2024-2050
    market constraints (:func:`joint_targets`), all in one loss.

    The search runs in the unit cube of each parameter's range (log scale where positive). Its first
    generation holds the priors (and ``start``), then a scrambled Latin hypercube (or, with ``start``,
    points around it). Each generation is one batch of runs on the sweep engine: every member on every
    seed (common random numbers), replay plus companion runs. ``updating='deferred'``, ``polish=False``
    and ``rng=search_seed`` make the search reproducible: the same budget, seeds and search seed give
    the same result on any cluster. At most ``budget`` parameter sets are evaluated.
    """
    from scipy.optimize import differential_evolution

    from sim.engine import open_client
    targets, constraints = load_targets(), load_constraints()
    every = targets + constraints + (joint_targets() if joint else [])
    size = population_size(budget)
    init = _first_generation(space, size, search_seed, start)
    tried: list[dict] = []
    state = {"generation": 0, "interrupted": False}

    def score(xs: list[np.ndarray], client) -> list[float]:
        points = [_to_values(x, space) for x in xs]
        ev = evaluate_points(points, seeds, constraints=constraints, cluster=cluster, client=client, joint=joint)
        state["interrupted"] |= ev.interrupted
        losses = []
        for point, per_seed in zip(points, ev.per_point):
            if isinstance(per_seed, str):
                value, summary = FAILED_LOSS, None
            else:
                summary = summarise(per_seed, every)
                value = loss(summary, every)
            losses.append(value)
            tried.append({"loss": value, "generation": state["generation"], "summary": summary, **point})
        if on_generation is not None:
            on_generation(state["generation"], min(losses))
        state["generation"] += 1
        if state["interrupted"]:
            raise KeyboardInterrupt
        return losses

    with (open_client(cluster) if not cluster.in_process else nullcontext()) as client:
        try:
            if size < MIN_POPULATION:
                score(list(init), client)
                method = f"first generation only (budget {budget} < {MIN_POPULATION}), search_seed {search_seed}"
            else:
                generations = budget // size
                differential_evolution(lambda x: FAILED_LOSS, [(0.0, 1.0)] * len(space), init=init,
                                       maxiter=max(0, generations - 1), rng=search_seed, polish=False,
                                       updating="deferred", tol=0.0, workers=lambda _f, xs: score(list(xs), client))
                method = (f"scipy differential_evolution: population {size}, {generations} generations, "
                          f"budget {budget}, search_seed {search_seed}")
        except KeyboardInterrupt:
            state["interrupted"] = True
            method = f"interrupted after {state['generation']} generations"
    if not tried:
        raise KeyboardInterrupt
    best = min(tried, key=lambda t: t["loss"])
    log = pd.DataFrame([{k: v for k, v in t.items() if k != "summary"} for t in tried])
    return Calibration({p.name: best[p.name] for p in space}, best["loss"], best["summary"], tried[0]["loss"],
                       log, method, state["interrupted"])


def fitted_rows(result: Calibration, space: list, seeds: list[int], stage: str, joint: bool = True) -> pd.DataFrame:
    """The fitted-values table (configs/calibration/fitted_2010.csv's format)."""
    targets, constraints = load_targets(), load_constraints()
    both = (f", configs/validation/targets_2020.csv ({len(episodes.load_targets_2020())} bands, scenario "
            f"{episodes.SCENARIO_2020}) and the calm market constraints of the 2024-2050 baseline "
            f"({len(MARKET_BOUNDS)})") if joint else ""
    calibrated_to = (f"configs/validation/targets_2010.csv ({len(targets)} targets) and calm_constraints.csv "
                     f"({len(constraints)}), scenario {SCENARIO}{both}; medians over seeds {seeds[0]}-{seeds[-1]}; "
                     f"loss {result.loss:.3f} vs {result.prior_loss:.3f} at the priors; {stage}")
    return pd.DataFrame([{"name": p.name, "value": round(result.values[p.name], 6), "prior": p.value,
                          "min": p.min, "max": p.max, "unit": p.unit, "calibrated_to": calibrated_to}
                         for p in space])
