"""The one error type for bad input: it names the file, the key path and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path


class ConfigError(ValueError):
    """A config, scenario or sweep file that cannot be used as written.

    Args:
        file: the file that holds the bad value.
        key_path: where in it, e.g. ``events[2].nation`` or ``row 7 (deposit 'X').iso3``.
        message: what is wrong.
        allowed: the allowed values, if there is a closed set.
    """

    def __init__(self, file: str | Path, key_path: str, message: str,
                 allowed: Iterable[object] | None = None) -> None:
        self.file = str(file)
        self.key_path = key_path
        self.allowed = None if allowed is None else [str(a) for a in allowed]
        same = key_path.lstrip("-") == self.file.lstrip("-")   # a flag: "--until: ..." once
        text = f"{self.file}: {message}" if same else f"{self.file}: {key_path}: {message}"
        if self.allowed is not None:
            text += f" (allowed: {', '.join(self.allowed)})"
        super().__init__(text)


class RunInvalidError(ConfigError):
    """A run whose numbers left the possible (a price past its bound, a negative stock, mass not
    conserved): it stops with the month and the quantity instead of finishing as ok."""

    def __init__(self, month: str, quantity: str, message: str) -> None:
        self.month = month
        self.quantity = quantity
        super().__init__("<run>", f"{month}.{quantity}", message)


def _key_path(loc: tuple, prefix: str) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


class Allowed(ValueError):
    """A ValueError from a schema validator that also says what is allowed (read by from_validation_error)."""

    def __init__(self, message: str, allowed: Iterable[object]) -> None:
        super().__init__(message)
        self.allowed = list(allowed)


def describe(field) -> list[str]:
    """What a pydantic field accepts, in words: its literal values, or its type and bounds."""
    import typing
    import types
    tp = field.annotation
    if typing.get_origin(tp) in (typing.Union, types.UnionType):       # X | None: describe X
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    bounds = {k: getattr(m, k) for m in field.metadata for k in ("ge", "gt", "le", "lt") if hasattr(m, k)}
    lo = (f"[{bounds['ge']:g}" if "ge" in bounds else f"({bounds['gt']:g}" if "gt" in bounds else "")
    hi = (f"{bounds['le']:g}]" if "le" in bounds else f"{bounds['lt']:g})" if "lt" in bounds else "")
    span = f" in {lo or '(-inf'}, {hi or 'inf)'}" if lo or hi else ""
    base = tp
    if base is int:
        return [f"a whole number{span}"]
    if base is float:
        return [f"a finite number{span}"]
    if base is bool:
        return ["true", "false"]
    if base is str:
        return ["a quoted string"]
    origin = typing.get_origin(base)
    if origin is list:
        inner = typing.get_args(base)
        if inner and typing.get_origin(inner[0]) is typing.Literal:
            return [f"a list of: {', '.join(str(a) for a in typing.get_args(inner[0]))}"]
        item = typing.get_args(inner[0])[0] if inner and typing.get_origin(inner[0]) is typing.Annotated else (
            inner[0] if inner else None)
        words = {str: "strings", int: "whole numbers >= 0" if item is int and inner[0] is not int else "whole numbers",
                 float: "finite numbers"}
        return [f"a list of {words.get(item, 'tables')}"]
    if origin is dict or base is dict:
        return ["a table"]
    if isinstance(base, type) and hasattr(base, "model_fields"):
        return [f"a table with keys: {', '.join(base.model_fields)}"]
    return [str(getattr(base, "__name__", base))]


def from_validation_error(err, file: str | Path, prefix: str = "",
                          allowed: Mapping[str, Iterable[object]] | None = None,
                          skip: Iterable[str] = (), model: type | None = None) -> ConfigError:
    """The first problem of a pydantic ``ValidationError`` as a :class:`ConfigError`.

    Args:
        err: the pydantic error.
        file: the file (or flag) the data came from.
        prefix: key path of the validated data inside that file (``events[2]``).
        allowed: allowed values by the last key of the path, where pydantic does not know them.
        skip: location parts to leave out of the key path (discriminator tags of unions).
        model: the pydantic model validated, to list the keys allowed where an unknown key is.
    """
    first = err.errors(include_url=False)[0]
    loc = tuple(p for p in first["loc"] if p not in set(skip))
    key_path = _key_path(loc, prefix) or "<root>"
    ctx = first.get("ctx") or {}
    kind = first["type"]
    names = [p for p in loc if isinstance(p, str)]
    named = loc
    while named and isinstance(named[-1], int):          # an item of a list: describe the list
        named = named[:-1]
    owner = _model_at(model, named[:-1]) if model is not None and named else model
    field = owner.model_fields.get(str(named[-1])) if owner is not None and named else None
    closed: list | None = None
    if isinstance(ctx.get("error"), Allowed):
        closed = ctx["error"].allowed
    elif "expected" in ctx:
        closed = [x.strip().strip("'") for x in str(ctx["expected"]).replace(" or ", ",").split(",")
                  if x.strip()]
    elif allowed and names and names[-1] in allowed:
        closed = list(allowed[names[-1]])
    elif kind == "extra_forbidden" and owner is not None:
        closed = [f.alias or n for n, f in owner.model_fields.items()]
    elif field is not None:
        closed = describe(field)
    elif owner is not None and kind in ("model_type", "dict_type", "model_attributes_type"):
        closed = [f"a table with keys: {', '.join(owner.model_fields)}"]
    if kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "missing":
        message = "missing (required)"
    else:
        text = str(ctx["error"]) if "error" in ctx else first["msg"]
        message = f"{text.rstrip('.')} (got {first.get('input')!r})"
        if kind in ("float_type", "int_type", "finite_number", "bool_type", "string_type"):
            message += {"float_type": ": a number, not a string or true/false",
                        "int_type": ": a whole number, not a string, fraction or true/false",
                        "finite_number": ": inf and nan are not allowed",
                        "bool_type": ": true or false",
                        "string_type": ": a quoted string"}[kind]
    return ConfigError(file, key_path, message, closed)


def _model_at(model: type, loc: tuple) -> type | None:
    """The pydantic model class found at ``loc`` inside ``model`` (through lists and dicts)."""
    import typing

    def models_in(tp) -> list[type]:
        if isinstance(tp, type) and hasattr(tp, "model_fields"):
            return [tp]
        return [m for arg in typing.get_args(tp) for m in models_in(arg)]

    current = model
    for part in loc:
        if isinstance(part, int) or part not in getattr(current, "model_fields", {}):
            continue
        found = models_in(current.model_fields[part].annotation)
        if not found:
            return None
        current = found[0]
    return current
