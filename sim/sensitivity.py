"""Sensitivity analysis of a finished sweep with SALib: Sobol (first and total order) and Morris.

Works on the ``runs/`` table of a sweep folder: outputs are averaged over the
replicates (seeds) of each design point, then analysed in the design's order
and unit coordinates (Sobol indices and Morris rankings do not depend on how a
range is scaled). Pure functions return tables and ``Figure``s; the sweep's
:class:`~sim.sweep.ResultStore` writes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.sweep import ISHIGAMI_S1, ISHIGAMI_ST, TEST_FUNCTIONS, ResultStore, ishigami, read_spec  # noqa: F401
from sim.sweep_spec import Metric, SweepParameter, SweepSpec, sweep_from_dict, unit_samples

INDEX_COLUMNS = ("metric", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf",
                 "mu_star", "mu_star_conf", "sigma")


def point_means(runs: pd.DataFrame, metric: str, n_points: int) -> np.ndarray:
    """A metric averaged over the seeds of each design point, in design order (NaN if none ok)."""
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[metric].mean()
    return means.reindex(range(n_points)).to_numpy(dtype=float)


def analyse(spec: SweepSpec, runs: pd.DataFrame, metrics: list[str] | None = None,
            num_resamples: int = 200, conf_level: float = 0.95) -> pd.DataFrame:
    """Sobol or Morris indices of every metric (one row per metric and parameter).

    Args:
        spec: the sweep's spec (design ``sobol`` or ``morris``).
        runs: its ``runs/`` table.
        metrics: metrics to analyse (default: all of the spec's).
        num_resamples: bootstrap resamples for the confidence intervals.
        conf_level: confidence level of the intervals.
    """
    if spec.design not in ("sobol", "morris"):
        raise ValueError(f"sensitivity needs a sobol or morris design, not '{spec.design}'")
    problem = spec.salib_problem()
    X = unit_samples(spec)
    rows = []
    for metric in metrics or [m.name for m in spec.metrics]:
        y = point_means(runs, metric, len(X))
        missing = int(np.isnan(y).sum())
        if missing:
            # keep the design's structure: fill a failed point with the mean of the others
            y = np.where(np.isnan(y), np.nanmean(y) if missing < len(y) else 0.0, y)
        if spec.design == "sobol":
            from SALib.analyze import sobol
            res = sobol.analyze(problem, y, calc_second_order=False, num_resamples=num_resamples,
                                conf_level=conf_level, seed=spec.seeds[0])
            for j, name in enumerate(problem["names"]):
                rows.append({"metric": metric, "parameter": name, "method": "sobol",
                             "S1": res["S1"][j], "S1_conf": res["S1_conf"][j],
                             "ST": res["ST"][j], "ST_conf": res["ST_conf"][j],
                             "failed_points": missing})
        else:
            from SALib.analyze import morris
            res = morris.analyze(problem, X, y, num_resamples=num_resamples, conf_level=conf_level,
                                 num_levels=4, seed=spec.seeds[0])
            for j, name in enumerate(problem["names"]):
                rows.append({"metric": metric, "parameter": name, "method": "morris",
                             "mu_star": res["mu_star"][j], "mu_star_conf": res["mu_star_conf"][j],
                             "sigma": res["sigma"][j], "failed_points": missing})
    table = pd.DataFrame(rows)
    cols = [c for c in INDEX_COLUMNS if c in table.columns] + ["failed_points"]
    return table[cols]


def indices_figure(table: pd.DataFrame):
    """Bar chart of the indices: one panel per metric, parameters ranked by total effect."""
    from matplotlib.figure import Figure

    metrics = list(dict.fromkeys(table["metric"]))
    fig = Figure(figsize=(7.5, 2.2 + 2.0 * len(metrics)))
    sobol = (table["method"] == "sobol").all()
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(len(metrics), 1, i + 1)
        t = table[table["metric"] == metric]
        t = t.sort_values("ST" if sobol else "mu_star", ascending=True)
        y = np.arange(len(t))
        if sobol:
            ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total order ST", color="C1")
            ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order S1", color="C0")
            ax.set_xlim(left=min(0.0, float(np.nanmin(t["S1"]))) - 0.02)
        else:
            ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], label="Morris mu*", color="C2")
        ax.set_yticks(y, t["parameter"])
        ax.set_title(metric, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        if i == 0:
            ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def spec_of_folder(root: str | Path) -> SweepSpec:
    """Rebuild the spec a sweep folder was written from (its ``spec.json``)."""
    d = read_spec(root)
    return _spec_from_resolved(d)


def _spec_from_resolved(d: dict) -> SweepSpec:
    params = tuple(SweepParameter(**{**p, "values": None if p["values"] is None else tuple(p["values"])})
                   for p in d["parameters"])
    metrics = tuple(Metric(**m) for m in d["metrics"])
    return SweepSpec(name=d["name"], description=d["description"], path=d["path"], model=d["model"],
                     scenario=d["scenario"], until=d["until"], design=d["design"],
                     samples=d["samples"], seeds=tuple(d["seeds"]), parameters=params,
                     events=d["events"], metrics=metrics, series=tuple(d["series"]),
                     check_ranges=d["check_ranges"], batch_size=d["batch_size"], plots=d["plots"])


def sensitivity_report(root: str | Path, metrics: list[str] | None = None) -> tuple[pd.DataFrame, list[Path]]:
    """Analyse a finished sweep folder; write ``sensitivity.csv`` and ``sensitivity.png`` in it."""
    spec = spec_of_folder(root)
    store = ResultStore(root, spec)
    table = analyse(spec, store.read_runs(), metrics)
    paths = [store.write_table(table, "sensitivity.csv"),
             store.write_figure(indices_figure(table), "sensitivity.png")]
    return table, paths


__all__ = ["analyse", "indices_figure", "ishigami", "sensitivity_report", "spec_of_folder",
           "sweep_from_dict", "TEST_FUNCTIONS", "ISHIGAMI_S1", "ISHIGAMI_ST"]
