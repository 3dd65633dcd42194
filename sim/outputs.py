"""The one module that writes results to disk: tables, the resolved config, and figures.

Every output directory holds ``config.json`` describing exactly what produced it.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from sim.parameters import load_parameter_table

UNITS = {"_usd_per_kg": "USD/kg", "_t": "t", "_frac": "0-1", "china_share_": "0-1", "hhi_": "0-10000"}


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def column_units(columns) -> dict[str, str]:
    """Unit of each series, read from its name's suffix or prefix."""
    units = {}
    for c in columns:
        units[c] = next((u for key, u in UNITS.items() if c.endswith(key) or c.startswith(key)), "")
    return units


def resolved_config(model) -> dict:
    """Everything needed to reproduce a run: scenario, parameters with sources, seed, code version."""
    table = load_parameter_table()
    return {
        "scenario": model.spec.to_dict(),
        "seed": model.seed,
        "until": model.current_month(),
        "parameters": {k: {"value": v, "unit": table[k].unit, "source": table[k].source}
                       for k, v in model.p.items()},
        "git_commit": _git_commit(),
        "written_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def write_json(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


def write_table(df: pd.DataFrame, out: Path, stem: str, csv: bool = True) -> list[Path]:
    """Write a table as Parquet (units in the schema metadata) and optionally CSV."""
    out.mkdir(parents=True, exist_ok=True)
    df = df.copy()
    df.attrs = {"units": json.dumps(column_units(df.columns))}
    paths = [out / f"{stem}.parquet"]
    df.to_parquet(paths[0], index=False)
    if csv:
        paths.append(out / f"{stem}.csv")
        df.to_csv(paths[-1], index=False)
    return paths


def write_figures(figures: dict[str, Figure], out: Path, dpi: int = 110) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, fig in figures.items():
        path = out / f"{stem}.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths
