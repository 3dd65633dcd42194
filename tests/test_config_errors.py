"""Bad input fails before any run, naming the file, the key path and the allowed values."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from sim.errors import ConfigError
from sim.scenarios import load_scenario
from sim.world import WORLD_DIR, load_world


def _world_with(tmp_path: Path, table: str, edit) -> Path:
    world = tmp_path / "world"
    shutil.copytree(WORLD_DIR, world)
    path = world / table
    path.write_text(edit(path.read_text()))
    return world


def test_unknown_nation_in_an_event_names_file_key_and_allowed(scenario_file):
    path = scenario_file('[[events]]\nat = "2026-01"\ntype = "export_ban"\nnation = "XXX"\n')
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.file == str(path)
    assert err.value.key_path == "events[0].nation"
    assert "CHN" in err.value.allowed and "KAZ" in err.value.allowed


def test_unknown_element_is_rejected(scenario_file):
    path = scenario_file('[[events]]\nat = "2026-01"\ntype = "export_ban"\nnation = "CHN"\n'
                               'elements = ["Dy", "Unobtainium"]\n')
    with pytest.raises(ConfigError, match=r"events\[0\]\.elements\[1\].*allowed: La, Ce, Pr, Nd"):
        load_scenario(path)


def test_unknown_event_type_lists_the_types(scenario_file):
    path = scenario_file('[[events]]\nat = "2026-01"\ntype = "embargo"\nnation = "CHN"\n')
    with pytest.raises(ConfigError, match=r"events\[0\]\.type.*allowed: .*export_quota.*export_ban"):
        load_scenario(path)


def test_unknown_stage_is_rejected(scenario_file):
    path = scenario_file('[[events]]\nat = "2026-01"\ntype = "export_ban"\nnation = "CHN"\n'
                               'stages = ["alloy"]\n')
    with pytest.raises(ConfigError, match=r"events\[0\]\.stages.*allowed: ore, oxide, metal, magnet"):
        load_scenario(path)


def test_unknown_top_level_key_and_unknown_parameter(scenario_file):
    with pytest.raises(ConfigError, match=r"bad\.toml: colour: unknown key"):
        load_scenario(scenario_file('colour = "red"\n'))
    with pytest.raises(ConfigError, match=r"parameters\.logit_betta: unknown parameter.*logit_beta"):
        load_scenario(scenario_file("[parameters]\nlogit_betta = 3\n"))


def test_event_month_outside_the_run_and_contradictory_events(scenario_file):
    with pytest.raises(ConfigError, match=r"events\[0\]\.at: month 2031-01 is outside the run"):
        load_scenario(scenario_file('[[events]]\nat = "2031-01"\ntype = "export_quota"\n'
                                          'nation = "CHN"\nt_per_yr = 1000\n'))
    two = ('[[events]]\nat = "2026-01"\ntype = "export_quota"\nnation = "CHN"\nt_per_yr = 1000\n'
           '[[events]]\nat = "2027-01"\ntype = "export_quota"\nnation = "CHN"\nt_per_yr = 500\n')
    with pytest.raises(ConfigError, match=r"events\[1\]: contradicts events\[0\]"):
        load_scenario(scenario_file(two))


def test_negative_capacity_in_a_world_table_names_the_row(tmp_path):
    world = _world_with(tmp_path, "deposits.csv",
                        lambda t: t.replace(",operating,45000,", ",operating,-45000,", 1))
    with pytest.raises(ConfigError, match=r"deposits\.csv: line \d+ \(deposit '.*'\)\.capacity_t_per_yr"):
        load_world(world)


def test_element_split_that_does_not_sum_to_100_is_rejected(tmp_path):
    def edit(text: str) -> str:
        rows = list(csv.DictReader(io.StringIO(text)))
        rows[0]["La"] = str(float(rows[0]["La"]) + 10.0)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    world = _world_with(tmp_path, "deposits.csv", edit)
    with pytest.raises(ConfigError, match=r"element split sums to 110\.\d+ %, not 100 %"):
        load_world(world)


def test_unknown_nation_in_a_world_table(tmp_path):
    world = _world_with(tmp_path, "demand.csv", lambda t: t.replace("\nUSA,ev_motors,", "\nUSB,ev_motors,", 1))
    with pytest.raises(ConfigError, match=r"demand\.csv: line \d+\.iso3: unknown nation 'USB'.*allowed: .*USA"):
        load_world(world)


def test_unknown_sector_in_demand_lists_the_sectors(tmp_path):
    world = _world_with(tmp_path, "demand.csv", lambda t: t.replace(",ev_motors,", ",ev_motor,", 1))
    with pytest.raises(ConfigError, match=r"demand\.csv: line 2 .*\.sector.*allowed: ev_motors, wind"):
        load_world(world)
