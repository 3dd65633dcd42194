"""The market constraints every fit must meet (issue 13), measured on real runs: one implementation for
``reesim validate`` and the tests.

- **Calm baseline** 2024-2050 without shocks: each element's yearly mean outside price within 1/3-3x its
  2024 mean (median over seeds); the median over seeds of the largest 12-month rise of any element under
  1.8x; the Nd/Pr price ratio within 0.8-1.25 in every month of every seed.
- **Every shipped scenario**: no price above its element's backstop, no NaN, mass balance exact, and
  speculative stock never above 3 months of world use of that oxide.

Each constraint is reported like a historical band: the value, the band, the margin of the value to the
nearer edge in units of the band's width (negative outside), pass or fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.goods import ELEMENTS, OXIDES
from sim.metrics import band_margin

PRICES = [f"price_{e}_usd_per_kg" for e in ELEMENTS]
CALM_SCENARIO = "baseline"


@dataclass(frozen=True)
class Bound:
    """One constraint: its name, what it measures, and its band."""

    name: str
    meaning: str
    band_low: float
    band_high: float


BOUNDS = (
    Bound("calm_yearly_price_min", "lowest median yearly price / 2024 mean, any element", 1 / 3, np.inf),
    Bound("calm_yearly_price_max", "highest median yearly price / 2024 mean, any element", 0.0, 3.0),
    Bound("calm_largest_12m_rise", "median over seeds of the largest 12-month rise of any element", 0.0, 1.8),
    Bound("calm_nd_pr_ratio_min", "lowest Nd/Pr outside price ratio, any month and seed", 0.8, 1.25),
    Bound("calm_nd_pr_ratio_max", "highest Nd/Pr outside price ratio, any month and seed", 0.8, 1.25),
    Bound("scenarios_price_over_backstop", "highest price / its element's backstop, any scenario (prices are "
          "clipped at the backstop, so this shows how close they come)", 0.0, 1.0),
    Bound("scenarios_runs_stopped", "scenario runs stopped as impossible (sim.sanity: NaN, negative stock, "
          "mass not conserved)", 0.0, 0.0),
    Bound("scenarios_mass_balance_error", "largest monthly mass-balance error / stock held, any scenario",
          0.0, 1e-9),
    Bound("scenarios_spec_months_of_use", "largest speculative stock in months of world use of that oxide",
          0.0, 3.0),
    Bound("scenarios_non_finite_values", "recorded values that are NaN or infinite, all scenarios", 0.0, 0.0),
)


def calm_frames(seeds: list[int], params: dict | None = None) -> list[pd.DataFrame]:
    """The no-shock baseline 2024-2050 for each seed, indexed by month (``params``: parameter overrides)."""
    from sim.model import RareEarthModel
    frames = []
    for seed in seeds:
        model = RareEarthModel(CALM_SCENARIO, seed=seed, keep_flows=False, **(params or {}))
        model.run()
        frames.append(model.datacollector.get_model_vars_dataframe().set_index("date"))
    return frames


def yearly_ratios(frames: list[pd.DataFrame]) -> np.ndarray:
    """(seed, year, element): yearly mean outside price over its 2024 mean."""
    out = []
    for df in frames:
        yearly = df.groupby(df.index.str[:4])[PRICES].mean()
        out.append((yearly / yearly.loc["2024"]).to_numpy())
    return np.array(out)


def largest_12m_rises(frames: list[pd.DataFrame]) -> list[float]:
    """Per seed: the largest rise over any 12 months of any element's outside price."""
    return [float((df[PRICES].to_numpy()[12:] / df[PRICES].to_numpy()[:-12]).max()) for df in frames]


def nd_pr_ratio_range(frames: list[pd.DataFrame]) -> tuple[float, float]:
    ratios = [df["price_Nd_usd_per_kg"] / df["price_Pr_usd_per_kg"] for df in frames]
    return float(min(r.min() for r in ratios)), float(max(r.max() for r in ratios))


def calm_values(frames: list[pd.DataFrame]) -> dict[str, float]:
    median = np.median(yearly_ratios(frames), axis=0)
    lo, hi = nd_pr_ratio_range(frames)
    return {"calm_yearly_price_min": float(median.min()), "calm_yearly_price_max": float(median.max()),
            "calm_largest_12m_rise": float(np.median(largest_12m_rises(frames))),
            "calm_nd_pr_ratio_min": lo, "calm_nd_pr_ratio_max": hi}


def scenario_bounds(name: str, seed: int = 1, params: dict | None = None) -> dict[str, float]:
    """Run a scenario month by month and measure the bounds every scenario must keep.

    A run that leaves the possible is stopped by the model itself (``RunInvalidError``); it counts as a
    stopped run, with what it reached until then.
    """
    from sim.chain.backstop import backstop_usd_per_kg
    from sim.chain.prices import zone_use_t
    from sim.errors import RunInvalidError
    from sim.model import RareEarthModel
    model = RareEarthModel(name, seed=seed, keep_flows=False, **(params or {}))
    backstop = backstop_usd_per_kg()
    over, balance, spec, near, stopped = 0.0, 0.0, 0.0, 0, 0
    while model.running:
        try:
            model.step()
        except RunInvalidError:
            stopped = 1
            break
        st, month = model.state, model.last_month
        ratio = st.price / backstop[None]
        over = max(over, float(ratio.max()))
        near += int((ratio >= 0.95).any())
        scale = max(float(model.total_stocks_by_element().max()), 1.0)
        balance = max(balance, float(np.abs(month.mass_balance_error_t).max()) / scale)
        world_use = zone_use_t(model.structure, month.need_t.sum(axis=1), month.maker_need_t).sum(axis=0)[OXIDES]
        spec = max(spec, float((st.spec_t.sum(axis=0) / np.maximum(world_use, 1e-9)).max()))
    frame = model.datacollector.get_model_vars_dataframe().drop(columns="date")
    bad = int((~np.isfinite(frame.to_numpy(dtype=float))).sum())
    return {"scenarios_price_over_backstop": over, "scenarios_runs_stopped": float(stopped),
            "scenarios_mass_balance_error": balance, "scenarios_spec_months_of_use": spec,
            "scenarios_non_finite_values": float(bad), "months_near_backstop": float(near)}


def summarise(values: dict[str, float]) -> pd.DataFrame:
    """Each constraint's value against its band, with the margin to the nearer edge (band widths)."""
    rows = []
    for b in BOUNDS:
        v = values[b.name]
        margin = band_margin(v, b.band_low, b.band_high)
        rows.append({"constraint": b.name, "meaning": b.meaning, "value": v, "band_low": b.band_low,
                     "band_high": b.band_high, "margin_to_edge": margin,
                     "passed": bool(b.band_low <= v <= b.band_high)})
    return pd.DataFrame(rows)


def calm_figure(frames: list[pd.DataFrame]) -> Figure:
    """Median yearly outside price over its 2024 mean per element, the seeds' range shaded, the 1/3-3x band."""
    ratios = yearly_ratios(frames)
    years = sorted(frames[0].index.str[:4].unique())
    fig = Figure(figsize=(10, 5.5))
    ax = fig.add_subplot()
    for k, el in enumerate(ELEMENTS):
        line, = ax.plot([int(y) for y in years], np.median(ratios[:, :, k], axis=0), lw=1.6, label=el)
        ax.fill_between([int(y) for y in years], ratios[:, :, k].min(axis=0), ratios[:, :, k].max(axis=0),
                        color=line.get_color(), alpha=0.12, lw=0)
    for edge in (1 / 3, 3.0):
        ax.axhline(edge, color="black", ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_ylabel("yearly mean outside price / 2024 mean (log)")
    ax.set_title(f"Calm baseline 2024-2050, {len(frames)} seeds: median and range; dashed: the 1/3-3x band")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def report(seeds: list[int], params: dict, out, write_table, write_figures,
           progress: bool = True) -> tuple[str, list, bool]:
    """Run and judge every constraint; returns the printed table, the files written, and whether all passed."""
    import sys

    from tqdm import tqdm

    from sim.scenarios import list_scenarios
    names = [n for n, _ in list_scenarios()]
    with tqdm(total=len(seeds) + len(names), desc="constraints", unit="run", disable=not progress,
              file=sys.stderr) as bar:
        frames = []
        for seed in seeds:
            frames += calm_frames([seed], params)
            bar.update(1)
        rows = []
        for name in names:
            rows.append({"scenario": name, **scenario_bounds(name, 1, params)})
            bar.update(1)
    table = pd.DataFrame(rows)
    worst = {k: float(table[k].sum() if k == "scenarios_runs_stopped" else table[k].max())
             for k in table.columns if k.startswith("scenarios_")}
    values = {**calm_values(frames), **worst}
    summary = summarise(values)
    show = summary.drop(columns="meaning").copy()
    show["passed"] = show["passed"].map({True: "pass", False: "FAIL"})
    text = (f"\nMarket constraints (calm baseline 2024-2050 on seeds {seeds[0]}-{seeds[-1]}; "
            f"every shipped scenario on seed 1):\n"
            + show.to_string(index=False, float_format=lambda v: f"{v:.3g}")
            + f"\npassed {int(summary['passed'].sum())}/{len(summary)} market constraints")
    written = write_table(summary, out, "validation_constraints")
    written += write_table(table, out, "validation_constraints_scenarios")
    written += write_figures({"validation_calm_baseline": calm_figure(frames)}, out)
    return text, written, bool(summary["passed"].all())
