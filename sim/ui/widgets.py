"""Shared page parts: an interactive chart updated in place, its downloads and its data table."""

from __future__ import annotations

import threading
from collections.abc import Callable

import ipyvue
import solara

from sim.ui.live_plot import LivePlot


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
              on_drawn: Callable[[int], None] | None = None):
    """A Plotly chart rebuilt when ``structure_key`` changes and updated in place when ``tick`` changes.

    A tick re-renders nothing: the chart subscribes to ``tick`` and the thread that moves it (Play, a
    Step) sends the new trace data to the page directly, in one small message
    (:class:`sim.ui.live_plot.LivePlot`); the alt text follows ``alt_tick`` (default: ``tick``) the same way.

    Args:
        make_figure: () -> the full ``go.Figure`` (called on a structure change only).
        structure_key: anything hashable that changes when traces or layout must be rebuilt.
        updates: (figure) -> ({trace meta: properties}, title or None): the values to send now, given
            the figure last built.
        tick: the frame counter this chart follows (see :mod:`sim.ui.ticks`).
        name: CSS class suffix (``reesim-<name>``) for tests and styles.
        alt_text: a sentence describing the chart (for screen readers), or () -> that sentence.
        on_drawn: called with ``n`` each time the page reports it drew ``n`` updates of this chart.
    """
    element = LivePlot.element()
    describe = alt_text if callable(alt_text) else (lambda: alt_text)
    box = ipyvue.Html.element(tag="div", class_=f"reesim-chart reesim-{name}", children=[element],
                              attributes={"role": "img", "aria-label": describe() or name})
    latest, made = solara.use_ref((updates, describe)), solara.use_ref(box)
    latest.current, made.current = (updates, describe), box
    lock = solara.use_memo(threading.Lock, [])
    shown = solara.use_ref(None)         # the figure on the page (its traces' metas say what to update)

    def refresh(widget) -> None:
        with lock:
            if shown.current is None:
                return
            props, title = latest.current[0](shown.current)
            widget.update(props, {"title.text": title} if title else None, ack=on_drawn is not None)

    def rebuild():
        widget = solara.get_widget(element)
        fig = make_figure()
        with lock:
            shown.current = fig
            widget.show(fig)
        widget.on_view = lambda: refresh(widget)
        widget.on_drawn = on_drawn
        refresh(widget)
        return tick.subscribe(lambda _: refresh(widget))

    solara.use_effect(rebuild, [structure_key])

    def follow_alt():
        box_widget = solara.get_widget(box)

        def update(_):
            set_live(made, box_widget, "attributes", {"role": "img", "aria-label": latest.current[1]() or name})
        return (alt_tick if alt_tick is not None else tick).subscribe(update)

    solara.use_effect(follow_alt, [])
    return box
