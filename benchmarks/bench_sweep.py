"""Benchmark the sweep engine on two grids, three ways each, every measurement in a fresh process.

Grids (logit_beta x demand_price_elasticity x 4 seeds):

* ``full``: 100 runs of the whole 2024-2050 baseline, the work users do;
* ``short``: 200 runs to 2024-06, where Dask's start-up and per-task costs weigh most.

Ways:

* serial: the engine in one process (``workers=0``), the reference; ``--serial-sample N`` times N runs
  spread over the grid and scales their mean to the grid (to spare a shared machine);
* dask: ``run_sweep(workers=2)`` on a LocalCluster, cluster start-up included in the wall time;
* batch_run: ``mesa.batch_run(number_processes=2)`` keeping every month, with the same summary
  metrics computed afterwards (what a user must do to get the same outputs).

Prints parallel efficiency (serial / (2 x dask wall)), the speed-up of dask over batch_run, and the
driver's peak memory of a sweep of 1,000 and of 10,000 runs (a cheap model, Ishigami: the driver's
code path, records to Parquet, is the same). The load average is printed with the figures: the
cores are shared, and other processes lower both efficiency and speed-up.

    .venv/bin/python benchmarks/bench_sweep.py [--grids full short] [--serial-sample N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GRIDS = {"full": (100, "2050-12"), "short": (200, "2024-06")}
SEEDS = 4


def grid_spec(runs: int, until: str) -> dict:
    """A grid of ``runs`` runs: logit_beta x demand elasticity (5 levels) x 4 seeds."""
    n_beta = max(1, runs // (5 * SEEDS))
    return {"name": "bench", "until": until, "design": "grid", "replicates": SEEDS,
            "parameters": {"logit_beta": {"range": [2.0, 12.0], "levels": n_beta},
                           "demand_price_elasticity": {"range": [-0.4, 0.0], "levels": 5}},
            "metrics": {"peak_price_Dy_usd_per_kg": {"column": "price_Dy_usd_per_kg", "stat": "max"},
                        "cum_shortage_t": {"column": "shortage_t", "stat": "sum"},
                        "china_share_separation_end": {"column": "china_share_separation",
                                                       "stat": "last"}}}


def peak_rss_mb() -> float:
    """Peak resident memory of this process (the driver), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mode_serial(args) -> dict:
    """The engine in this process on ``--serial-sample`` runs spread over the grid (all by default)."""
    import sim.model  # noqa: F401  (imported before the clock, as the workers' warm-up is not timed either)
    from sim.engine import Cluster, execute
    from sim.sweep import ResultStore, run_function
    from sim.sweep_spec import plan_runs, sweep_from_dict
    spec = sweep_from_dict(grid_spec(args.runs, args.until), "bench.toml")
    plans = plan_runs(spec)
    n = min(args.serial_sample or len(plans), len(plans))
    sample = [plans[round(i * len(plans) / n)] for i in range(n)]
    with tempfile.TemporaryDirectory() as out:
        store = ResultStore(out, spec)
        store.open(resume=False)
        t0 = time.perf_counter()
        execute(run_function(spec), sample, store.write_batch, cluster=Cluster(workers=0))
        wall = time.perf_counter() - t0
    return {"wall_s": wall * len(plans) / n, "measured_runs": n, "runs": len(plans), "peak_rss_mb": peak_rss_mb()}


def mode_dask(args) -> dict:
    from sim.sweep import run_sweep
    from sim.sweep_spec import sweep_from_dict
    spec = sweep_from_dict(grid_spec(args.runs, args.until), "bench.toml")
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        r = run_sweep(spec, out, workers=2, progress=False, plots=False)
        wall = time.perf_counter() - t0
    return {"wall_s": wall, "startup_s": r.startup_s, "runs": r.total, "failed": r.failed,
            "peak_rss_mb": peak_rss_mb()}


def mode_batch_run(args) -> dict:
    import mesa
    import numpy as np

    from sim.model import RareEarthModel
    from sim.sweep_spec import design_points, plan_runs, sweep_from_dict
    spec = sweep_from_dict(grid_spec(args.runs, args.until), "bench.toml")
    points = design_points(spec)
    t0 = time.perf_counter()
    results = mesa.batch_run(
        RareEarthModel, number_processes=2, data_collection_period=1, max_steps=10_000,
        display_progress=False, rng=list(spec.seeds),
        parameters={"config": "baseline", "until": args.until, "keep_flows": False,
                    "logit_beta": sorted({p["logit_beta"] for p in points}),
                    "demand_price_elasticity": sorted({p["demand_price_elasticity"] for p in points})})
    metrics: dict = {}
    for row in results:
        m = metrics.setdefault(row["RunId"], {"dy": [], "short": [], "share": None})
        m["dy"].append(row["price_Dy_usd_per_kg"])
        m["short"].append(row["shortage_t"])
        m["share"] = row["china_share_separation"]
    summary = {k: (max(v["dy"]), float(np.sum(v["short"])), v["share"]) for k, v in metrics.items()}
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "runs": len(summary), "planned": len(plan_runs(spec)),
            "peak_rss_mb": peak_rss_mb()}


def mode_memory(args) -> dict:
    """Driver memory of a Dask sweep of a cheap model at a given size (flat = streaming works)."""
    from sim.sweep import run_sweep
    from sim.sweep_spec import sweep_from_dict
    spec = sweep_from_dict({"model": "ishigami", "design": "lhs", "samples": args.runs,
                            "batch_size": 100, "metrics": {"y": {"column": "y"}},
                            "parameters": {f"x{i}": {"range": [-3.14, 3.14]} for i in (1, 2, 3)}})
    with tempfile.TemporaryDirectory() as out:
        r = run_sweep(spec, out, workers=2, progress=False, plots=False)
    return {"runs": r.total, "peak_rss_mb": peak_rss_mb()}


MODES = {"serial": mode_serial, "dask": mode_dask, "batch_run": mode_batch_run, "memory": mode_memory}


def child(mode: str, runs: int, until: str, serial_sample: int = 0) -> dict:
    cmd = [sys.executable, __file__, "--mode", mode, "--runs", str(runs), "--until", until,
           "--serial-sample", str(serial_sample)]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_grid(name: str, serial_sample: int, log) -> dict:
    runs, until = GRIDS[name]
    load = os.getloadavg()[0]
    log(f"\n== {name}: {runs} runs to {until}, 2 workers (load average {load:.1f} at start)")
    serial = child("serial", runs, until, serial_sample)
    note = "" if serial["measured_runs"] == runs else f", scaled from {serial['measured_runs']} runs"
    log(f"serial     {serial['wall_s']:7.1f} s  ({serial['wall_s'] / runs * 1000:.0f} ms/run{note})")
    dask = child("dask", runs, until)
    log(f"dask x2    {dask['wall_s']:7.1f} s  (of which cluster start-up {dask['startup_s']:.1f} s)")
    batch = child("batch_run", runs, until)
    log(f"batch_run  {batch['wall_s']:7.1f} s  (mesa.batch_run, number_processes=2)")
    eff = serial["wall_s"] / (2 * dask["wall_s"])
    result = {
        "runs": runs, "until": until, "load_average_at_start": round(load, 2),
        "load_average_at_end": round(os.getloadavg()[0], 2),
        "serial_s": round(serial["wall_s"], 2), "serial_measured_runs": serial["measured_runs"],
        "dask_s": round(dask["wall_s"], 2), "dask_startup_s": round(dask["startup_s"], 2),
        "batch_run_s": round(batch["wall_s"], 2), "parallel_efficiency": round(eff, 3),
        "parallel_efficiency_after_startup": round(serial["wall_s"] / (2 * (dask["wall_s"] - dask["startup_s"])), 3),
        "speedup_vs_batch_run": round(batch["wall_s"] / dask["wall_s"], 3),
        "driver_peak_rss_mb": round(dask["peak_rss_mb"], 1),
        "batch_run_driver_peak_rss_mb": round(batch["peak_rss_mb"], 1),
    }
    log(f"parallel efficiency        {eff:.0%} incl. start-up (target >= 85 %: "
        f"{'met' if eff >= 0.85 else 'NOT met'}); {result['parallel_efficiency_after_startup']:.0%} after it")
    log(f"speed-up over batch_run    {result['speedup_vs_batch_run']:.2f}x (target >= 1.2x: "
        f"{'met' if result['speedup_vs_batch_run'] >= 1.2 else 'NOT met'})")
    log(f"driver peak RSS            {result['driver_peak_rss_mb']:.0f} MB (batch_run's driver "
        f"{result['batch_run_driver_peak_rss_mb']:.0f} MB); load average at end {result['load_average_at_end']:.1f}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", nargs="+", choices=sorted(GRIDS), default=["full", "short"])
    ap.add_argument("--serial-sample", type=int, default=0,
                    help="time the serial reference on N runs spread over the grid (0: every run)")
    ap.add_argument("--no-memory", action="store_true", help="skip the 1,000 / 10,000-run memory check")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--mode", choices=sorted(MODES), help=argparse.SUPPRESS)
    ap.add_argument("--runs", type=int, default=100, help=argparse.SUPPRESS)
    ap.add_argument("--until", default="2050-12", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        print(json.dumps(MODES[args.mode](args)))
        return
    log = (lambda *a: None) if args.json else print
    result = {"cpus": os.cpu_count()}
    for name in args.grids:
        result[name] = bench_grid(name, args.serial_sample, log)
    if not args.no_memory:
        small, large = child("memory", 1_000, "2024-01"), child("memory", 10_000, "2024-01")
        result["driver_peak_rss_mb_1000_runs"] = round(small["peak_rss_mb"], 1)
        result["driver_peak_rss_mb_10000_runs"] = round(large["peak_rss_mb"], 1)
        growth = large["peak_rss_mb"] / small["peak_rss_mb"] - 1
        log(f"\ndriver memory vs sweep size  {small['peak_rss_mb']:.0f} MB at 1,000 runs, "
            f"{large['peak_rss_mb']:.0f} MB at 10,000 runs ({growth:+.0%}; flat: {'met' if growth < 0.10 else 'NOT met'})")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
