"""``reesim ui``: serve the Solara app (sim/ui/app.py) on 127.0.0.1 by default, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP = Path(__file__).resolve().parent / "ui" / "app.py"


def ui_command_line(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The ``solara run`` command that serves the app."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port", str(port), "--production"]


def ui_environment(base: dict | None = None) -> dict:
    """Environment for the server: front-end assets from ``<repo>/.solara-assets`` when that folder
    exists (offline mode, filled by scripts/fetch_solara_assets.sh), else Solara's default."""
    env = dict(os.environ if base is None else base)
    assets = REPO / ".solara-assets"
    if assets.is_dir() and "SOLARA_ASSETS_PROXY_CACHE_DIR" not in env:
        env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(assets)
    return env


def ui(host: str = "127.0.0.1", port: int = 8765) -> int:
    """Start the app with ``solara run`` in a subprocess and wait for it (Ctrl-C stops it).

    Args:
        host: interface to bind; 127.0.0.1 keeps it local (use 0.0.0.0 only on a trusted network).
        port: TCP port.

    Returns:
        The server's exit code.
    """
    print(f"reesim ui: http://{host}:{port}  (Ctrl-C to stop)", flush=True)
    proc = subprocess.Popen(ui_command_line(host, port), cwd=REPO, env=ui_environment())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            return proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
