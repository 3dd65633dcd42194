"""The bad-input corpus (tests/bad_inputs/): every case refused clearly, before any work.

A case passes when the error names the file or flag, the key path and the allowed values, the
command line exits with code 2 and no traceback, and nothing is written to ``--out``. Command
lines run in-process through typer's CliRunner; a handful also through a real subprocess.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ConfigError
from sim.policy_events import EVENT_CLASSES
from sim.scenarios import load_scenario, validate_event
from sim.sweep_spec import load_sweep_spec
from sim.world import WORLD_DIR, load_world

CORPUS = Path(__file__).parent / "bad_inputs"
HEADER = 'name = "bad"\ndescription = "x"\nstart = "2024-01"\nend = "2030-12"\n'
ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _cases(name: str) -> list[dict]:
    with (CORPUS / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)["case"]


def _toml(value) -> str:
    """A value as TOML (inline tables, arrays, inf/nan, booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


# ------------------------------------------------------------- generated: every numeric event field
VALID_EVENTS = {
    "export_quota": {"nation": "CHN", "t_per_yr": 1000.0},
    "export_ban": {"nation": "CHN"},
    "export_licence": {"nation": "CHN", "approval_frac": 0.5},
    "export_duty": {"nation": "CHN", "rate_frac": 0.2},
    "import_tariff": {"nation": "USA", "on": ["CHN"], "rate_frac": 0.5},
    "sanction": {"nation": "USA", "on": ["RUS"]},
    "trade_status": {"nations": ["KAZ"], "partner": "USA", "status": "ntr"},
    "tech_export_ban": {"nation": "CHN"},
    "investment_deal": {"investor": "USA", "host": "KAZ", "stage": "mining", "capacity_t_per_yr": 1000.0},
    "price_floor": {"nation": "USA", "element": "Nd", "usd_per_kg": 100.0},
    "stockpile": {"nations": ["USA"], "action": "build"},
    "alliance": {"name": "a", "members": ["USA", "KAZ"]},
    "production_quota": {"nation": "CHN", "t_per_yr": 90000.0},
    "supply_disruption": {"nation": "MMR", "lost_frac": 0.5},
    "illegal_mining_crackdown": {"nation": "CHN", "cut_frac": 0.5},
    "demand_shock": {"sector": "wind", "multiplier": 2.0},
}
BAD_NUMBERS = {"inf": math.inf, "minus_inf": -math.inf, "nan": math.nan, "true": True, "string": "1.5"}


def _numeric_fields() -> list[tuple[str, str]]:
    out = []
    for cls in EVENT_CLASSES:
        kind = cls.model_fields["type"].annotation.__args__[0]
        for name, field in cls.model_fields.items():
            if any(t in str(field.annotation) for t in ("float", "int")):
                out.append((kind, name))
    return out


GENERATED = [(kind, name, label) for kind, name in _numeric_fields() for label in BAD_NUMBERS]


def test_the_corpus_has_at_least_200_cases():
    total = (len(_cases("scenarios")) + len(_cases("sweeps")) + len(_cases("cli")) + len(_cases("events"))
             + len(GENERATED))
    assert total >= 200, total
    assert {k for k, _, _ in GENERATED} == set(VALID_EVENTS) - {"export_ban", "sanction"}


@pytest.mark.parametrize(("kind", "field", "label"), GENERATED, ids=lambda v: str(v))
def test_every_numeric_event_field_refuses_inf_nan_bools_and_strings(tmp_path, kind, field, label):
    event = {"type": kind, **VALID_EVENTS[kind], "at": "2026-01", field: BAD_NUMBERS[label]}
    path = tmp_path / "bad.toml"
    path.write_text(HEADER + f"events = [{_toml(event)}]\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.file == str(path)
    assert err.value.key_path == f"events[0].{field}"
    assert err.value.allowed and ("number" in err.value.allowed[0]), err.value
    with pytest.raises(ConfigError) as injected:            # the same schema for injected events
        validate_event(event, load_world(WORLD_DIR))
    assert injected.value.key_path == f"event.{field}"


# ------------------------------------------------------------- scenario files
def _assert_cli_refuses(args: list[str], out: Path, *names: str) -> str:
    result = runner.invoke(app, args)
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == 2, (args, result.exit_code, text, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in text
    for name in names:
        assert name in text, (name, text)
    assert not out.exists() or not any(out.iterdir()), f"something was written to {out}"
    return text


def _assert_names(error: ConfigError, file: str, case: dict) -> None:
    """A refused input's error names the file, the case's key path and one of its allowed values."""
    assert error.file == file
    assert error.key_path == case["key"], str(error)
    assert error.allowed and any(case["allowed"] in a for a in error.allowed), str(error)


@pytest.mark.parametrize("case", _cases("scenarios"), ids=lambda c: c["id"])
def test_bad_scenario_files_are_refused_with_file_key_and_allowed(tmp_path, case):
    path = tmp_path / f"{case['id']}.toml"
    path.write_text(case["body"] + "\n" if case.get("whole") else HEADER + case["body"] + "\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    _assert_names(err.value, str(path), case)
    out = tmp_path / "out"
    _assert_cli_refuses(["run", "--scenario", str(path), "--out", str(out)], out,
                        str(path), case["key"], "allowed:")


# ------------------------------------------------------------- sweep specs
@pytest.mark.parametrize("case", _cases("sweeps"), ids=lambda c: c["id"])
def test_bad_sweep_specs_are_refused_with_file_key_and_allowed(tmp_path, case):
    path = tmp_path / f"{case['id']}.toml"
    body = case["body"] if case["body"].startswith("name =") else 'name = "bad"\n' + case["body"]
    path.write_text(body + "\n")
    with pytest.raises(ConfigError) as err:
        load_sweep_spec(path)
    _assert_names(err.value, str(path), case)
    out = tmp_path / "out"
    _assert_cli_refuses(["sweep", str(path), "--workers", "0", "--out", str(out)], out,
                        str(path), case["key"], "allowed:")


# ------------------------------------------------------------- command lines
@pytest.fixture
def places(tmp_path):
    """{out}: a fresh folder; {file}: an existing file; {readonly}: a folder nothing can be written in."""
    file = tmp_path / "a_file.txt"
    file.write_text("x")
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    if os.access(readonly, os.W_OK):          # root writes anywhere: use a read-only file system
        readonly = Path("/sys")
        assert not os.access(readonly, os.W_OK) or not _writable(readonly), "no read-only folder to test with"
    yield {"out": tmp_path / "out", "file": file, "readonly": readonly}
    (tmp_path / "readonly").chmod(0o755)


def _writable(folder: Path) -> bool:
    try:
        (folder / ".probe").write_text("")
    except OSError:
        return False
    (folder / ".probe").unlink()
    return True


@pytest.mark.parametrize("case", _cases("cli"), ids=lambda c: " ".join(c["args"][:3]))
def test_bad_command_lines_exit_2_naming_the_flag(places, case):
    args = [a.format(**places) for a in case["args"]]
    _assert_cli_refuses(args, places["out"], case["flag"], case["expect"])


@pytest.mark.parametrize(("args", "flag"), [
    (["run", "--until", "2026-13"], "--until"),
    (["run", "--set", "foo"], "--set"),
    (["validate", "--seeds", "0"], "--seeds"),
    (["run", "--set", "logit_beta=inf"], "--set"),
    (["sweep", "smoke", "--scheduler", "bad address"], "--scheduler"),
])
def test_a_few_bad_command_lines_through_a_real_process(tmp_path, args, flag):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim.cli", *args, "--out", str(out)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert flag in proc.stderr and "allowed:" in proc.stderr
    assert not out.exists()


# ------------------------------------------------------------- injected events
@pytest.mark.parametrize("case", _cases("events"), ids=lambda c: str(c["event"].get("type")))
def test_bad_injected_events_are_refused_by_the_scenario_schema(case):
    with pytest.raises(ConfigError) as err:
        validate_event(dict(case["event"]), load_world(WORLD_DIR), start="2024-01", end="2050-12")
    _assert_names(err.value, "<inject>", case)
