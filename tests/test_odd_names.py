"""Every code name the ODD writes in backticks exists in the code, the configs or the recorded outputs.

The ODD describes the code as it is, so a renamed or deleted function, parameter or column must not
stay in it. A backticked span counts as a code name when it is one identifier (after dropping a
trailing call or index, ``foo()``, ``foo[n, g]``) that is snake_case with an underscore, CamelCase, or
a dotted path (``module.func``, ``Class.method``); file names (``nations.csv``) must be files of the
repository.
"""
from __future__ import annotations

import ast
import csv
import re
import subprocess
import tomllib
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"

#: Names the ODD uses as patterns, labels or quotes, not as code names (kept short on purpose).
ALLOWED = {
    "dist_km",              # the great-circle distance of the freight formula (6.1)
}

SPAN = re.compile(r"`([^`\n]+)`")
CAMEL = re.compile(r"^_?[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*$")
FILE = re.compile(r"^[\w./*-]+\.(csv|toml|py|md|parquet)$")


TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


SUBSCRIPT = re.compile(r"_[a-su-z]$")


def _code_names(span: str) -> list[str]:
    """The code names in a backticked span: each identifier or dotted path in it that has an
    underscore (``rng_demand``, ``_prime``), is CamelCase or is dotted. Words of a formula (``brake``)
    and subscripted symbols (``Q_g``, ``out_d``: one letter after the last underscore, ``_t`` being
    the unit tonnes) are not code names."""
    return [token for token in TOKEN.findall(span)
            if ("_" in token or "." in token or CAMEL.match(token)) and not SUBSCRIPT.search(token)]


def _pattern(span: str) -> re.Pattern | None:
    """A span naming a family of columns or arrays, ``price_{g}_usd_per_kg``,
    ``magnet_{Dy,Tb}_intensity[_china]_frac`` or ``dep_*``, as the regex of its members; else None."""
    span = span.strip()
    if not re.fullmatch(r"[\w{},\[\]*]+", span) or not re.search(r"[{*]", span):
        return None
    regex = re.sub(r"\{([^}]*)\}", lambda m: "(" + "|".join(m[1].split(",")) + ")" if "," in m[1] else r"\w+",
                   span)
    regex = re.sub(r"\[([^\]]*)\]", r"(\1)?", regex).replace("*", r"\w*")
    return re.compile(regex)


def _python_names(path: Path) -> set[str]:
    """Identifiers a module defines or uses, and the words of its string constants (column names,
    Literal values), leaving out docstrings and comments so stale prose cannot vouch for a name."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.update(node.name.split("."))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            names.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node.value))
    return names


def _toml_words(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_toml_words(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_toml_words(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def known_names() -> tuple[set[str], dict[str, set[str]], set[str]]:
    """(every known name, the names of each module by dotted path, the repository's file names)."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    names: set[str] = set()
    modules: dict[str, set[str]] = {}
    for rel in files:
        path = ROOT / rel
        if rel.endswith(".py") and rel.split("/")[0] in ("sim", "agents"):
            found = _python_names(path)
            names |= found
            modules[rel[:-3].replace("/", ".")] = found
        elif rel.startswith("configs/") and rel.endswith(".csv"):
            with path.open(newline="") as f:
                rows = list(csv.reader(f))
            if rows:
                names.update(rows[0])
            if rel == "configs/parameters.csv":
                names.update(row[0] for row in rows[1:] if row)
        elif rel.startswith("configs/") and rel.endswith(".toml"):
            names |= _toml_words(tomllib.loads(path.read_text()))
        elif rel.startswith("tests/pins/") and rel.endswith(".parquet"):
            names.update(pq.read_schema(path).names)
    return names, modules, {Path(rel).name for rel in files} | set(files)


def _module_of(parts: list[str], modules: dict[str, set[str]]) -> tuple[str, int] | None:
    """The module a dotted name starts with (full path ``sim.chain.prices`` or, when unambiguous, its
    last part ``prices``) and how many parts it takes, or None."""
    for i in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:i])
        matches = [m for m in modules if m == head or m.endswith("." + head)]
        if len(matches) == 1:
            return matches[0], i
    return None


def stale_names(text: str) -> list[str]:
    """The backticked code names of ``text`` that nothing in the repository defines."""
    names, modules, files = known_names()
    stale = []
    for span in dict.fromkeys(SPAN.findall(text)):
        if FILE.match(span.strip()):
            if "*" not in span and span.strip() not in files:
                stale.append(span)
            continue
        pattern = _pattern(span)
        if pattern is not None:
            if not any(pattern.fullmatch(name) for name in names):
                stale.append(span)
            continue
        for name in _code_names(span):
            if name not in ALLOWED and not _exists(name, names, modules):
                stale.append(name)
    return list(dict.fromkeys(stale))


def _exists(name: str, names: set[str], modules: dict[str, set[str]]) -> bool:
    parts = name.split(".")
    module = _module_of(parts, modules)
    if module is not None:
        return all(p in modules[module[0]] for p in parts[module[1]:])
    return all(p in names for p in parts)


def test_every_code_name_in_the_odd_exists():
    assert stale_names(ODD.read_text()) == []


def test_a_stale_name_is_caught():
    """The check is not blind: a removed helper, a wrong module path, a missing file, a column family
    nothing records and a name inside a formula all fail it."""
    text = ("`settle` `spinup.settle` `_zone_cover()` `sim.chain.prices.cover_months_of` `SPUN_STATE` "
            "`no_such_table.csv` `price_floor_frac` `price_{g}_usd_per_kg` `price_{g}_usd_per_lb` "
            "`normal_cover = _zone_cover_months(use)`")
    assert stale_names(text) == ["_zone_cover", "sim.chain.prices.cover_months_of", "SPUN_STATE",
                                 "no_such_table.csv", "price_{g}_usd_per_lb", "_zone_cover_months"]
