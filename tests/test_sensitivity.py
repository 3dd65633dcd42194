"""Sensitivity analysis through the sweep pipeline: Ishigami's known Sobol indices, Morris, outputs."""

from __future__ import annotations

import pytest

from sim.sensitivity import ISHIGAMI_S1, ISHIGAMI_ST, analyse, ishigami, sensitivity_report
from sim.sweep import read_runs, run_sweep
from sim.sweep_spec import load_sweep_spec, sweep_from_dict


def test_ishigami_sobol_indices_are_recovered_through_the_pipeline(tmp_path):
    spec = load_sweep_spec("ishigami")
    result = run_sweep(spec, tmp_path, workers=0, progress=False)
    assert result.total == 1024 * (3 + 2) and result.failed == 0
    table, paths = sensitivity_report(tmp_path)
    t = table.set_index("parameter")
    assert t.loc[["x1", "x2", "x3"], "S1"].tolist() == pytest.approx(ISHIGAMI_S1, abs=0.06)
    assert t.loc[["x1", "x2", "x3"], "ST"].tolist() == pytest.approx(ISHIGAMI_ST, abs=0.06)
    assert (t["S1_conf"] > 0).all() and (t["ST_conf"] < 0.15).all()
    assert [p.name for p in paths] == ["sensitivity.csv", "sensitivity.png"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_morris_ranks_ishigami_x3_below_x1_and_x2(tmp_path):
    spec = sweep_from_dict({"model": "ishigami", "design": "morris", "samples": 40,
                            "metrics": {"y": {"column": "y"}},
                            "parameters": {f"x{i}": {"range": [-3.14159, 3.14159]} for i in (1, 2, 3)}})
    run_sweep(spec, tmp_path, workers=0, progress=False)
    t = analyse(spec, read_runs(tmp_path)).set_index("parameter")
    assert t.loc["x2", "mu_star"] > t.loc["x3", "mu_star"]
    assert t.loc["x1", "mu_star"] > t.loc["x3", "mu_star"] * 0.8
    assert (t["method"] == "morris").all()


def test_replicates_are_averaged_per_design_point(tmp_path):
    def noisy(params, seed):
        return {"y": ishigami(params, seed)["y"] + 0.01 * seed}
    spec = sweep_from_dict({"model": "ishigami", "design": "sobol", "samples": 64, "seeds": [0, 10],
                            "metrics": {"y": {"column": "y"}},
                            "parameters": {f"x{i}": {"range": [-3.14159, 3.14159]} for i in (1, 2, 3)}})
    run_sweep(spec, tmp_path, workers=0, fn=noisy, progress=False)
    runs = read_runs(tmp_path)
    assert len(runs) == 2 * 64 * 5
    t = analyse(spec, runs)
    assert set(t["parameter"]) == {"x1", "x2", "x3"} and t["ST"].notna().all()


def test_grid_designs_are_refused_for_sensitivity(tmp_path):
    spec = sweep_from_dict({"model": "ishigami", "metrics": {"y": {"column": "y"}},
                            "parameters": {"x1": {"values": [0.0, 1.0]}, "x2": {"values": [0.0]},
                                           "x3": {"values": [0.0]}}})
    run_sweep(spec, tmp_path, workers=0, progress=False)
    with pytest.raises(ValueError, match="sobol or morris"):
        analyse(spec, read_runs(tmp_path))
