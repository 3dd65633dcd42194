"""Time one UI animation frame: one model step plus a redraw of every view (baseline world).

    python benchmarks/bench_ui.py [--frames 60] [--json]

Prints the median, mean and 95th percentile in ms per frame (step and render apart);
the issue's budget is 150 ms per frame.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def measure(frames: int = 60, seed: int = 1, warmup: int = 3) -> dict:
    from sim.ui.state import SimSession
    session = SimSession()
    session.levers = session.levers.with_(seed=seed)
    step_ms, render_ms = [], []
    for k in range(warmup + frames):
        if k == warmup + frames // 2:
            session.shock("china_heavy_ban")
        t0 = time.perf_counter()
        session.model.step()
        t1 = time.perf_counter()
        session.render()
        t2 = time.perf_counter()
        if k >= warmup:
            step_ms.append((t1 - t0) * 1e3)
            render_ms.append((t2 - t1) * 1e3)
    frame = np.add(step_ms, render_ms)
    return {"frames": frames, "month": session.month,
            "frame_ms_median": float(np.median(frame)), "frame_ms_mean": float(frame.mean()),
            "frame_ms_p95": float(np.percentile(frame, 95)),
            "step_ms_median": float(np.median(step_ms)), "render_ms_median": float(np.median(render_ms)),
            "budget_ms": 150.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    r = measure(args.frames, args.seed)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{r['frames']} frames to {r['month']}: {r['frame_ms_median']:.1f} ms per frame (median; "
              f"mean {r['frame_ms_mean']:.1f}, p95 {r['frame_ms_p95']:.1f}); step {r['step_ms_median']:.1f} ms, "
              f"render {r['render_ms_median']:.1f} ms; budget {r['budget_ms']:.0f} ms")


if __name__ == "__main__":
    main()
