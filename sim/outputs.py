"""The one module that writes result files: tables, JSON, figures, ``config.json`` and the log file.

Every file is written as a dot-file beside its target and renamed into place (atomic on POSIX), so a
run or sweep stopped at any moment leaves whole files only, and readers (``pyarrow.dataset``, pandas)
never see a half-written one: they ignore names starting with ``.``.

Units live here only: :func:`unit_of` reads a series' unit from its name (``_usd_per_kg``, ``_t``,
``_frac``...), Parquet files carry them in their schema metadata (key ``units``) and plots label
their axes with :func:`unit_of`.

Every output folder gets a ``config.json`` (:func:`write_config`): what produced it (scenario,
parameters, seed), the git commit and the versions of Python and the main libraries.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: Units by name suffix (longest first wins) or prefix: the one table of units.
SUFFIX_UNITS = {
    "_usd_per_kg_per_yr": "USD/kg/yr", "_usd_per_kg": "USD/kg", "_usd_per_t": "USD/t", "_usd": "USD",
    "_t_per_yr": "t/yr", "_t_per_t": "t/t", "_kt": "kt", "_t": "t", "_frac": "0-1", "_months": "months",
    "_per_yr": "1/yr", "_per_month": "1/month", "_km": "km", "_s": "s", "_mb": "MB",
}
PREFIX_UNITS = {"china_share_": "0-1", "hhi_": "0-10000", "usa_supply_china_share": "0-1"}
LOG_NAME = "reesim.log"
VERSIONED = ("reesim", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "scipy", "dask", "distributed", "SALib")

log = logging.getLogger("reesim")


# ----------------------------------------------------------------------------- units
def unit_of(column: str) -> str:
    """Unit of a series from its name: a known suffix (longest match; a bare ``t`` counts) or prefix,
    else ``""``."""
    for suffix in sorted(SUFFIX_UNITS, key=len, reverse=True):
        if f"_{column}".endswith(suffix):
            return SUFFIX_UNITS[suffix]
    return next((u for p, u in PREFIX_UNITS.items() if column.startswith(p)), "")


def column_units(columns: Iterable[str]) -> dict[str, str]:
    """Unit of each series, by name."""
    return {c: unit_of(c) for c in columns}


def units_metadata(units: dict[str, str]) -> dict[bytes, bytes]:
    """Parquet schema metadata holding the units of a table's columns."""
    return {b"units": json.dumps(units).encode()}


def table_units(path: str | Path) -> dict[str, str]:
    """The units stored in a Parquet file by this module."""
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta.get(b"units", b"{}"))


# ----------------------------------------------------------------------------- atomic files
@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``path``; rename it onto ``path`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json.dumps(data, indent=2, default=str, allow_nan=True))


def write_arrow(table: pa.Table, path: str | Path) -> Path:
    """An Arrow table as one Parquet file (its schema metadata, e.g. units, kept)."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def merge_parquet(parts: list[Path], path: str | Path, select=None) -> Path:
    """Stream Parquet files into one (atomic), a part at a time, each filtered by ``select(table) -> mask``.

    Memory stays that of the largest part, whatever the number of parts. Every part is cast to the
    first one's schema (units and other metadata kept from it).
    """
    with atomic_path(path) as tmp:
        writer = None
        for part in parts:
            table = pq.read_table(part)
            if select is not None:
                table = table.filter(select(table))
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(tmp, schema)
            writer.write_table(table.cast(schema).replace_schema_metadata(schema.metadata))
        if writer is not None:
            writer.close()
    return Path(path)


def to_arrow(df: pd.DataFrame, units: dict[str, str] | None = None) -> pa.Table:
    """A frame as an Arrow table with the units of its columns in the schema metadata."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    units = column_units(df.columns) if units is None else units
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **units_metadata(units)})


def write_table(df: pd.DataFrame, out: str | Path, stem: str, csv: bool = True) -> list[Path]:
    """A table as ``stem.parquet`` (units in the schema metadata) and, with ``csv``, ``stem.csv``."""
    out = Path(out)
    paths = [write_arrow(to_arrow(df), out / f"{stem}.parquet")]
    if csv:
        paths.append(write_text(out / f"{stem}.csv", df.to_csv(index=False)))
    return paths


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    return write_text(path, df.to_csv(index=False))


def write_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """A matplotlib ``Figure`` as PNG."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    return Path(path)


def write_figures(figures: dict, out: str | Path, dpi: int = 110) -> list[Path]:
    return [write_figure(fig, Path(out) / f"{stem}.png", dpi) for stem, fig in figures.items()]


# ----------------------------------------------------------------------------- config.json
def git_commit() -> str | None:
    """The checkout's commit when the code runs from a git checkout, else None (an installed package)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str | None]:
    """Python's and the main libraries' versions (None for those not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def provenance() -> dict:
    """Code version, library versions, command line and time: the part of every config.json that
    does not depend on what was run."""
    # the command as typed (program name, not the path it was installed at: configs never echo server paths)
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else []
    return {"git_commit": git_commit(), "versions": versions(), "argv": argv,
            "written_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def model_config(model) -> dict:
    """Scenario, seed, last month and every parameter (value, unit, source) of one model."""
    from sim.parameters import load_parameter_table
    table = load_parameter_table()
    return {
        "scenario": model.spec.to_dict(),
        "seed": model.seed,
        "until": model.current_month(),
        "parameters": {k: {"value": v, "unit": table[k].unit, "source": table[k].source}
                       for k, v in model.p.items()},
    }


def parameter_values(overrides: dict | None = None) -> dict[str, float]:
    """Every model parameter's value (the table with the shipped fit), with ``overrides`` applied."""
    from sim.parameters import load_parameter_table
    values = {name: row.value for name, row in load_parameter_table().items()}
    return {**values, **(overrides or {})}


def resolved_config(model) -> dict:
    """Everything needed to reproduce one run (kept for callers of the earlier name)."""
    return {**model_config(model), **provenance()}


def write_config(out: str | Path, **what) -> Path:
    """``OUT/config.json``: ``what`` (scenario, parameters, seed...) plus :func:`provenance`."""
    return write_json(Path(out) / "config.json", {**what, **provenance()})


# ----------------------------------------------------------------------------- logging
@contextmanager
def log_file(out: str | Path, level: int = logging.INFO) -> Iterator[Path]:
    """Send the ``reesim`` logger, and Dask's warnings, to ``OUT/reesim.log`` while the block runs."""
    path = Path(out) / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Dask resets the level of the handlers on its own loggers (silence_logs): it gets its own handler
    handlers = {name: logging.FileHandler(path, encoding="utf-8")
                for name in ("reesim", "distributed", "dask_jobqueue")}
    for name, handler in handlers.items():
        handler.setFormatter(fmt)
        handler.setLevel(level if name == "reesim" else logging.WARNING)
        logging.getLogger(name).addHandler(handler)
    old = log.level
    log.setLevel(level)
    try:
        yield path
    finally:
        for name, handler in handlers.items():
            logging.getLogger(name).removeHandler(handler)
            handler.close()
        log.setLevel(old)
