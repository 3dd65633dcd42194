"""The one error type for bad input: it names the file, the key path and what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
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
        text = f"{self.file}: {key_path}: {message}"
        if self.allowed is not None:
            text += f" (allowed: {', '.join(self.allowed)})"
        super().__init__(text)
