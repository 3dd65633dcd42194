"""Benchmark: one baseline run 2024-01..2050-12 with data collection, against a bare Mesa loop.

Run on purpose (not a test): ``python benchmarks/bench_run.py [--json] [--repeat N]``.
The agent-step ratio is (seconds per step / number of agents) divided by the
cost per agent of a bare ``AgentSet.shuffle_do`` over the same number of agents,
measured in the same process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import mesa

from sim.model import RareEarthModel


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


def one_run(seed: int) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    model = RareEarthModel("baseline", seed=seed, keep_flows=True)
    model.run()
    elapsed = time.perf_counter() - t0
    return elapsed, model.steps, len(model.agents)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    one_run(0)  # warm caches (world tables, imports)
    runs = [one_run(seed) for seed in range(1, args.repeat + 1)]
    seconds = statistics.median(r[0] for r in runs)
    steps, n_agents = runs[0][1], runs[0][2]
    per_step = seconds / steps
    bare = bare_cost_per_agent_step(n_agents)
    result = {"seconds_per_run": round(seconds, 4), "seconds_per_step": round(per_step, 6),
              "agent_step_ratio": round(per_step / n_agents / bare, 2), "steps": steps,
              "agents": n_agents, "bare_shuffle_do_us_per_agent": round(bare * 1e6, 3)}
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:32s} {v}")


if __name__ == "__main__":
    main()
