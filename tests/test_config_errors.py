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
    # an overlap with any earlier event counts, not only with the last one of its kind
    hidden = ('[[events]]\nat = "2025-01"\ntype = "export_quota"\nnation = "CHN"\nt_per_yr = 1000\n'
              '[[events]]\nat = "2024-01"\nuntil = "2024-06"\ntype = "export_quota"\nnation = "CHN"\nt_per_yr = 900\n'
              '[[events]]\nat = "2026-01"\ntype = "export_quota"\nnation = "CHN"\nt_per_yr = 500\n')
    with pytest.raises(ConfigError, match=r"events\[2\]: contradicts events\[0\]"):
        load_scenario(scenario_file(hidden))


def test_a_mining_and_a_separation_quota_may_run_together(scenario_file):
    both = ('[[events]]\nat = "2025-01"\ntype = "production_quota"\nnation = "CHN"\nt_per_yr = 300000\n'
            '[[events]]\nat = "2025-01"\ntype = "production_quota"\nstage = "separation"\nnation = "CHN"\n'
            't_per_yr = 260000\n')
    assert len(load_scenario(scenario_file(both)).events) == 2


def test_a_separation_quota_needs_a_quota_line_in_the_world(tmp_path):
    path = tmp_path / "q2009.toml"
    path.write_text('name = "q2009"\ndescription = "x"\nworld = "world_2009"\nstart = "2009-01"\n'
                    'end = "2009-12"\n[[events]]\nat = "2009-02"\ntype = "production_quota"\n'
                    'stage = "separation"\nnation = "CHN"\nt_per_yr = 120000\n')
    with pytest.raises(ConfigError, match=r"events\[0\]\.nation: world_2009/processing\.csv has no quota separation line"):
        load_scenario(path)


@pytest.mark.parametrize("old, new, key", [(",operating,45000,", ",operating,-45000,", r"capacity_t_per_yr: .*"),
                                            (",1951-01,", ",1951-13,", r"start: .*'1951-13'.*allowed: YYYY-MM\)")])
def test_a_bad_value_in_a_world_table_names_the_row(tmp_path, old, new, key):
    world = _world_with(tmp_path, "deposits.csv", lambda t: t.replace(old, new, 1))
    with pytest.raises(ConfigError, match=r"deposits\.csv: line \d+ \(deposit '.*'\)\." + key):
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


# ---------------------------------------------------------------- issue 14: strict input, one schema
def test_extra_events_keep_the_scenarios_own_world():
    from sim.scenarios import with_extra_events
    spec = load_scenario("china_2010_quota")
    merged = with_extra_events(spec, [{"type": "export_ban", "nation": "CHN", "at": "2010-03"}])
    assert merged.world_dir == spec.world_dir and merged.world_dir.name == "world_2009"
    assert len(merged.events) == len(spec.events) + 1 and merged.events[-1].type == "export_ban"
    with pytest.raises(ConfigError, match=r"<extra_events>: extra_events\[0\]\.at: .*allowed: 2009-01..2015-12"):
        with_extra_events(spec, [{"type": "export_ban", "nation": "CHN", "at": "2024-03"}])


def test_injected_events_use_the_scenario_schema_and_the_worlds_nations():
    from sim.scenarios import validate_event
    world = load_world(WORLD_DIR)
    ok = validate_event({"type": "export_ban", "nation": "CHN", "to_bloc": ["us_allied"], "at": "2026-01"}, world)
    assert ok.to_bloc == ["us_allied"]
    with pytest.raises(ConfigError) as err:
        validate_event({"type": "export_ban", "nation": "CHN", "to_bloc": ["us_allies"], "at": "2026-01"}, world)
    assert (err.value.file, err.value.key_path) == ("<inject>", "event.to_bloc[0]")
    assert "us_allied" in err.value.allowed
    with pytest.raises(ConfigError, match=r"event\.nation: unknown nation 'CHINA'.*allowed: .*CHN"):
        validate_event({"type": "export_ban", "nation": "CHINA", "at": "2026-01"}, world)


def test_a_sweep_error_an_injected_event_error_and_a_scenario_error_share_one_format(tmp_path, scenario_file):
    from sim.scenarios import validate_event
    from sim.sweep_spec import load_sweep_spec
    bad_event = 'type = "export_quota"\nnation = "CHN"\nat = "2024-03"\nt_per_yr = inf\n'
    with pytest.raises(ConfigError) as scen:
        load_scenario(scenario_file("[[events]]\n" + bad_event))
    sweep = tmp_path / "sweep.toml"
    sweep.write_text('until = "2024-06"\n[events.q]\n' + bad_event + "[parameters.logit_beta]\nvalues = [1, 2]\n")
    with pytest.raises(ConfigError) as swp:
        load_sweep_spec(sweep)
    with pytest.raises(ConfigError) as inj:
        validate_event({"type": "export_quota", "nation": "CHN", "at": "2024-03", "t_per_yr": float("inf")},
                       load_world(WORLD_DIR))
    pattern = r"^(.+): (events\[0\]|events\.q|event)\.t_per_yr: Input should be a finite number \(got inf\): " \
              r"inf and nan are not allowed \(allowed: a finite number in \[0, 1e\+07\]\)$"
    import re
    for err, file in ((scen, scen.value.file), (swp, str(sweep)), (inj, "<inject>")):
        assert re.match(pattern, str(err.value)), str(err.value)
        assert err.value.file == file


def test_a_sweep_name_is_a_plain_name_never_a_path(tmp_path):
    from sim.sweep_spec import load_sweep_spec
    spec = tmp_path / "s.toml"
    for name in ("../../escape", "/tmp/x", "a/b", ".hidden", ""):
        spec.write_text(f'name = "{name}"\n[parameters.logit_beta]\nvalues = [1, 2]\n')
        with pytest.raises(ConfigError, match=r"s\.toml: name: .*allowed: letters, digits"):
            load_sweep_spec(spec)


def test_months_are_parsed_strictly():
    from sim.calendar import is_month, month_index
    assert is_month("2024-01") and is_month("2100-12") and month_index("2024-03") == 2024 * 12 + 2
    for bad in ("2026-13", "2026-00", "26-01", "", "soon", "2026-1", "0000-01", "1999-12", "2101-01",
                " 2024-01", "2024-01-01", None, 202401):
        assert not is_month(bad), bad
    for bad in ("2026-13", "26-01", "", "soon", None):
        with pytest.raises(ValueError):
            month_index(bad)


def test_run_end_refuses_months_outside_the_scenario():
    from sim.scenarios import run_end
    spec = load_scenario("baseline")
    assert run_end(spec, None) == spec.end and run_end(spec, "2030-06") == "2030-06"
    for bad, allowed in (("2020-01", "2024-01..2050-12"), ("2051-01", "2024-01..2050-12"),
                         ("2026-13", "YYYY-MM")):
        with pytest.raises(ConfigError) as err:
            run_end(spec, bad)
        assert err.value.file == "--until" and allowed in err.value.allowed[0]


def test_out_folder_is_checked_before_any_work(tmp_path):
    from sim.paths import check_out_dir
    assert check_out_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()                 # the check writes nothing
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match=r"--out: '.*f\.txt' is an existing file"):
        check_out_dir(a_file)
    with pytest.raises(ConfigError, match=r"--out: .* is a file, not a folder"):
        check_out_dir(a_file / "sub")


def test_validate_with_zero_seeds_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app
    out = tmp_path / "val"
    result = CliRunner().invoke(app, ["validate", "--seeds", "0", "--out", str(out)])
    assert result.exit_code == 2 and "--seeds" in result.output and "allowed: a whole number >= 1" in result.output
    assert not out.exists()


# ---------------------------------------------------------------- issue 14 item 10: runs that leave the possible
def test_sanity_check_names_the_month_and_the_quantity():
    import numpy as np

    from sim.chain.backstop import backstop_usd_per_kg
    from sim.errors import RunInvalidError
    from sim.sanity import check_month, price_ceilings_usd_per_kg
    from sim.world import GOODS
    ceilings = price_ceilings_usd_per_kg(backstop_usd_per_kg())
    prices = np.broadcast_to(backstop_usd_per_kg(), (2, len(GOODS))).copy()     # at the backstop: possible
    check_month("2030-01", prices, ceilings, {"stockpile_t": np.zeros(3)}, 1e-9, goods=GOODS)
    high = prices.copy()
    high[1, GOODS.index("Sm")] *= 1.2
    with pytest.raises(RunInvalidError) as err:
        check_month("2031-05", high, ceilings, goods=GOODS)
    assert err.value.month == "2031-05" and err.value.quantity == "price_Sm_usd_per_kg"
    backstop_sm = backstop_usd_per_kg()[GOODS.index("Sm")]
    assert f"2031-05.price_Sm_usd_per_kg: price {backstop_sm * 1.2:,.6g} USD/kg is 1.2x its backstop" in str(err.value)
    nan = prices.copy()
    nan[0, 0] = np.nan
    with pytest.raises(RunInvalidError, match=r"2030-02\.price_La_usd_per_kg: price is not a finite number"):
        check_month("2030-02", nan, ceilings, goods=GOODS)
    with pytest.raises(RunInvalidError, match=r"2030-03\.stockpile_t: stock below zero: -5 t"):
        check_month("2030-03", prices, ceilings, {"stockpile_t": np.array([1.0, -5.0])}, goods=GOODS)
    with pytest.raises(RunInvalidError, match=r"2030-04\.mass_balance_error_t: material not conserved"):
        check_month("2030-04", prices, ceilings, mass_balance_error_t=0.01, goods=GOODS)
    check_month("2030-04", prices, ceilings, mass_balance_error_t=0.01, goods=GOODS, held_t=1e8)  # rounding
    assert isinstance(err.value, ConfigError)


def test_only_dy_and_tb_may_drift_in_the_magnet_recipe(tmp_path):
    world = _world_with(tmp_path, "magnet_recipe.csv", lambda text: text.replace("\nNd,0.2332,0.0,", "\nNd,0.2332,0.01,"))
    with pytest.raises(ConfigError, match=r"magnet_recipe\.csv: line \d+ \(element 'Nd'\)\.content_trend_frac_per_yr"
                                          r".*allowed: Dy, Tb"):
        load_world(world)


def test_magnet_grades_need_every_magnet_using_sector_and_a_plausible_content(tmp_path):
    world = _world_with(tmp_path, "magnet_grades.csv",
                        lambda text: "\n".join(l for l in text.splitlines() if not l.startswith("wind,")) + "\n")
    with pytest.raises(ConfigError, match=r"magnet_grades\.csv: sector: missing the magnet-using sectors \['wind'\]"
                                          r".*allowed: ev_motors, wind"):
        load_world(world)
    world = _world_with(tmp_path / "b", "magnet_grades.csv", lambda text: text.replace("ev_motors,1.0,", "ev_motors,40,"))
    with pytest.raises(ConfigError, match=r"magnet_grades\.csv: line 2 \(sector 'ev_motors'\)\.dy_mass_pct"):
        load_world(world)
