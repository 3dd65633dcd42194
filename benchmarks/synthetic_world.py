"""A synthetic world of k x 41 nations for the scaling benchmark: the real world tables replicated.

Copy 0 is the real world unchanged (so China, the USA and every scenario's nations are where the
scenarios expect them); copies 1..k-1 repeat every nation, deposit, plant, demand row and trade-status
row under new three-letter codes, with coordinates moved by up to ``jitter_deg`` degrees (seeded), so
freight differs between copies. Supply and demand both grow k-fold, so the world stays as balanced as
the real one. Only for timing: the numbers are not a scenario of anything.

``python benchmarks/synthetic_world.py 410 OUT_DIR`` writes the tables; ``synthetic_scenario(n)`` gives a
baseline ``Scenario`` on such a world (written once per process into a temporary directory).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import shutil
import string
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

WORLD_DIR = Path(__file__).resolve().parent.parent / "configs" / "world"
REPLICATED = {  # table -> (nation columns, name column made unique per copy)
    "nations.csv": (("iso3",), "name"),
    "deposits.csv": (("iso3",), "deposit"),
    "processing.csv": (("iso3",), "facility"),
    "demand.csv": (("iso3",), None),
    "trade_status.csv": (("importer_iso3", "exporter_iso3"), None),
}


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _new_codes(taken: set[str], count: int) -> list[str]:
    """``count`` three-letter codes starting with Q or X, none already taken."""
    pool = ("".join(t) for t in itertools.product("QX", string.ascii_uppercase, string.ascii_uppercase))
    codes = [c for c in pool if c not in taken]
    if len(codes) < count:
        raise ValueError(f"cannot make {count} new nation codes")
    return codes[:count]


def write_synthetic_world(n_nations: int, out: Path, seed: int = 0, jitter_deg: float = 3.0) -> Path:
    """Write a world of ``n_nations`` (a multiple of the real world's count) into ``out``."""
    fields, nations = _read(WORLD_DIR / "nations.csv")
    base = len(nations)
    if n_nations % base or n_nations < base:
        raise ValueError(f"n_nations must be a positive multiple of {base}, got {n_nations}")
    copies = n_nations // base
    originals = [r["iso3"] for r in nations]
    codes = iter(_new_codes(set(originals), base * (copies - 1)))
    rename = [dict(zip(originals, originals))] + [{iso: next(codes) for iso in originals}
                                                  for _ in range(1, copies)]
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    for item in WORLD_DIR.iterdir():
        if item.name not in REPLICATED:
            (shutil.copytree if item.is_dir() else shutil.copy)(item, out / item.name)
    for table, (nation_cols, name_col) in REPLICATED.items():
        fields, rows = _read(WORLD_DIR / table)
        result = []
        for k, names in enumerate(rename):
            for row in rows:
                new = dict(row)
                for col in nation_cols:
                    new[col] = names[row[col]]
                if k and name_col:
                    new[name_col] = f"{row[name_col]} (copy {k})"
                if k and table == "nations.csv":
                    new["lat"] = f"{np.clip(float(row['lat']) + rng.uniform(-jitter_deg, jitter_deg), -89, 89):.3f}"
                    new["lon"] = f"{(float(row['lon']) + rng.uniform(-jitter_deg, jitter_deg) + 180) % 360 - 180:.3f}"
                result.append(new)
        _write(out / table, fields, result)
    return out


@lru_cache(maxsize=None)
def synthetic_world_dir(n_nations: int) -> Path:
    """The world of ``n_nations`` written once per process into a temporary directory."""
    if n_nations == 41:
        return WORLD_DIR
    return write_synthetic_world(n_nations, Path(tempfile.mkdtemp(prefix=f"reesim-world-{n_nations}-")))


def synthetic_scenario(n_nations: int, name: str = "baseline"):
    """Scenario ``name`` moved onto the synthetic world of ``n_nations``.

    Scenario files may only name shipped worlds, so the validated shipped scenario is moved onto the
    synthetic world directly (copy 0 keeps every real nation, so its events still name real nations).
    """
    from dataclasses import replace

    from sim.scenarios import load_scenario

    return replace(load_scenario(name), world_dir=synthetic_world_dir(n_nations))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n_nations", type=int, help="a multiple of 41")
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(write_synthetic_world(args.n_nations, args.out, args.seed))


if __name__ == "__main__":
    main()
