"""The declarative parameter table: one CSV drives defaults, validation, sweeps and UI ranges.

Values fitted by ``reesim calibrate`` (``configs/calibration/fitted_2010.csv``) replace the table's
prior values everywhere (one physics: the baseline, every scenario and the backtest use them);
the table keeps the prior, which is where the calibration starts from.
"""

from __future__ import annotations

import csv
import math
import numbers
from functools import lru_cache
from pathlib import Path
from typing import Literal, Mapping

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from sim.errors import ConfigError, from_validation_error
from sim.world import CONFIG_DIR

AT_EDGE_FRAC = 0.03         # a calibrated value this close to a bound (share of its range) must be explained (ODD 6.3)
PARAMETER_TABLE = CONFIG_DIR / "parameters.csv"
FITTED_TABLE = CONFIG_DIR / "calibration" / "fitted_2010.csv"
KINDS = ("calibrated", "uncertainty", "lever")


class Parameter(BaseModel):
    """One row of ``configs/parameters.csv`` (numbers read from the CSV's text, finite, min <= value <= max)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name: str
    value: float
    unit: str
    min: float
    max: float
    kind: Literal[KINDS]  # type: ignore[valid-type]
    description: str
    source: str
    prior: float | None = None       # the table's value, where a fitted value replaced it
    calibrated_to: str = ""

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("every parameter must name its source")
        return v

    @model_validator(mode="after")
    def _in_range(self) -> "Parameter":
        if not self.min <= self.value <= self.max:
            raise ValueError(f"value {self.value} outside [{self.min}, {self.max}] {self.unit}")
        return self


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
                p = Parameter.model_validate(row)
            except ValidationError as err:
                raise from_validation_error(err, path, f"line {line}", model=Parameter) from None
            if hasattr(Params, p.name):       # it would hide a method of the mapping (see Params)
                raise ConfigError(path, f"line {line}.name", f"'{p.name}' is reserved (a method of Params)")
            table[p.name] = p
    if fitted is not None and Path(fitted).exists():
        _apply_fitted(table, Path(fitted))
    return table


def _apply_fitted(table: dict[str, Parameter], fitted: Path) -> None:
    """Replace table values by fitted ones (in place), keeping the prior."""
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
            table[name] = p.model_copy(update={"value": value, "prior": p.value,
                                              "calibrated_to": row.get("calibrated_to", "")})


class Params(dict):
    """Resolved parameter values with attribute access (``params.logit_beta``).

    The instance's attribute dictionary is the mapping itself, so ``params.x`` is a plain attribute read
    (the model reads parameters some 180 times a month) and always agrees with ``params["x"]``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__ = self

    def __setstate__(self, state) -> None:     # pickle and copy: the items are restored, then bound again
        self.__dict__ = self


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
        number = check_value(table[name], value, file, f"{key_prefix}{name}")
        values[name] = number
    return values


def check_value(p: Parameter, value: object, file: str | Path, key: str) -> float:
    """``value`` as a float if it is a finite number (not true/false, not a string) within ``p``'s range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(file, key, f"not a finite number: {value!r}", [f"[{p.min}, {p.max}] {p.unit}"])
    if not p.min <= value <= p.max:
        raise ConfigError(file, key, f"{value} outside its range", [f"[{p.min}, {p.max}] {p.unit}"])
    return float(value)


def parse_overrides(items: list[str], flag: str = "--set") -> dict[str, float]:
    """``NAME=VALUE`` strings from the command line as checked numbers (``inf``, ``nan``, ``true`` refused)."""
    table = load_parameter_table()
    out: dict[str, float] = {}
    for i, item in enumerate(items):
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise ConfigError(flag, f"{flag}[{i}]", f"{item!r} is not NAME=VALUE", sorted(table))
        if name not in table:
            raise ConfigError(flag, f"{flag}[{i}].{name or '<empty>'}", "unknown parameter", sorted(table))
        try:
            number: object = float(text)
        except ValueError:
            number = text
        if isinstance(number, float) and text.strip().lower().lstrip("+-") in ("inf", "infinity", "nan"):
            number = text
        out[name] = check_value(table[name], number, flag, f"{flag}[{i}].{name}")
    return out
