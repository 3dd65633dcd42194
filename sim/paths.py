"""Output folders checked before any work, so a long run is never lost to a path it cannot write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sim.errors import ConfigError

ALLOWED_OUT = ["a new folder, or an existing folder you can write to"]


def check_out_dir(path: str | Path, flag: str = "--out") -> Path:
    """``path`` if results can be written there, else a :class:`ConfigError` naming ``flag``.

    The folder may not exist yet; then its nearest existing parent must be a writable folder.
    Writability is probed by creating (and removing) a temporary file, which also catches
    read-only file systems that permission bits do not show. Nothing is left behind.
    """
    p = Path(path)
    if str(path).strip() == "":
        raise ConfigError(flag, flag, "empty path", ALLOWED_OUT)
    if p.exists() and not p.is_dir():
        raise ConfigError(flag, flag, f"'{p}' is an existing file, not a folder", ALLOWED_OUT)
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(flag, flag, f"'{probe}' (in the path '{p}') is a file, not a folder", ALLOWED_OUT)
    try:
        fd, name = tempfile.mkstemp(dir=probe, prefix=".reesim-write-check-")
    except OSError as err:
        raise ConfigError(flag, flag, f"cannot write in '{probe}': {err.strerror or err}",
                          ALLOWED_OUT) from None
    os.close(fd)
    os.unlink(name)
    return p
