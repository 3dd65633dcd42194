"""Benchmark: the run's speed, where a month's time goes, the cold start, and how a step scales with nations.

Run on purpose (not a test): ``python benchmarks/bench_run.py [--json] [--repeat N] [--sizes 41,82,164,410]``.

Reports, each as wall seconds and process CPU seconds (the machine may be shared: CPU time is the
steadier figure, and ``load_avg`` says how busy the machine was):

- ``warm``: one baseline run 2024-01..2050-12 with data collection, in a process that has run it before
  (median of ``--repeat``), clearing as the model decides (``sim.market.use_compiled``: compiled once
  the process has cleared about one run's markets); ``warm_numpy``: the same with the numpy clearing;
- ``phases_ms_per_step``: each submodel call of ``RareEarthModel._advance`` and the recording, timed by
  wrapping the module functions the model calls (the model itself has no timers); ``clear`` is the
  market clearing inside the trade phases (ore, oxides, magnets), already counted in them;
- ``cold``: a fresh Python process that imports the model and makes the first run (``import_only``:
  the import alone); ``compiled_empty_cache`` / ``compiled_cached``: the first run of a fresh process
  forced to clear compiled, with an empty numba cache (everything compiled) and then with that cache
  filled (numba's import and load only);
- ``scaling``: CPU ms per step on synthetic worlds of k x 41 nations (``benchmarks/synthetic_world.py``)
  and the ratio to 41 nations (the least disturbed of three 12-month blocks, months 4-42 of the run, the
  sizes taking turns);
- ``agent_step_ratio``: seconds per step per agent over the cost per agent of a bare Mesa ``shuffle_do``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import mesa

from sim import market
from sim.model import RareEarthModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from synthetic_world import synthetic_scenario  # noqa: E402

PHASES = (  # (module, function) in the order RareEarthModel._advance calls them
    ("sim.chain.policy_month", "set_controls"), ("sim.chain.policy_month", "fire_reactions"),
    ("sim.chain.projects", "apply_trade_status"), ("sim.chain.projects", "start_deals"),
    ("sim.chain.projects", "finance_announced"), ("sim.chain.demand", "material_need_t"),
    ("sim.chain.mining", "mine"), ("sim.chain.separation", "trade_and_separate"),
    ("sim.chain.orders", "place_orders"), ("sim.chain.oxides", "trade_oxides"),
    ("sim.chain.magnets", "trade_magnets"), ("sim.chain.use", "use"), ("sim.chain.trade", "zone_market"),
    ("sim.chain.prices", "update"), ("sim.chain.demand", "thrift"), ("sim.chain.recipe", "thrift_heavy"),
    ("sim.chain.investment", "remember"),
    ("sim.chain.investment", "update_signals"), ("sim.chain.investment", "plan"),
    ("sim.model", "stocks_by_element_t"),
)
NESTED = (("sim.chain.trade", "clear"),)    # timed inside the phases above
COLD_CODE = """
import resource, time
t0 = time.perf_counter()
from sim.model import RareEarthModel
import sim.market
sim.market.COMPILED = {compiled}
t1 = time.perf_counter()
{run}
t2 = time.perf_counter()
ru = resource.getrusage(resource.RUSAGE_SELF)
print(t1 - t0, t2 - t0, ru.ru_utime + ru.ru_stime)
"""


class _Bare(mesa.Agent):
    def step(self) -> None:
        self.x = 1


def bare_cost_per_agent_step(n_agents: int, steps: int = 300) -> float:
    model = mesa.Model(rng=0)
    for _ in range(n_agents):
        _Bare(model)
    agents = model.agents
    t0 = time.perf_counter()
    for _ in range(steps):
        agents.shuffle_do("step")
    return (time.perf_counter() - t0) / steps / n_agents


def timed(fn):
    """(wall s, CPU s, result) of ``fn()``."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w, time.process_time() - c, out


def one_run(seed: int) -> tuple[float, float, RareEarthModel]:
    def run():
        model = RareEarthModel("baseline", seed=seed, keep_flows=True)
        model.run()
        return model
    return timed(run)


def run_figures(seed: int) -> tuple[float, float, int, int]:
    """(wall s, CPU s, steps, agents) of one baseline run; the model is let go before the next run (a run
    that kept its predecessors alive would pay for the garbage collector walking them)."""
    wall, cpu, model = one_run(seed)
    return wall, cpu, model.steps, len(model.agents)


@contextlib.contextmanager
def phase_timer():
    """Wrap every submodel function the model calls; yields {name: [wall s, CPU s, calls]}."""
    totals: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0])
    patched = []

    def wrap(name, fn):
        def timed_call(*args, **kwargs):
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                t = totals[name]
                t[0] += time.perf_counter() - w
                t[1] += time.process_time() - c
                t[2] += 1
        return timed_call

    for module_name, attr in PHASES + NESTED:
        module = importlib.import_module(module_name)
        original = getattr(module, attr)
        patched.append((module, attr, original))
        setattr(module, attr, wrap(f"{module_name.rsplit('.', 1)[-1]}.{attr}", original))
    from sim.recording import Recorder
    patched.append((Recorder, "record", Recorder.record))
    Recorder.record = wrap("recording", Recorder.record)
    try:
        yield totals
    finally:
        for owner, attr, original in patched:
            setattr(owner, attr, original)


def phases_ms_per_step(seed: int) -> dict:
    """CPU ms per step of each phase over one baseline run (plus the step total and what is left)."""
    model = RareEarthModel("baseline", seed=seed, keep_flows=True)
    with phase_timer() as totals:
        w, c, _ = timed(model.run)
    steps = model.steps
    out = {name: round(t[1] / steps * 1e3, 4) for name, t in sorted(totals.items(), key=lambda kv: -kv[1][1])}
    nested = {f"{m.rsplit('.', 1)[-1]}.{a}" for m, a in NESTED}
    out["step_total"] = round(c / steps * 1e3, 4)
    out["unaccounted"] = round(out["step_total"] - sum(v for k, v in out.items()
                                                       if k not in nested and k != "step_total"), 4)
    return out


def cold_start(run: bool = True, compiled: bool | None = None, numba_cache: str | None = None) -> dict:
    """A fresh interpreter: import, then (if ``run``) the first baseline run; wall and CPU seconds.

    Args:
        compiled: ``sim.market.COMPILED`` in that process (None: the model decides).
        numba_cache: ``NUMBA_CACHE_DIR`` for that process (an empty folder: numba compiles everything).
    """
    code = COLD_CODE.format(run="RareEarthModel('baseline', seed=1).run()" if run else "", compiled=compiled)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if numba_cache:
        env["NUMBA_CACHE_DIR"] = numba_cache
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         cwd=ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    t_import, t_total, _ = (float(x) for x in out.stdout.split())
    return {"process_wall_s": round(wall, 3), "import_wall_s": round(t_import, 3),
            "import_and_run_wall_s": round(t_total, 3),
            "process_cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3)}


def cold_starts() -> dict:
    """The first run of a fresh process as it comes, the import alone, and forced compiled (empty, filled cache)."""
    out = {"first_run": cold_start(), "import_only": cold_start(run=False)}
    if market.HAVE_NUMBA:
        with tempfile.TemporaryDirectory() as cache:
            out["compiled_empty_cache"] = cold_start(compiled=True, numba_cache=cache)
            out["compiled_cached"] = cold_start(compiled=True, numba_cache=cache)
    return out


def scaling(sizes: list[int], steps: int = 12, blocks: int = 3, warmup: int = 3) -> dict:
    """CPU ms per step on synthetic worlds of each size, and the ratio to the first size.

    The sizes take turns, block by block (``blocks`` blocks of ``steps`` months each, every block holding
    one yearly agent collection, after one untimed month), so a busy spell on the shared machine falls on
    all of them alike; the least disturbed block of each size counts.
    """
    models = {}
    for n in sizes:
        models[n] = RareEarthModel(synthetic_scenario(n), seed=0, keep_flows=False)
        models[n].run_for(warmup)
    ms = {n: float("inf") for n in sizes}
    for _ in range(blocks):
        for n, model in models.items():
            model.run_for(1)                     # untimed: the caches hold this world again, not the last one's
            ms[n] = min(ms[n], timed(lambda m=model: m.run_for(steps))[1] / steps * 1e3)
    return {str(n): {"cpu_ms_per_step": round(v, 3), "ratio": round(v / ms[sizes[0]], 2)} for n, v in ms.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="41,82,164,410", help="nation counts (multiples of 41) for the scaling")
    ap.add_argument("--no-cold", action="store_true", help="skip the fresh-process measurements")
    args = ap.parse_args()
    for _ in range(2):  # warm caches (world tables, spin-up); the second run loads the compiled clearing
        one_run(0)
    runs = [run_figures(seed) for seed in range(1, args.repeat + 1)]
    steps, n_agents = runs[0][2:]
    wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    bare = bare_cost_per_agent_step(n_agents)
    gc.collect()                                 # (the bare model's agents: not left for the runs below to collect)
    result = {
        "load_avg_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
        "warm": {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4), "cpu_ms_per_step": round(cpu / steps * 1e3, 4),
                 "steps": steps, "agents": n_agents,
                 "clearing": "compiled" if market.use_compiled(0) else "numpy"},
        "agent_step_ratio": round(wall / steps / n_agents / bare, 2),
        "phases_ms_per_step": phases_ms_per_step(args.repeat + 1),
    }
    market.COMPILED = False
    numpy_runs = [run_figures(seed) for seed in range(1, args.repeat + 1)]
    market.COMPILED = None
    cpu_numpy = statistics.median(r[1] for r in numpy_runs)
    result["warm_numpy"] = {"wall_s": round(statistics.median(r[0] for r in numpy_runs), 4),
                            "cpu_s": round(cpu_numpy, 4), "cpu_ms_per_step": round(cpu_numpy / steps * 1e3, 4)}
    if not args.no_cold:
        result["cold"] = cold_starts()
    result["scaling"] = scaling([int(s) for s in args.sizes.split(",")])
    result["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
