"""The data tables for the market mechanisms (backstops, contracts, committed projects, substitution)
are consistent with the world they describe: every name resolves, every good has a backstop above
its base-year price, shares and ranges make sense."""

from __future__ import annotations

import csv

import pytest

from sim.calendar import month_index


def is_month(text: str) -> bool:
    """A well-formed YYYY-MM (tables reach back before the simulated years, e.g. IREL since 1952)."""
    try:
        month_index(text)
    except ValueError:
        return False
    return True
from sim.world import GOODS, WORLD_DIR, load_world


def _rows(name: str) -> list[dict]:
    with (WORLD_DIR / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


WORLD = load_world(WORLD_DIR)


def test_every_good_has_one_backstop_above_every_base_year_price():
    rows = {r["good"]: r for r in _rows("backstop_prices.csv")}
    assert sorted(rows) == sorted(GOODS)
    for k, g in enumerate(GOODS):
        backstop = float(rows[g]["backstop_usd_per_kg"])
        for world in ("world", "world_2009", "world_2020"):
            w = load_world(WORLD_DIR.parent / world)
            assert backstop > 2 * max(w.price_usd_per_kg[k], w.price_china_usd_per_kg[k]), (g, world)
        ratio = backstop / WORLD.price_usd_per_kg[k]
        assert float(rows[g]["times_2024_price"]) == pytest.approx(ratio, rel=0.05), g


def test_pr_backstop_is_the_nd_backstop_because_they_substitute():
    rows = {r["good"]: float(r["backstop_usd_per_kg"]) for r in _rows("backstop_prices.csv")}
    assert rows["Pr"] == rows["Nd"]


def test_contracts_route_known_deposits_to_known_separators_at_most_once():
    rows = _rows("contracts.csv")
    deposits, plants = set(WORLD.deposit_names), set(WORLD.plant_names)
    for r in rows:
        assert r["deposit"] in deposits, r["deposit"]
        assert r["to_facility"] in plants, r["to_facility"]
        assert WORLD.plant_stage[WORLD.plant_names.index(r["to_facility"])] == "separation"
        assert is_month(r["start"]) and (not r["end"] or (is_month(r["end"]) and r["end"] > r["start"]))
    months = sorted({r["start"] for r in rows} | {r["end"] for r in rows if r["end"]})
    for d in {r["deposit"] for r in rows}:
        for m in months:
            share = sum(float(r["share_frac"]) for r in rows if r["deposit"] == d
                        and r["start"] <= m and (not r["end"] or m < r["end"]))
            assert share <= 1.0 + 1e-9, (d, m, share)


def test_mount_weld_goes_to_lynas_malaysia():
    rows = [r for r in _rows("contracts.csv") if r["deposit"] == "Mount Weld (Lynas)"]
    assert [r["to_facility"] for r in rows] == ["Lynas Malaysia (Gebeng, Kuantan)"]
    assert float(rows[0]["share_frac"]) == 1.0 and not rows[0]["end"]


def test_committed_projects_name_rows_of_the_world_tables_with_their_dates():
    for r in _rows("committed_projects.csv"):
        names = WORLD.deposit_names if r["table"] == "deposits.csv" else WORLD.plant_names
        assert r["name"] in names, r["name"]
        assert is_month(r["online"]) and is_month(r["committed_since"]) and r["committed_since"] <= r["online"]


def test_substitution_values_lie_in_their_ranges():
    rows = _rows("substitution.csv")
    assert len({r["name"] for r in rows}) == len(rows)
    for r in rows:
        low, value, high = float(r["low"]), float(r["value"]), float(r["high"])
        assert low <= value <= high, r["name"]


def test_chinas_unrefunded_export_vat_is_a_standing_tax_on_its_oxide_exports_only():
    from sim.goods import NDFEB_MARKET, ORE_MARKET, OXIDE_MARKETS
    for world in ("world", "world_2020"):
        w = load_world(WORLD_DIR.parent / world)
        china = w.nations.index("CHN")
        assert (w.export_tax_frac[OXIDE_MARKETS, china] == pytest.approx(0.13))
        assert w.export_tax_frac[ORE_MARKET, china] == 0 and w.export_tax_frac[NDFEB_MARKET, china] == 0
        others = [i for i in range(len(w.nations)) if i != china]
        assert not w.export_tax_frac[:, others].any()


def test_a_bad_export_tax_row_is_refused_naming_file_line_and_allowed_stages(tmp_path):
    import shutil

    from sim.errors import ConfigError
    world = tmp_path / "world"
    shutil.copytree(WORLD_DIR, world)
    table = world / "export_taxes.csv"
    table.write_text(table.read_text().replace("CHN,oxide,", "CHN,metals,", 1))
    with pytest.raises(ConfigError) as err:
        load_world(world)
    text = str(err.value)
    assert "export_taxes.csv" in text and "line 2" in text and "stage" in text and "oxide" in text
