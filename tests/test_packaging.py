"""A real package: the lock pins everything reesim[dev] needs, the wheel carries configs/, and an
installed wheel runs from any folder without the checkout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def _declared(extras: set[str]) -> list[Requirement]:
    """pyproject's requirements of the core plus ``extras`` (extras naming reesim's own expanded)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    reqs, todo, done = [Requirement(r) for r in project["dependencies"]], list(extras), set()
    while todo:
        extra = todo.pop()
        done.add(extra)
        for text in project["optional-dependencies"][extra]:
            req = Requirement(text)
            if canonicalize_name(req.name) == "reesim":
                todo += [e for e in req.extras if e not in done]
            else:
                reqs.append(req)
    return reqs


def _closure(extras: set[str]) -> set[str]:
    """Every distribution reesim with ``extras`` needs, transitively, as installed in this environment."""
    seen: set[tuple[str, frozenset]] = set()
    todo = [(r.name, frozenset(r.extras)) for r in _declared(extras)]
    while todo:
        name, wanted = todo.pop()
        key = (canonicalize_name(name), wanted)
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in (wanted or {""})):
                continue
            if canonicalize_name(req.name) == canonicalize_name(name):     # name[extra] of itself
                todo.append((name, frozenset(req.extras)))
            else:
                todo.append((req.name, frozenset(req.extras)))
    return {k for k, _ in seen}


def test_the_lock_pins_every_distribution_reesim_dev_needs_at_the_installed_version():
    pins = _lock()
    needed = _closure({"dev"})
    assert {"mesa", "numpy", "distributed", "dask-jobqueue", "bokeh", "solara", "pytest"} <= needed
    missing = sorted(n for n in needed if n not in pins)
    assert not missing, f"not in requirements.lock: {missing}"
    wrong = {n: (pins[n], metadata.version(n)) for n in needed if metadata.version(n) != pins[n]}
    assert not wrong, f"lock vs installed: {wrong}"


def test_the_core_install_is_small_and_mesa_is_pinned_to_3_5():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = [Requirement(r) for r in project["dependencies"]]
    names = {canonicalize_name(r.name) for r in core}
    assert names == {"mesa", "numpy", "pandas", "pyarrow", "pydantic", "matplotlib", "typer", "tqdm"}
    mesa = next(r for r in core if r.name == "mesa")
    assert str(mesa.specifier) == "~=3.5" and mesa.extras == {"network"}
    assert set(project["optional-dependencies"]) == {"ui", "sweeps", "cluster", "fast", "dev"}
    for heavy in ("solara", "distributed", "dask-jobqueue", "bokeh", "salib", "pytest"):
        assert heavy not in names


def test_license_citation_and_changelog_ship():
    license_text = (REPO / "LICENSE").read_text()
    assert license_text.startswith("MIT License")
    citation = (REPO / "CITATION.cff").read_text()
    assert "cff-version:" in citation and "license: MIT" in citation
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert f"version: {version}" in citation
    assert re.search(rf"^## \[?{re.escape(version)}\]?", (REPO / "CHANGELOG.md").read_text(), re.M)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel .`` of a copy of this checkout (the build leaves build/ and egg-info in its source)."""
    out = tmp_path_factory.mktemp("dist")
    src = out / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", ".venv", ".solara-assets", "out", "build",
                                                             "dist", "*.egg-info", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "-w", str(out), "--no-deps", "-q"],
                   check=True, cwd=out)
    return next(out.glob("reesim-*.whl"))


@pytest.mark.slow
def test_the_wheel_carries_every_config_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"sim/configs/{p.relative_to(REPO / 'configs').as_posix()}"
               for p in (REPO / "configs").rglob("*") if p.is_file()}
    assert shipped and shipped <= names
    assert "sim/configs/scenarios/baseline.toml" in names and "sim/configs/parameters.csv" in names
    assert not any(n.startswith("configs/") or n.startswith("tests/") for n in names)
    # the UI's front-end files (the live charts' widget, live_plot.js) travel with their modules
    front = {f"sim/ui/{p.name}" for pattern in ("*.vue", "*.js") for p in (REPO / "sim" / "ui").glob(pattern)}
    assert "sim/ui/live_plot.js" in front and front <= names


@pytest.mark.slow
def test_an_installed_wheel_runs_from_another_folder_without_the_checkout(wheel, tmp_path):
    """The wheel unpacked alone (this venv's libraries, none of the checkout): configs come from
    the package, ``reesim run`` works from an unrelated folder."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel), "-q"],
                   check=True)
    libs = sysconfig.get_paths()["purelib"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(target), libs])   # -S: no site, so no editable checkout
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([sys.executable, "-S", "-c", "import sim.world as w; print(w.CONFIG_DIR)"],
                           capture_output=True, text=True, env=env, cwd=work, check=True).stdout.strip()
    assert Path(where) == target / "sim" / "configs"
    run = subprocess.run([sys.executable, "-S", "-c", "import sys; sys.argv[0] = 'reesim'; "
                          "from sim.cli import app; app()", "run", "--scenario", "baseline", "--until", "2024-03",
                          "--out", "out"], capture_output=True, text=True, env=env, cwd=work)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (work / "out" / "timeseries.parquet").exists() and (work / "out" / "flows.parquet").exists()
    config = json.loads((work / "out" / "config.json").read_text())
    assert Path(config["scenario"]["path"]).is_relative_to(target)
