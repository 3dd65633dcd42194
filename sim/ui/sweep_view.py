"""Sweep results page: the sweeps found under the results folder, their fan charts and heatmaps.

Only folders listed by :func:`sim.sweep_results.list_sweeps` under the configured results root
(``out/sweeps`` by default, ``REESIM_RESULTS_ROOT`` or ``reesim ui --results``) can be opened, by
name; the page never shows a server path. Reading and drawing are :mod:`sim.sweep_results`, the
same code as ``reesim sweep``'s figures.
"""

from __future__ import annotations

import os
from pathlib import Path

import solara

from sim import sweep_results as sr
from sim.ui.levers import shown_name
from sim.ui.widgets import ChartDownloads

REPO = Path(__file__).resolve().parents[2]


def results_root() -> Path:
    """The one folder the page reads sweeps from."""
    return Path(os.environ.get("REESIM_RESULTS_ROOT") or REPO / "out" / "sweeps")


def root_label() -> str:
    root = results_root().resolve()
    try:
        return root.relative_to(REPO).as_posix()
    except ValueError:
        return "the results folder"


def load(name: str):
    """Open sweep ``name`` (one of the listed names); (output, None) or (None, a message without paths)."""
    try:
        return sr.open_sweep(sr.sweep_folder(results_root(), name)), None
    except KeyError:
        return None, f"{shown_name(name)} is not a sweep in {root_label()} (allowed: " \
                     f"{', '.join(sr.list_sweeps(results_root())) or 'none yet'})"
    except (OSError, ValueError) as err:
        return None, f"sweep '{name}' could not be read: {type(err).__name__}"


@solara.component
def SweepPage(initial: str | None = None):
    names = sr.list_sweeps(results_root())
    chosen = solara.use_reactive(initial if initial in names else (names[0] if names else None))
    refused = solara.use_reactive(initial if initial and initial not in names else None)
    column = solara.use_reactive(None)
    by = solara.use_reactive("(by design point)")
    heat = solara.use_reactive(0)
    metric = solara.use_reactive(None)
    loaded = solara.use_memo(lambda: load(chosen.value) if chosen.value else (None, None), [chosen.value])
    out, problem = loaded

    with solara.Card(f"Sweeps in {root_label()}", classes=["reesim-sweeps"]):
        if refused.value:
            solara.Error(f"Refused: {shown_name(refused.value)} is not a sweep in {root_label()}",
                         classes=["reesim-sweep-refused"])
        if not names:
            solara.Text(f"No sweep yet: run `reesim sweep configs/sweeps/smoke.toml` and it appears here.")
            return
        solara.Select("Sweep", values=names, value=chosen, classes=["reesim-sweep-select"])
        if problem:
            solara.Error(problem)
    if out is None:
        return
    solara.Markdown(f"**{out.name}**: {out.description}  \n{len(out.runs)} runs ok, {len(out.failed)} failed; "
                    f"parameters: {', '.join(out.parameters)}; metrics: {', '.join(out.metrics)}")
    if len(out.failed):
        with solara.Details(f"Failed runs ({len(out.failed)})"):
            with solara.Div(classes=["reesim-failed-runs"]):
                solara.DataFrame(out.failed)
    with solara.ColumnsResponsive(12, large=6):
        with solara.Card("Fan chart", margin=0):
            if not out.series_columns or out.series.empty:
                solara.Text("This sweep kept no monthly series (its spec has no `series`).")
            else:
                col = column.value if column.value in out.series_columns else out.series_columns[0]
                solara.Select("Series", values=list(out.series_columns), value=col, on_value=column.set)
                solara.Select("One fan per", values=["(by design point)", *out.parameters], value=by)
                group = None if by.value == "(by design point)" else by.value
                bands = sr.fan_bands(out.series, col, by=group, runs=out.runs)
                fig = sr.fan_figure(bands, col, sr.unit_of(col, out.units))
                with solara.Div(classes=["reesim-fan"]):
                    solara.FigurePlotly(fig)
                ChartDownloads(lambda: fig, f"{out.name}_fan_{col}", lambda: bands)
        with solara.Card("Heatmap", margin=0):
            maps = out.heatmaps
            if not maps or out.runs.empty:
                solara.Text("Needs two parameters and at least one finished run.")
            else:
                labels = [f"{h['metric']} over {h['x']} x {h['y']}" for h in maps]
                i = min(heat.value, len(maps) - 1)
                solara.Select("Heatmap", values=labels, value=labels[i], on_value=lambda v: heat.set(labels.index(v)))
                h = maps[i]
                m = metric.value if metric.value in out.metrics else h["metric"]
                solara.Select("Metric", values=list(out.metrics), value=m, on_value=metric.set)
                table = sr.heatmap_table(out.runs, h["x"], h["y"], m)
                fig2 = sr.heatmap_figure(table, h["x"], h["y"], m, sr.unit_of(m, out.units))
                with solara.Div(classes=["reesim-heatmap"]):
                    solara.FigurePlotly(fig2)
                ChartDownloads(lambda: fig2, f"{out.name}_heatmap_{m}", lambda: table.reset_index())
