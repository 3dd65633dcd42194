"""Shared page parts: an interactive chart updated in place, its downloads and its data table."""

from __future__ import annotations

from collections.abc import Callable

import ipyvue
import solara

from sim.ui.trade_map import apply_updates


def safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:80]


@solara.component
def ChartDownloads(make_figure: Callable, name: str, table: Callable | None = None):
    """PNG and SVG of a chart (drawn from the same figure by sim.static_figures) and its data as CSV."""
    from sim.static_figures import render
    with solara.Row(gap="4px", classes=["reesim-downloads"]):
        solara.FileDownload(lambda: render(make_figure(), "png"), filename=f"{safe_name(name)}.png", label="PNG",
                            mime_type="image/png")
        solara.FileDownload(lambda: render(make_figure(), "svg"), filename=f"{safe_name(name)}.svg", label="SVG",
                            mime_type="image/svg+xml")
        if table is not None:
            solara.FileDownload(lambda: table().to_csv(index=False), filename=f"{safe_name(name)}.csv",
                                label="data CSV", mime_type="text/csv")


@solara.component
def LiveChart(make_figure: Callable, structure_key, updates: Callable, version: solara.Reactive, name: str,
              alt_text: Callable | str = "", every: Callable[[], int] | None = None):
    """A Plotly chart rebuilt when ``structure_key`` changes and updated in place on every ``version``.

    Args:
        make_figure: () -> the full ``go.Figure`` (called on a structure change only).
        structure_key: () -> anything hashable that changes when traces or layout must be rebuilt
            (called on every render).
        updates: (widget) -> ({trace meta: properties}, title or None), applied in one batch each frame.
        version: the frame counter (read here only, so a frame re-renders this chart and not its card);
            a change triggers :func:`updates`.
        name: CSS class suffix (``reesim-<name>``) for tests and styles.
        alt_text: a sentence describing the chart (for screen readers), or () -> that sentence
            (recomputed every 24 frames).
        every: () -> n: update only every n-th frame (e.g. a heavy chart while playing); None = every frame.
    """
    from plotly.graph_objs._figurewidget import FigureWidget
    v = version.value
    structure_key = structure_key()
    element = FigureWidget.element()
    alt = solara.use_memo(lambda: alt_text() if callable(alt_text) else alt_text, [v // 24, structure_key])

    def rebuild():
        widget = solara.get_widget(element)
        fig = make_figure()
        widget.data = ()
        widget.layout = fig.layout
        widget.add_traces(fig.data)

    solara.use_effect(rebuild, [structure_key])

    def refresh():
        widget = solara.get_widget(element)
        props, title = updates(widget)
        with widget.batch_update():
            apply_updates(widget, props)
            if title:
                widget.layout.title.text = title

    n = max(1, every()) if every is not None else 1
    solara.use_effect(refresh, [structure_key, v // n])
    ipyvue.Html.element(tag="div", class_=f"reesim-chart reesim-{name}", children=[element],
                        attributes={"role": "img", "aria-label": alt or name})
