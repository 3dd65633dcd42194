"""Shared page parts: an interactive chart updated in place, its downloads and its data table."""

from __future__ import annotations

import threading
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


def figure_widget_class():
    """Plotly's FigureWidget with the ``responsive`` config: the chart fits its container's width
    (with :func:`ChartResizer` telling it when that width changes)."""
    global _ResponsiveFigureWidget
    if _ResponsiveFigureWidget is None:
        from plotly.graph_objs._figurewidget import FigureWidget

        class ResponsiveFigureWidget(FigureWidget):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                # Plotly's own __init__ sets _config; the browser reads it when it first draws
                self._config = {**self._config, "responsive": True, "displaylogo": False}
        _ResponsiveFigureWidget = ResponsiveFigureWidget
    return _ResponsiveFigureWidget


_ResponsiveFigureWidget = None


@solara.component_vue("chart_resizer.vue")
def ChartResizer():
    """An invisible element that makes the chart around it refit when its box changes width."""


def set_live(element_ref, widget, name: str, value) -> None:
    """Set a widget's property from outside a render, and remember it in the element that made the
    widget: a later reconciliation re-applies the element's properties, which must not bring back an
    old value."""
    element_ref.current.kwargs[name] = value
    setattr(widget, name, value)


@solara.component
def LiveHTML(tick: solara.Reactive, content: Callable[[], str], tag: str = "div", classes: tuple = (),
             style: str = ""):
    """An HTML element whose inside follows ``tick`` without re-rendering anything: the thread that
    moves the tick sets the element's ``innerHTML`` (one message to the page); the element itself
    stays, so the page keeps its place and a MutationObserver sees the change.

    ``content`` must return safe HTML (escape anything that comes from data)."""
    import solara.widgets
    attributes = {"class": " ".join(classes)} | ({"style": style} if style else {})
    element = solara.widgets.HTML.element(tag=tag, unsafe_innerHTML=content(), attributes=attributes)
    latest, made = solara.use_ref(content), solara.use_ref(element)
    latest.current, made.current = content, element

    def follow():
        widget = solara.get_widget(element)
        return tick.subscribe(lambda _: set_live(made, widget, "unsafe_innerHTML", latest.current()))

    solara.use_effect(follow, [])
    return element


@solara.component
def LiveChart(make_figure: Callable, structure_key, updates: Callable, tick: solara.Reactive, name: str,
              alt_text: Callable | str = "", alt_tick: solara.Reactive | None = None,
              on_drawn: Callable[[], None] | None = None):
    """A Plotly chart rebuilt when ``structure_key`` changes and updated in place when ``tick`` changes.

    A tick re-renders nothing: the chart subscribes to ``tick`` and the thread that moves it (Play, a
    Step) sends the new trace data to the widget directly, in one Plotly update; the alt text
    follows ``alt_tick`` (default: ``tick``) the same way.

    Args:
        make_figure: () -> the full ``go.Figure`` (called on a structure change only).
        structure_key: anything hashable that changes when traces or layout must be rebuilt.
        updates: (widget) -> ({trace meta: properties}, title or None), applied in one batch.
        tick: the frame counter this chart follows (see :mod:`sim.ui.ticks`).
        name: CSS class suffix (``reesim-<name>``) for tests and styles.
        alt_text: a sentence describing the chart (for screen readers), or () -> that sentence.
        on_drawn: called each time the browser reports it drew an update of this chart (Plotly's
            widget answers every update with the traces' new state).
    """
    element = figure_widget_class().element()
    describe = alt_text if callable(alt_text) else (lambda: alt_text)
    box = ipyvue.Html.element(tag="div", class_=f"reesim-chart reesim-{name}", children=[element, ChartResizer()],
                              attributes={"role": "img", "aria-label": describe() or name})
    latest, made = solara.use_ref((updates, describe)), solara.use_ref(box)
    latest.current, made.current = (updates, describe), box
    lock = solara.use_memo(threading.Lock, [])

    def refresh(widget) -> None:
        with lock:
            props, title = latest.current[0](widget)
            with widget.batch_update():
                apply_updates(widget, props)
                if title:
                    widget.layout.title.text = title

    def rebuild():
        widget = solara.get_widget(element)
        fig = make_figure()
        with lock:
            widget.data = ()
            # a new layout is merged into the page's, so markers taken back (an undone shock) would stay:
            # remove them first
            widget.layout.annotations = ()
            widget.layout.shapes = ()
            widget.layout = fig.layout
            widget.add_traces(fig.data)
        refresh(widget)
        return tick.subscribe(lambda _: refresh(widget))

    solara.use_effect(rebuild, [structure_key])

    def follow_alt():
        box_widget = solara.get_widget(box)

        def update(_):
            set_live(made, box_widget, "attributes", {"role": "img", "aria-label": latest.current[1]() or name})
        return (alt_tick if alt_tick is not None else tick).subscribe(update)

    solara.use_effect(follow_alt, [])

    def watch_drawn():
        if on_drawn is None:
            return None
        widget = solara.get_widget(element)

        def answered(change):
            if change["new"]:
                on_drawn()
        widget.observe(answered, "_js2py_traceDeltas")
        return lambda: widget.unobserve(answered, "_js2py_traceDeltas")

    solara.use_effect(watch_drawn, [])
    return box
