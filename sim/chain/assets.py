"""Assets: deposits and plants built from the world tables, and the rows projects add (ODD 7.17).

The assets (:class:`~sim.chain.state.Assets`) are built from the world tables, with committed projects
on their sourced dates (``committed_projects.csv``); :func:`add_deposit` and :func:`add_plant` append rows
in place (``projects.commission`` calls them).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np

from sim.calendar import month_index
from sim.chain.capacity import SEPARATION, STAGE_INDEX
from sim.chain.state import NEVER, Assets
from sim.world import WORLD_DIR, World, _Row, read_table


class CommittedRow(_Row):
    table: Literal["deposits.csv", "processing.csv"]
    name: str
    committed_since: str
    online: str


@lru_cache(maxsize=1)
def committed_projects() -> dict[tuple[str, str], tuple[int, int]]:
    """(table, name) -> (month committed, month online) of projects financed and under construction."""
    rows = read_table(WORLD_DIR / "committed_projects.csv", CommittedRow, "project")
    return {(r.table, r.name): (month_index(r.committed_since), month_index(r.online)) for r in rows}


def _committed_start(table: str, name: str, start_month: int) -> int | None:
    """The scheduled start of a project already committed when the run starts, else None."""
    since, online = committed_projects().get((table, name), (NEVER, NEVER))
    return online if since <= start_month else None


def _schedule(table: str, names, statuses, starts, lead_months: np.ndarray, p,
              start_month: int) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """When each row of a deposits or plants table comes online, or seeks finance if only announced.

    Returns (online month, financing month, planned start of announced rows); NEVER where not scheduled.
    """
    online, finance_at, planned = np.full(len(names), NEVER), np.full(len(names), NEVER), {}
    for i, status in enumerate(statuses):
        start = month_index(starts[i])
        if status == "operating":
            online[i] = min(start, start_month - p.ramp_up_months)
        elif (committed := _committed_start(table, names[i], start_month)) is not None:
            online[i] = committed
        elif status == "development":
            finance_at[i] = max(start - int(lead_months[i]) // 2, start_month)
            planned[i] = start
    return online, finance_at, planned


def build_assets(w: World, p, start_month: int) -> Assets:
    """Deposits and plants of the world tables, with nameplate above base-year output by the headroom share.

    Projects already committed at the start (financed, under construction: configs/world/committed_projects.csv)
    come online on their schedule; other announced projects seek finance and may fail (``investment``).
    """
    headroom, d = 1.0 + p.capacity_headroom_frac, len(w.deposit_names)
    dep_online, dep_finance_at, dep_planned = _schedule(
        "deposits.csv", w.deposit_names, w.deposit_status, w.deposit_start,
        np.full(d, p.lead_time_mine_months), p, start_month)
    plant_stage = np.array([STAGE_INDEX[s] for s in w.plant_stage])
    lead = np.where(plant_stage == SEPARATION, p.lead_time_separation_months, p.lead_time_magnet_months)
    plant_online, plant_finance_at, plant_planned = _schedule(
        "processing.csv", w.plant_names, w.plant_status, w.plant_start, lead, p, start_month)
    return Assets(
        dep_nation=w.deposit_nation.copy(), dep_mix=w.deposit_mix_frac.copy(),
        dep_cost=w.deposit_cost_usd_per_kg.copy(), dep_capacity=w.deposit_capacity_t_per_yr * headroom,
        dep_util=np.full(d, 1.0 / headroom), dep_base_util=np.full(d, 1.0 / headroom),
        dep_online=dep_online, dep_finance_at=dep_finance_at,
        dep_is_clay=np.array(["ion" in t.lower() for t in w.deposit_type]),
        dep_base_margin=np.zeros(d), dep_planned=dep_planned,
        plant_nation=w.plant_nation.copy(), plant_stage=plant_stage,
        # nameplate: the table's capacity, or base-year output plus the headroom share where the
        # table gives output at capacity (China's separation "capacity" is its quota)
        plant_capacity=np.maximum(w.plant_capacity_t_per_yr, w.plant_output_t_per_yr * headroom),
        plant_heavy=w.plant_heavy.copy(), plant_quota_line=w.plant_quota_line.copy(),
        plant_online=plant_online, plant_finance_at=plant_finance_at,
        plant_planned=plant_planned)


def _append(a: Assets, rows: dict) -> None:
    """Append one row to each named asset array, as ``np.append`` / ``np.vstack`` would.

    Each array is a view of a buffer with spare room (doubled when full), so projects started one by
    one each month cost a write, not a copy of every array; a copied state's arrays are not views of
    their buffer and get a fresh one.
    """
    for name, row in rows.items():
        arr, buf = getattr(a, name), a.spare.get(name)
        n = len(arr)
        if isinstance(row, float) and arr.dtype.kind != "f":     # a float widens the type, as in np.append
            setattr(a, name, np.append(arr, row))
            continue
        if buf is None or arr.base is not buf or len(buf) == n:
            buf = np.zeros((max(2 * n, 16),) + arr.shape[1:], dtype=arr.dtype)
            buf[:n] = arr
            a.spare[name] = buf
        buf[n] = row
        setattr(a, name, buf[:n + 1])


def add_deposit(a: Assets, nation: int, like: int, capacity_t_per_yr: float, online: int) -> None:
    """A new mine in ``nation`` with the ore, cost and base figures of deposit ``like``."""
    _append(a, {"dep_nation": nation, "dep_mix": a.dep_mix[like], "dep_cost": a.dep_cost[like],
                "dep_capacity": capacity_t_per_yr, "dep_util": a.dep_base_util[like],
                "dep_base_util": a.dep_base_util[like], "dep_base_margin": a.dep_base_margin[like],
                "dep_online": online, "dep_finance_at": NEVER, "dep_is_clay": a.dep_is_clay[like]})


def add_plant(a: Assets, nation: int, stage: int, capacity_t_per_yr: float, heavy: bool, online: int) -> None:
    """A new separation (stage 1) or magnet (stage 2) plant."""
    _append(a, {"plant_nation": nation, "plant_stage": stage, "plant_capacity": capacity_t_per_yr,
                "plant_heavy": heavy, "plant_quota_line": False, "plant_online": online, "plant_finance_at": NEVER})
