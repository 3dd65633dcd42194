"""The project carries its own sources.

Every source cell of the data tables and every entry of a scenario's ``sources`` cites at least one
key in square brackets, every cited key resolves to a full reference in ``configs/SOURCES.csv``
(listed in ``docs/sources.md``), and no shipped file points to a document that does not ship or to
an absolute path of some machine.
"""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
KEY = re.compile(r"\[([a-z0-9_]+)\]")
# documents that lived beside the repository while it was written, and absolute paths; spelled in
# pieces so that this file does not match itself
NOT_SHIPPED = re.compile("|".join([
    r"DESIGN" r"\.md", r"FACTS" r"\.md", r"project" r" brief", r"\.\./" r"shared",
    r"crisis_2010_" r"(prices|quotas)\.csv", r"ore_composition" r"_pct\.csv", r"drivers_2019" r"_2024\.csv",
    r"prices_2019" r"_2024\.csv", r"EPISODE_2020" r"_2022\.md", r"mine_production" r"_2024\.csv",
    r"(?<![\w.~$])/(work|home|Users|root)/",
]))
TEXT_SUFFIXES = {".py", ".md", ".csv", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".json", ""}
SCANNED = ("configs", "docs", "sim", "agents", "tests", "benchmarks", "scripts", "README.md", "Makefile",
           "pyproject.toml")


def _sources() -> dict[str, dict]:
    with (CONFIGS / "SOURCES.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)), "duplicate keys in configs/SOURCES.csv"
    return {r["key"]: r for r in rows}


SOURCES = _sources()


def _tables() -> list[Path]:
    return sorted(p for p in CONFIGS.rglob("*.csv")
                  if p.name != "SOURCES.csv" and "outlines" not in p.relative_to(CONFIGS).parts)


def _source_cells() -> list[tuple[str, str]]:
    """(where, text) of every source cell of every CSV table in configs/."""
    cells = []
    for path in _tables():
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns = [c for c in reader.fieldnames or [] if c == "source" or c.endswith("_source")]
            for line, row in enumerate(reader, start=2):
                for c in columns:
                    cells.append((f"{path.relative_to(ROOT)}:{line}.{c}", row[c] or ""))
    return cells


def _toml_strings(value, where: str):
    """Every string inside a parsed TOML value, with its key path."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _toml_strings(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _toml_strings(v, f"{where}[{i}]")


def _scenario_files() -> list[Path]:
    return sorted((CONFIGS / "scenarios").glob("*.toml"))


def test_every_reference_is_complete():
    for key, row in SOURCES.items():
        assert re.fullmatch(r"[a-z0-9_]+", key), key
        assert len(row["reference"]) > 40, f"{key}: reference too short to be a full reference"
        assert not row["url"] or row["url"].startswith(("http://", "https://")), key


def test_the_bibliography_page_lists_every_key():
    page = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    missing = [k for k in SOURCES if f"`[{k}]`" not in page]
    assert not missing, f"docs/sources.md lacks {missing}"


def test_every_table_has_a_source_column():
    # fitted values (configs/calibration/) name their source through configs/parameters.csv
    tables = [p for p in _tables() if p.parent.name != "calibration"]
    assert len(tables) >= 25
    without = [str(p.relative_to(ROOT)) for p in tables
               if "source" not in (p.read_text(encoding="utf-8").splitlines() or [""])[0]]
    assert not without, without


def test_every_source_cell_cites_a_known_key():
    cells = _source_cells()
    assert len(cells) > 800                     # the world tables alone have several hundred rows
    uncited = [w for w, text in cells if not KEY.search(text)]
    assert not uncited, f"source cells without a [key]: {uncited[:10]}"
    unknown = sorted({(w, k) for w, text in cells for k in KEY.findall(text) if k not in SOURCES})
    assert not unknown, f"keys missing from configs/SOURCES.csv: {unknown[:10]}"


@pytest.mark.parametrize("path", _scenario_files(), ids=lambda p: p.stem)
def test_scenario_sources_cite_known_keys(path: Path):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for i, entry in enumerate(data.get("sources", [])):
        assert KEY.search(entry), f"{path.name}: sources[{i}] cites no [key]: {entry!r}"
    for where, text in _toml_strings(data, path.stem):
        unknown = [k for k in KEY.findall(text) if k not in SOURCES]
        assert not unknown, f"{where}: unknown keys {unknown}"


def test_every_key_is_cited_somewhere_or_is_a_kind():
    """A reference nobody cites is dead weight (or a typo in a citation)."""
    cited = {k for _, text in _source_cells() for k in KEY.findall(text)}
    for path in _scenario_files():
        cited |= set(KEY.findall(path.read_text(encoding="utf-8")))
    for doc in (ROOT / "docs").glob("*.md"):
        if doc.name != "sources.md":
            cited |= set(KEY.findall(doc.read_text(encoding="utf-8")))
    # references the ODD and the market-mechanism tables cite by author and year
    by_name = {"grimm_2020", "working_1949", "deaton_laroque_1992", "williams_wright_1991",
               "keilhacker_minner_2017"}
    unused = sorted(set(SOURCES) - cited - by_name)
    assert not unused, f"keys in configs/SOURCES.csv that nothing cites: {unused}"


def _shipped_text_files():
    for name in SCANNED:
        base = ROOT / name
        paths = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for p in paths:
            if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts \
                    and p.name != Path(__file__).name:
                yield p


def test_no_file_points_to_a_document_that_does_not_ship():
    hits = []
    for p in _shipped_text_files():
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            m = NOT_SHIPPED.search(line)
            if m:
                hits.append(f"{p.relative_to(ROOT)}:{n}: {m.group(0)}")
    assert not hits, "references to files that do not ship or absolute paths:\n" + "\n".join(hits[:20])
