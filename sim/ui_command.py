"""``reesim ui``: serve the Solara app (sim/ui/app.py) on 127.0.0.1 by default, offline.

The server is a ``solara run`` child process. Ctrl-C (SIGINT) and SIGTERM both stop it (then this
process exits), so a killed ``reesim ui`` never leaves the port in use.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[1]
APP = Path(__file__).resolve().parent / "ui" / "app.py"
STOP_TIMEOUT_S = 10


def ui_command_line(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The ``solara run`` command that serves the app."""
    return [sys.executable, "-m", "solara", "run", str(APP), "--host", host, "--port", str(port), "--production"]


def ui_environment(base: dict | None = None, results: str | Path | None = None) -> dict:
    """Environment for the server: front-end assets from ``<repo>/.solara-assets`` when that folder
    exists (offline mode, filled by scripts/fetch_solara_assets.sh), else Solara's default; Solara's
    telemetry off; the sweep results folder the Sweep page may read (``REESIM_RESULTS_ROOT``)."""
    env = dict(os.environ if base is None else base)
    assets = REPO / ".solara-assets"
    if assets.is_dir() and "SOLARA_ASSETS_PROXY_CACHE_DIR" not in env:
        env["SOLARA_ASSETS_PROXY_CACHE_DIR"] = str(assets)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")   # no calls out of the machine
    if results is not None:
        env["REESIM_RESULTS_ROOT"] = str(Path(results).resolve())
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def stop(proc: subprocess.Popen) -> int:
    """Stop the server child: SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT_S` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def serve(host: str = "127.0.0.1", port: int = 8765, results: Path = Path("out/sweeps")) -> int:
    """Start the app with ``solara run`` in a child process and wait for it; Ctrl-C or SIGTERM stop both.

    Args:
        host: interface to bind; 127.0.0.1 keeps it local (use 0.0.0.0 only on a trusted network).
        port: TCP port.
        results: the folder of sweep results the Sweep results page lists (nothing outside it is read).

    Returns:
        The server's exit code, or 0 when stopped on request (Ctrl-C, SIGTERM).
    """
    print(f"reesim ui: http://{host}:{port}  (Ctrl-C to stop)", flush=True)
    proc = subprocess.Popen(ui_command_line(host, port), cwd=REPO, env=ui_environment(results=results))

    def on_term(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        return proc.wait()
    except KeyboardInterrupt:      # Ctrl-C or SIGTERM: stopping on request is a normal end, not the server's failure
        stop(proc)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            stop(proc)


def ui(host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0 only on a trusted network)."),
       port: int = typer.Option(8765, min=1, max=65535, help="TCP port (1-65535)."),
       results: Path = typer.Option(Path("out/sweeps"), help="Folder of sweep results the Sweep page lists."),
       ) -> None:
    """Serve the web UI (Solara) on HOST:PORT; Ctrl-C or SIGTERM stop it. Exits with the server's code."""
    code = serve(host, port, results)
    if code not in (0, None):
        typer.secho(f"error: the UI server stopped with exit code {code} (see its messages above)",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(code if code > 0 else 1)
