"""The 2020-2023 demand-boom episode: the replay scored against its bands, and its model-vs-history figures.

The second historical episode the model must reproduce with the physics fitted to the first (one
physics for every scenario). Targets (configs/validation/targets_2020.csv) are inside-China prices
relative to June 2020: each element's peak multiple, NdPr's peak month and how much of its peak is
left 15 months later. NdPr is the traded didymium (0.75 Nd + 0.25 Pr by mass, as quoted).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.goods import OXIDE_MARKETS
from sim.metrics import band_margin
from sim.scenarios import load_scenario
from sim.world import CONFIG_DIR, load_world

SCENARIO_2020 = "demand_boom_2021"
REFERENCE_MONTH = "2020-06"
TARGETS_2020 = CONFIG_DIR / "validation" / "targets_2020.csv"
HISTORY_2020 = CONFIG_DIR / "validation" / "history_2020_prices.csv"
NDPR_SHARES = {"Nd": 0.75, "Pr": 0.25}
PLOT_ELEMENTS_2020 = ("NdPr", "Tb", "Dy", "La", "Ce")


@dataclass(frozen=True)
class Target:
    """One band of the 2020 episode."""

    name: str
    element: str
    metric: str            # peak_multiple | peak_month | share_of_peak_15m_later
    historical: float
    band_low: float
    band_high: float


def load_targets_2020() -> list[Target]:
    with TARGETS_2020.open(newline="", encoding="utf-8") as fh:
        return [Target(r["target"], r["element"], r["metric"], float(r["historical"]), float(r["band_low"]),
                       float(r["band_high"])) for r in csv.DictReader(fh)]


def inside_price(frame: pd.DataFrame, element: str) -> pd.Series:
    """Inside-China price path of an element (NdPr as the didymium blend), indexed by month."""
    df = frame.set_index("date") if "date" in frame.columns else frame
    if element == "NdPr":
        return sum(share * df[f"price_{el}_china_usd_per_kg"] for el, share in NDPR_SHARES.items())
    return df[f"price_{element}_china_usd_per_kg"]


def episode_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """Every target's value on one run of the replay."""
    out = {}
    for t in load_targets_2020():
        path = inside_price(frame, t.element)
        rel = path / path[REFERENCE_MONTH]
        after = rel[rel.index >= REFERENCE_MONTH]
        peak_at = int(np.argmax(after.to_numpy()))
        out[t.name] = {"peak_multiple": float(after.iloc[peak_at]),
                       "peak_month": float(peak_at),
                       "share_of_peak_15m_later": float(after.iloc[min(peak_at + 15, len(after) - 1)]
                                                        / after.iloc[peak_at])}[t.metric]
    return out


def summarise_2020(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Median and 10-90 % over seeds against each band, with the margin of the median inside it
    (:func:`sim.metrics.band_margin`: 0 on an edge, negative outside), so a fit that passes at the edge of
    a band shows it.
    """
    rows = []
    for t in load_targets_2020():
        v = per_seed[t.name]
        med = float(v.median())
        rows.append({"target": t.name, "historical": t.historical, "model_median": med,
                     "model_p10": float(v.quantile(0.1)), "model_p90": float(v.quantile(0.9)),
                     "band_low": t.band_low, "band_high": t.band_high,
                     "margin_to_edge": band_margin(med, t.band_low, t.band_high),
                     "passed": t.band_low <= med <= t.band_high})
    return pd.DataFrame(rows)


def history_2020() -> pd.DataFrame:
    return pd.read_csv(HISTORY_2020)


def china_oxide_vat_frac(scenario: str = SCENARIO_2020) -> float:
    """China's VAT on oxides in a scenario's world (its unrefunded export VAT, ``export_taxes.csv``; 0 where
    the world has none).

    The model's inside-China prices are net of VAT (configs/world_2020/README.md); recorded domestic
    quotes marked "VAT incl." include it, so figures take it out of them before drawing both on one axis.
    """
    w = load_world(load_scenario(scenario).world_dir)
    return float(w.export_tax_frac[OXIDE_MARKETS, w.nations.index("CHN")].max())


def net_of_vat_usd_per_kg(series: pd.Series, price_usd_per_kg: pd.Series, vat_frac: float) -> pd.Series:
    """Recorded prices as the model states them: quotes of a "VAT incl." series divided by (1 + VAT)."""
    return price_usd_per_kg.where(~series.str.contains("VAT incl"), price_usd_per_kg / (1.0 + vat_frac))


def figures_2020(frames: dict[int, pd.DataFrame]) -> dict[str, Figure]:
    """Per element: inside-China model paths (median, 10-90 % over seeds) against the recorded prices."""
    history = history_2020()
    vat = china_oxide_vat_frac()
    figs = {}
    for el in PLOT_ELEMENTS_2020:
        fig = Figure(figsize=(9, 5))
        ax = fig.add_subplot()
        paths = np.array([inside_price(df, el).to_numpy() for df in frames.values()])
        dates = pd.to_datetime(inside_price(next(iter(frames.values())), el).index, format="%Y-%m")
        ax.fill_between(dates, np.percentile(paths, 10, axis=0), np.percentile(paths, 90, axis=0),
                        color="tab:orange", alpha=0.2, lw=0)
        ax.plot(dates, np.median(paths, axis=0), color="tab:orange", lw=1.8,
                label="model, inside China (median, 10-90 %)")
        pts = history[(history["oxide"] == el) & history["series"].str.startswith("China domestic")]
        pts = pts[(pts["date"] >= dates.min().strftime("%Y-%m")) & (pts["date"] <= dates.max().strftime("%Y-%m"))]
        net = net_of_vat_usd_per_kg(pts["series"], pts["price_usd_per_kg"], vat)
        ax.scatter(pd.to_datetime(pts["date"], format="%Y-%m"), net, marker="x", color="tab:red", zorder=3,
                   label=f"history, China domestic (SMM and others), net of {vat:.0%} VAT like the model")
        ax.set_title(f"{el} oxide, 2020-2023 demand boom: model against history")
        ax.set_ylabel("USD/kg")
        ax.legend(loc="upper left", fontsize=9)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        figs[f"validation_2020_{el}"] = fig
    return figs


def evaluate_2020(params: dict, seeds: list[int]) -> tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
    """Metrics per seed (rows) and the replays themselves, for one parameter set."""
    from sim.model import RareEarthModel
    frames, rows = {}, []
    for seed in seeds:
        model = RareEarthModel(SCENARIO_2020, seed=seed, keep_flows=False, **params)
        model.run()
        frames[seed] = model.datacollector.get_model_vars_dataframe()
        rows.append({"seed": seed, **episode_metrics(frames[seed])})
    return pd.DataFrame(rows), frames


def report_2020(params: dict, seeds: list[int], out, write_table, write_figures) -> tuple[str, list]:
    """Run and score the 2020 episode; returns the printed table and the files written."""
    per_seed, frames = evaluate_2020(params, seeds)
    summary = summarise_2020(per_seed)
    show = summary.copy()
    show["passed"] = show["passed"].map({True: "pass", False: "FAIL"})
    text = ("\n2020-2023 demand boom (inside-China prices vs June 2020):\n"
            + show.to_string(index=False, float_format=lambda v: f"{v:.3g}")
            + f"\npassed {int(summary['passed'].sum())}/{len(summary)} targets of the 2020 episode")
    written = write_table(summary, out, "validation_2020") + write_table(per_seed, out, "validation_2020_per_seed")
    written += write_figures(figures_2020(frames), out)
    return text, written
