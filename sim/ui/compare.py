"""Compare page: two scenarios, each over several seeds, as bands next to the single path; a table.

Each side runs its scenario for ``SEEDS`` consecutive seeds starting at the chosen one; the chart
shows, per side, the 5-95 % and 25-75 % bands across seeds (the sweep fan charts' own code,
:func:`sim.sweep_results.fan_bands` / :func:`~sim.sweep_results.fan_figure`) and the chosen seed's
path as a dashed line.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import solara

from sim.sweep_results import fan_bands, fan_figure, unit_of
from sim.ui.levers import Levers, shipped_scenarios
from sim.ui.state import build_model

SEEDS = 5
TABLE_COLUMNS = ("price_Nd_usd_per_kg", "price_Dy_usd_per_kg", "price_Tb_usd_per_kg", "china_share_separation",
                 "shortage_t", "stockpile_total_t", "central_asia_mine_output_t")
CHART_COLUMNS = ("price_Dy_usd_per_kg", "price_Nd_usd_per_kg", "price_Tb_usd_per_kg", "shortage_t",
                 "china_share_separation", "stockpile_total_t")


def run_seeds(levers: Levers, until: str, seeds: int = SEEDS, uploads: dict | None = None,
              progress: Callable[[float], None] | None = None) -> pd.DataFrame:
    """Monthly series of ``seeds`` runs (seed, seed+1, ...) in long form with ``run_key`` = the seed."""
    parts = []
    for k in range(seeds):
        model = build_model(levers.with_(seed=levers.seed + k), uploads, until=until)
        model.run()
        parts.append(model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
                     .assign(run_key=str(levers.seed + k), seed=levers.seed + k))
        if progress:
            progress((k + 1) / seeds)
    return pd.concat(parts, ignore_index=True)


def band_figure(a: pd.DataFrame, b: pd.DataFrame, label_a: str, label_b: str, column: str, seed: int):
    """Both sides' bands across seeds, with the chosen seed's path dashed."""
    import plotly.graph_objects as go
    bands = pd.concat([fan_bands(a, column).assign(group=f"A: {label_a}"),
                       fan_bands(b, column).assign(group=f"B: {label_b}")], ignore_index=True)
    unit = unit_of(column)
    fig = fan_figure(bands, column, unit, title=f"{column}: {SEEDS} seeds, bands 5-95 % and 25-75 %; dashed: seed {seed}")
    colours = {}
    for tr in fig.data:
        if tr.showlegend is not False and tr.name:
            colours[tr.name.split(" (n=")[0]] = tr.line.color
    for label, frame in ((f"A: {label_a}", a), (f"B: {label_b}", b)):
        one = frame[frame["seed"] == seed]
        x = pd.PeriodIndex(one["date"], freq="M").to_timestamp()
        fig.add_trace(go.Scatter(x=x, y=one[column].to_numpy(dtype=float), mode="lines",
                                 name=f"{label}, seed {seed}", line=dict(dash="dash", width=1.5,
                                                                         color=colours.get(label)),
                                 hovertemplate=f"%{{y:.4g}} {unit}"))
    if "price" in column:
        fig.update_yaxes(type="log")
    return fig


def headline_table(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Mean over the run of a few outcomes, for A and B: median across seeds with its 5-95 % range, and B - A."""
    rows = []
    for col in TABLE_COLUMNS:
        if col not in a.columns or col not in b.columns:
            continue
        ma = a.groupby("seed")[col].mean()
        mb = b.groupby("seed")[col].mean()
        diff = (mb - ma.reindex(mb.index)).dropna()
        rows.append({"outcome (mean over the run)": col, "unit": unit_of(col),
                     "A median": ma.median(), "A 5-95 %": f"{ma.quantile(0.05):.3g} to {ma.quantile(0.95):.3g}",
                     "B median": mb.median(), "B 5-95 %": f"{mb.quantile(0.05):.3g} to {mb.quantile(0.95):.3g}",
                     "B - A (median over seeds)": diff.median() if len(diff) else np.nan})
    table = pd.DataFrame(rows)
    for c in ("A median", "B median", "B - A (median over seeds)"):
        table[c] = table[c].map(lambda v: float(f"{v:.3g}") if np.isfinite(v) else v)
    return table


@solara.component
def ComparePage(levers: solara.Reactive, uploads: dict):
    names = [*shipped_scenarios(), *uploads]
    scen_a = solara.use_reactive("baseline" if "baseline" in names else names[0])
    scen_b = solara.use_reactive(next((n for n in names if n != scen_a.value), names[0]))
    use_levers_b = solara.use_reactive(True)
    until = solara.use_reactive("2030")
    column = solara.use_reactive(CHART_COLUMNS[0])
    progress = solara.use_reactive(0.0)
    result = solara.use_reactive(None)
    error = solara.use_reactive("")

    def run_pair():
        lv = levers.value
        la = Levers(scenario=scen_a.value, seed=lv.seed)
        lb = lv.with_(scenario=scen_b.value) if use_levers_b.value else Levers(scenario=scen_b.value, seed=lv.seed)
        end = f"{until.value}-12"
        try:
            a = run_seeds(la, end, uploads=uploads, progress=lambda f: progress.set(f / 2))
            b = run_seeds(lb, end, uploads=uploads, progress=lambda f: progress.set(0.5 + f / 2))
        except Exception as err:  # shown on the page: a scenario that cannot run to this year
            from sim.ui.state import public_message
            error.set(public_message(err))
            return
        error.set("")
        result.set({"a": a, "b": b, "labels": (scen_a.value, scen_b.value + (" + levers" if use_levers_b.value
                                                                               else "")), "seed": lv.seed})

    task = solara.lab.use_task(run_pair, dependencies=None)
    with solara.Card(f"Compare two scenarios over {SEEDS} seeds", classes=["reesim-compare"]):
        with solara.ColumnsResponsive(12, large=4):
            solara.Select("Scenario A", values=names, value=scen_a, classes=["reesim-compare-a"])
            with solara.Column(gap="0px"):
                solara.Select("Scenario B", values=names, value=scen_b, classes=["reesim-compare-b"])
                solara.Checkbox(label="B uses the Simulate page's levers", value=use_levers_b)
            solara.Select("Run to the end of", values=["2026", "2028", "2030", "2035", "2040", "2050"], value=until)
        solara.Text(f"Seeds {levers.value.seed} to {levers.value.seed + SEEDS - 1} for both (first seed set on "
                    "the Simulate page).")
        solara.Button("Run both", color="primary", on_click=task, disabled=task.pending, classes=["reesim-run-both"])
        if task.pending:
            solara.ProgressLinear(value=progress.value * 100)
        if error.value:
            solara.Error(error.value)
    res = result.value
    if res is None:
        return
    la, lb = res["labels"]
    solara.Select("Outcome", values=list(CHART_COLUMNS), value=column)
    fig = band_figure(res["a"], res["b"], la, lb, column.value, res["seed"])
    with solara.Div(classes=["reesim-compare-chart"]):
        solara.FigurePlotly(fig)
    table = headline_table(res["a"], res["b"])
    with solara.Row(gap="4px"):
        from sim.ui.widgets import ChartDownloads
        ChartDownloads(lambda: fig, f"compare_{column.value}")
        solara.FileDownload(lambda: table.to_csv(index=False), filename="compare_table.csv",
                            label="table CSV", mime_type="text/csv")
    solara.Markdown(f"**A** = {la}, **B** = {lb}")
    with solara.Div(classes=["reesim-compare-table"]):
        solara.DataFrame(table)
