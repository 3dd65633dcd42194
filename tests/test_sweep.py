"""Sweeps: spec validation, the Dask engine (local and separate processes), resume after kill -9,
failed runs recorded, and mesa.batch_run still working on the model."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sim.errors import ConfigError
from sim.sweep import SweepError, read_runs, read_series, run_sweep
from sim.sweep_spec import (SWEEP_DIR, design_points, load_sweep_spec, plan_runs, sweep_from_dict)

REPO = Path(__file__).resolve().parent.parent


def short_spec(tmp_path: Path, name: str, body: str) -> Path:
    """Write a sweep spec into tmp_path and return its path."""
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(body))
    return path


def raw_run_keys(out: Path) -> list[str]:
    """Every run key in every finished runs file (duplicates kept)."""
    keys = []
    for f in sorted((out / "runs").glob("part-*.parquet")):
        keys += pq.read_table(f, columns=["run_key"]).column("run_key").to_pylist()
    return keys


def square(params: dict, seed: int) -> dict:
    """A pure-Python model for the engine's own tests: fails on purpose for x < 0."""
    if params["x"] < 0:
        raise ValueError(f"x must be >= 0, got {params['x']}")
    return {"y": params["x"] ** 2 + seed}


# ---------------------------------------------------------------------- specs
def test_every_shipped_spec_validates():
    names = sorted(p.stem for p in SWEEP_DIR.glob("*.toml"))
    assert "smoke" in names and len(names) >= 3
    for name in names:
        spec = load_sweep_spec(name)
        assert plan_runs(spec)


def test_smoke_spec_is_small():
    spec = load_sweep_spec("smoke")
    assert len(plan_runs(spec)) <= 16


BAD_SPECS = [
    ({"parameters": {"no_such_param": {"values": [1, 2]}}}, "parameters.no_such_param"),
    ({"design": "factorial", "parameters": {"logit_beta": {"values": [1, 2]}}}, "design"),
    ({"parameters": {"logit_beta": {"values": [1, 999]}}}, "parameters.logit_beta.values[1]"),
    ({"parameters": {"logit_beta": {"range": [5, 1]}}}, "parameters.logit_beta.range"),
    ({"parameters": {"logit_beta": {"vals": [1, 2]}}}, "parameters.logit_beta.vals"),
    ({"scenario": "atlantis", "parameters": {"logit_beta": {"values": [1]}}}, "scenario"),
    ({"until": "2024-13", "parameters": {"logit_beta": {"values": [1]}}}, "until"),
    ({"parameters": {"q": {"event": "quota", "field": "t_per_yr", "values": [1]}}}, "parameters.q.event"),
    ({"events": {"quota": {"type": "export_quota", "nation": "ATL", "at": "2026-01", "t_per_yr": 1}},
      "parameters": {"q": {"event": "quota", "field": "t_per_yr", "values": [1, 2]}}}, "events.quota.nation"),
    ({"events": {"quota": {"type": "export_quota", "nation": "CHN", "at": "2026-01", "t_per_yr": 1}},
      "parameters": {"q": {"event": "quota", "field": "t_per_yr", "values": [-5, 2]}}},
     "events.quota.t_per_yr"),
    ({"parameters": {"logit_beta": {"values": [1]}},
      "metrics": {"m": {"column": "price_Xx_usd_per_kg", "stat": "max"}}}, "metrics.m.column"),
    ({"parameters": {"logit_beta": {"values": [1]}},
      "metrics": {"m": {"column": "shortage_t", "stat": "median"}}}, "metrics.m.stat"),
    ({"design": "sobol", "samples": 100, "parameters": {"logit_beta": {}, "util_min_frac": {}}},
     "samples"),
    ({"parameters": {"logit_beta": {"values": [1]}}, "series": ["price_Dy"]}, "series[0]"),
    ({"parameters": {"logit_beta": {"values": [1]}}, "replicates": 0}, "replicates"),
    ({"parameters": {"logit_beta": {"values": [1]}}, "colour": "red"}, "colour"),
]


@pytest.mark.parametrize("data,key_path", BAD_SPECS, ids=[k for _, k in BAD_SPECS])
def test_bad_spec_names_file_and_key_path(data, key_path):
    with pytest.raises(ConfigError) as info:
        sweep_from_dict(data, "configs/sweeps/bad.toml")
    err = info.value
    assert err.file == "configs/sweeps/bad.toml"
    assert err.key_path == key_path, str(err)
    assert str(err).startswith(f"configs/sweeps/bad.toml: {key_path}: ")


def test_unknown_parameter_lists_the_allowed_names():
    with pytest.raises(ConfigError, match="unknown model parameter") as info:
        sweep_from_dict({"parameters": {"logit_bta": {"values": [1]}}}, "x.toml")
    assert "logit_beta" in info.value.allowed


def test_designs_have_the_expected_sizes():
    base = {"model": "ishigami", "metrics": {"y": {"column": "y"}},
            "parameters": {"x1": {"range": [0, 1]}, "x2": {"range": [1, 10], "scale": "log"},
                           "x3": {"values": [1, 2, 3]}}}
    grid = sweep_from_dict({**base, "parameters": {"a": {"range": [0, 1], "levels": 3},
                                                   "b": {"values": ["p", "q"]}}})
    assert len(design_points(grid)) == 6
    lhs = sweep_from_dict({**base, "design": "lhs", "samples": 20, "replicates": 3})
    pts = design_points(lhs)
    assert len(pts) == 20 and len(plan_runs(lhs)) == 60
    assert all(1 <= p["x2"] <= 10 and p["x3"] in (1, 2, 3) for p in pts)
    sobol = sweep_from_dict({**base, "design": "sobol", "samples": 16})
    assert len(design_points(sobol)) == 16 * (3 + 2)
    morris = sweep_from_dict({**base, "design": "morris", "samples": 5})
    assert len(design_points(morris)) == 5 * (3 + 1)


def test_run_keys_depend_on_params_and_seed_only():
    data = {"parameters": {"logit_beta": {"values": [2.0, 4.0]}}, "replicates": 2, "until": "2024-06"}
    a, b = plan_runs(sweep_from_dict(data, "a.toml")), plan_runs(sweep_from_dict(data, "b.toml"))
    assert [p.key for p in a] == [p.key for p in b]
    assert len({p.key for p in a}) == 4
    c = plan_runs(sweep_from_dict({**data, "until": "2024-07"}, "a.toml"))
    assert not {p.key for p in a} & {p.key for p in c}


# ---------------------------------------------------------------------- engine (in process)
def test_failing_runs_are_recorded_and_the_sweep_goes_on(tmp_path):
    spec = sweep_from_dict({"model": "ishigami", "metrics": {"y": {"column": "y"}},
                            "parameters": {"x": {"values": [-1.0, 0.0, 2.0]}}, "replicates": 2})
    result = run_sweep(spec, tmp_path / "out", workers=0, fn=square, progress=False)
    assert (result.total, result.done_now, result.failed) == (6, 6, 2)
    runs = read_runs(tmp_path / "out")
    bad = runs[runs["x"] < 0]
    assert set(bad["status"]) == {"failed"} and bad["y"].isna().all()
    assert bad["error"].str.contains("ValueError: x must be >= 0, got -1.0").all()
    good = runs[runs["x"] >= 0]
    assert set(good["status"]) == {"ok"}
    assert sorted(good["y"]) == [1.0, 2.0, 5.0, 6.0]


@pytest.mark.slow
def test_model_refusing_a_value_is_a_failed_run(tmp_path):
    spec = short_spec(tmp_path, "refuse", """
        until = "2024-03"
        check_ranges = false
        [parameters.logit_beta]
        values = [6.0, 1000.0]
        [metrics]
        peak_dy = { column = "price_Dy_usd_per_kg", stat = "max" }
        """)
    result = run_sweep(spec, tmp_path / "out", workers=0, progress=False, plots=False)
    runs = read_runs(tmp_path / "out").set_index("logit_beta")
    assert result.failed == 1
    assert runs.loc[1000.0, "status"] == "failed"
    assert "ConfigError" in runs.loc[1000.0, "error"] and "logit_beta" in runs.loc[1000.0, "error"]
    assert runs.loc[6.0, "status"] == "ok" and runs.loc[6.0, "peak_dy"] > 0


def test_output_folder_is_not_overwritten_without_resume(tmp_path):
    spec = sweep_from_dict({"model": "ishigami", "metrics": {"y": {"column": "y"}},
                            "parameters": {"x": {"values": [1.0, 2.0]}}})
    run_sweep(spec, tmp_path, workers=0, fn=square, progress=False)
    with pytest.raises(SweepError, match="--resume"):
        run_sweep(spec, tmp_path, workers=0, fn=square, progress=False)
    again = run_sweep(spec, tmp_path, workers=0, fn=square, progress=False, resume=True)
    assert (again.done_now, again.skipped) == (0, 2)
    other = sweep_from_dict({"model": "ishigami", "metrics": {"y": {"column": "y"}},
                             "parameters": {"x": {"values": [3.0]}}})
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(other, tmp_path, workers=0, fn=square, progress=False, resume=True)


# ---------------------------------------------------------------------- Dask
@pytest.mark.slow
def test_smoke_sweep_on_a_local_cluster(tmp_path):
    spec = load_sweep_spec("smoke")
    t0 = time.perf_counter()
    result = run_sweep(spec, tmp_path, workers=2, progress=False)
    assert time.perf_counter() - t0 < 60
    runs = read_runs(tmp_path)
    assert len(runs) == len(plan_runs(spec)) == result.total
    assert (runs["status"] == "ok").all(), runs["error"].dropna().tolist()
    assert runs["peak_price_Dy_usd_per_kg"].gt(0).all()
    assert sorted(raw_run_keys(tmp_path)) == sorted(p.key for p in plan_runs(spec))
    series = read_series(tmp_path)
    assert set(series["run_key"]) == set(runs["run_key"])
    assert len(series) == len(runs) * 18  # 2024-01..2025-06
    assert (tmp_path / "spec.json").exists()
    assert {p.name.split("_")[0] for p in result.figures} == {"fan", "heatmap"}
    assert all(p.stat().st_size > 5000 for p in result.figures)


def _wait_for_finished_parts(proc, out, parts: int, seconds: float, ended: str) -> None:
    """Wait until a sweep running in ``proc`` has written ``parts`` run files, while it still runs."""
    deadline = time.time() + seconds
    while len(list((out / "runs").glob("part-*.parquet"))) < parts:
        assert proc.poll() is None, ended
        assert time.time() < deadline, "no runs finished in time"
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster_processes(tmp_path):
    """A `dask scheduler` and a `dask worker` (2 processes) started as separate processes."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    bindir = Path(sys.executable).parent
    log = (tmp_path / "dask.log").open("w")
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"],
                              stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                              start_new_session=True)]
    address = f"tcp://127.0.0.1:{port}"
    procs.append(subprocess.Popen([str(bindir / "dask"), "worker", address, "--nworkers", "2",
                                   "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                  stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                                  start_new_session=True))
    try:
        from distributed import Client
        deadline = time.time() + 60
        while True:
            try:
                with Client(address, timeout="5s") as c:
                    c.wait_for_workers(2, timeout=60)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        log.close()


@pytest.mark.slow
def test_sweep_on_a_separate_scheduler_and_workers(tmp_path, dask_cluster_processes):
    spec = short_spec(tmp_path, "remote", """
        until = "2024-06"
        replicates = 2
        series = ["price_Nd_usd_per_kg"]
        [parameters.demand_price_elasticity]
        values = [-0.3, -0.04]
        [parameters.logit_beta]
        values = [3.0, 6.0]
        [metrics]
        peak_nd = { column = "price_Nd_usd_per_kg", stat = "max" }
        """)
    result = run_sweep(spec, tmp_path / "out", scheduler=dask_cluster_processes, progress=False)
    runs = read_runs(tmp_path / "out")
    assert result.done_now == 8 and len(runs) == 8
    assert (runs["status"] == "ok").all(), runs["error"].dropna().tolist()
    assert len(read_series(tmp_path / "out")) == 8 * 6


KILL_SPEC = """
    name = "killme"
    until = "2024-06"
    replicates = 3
    [parameters.logit_beta]
    values = [2.0, 4.0, 6.0, 8.0, 10.0]
    [metrics]
    peak_nd = { column = "price_Nd_usd_per_kg", stat = "max" }
    """


@pytest.mark.slow
def test_killed_sweep_resumes_with_every_run_exactly_once(tmp_path):
    spec_path = short_spec(tmp_path, "killme", KILL_SPEC)
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "import typer; from sim.sweep_command import sweep; typer.run(sweep)",
           str(spec_path), "--out", str(out), "--workers", "2", "--batch-size", "1", "--no-plots"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _wait_for_finished_parts(proc, out, 3, 90, "the sweep ended before it could be killed")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its local workers, mid-sweep
        proc.wait()
    before = read_runs(out)
    planned = {p.key for p in plan_runs(load_sweep_spec(spec_path))}
    assert 3 <= len(before) < len(planned)
    result = run_sweep(spec_path, out, workers=2, resume=True, progress=False, plots=False)
    assert result.skipped == len(before) and result.done_now == len(planned) - len(before)
    keys = raw_run_keys(out)
    assert sorted(keys) == sorted(planned)  # every run, exactly once
    after = read_runs(out).set_index("run_key")
    kept = before.set_index("run_key")
    assert (after.loc[kept.index, "finished_unix"] == kept["finished_unix"]).all()  # none recomputed
    assert (after["status"] == "ok").all()


INTERRUPT_SPEC = """
    name = "ctrlc"
    until = "2024-09"
    seeds = [1]
    [parameters.logit_beta]
    values = [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    [metrics]
    peak_nd = { column = "price_Nd_usd_per_kg", stat = "max" }
    """


@pytest.mark.slow
def test_ctrl_c_keeps_every_finished_run_and_says_how_to_resume(tmp_path):
    """A real SIGINT to the command's process group (as a terminal's Ctrl-C): exit 130, no traceback,
    finished runs kept, the resume command printed; resuming runs only the rest."""
    spec_path = short_spec(tmp_path, "ctrlc", INTERRUPT_SPEC)
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "import sys; sys.argv[0] = 'reesim'; from sim.cli import app; app()",
           "sweep", str(spec_path), "--out", str(out), "--workers", "2", "--batch-size", "1", "--no-plots"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        _wait_for_finished_parts(proc, out, 2, 120, "the sweep ended before Ctrl-C")
        os.killpg(proc.pid, signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert f"resume with: reesim sweep {spec_path} --out {out} --resume" in stderr
    kept = read_runs(out)
    planned = {p.key for p in plan_runs(load_sweep_spec(spec_path))}
    assert 2 <= len(kept) < len(planned) and (kept["status"] == "ok").all()
    assert f"{len(kept)} of {len(planned)} runs are finished" in stderr
    assert "stopping: waiting for" in (out / "reesim.log").read_text()
    result = run_sweep(spec_path, out, workers=0, resume=True, progress=False, plots=False)
    assert result.skipped == len(kept) and result.done_now == len(planned) - len(kept)
    assert sorted(raw_run_keys(out)) == sorted(planned)


def test_sweep_folder_has_config_and_log_beside_the_results(tmp_path):
    """config.json (spec, base parameters, seeds, git commit, versions) and reesim.log in every sweep folder."""
    import json

    spec = short_spec(tmp_path, "tiny", """
        until = "2024-02"
        seeds = [5]
        [parameters.logit_beta]
        values = [4.0]
        [metrics]
        peak_nd = { column = "price_Nd_usd_per_kg", stat = "max" }
        """)
    run_sweep(spec, tmp_path / "out", workers=0, progress=False, plots=False)
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["seeds"] == [5] and config["scenario"] == "baseline"
    assert config["parameters"]["logit_beta"] > 0 and config["spec"]["parameters"][0]["name"] == "logit_beta"
    assert config["versions"]["distributed"] and "git_commit" in config
    log = (tmp_path / "out" / "reesim.log").read_text()
    assert "sweep tiny: 1 runs" in log and "done, 1 runs now" in log
    units = json.loads(pq.read_schema(next((tmp_path / "out" / "runs").glob("part-*.parquet"))).metadata[b"units"])
    assert units == {"peak_nd": "USD/kg"}


def test_bad_cluster_options_exit_2_before_anything_is_written(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app
    out = tmp_path / "x"
    for args, needle in ((["--cluster", "pbs"], "'pbs' is not one of local, slurm"),
                         (["--cluster-option", "queue=normal"], "only with --cluster slurm"),
                         (["--cluster", "slurm", "--cluster-option", "queue"], "not KEY=VALUE")):
        result = CliRunner().invoke(app, ["sweep", "smoke", "--out", str(out), *args])
        assert result.exit_code == 2 and needle in result.output, result.output
        assert "Traceback" not in result.output
    assert not out.exists()


# ---------------------------------------------------------------------- Mesa and SLURM
@pytest.mark.slow
def test_mesa_batch_run_still_works():
    import mesa

    from sim.model import RareEarthModel
    results = mesa.batch_run(RareEarthModel, parameters={"config": "baseline", "until": "2024-04",
                                                         "keep_flows": False,
                                                         "logit_beta": [4.0, 6.0]},
                             rng=[1, 2], max_steps=100, number_processes=2,
                             data_collection_period=-1, display_progress=False)
    assert len(results) == 4
    assert {r["logit_beta"] for r in results} == {4.0, 6.0}
    assert all(r["date"] == "2024-04" and r["price_Dy_usd_per_kg"] > 0 for r in results)


def test_slurm_cluster_renders_its_job_script_offline_and_adapts():
    """`--cluster slurm` builds the cluster the engine uses: the options given reach the sbatch script,
    and adapt() (0 to --jobs jobs) is on. Nothing is submitted without tasks."""
    from sim.engine import Cluster, slurm_cluster
    from sim.sweep_command import cluster_of
    where = cluster_of(2, None, "slurm", 3, ["queue=normal", "account=reesim", "cores=8", "processes=8",
                                             "memory=16GB", "walltime=02:00:00"], dashboard=False)
    assert where == Cluster(workers=2, kind="slurm", jobs=3, dashboard=False,
                            options={"queue": "normal", "account": "reesim", "cores": 8, "processes": 8,
                                     "memory": "16GB", "walltime": "02:00:00"})
    cluster = slurm_cluster(where.jobs, where.dashboard,
                            job_script_prologue=["source .venv/bin/activate"], **where.options)
    try:
        script = cluster.job_script()
        adaptive = cluster._adaptive         # dask's Cluster keeps the adapt() policy here
        assert adaptive is not None and adaptive.maximum == 3 * 8 and adaptive.minimum == 0
    finally:
        cluster.close()
    assert "#SBATCH -p normal" in script and "#SBATCH -A reesim" in script and "#SBATCH -t 02:00:00" in script
    assert "distributed.cli.dask_worker" in script or "dask worker" in script
    assert "--nworkers 8" in script and "source .venv/bin/activate" in script
