"""The declarative parameter table: one CSV drives defaults, validation, sweeps and UI ranges.

Values fitted by ``reesim calibrate`` (``configs/calibration/fitted_2010.csv``) replace the table's
prior values everywhere (one physics: the baseline, every scenario and the backtest use them);
the table keeps the prior, which is where the calibration starts from.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from sim.errors import ConfigError
from sim.world import CONFIG_DIR

PARAMETER_TABLE = CONFIG_DIR / "parameters.csv"
FITTED_TABLE = CONFIG_DIR / "calibration" / "fitted_2010.csv"
KINDS = ("calibrated", "uncertainty", "lever")


@dataclass(frozen=True)
class Parameter:
    """One row of ``configs/parameters.csv``."""

    name: str
    value: float
    unit: str
    min: float
    max: float
    kind: str
    description: str
    source: str
    prior: float | None = None       # the table's value, where a fitted value replaced it
    calibrated_to: str = ""


@lru_cache(maxsize=4)
def load_parameter_table(path: str | Path = PARAMETER_TABLE,
                         fitted: str | Path | None = FITTED_TABLE) -> dict[str, Parameter]:
    """Read the parameter table, checking every default lies in its range, then apply fitted values.

    Args:
        path: the parameter table.
        fitted: a table of fitted values (columns ``name``, ``value``, ``calibrated_to``), or None
            for the priors alone.
    """
    path = Path(path)
    table: dict[str, Parameter] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            try:
                p = Parameter(row["name"], float(row["value"]), row["unit"], float(row["min"]),
                              float(row["max"]), row["kind"], row["description"], row["source"])
            except (KeyError, TypeError, ValueError) as err:
                raise ConfigError(path, f"line {line}", f"unreadable row: {err}") from None
            if p.kind not in KINDS:
                raise ConfigError(path, f"line {line}.kind", f"unknown kind '{p.kind}'", KINDS)
            if not p.min <= p.value <= p.max:
                raise ConfigError(path, f"line {line}.value", f"{p.value} outside [{p.min}, {p.max}]")
            if not p.source.strip():
                raise ConfigError(path, f"line {line}.source", "every parameter must name its source")
            table[p.name] = p
    if fitted is not None and Path(fitted).exists():
        _apply_fitted(table, Path(fitted))
    return table


def _apply_fitted(table: dict[str, Parameter], fitted: Path) -> None:
    """Replace table values by fitted ones (in place), keeping the prior."""
    from dataclasses import replace
    with fitted.open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            name = row.get("name", "")
            if name not in table:
                raise ConfigError(fitted, f"line {line}.name", f"unknown parameter '{name}'", sorted(table))
            p = table[name]
            try:
                value = float(row["value"])
            except (KeyError, TypeError, ValueError):
                raise ConfigError(fitted, f"line {line}.value", f"not a number: {row.get('value')!r}") from None
            if not p.min <= value <= p.max:
                raise ConfigError(fitted, f"line {line}.value", f"{value} outside [{p.min}, {p.max}] {p.unit}")
            table[name] = replace(p, value=value, prior=p.value, calibrated_to=row.get("calibrated_to", ""))


class Params(dict):
    """Resolved parameter values with attribute access (``params.logit_beta``)."""

    def __getattr__(self, name: str) -> float:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def resolve_parameters(overrides: Mapping[str, object] | None = None, *,
                       file: str | Path = "<overrides>", key_prefix: str = "") -> Params:
    """Defaults from the table, updated by ``overrides``; unknown names or out-of-range values raise.

    Args:
        overrides: name -> value.
        file: where the overrides came from, for error messages.
        key_prefix: key path of the overrides inside that file (e.g. ``parameters.``).
    """
    table = load_parameter_table()
    values = Params({name: p.value for name, p in table.items()})
    for name, value in (overrides or {}).items():
        if name not in table:
            raise ConfigError(file, f"{key_prefix}{name}", "unknown parameter", sorted(table))
        p = table[name]
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(file, f"{key_prefix}{name}", f"not a number: {value!r}") from None
        if not p.min <= number <= p.max:
            raise ConfigError(file, f"{key_prefix}{name}",
                              f"{number} outside its range [{p.min}, {p.max}] {p.unit}")
        values[name] = number
    return values
