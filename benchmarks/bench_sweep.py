"""Benchmark the sweep engine: one 200-run grid of short runs, three ways, each in a fresh process.

* serial: ``run_sweep(workers=0)`` in one process (the reference);
* dask: ``run_sweep(workers=2)`` on a LocalCluster (start-up included);
* batch_run: ``mesa.batch_run(number_processes=2)`` keeping every month, with the same summary
  metrics computed afterwards (what a user must do to keep the same outputs).

Prints parallel efficiency (serial / (2 x dask)), the speed-up of dask over batch_run and the
driver's peak memory; ``--json`` prints one JSON object instead. Memory flatness is checked with a
cheap model (Ishigami) at two sweep sizes.

    .venv/bin/python benchmarks/bench_sweep.py [--runs 200] [--until 2024-06] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def grid_spec(runs: int, until: str) -> dict:
    """A grid of about ``runs`` runs: logit_beta x demand elasticity x 4 seeds."""
    n_beta = max(1, runs // (5 * 4))
    return {"name": "bench", "until": until, "design": "grid", "replicates": 4,
            "parameters": {"logit_beta": {"range": [2.0, 12.0], "levels": n_beta},
                           "demand_price_elasticity": {"range": [-0.4, 0.0], "levels": 5}},
            "metrics": {"peak_price_Dy_usd_per_kg": {"column": "price_Dy_usd_per_kg", "stat": "max"},
                        "cum_shortage_t": {"column": "shortage_t", "stat": "sum"},
                        "china_share_separation_end": {"column": "china_share_separation",
                                                       "stat": "last"}}}


def peak_rss_mb() -> float:
    """Peak resident memory of this process (the driver), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mode_sweep(args) -> dict:
    from sim.sweep import run_sweep
    from sim.sweep_spec import sweep_from_dict
    spec = sweep_from_dict(grid_spec(args.runs, args.until), "bench.toml")
    if args.mode == "serial":
        import sim.model  # noqa: F401  (imported before the clock, as the workers' warm-up is not)
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        r = run_sweep(spec, out, workers=0 if args.mode == "serial" else 2, progress=False,
                      plots=False)
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
        parameters={"scenario": "baseline", "until": args.until, "keep_flows": False,
                    "logit_beta": sorted({p["logit_beta"] for p in points}),
                    "demand_price_elasticity": sorted({p["demand_price_elasticity"] for p in points})})
    metrics = {}
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
                            "batch_size": 500, "metrics": {"y": {"column": "y"}},
                            "parameters": {f"x{i}": {"range": [-3.14, 3.14]} for i in (1, 2, 3)}})
    with tempfile.TemporaryDirectory() as out:
        r = run_sweep(spec, out, workers=2, progress=False, plots=False)
    return {"runs": r.total, "peak_rss_mb": peak_rss_mb()}


def child(mode: str, runs: int, until: str) -> dict:
    cmd = [sys.executable, __file__, "--mode", mode, "--runs", str(runs), "--until", until]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--until", default="2024-06", help="last month of each run (short runs)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--mode", choices=["serial", "dask", "batch_run", "memory"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        fn = {"serial": mode_sweep, "dask": mode_sweep, "batch_run": mode_batch_run,
              "memory": mode_memory}[args.mode]
        print(json.dumps(fn(args)))
        return
    log = (lambda *a: None) if args.json else print
    import os
    load = os.getloadavg()[0]
    log(f"{args.runs} runs to {args.until}, 2 workers; each mode in a fresh process")
    if load > 0.5:
        print(f"warning: load average {load:.1f} before start: other processes share the cores, "
              "so the efficiency figures understate the engine", file=sys.stderr)
    serial = child("serial", args.runs, args.until)
    log(f"serial     {serial['wall_s']:7.1f} s  ({serial['wall_s'] / serial['runs'] * 1000:.0f} ms/run)")
    dask = child("dask", args.runs, args.until)
    log(f"dask x2    {dask['wall_s']:7.1f} s  (of which cluster start-up {dask['startup_s']:.1f} s)")
    batch = child("batch_run", args.runs, args.until)
    log(f"batch_run  {batch['wall_s']:7.1f} s  (mesa.batch_run, number_processes=2)")
    small, large = child("memory", 5_000, args.until), child("memory", 40_000, args.until)
    eff = serial["wall_s"] / (2 * dask["wall_s"])
    eff_steady = serial["wall_s"] / (2 * (dask["wall_s"] - dask["startup_s"]))
    result = {
        "load_average_at_start": round(load, 2), "runs": serial["runs"], "serial_s": round(serial["wall_s"], 2), "dask_s": round(dask["wall_s"], 2),
        "dask_startup_s": round(dask["startup_s"], 2), "batch_run_s": round(batch["wall_s"], 2),
        "parallel_efficiency": round(eff, 3),
        "parallel_efficiency_after_startup": round(eff_steady, 3),
        "speedup_vs_batch_run": round(batch["wall_s"] / dask["wall_s"], 3),
        "peak_rss_mb": round(dask["peak_rss_mb"], 1),
        "peak_rss_mb_batch_run_driver": round(batch["peak_rss_mb"], 1),
        "peak_rss_mb_5k_runs": round(small["peak_rss_mb"], 1),
        "peak_rss_mb_40k_runs": round(large["peak_rss_mb"], 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"parallel efficiency        {eff:.0%} (target >= 85 %); {eff_steady:.0%} after cluster start-up")
    print(f"speed-up over batch_run    {result['speedup_vs_batch_run']:.2f}x (target >= 1.2x)")
    print(f"driver peak RSS            {result['peak_rss_mb']:.0f} MB (batch_run driver "
          f"{result['peak_rss_mb_batch_run_driver']:.0f} MB)")
    print(f"memory vs sweep size       {result['peak_rss_mb_5k_runs']:.0f} MB at 5,000 runs, "
          f"{result['peak_rss_mb_40k_runs']:.0f} MB at 40,000 runs (Ishigami)")


if __name__ == "__main__":
    main()
