"""A Plotly chart for the page that the server updates in place with one small message per frame.

Plotly's own ``FigureWidget`` keeps the figure in sync both ways: after each update the page sends
back every trace's full state and the whole layout (~25 kB a frame for the price chart), which the
server validates property by property and echoes. During Play that return traffic cost more than
the model step. :class:`LivePlot` sends the figure once (:meth:`LivePlot.show`) and then, per frame,
only the new values of the properties that changed (:meth:`LivePlot.update`; numeric arrays as
binary buffers); the page answers only when asked (Play's pace) and when a view is drawn.

The page loads plotly.js from the ``plotly`` package's own copy, served by the Solara server as a
static asset (:func:`serve_plotly_js`): nothing is fetched from the network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import anywidget
import numpy as np
import traitlets

PLOTLY_JS = "plotly.min.js"
CONFIG = {"displaylogo": False, "responsive": False}     # the page refits the chart to its box itself
_served = threading.Lock()


def plotly_js_dir() -> Path:
    """The folder of the ``plotly`` package that holds its plotly.js bundle."""
    import plotly
    return Path(plotly.__file__).parent / "package_data"


def serve_plotly_js() -> None:
    """Let the Solara server serve the ``plotly`` package's plotly.js under ``static/assets/``."""
    from solara.server import settings
    folder = str(plotly_js_dir())
    with _served:
        if folder not in settings.assets.extra_locations:
            settings.assets.extra_locations.append(folder)


def update_message(indices: dict, props: dict[str, dict], layout: dict | None = None) -> tuple[dict, list]:
    """The message that sets ``props`` ({trace meta: {property: value}}) and ``layout`` ({"title.text": ...}).

    Float arrays travel as binary buffers; metas not in ``indices`` ({meta: trace index}) are skipped.
    """
    traces, buffers = [], []
    for meta, values in props.items():
        if meta not in indices:
            continue
        out = {}
        for name, value in values.items():
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                out[name] = {"buffer": len(buffers)}
                buffers.append(np.ascontiguousarray(value, dtype=np.float64).tobytes())
            else:
                out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        traces.append([indices[meta], out])
    return {"traces": traces, "layout": layout or {}}, buffers


class LivePlot(anywidget.AnyWidget):
    """A Plotly chart: the figure set once with :meth:`show`, its data updated with :meth:`update`.

    ``on_drawn(n)`` is called when the page reports it drew ``n`` updates sent with ``ack=True``;
    ``on_view()`` when a view of the chart was drawn and wants the current data."""

    _esm = Path(__file__).with_name("live_plot.js")
    figure_json = traitlets.Unicode("").tag(sync=True)
    config = traitlets.Dict(CONFIG).tag(sync=True)
    plotly_path = traitlets.Unicode(f"static/assets/{PLOTLY_JS}").tag(sync=True)

    def __init__(self, **kwargs):
        serve_plotly_js()
        super().__init__(**kwargs)
        self.on_drawn: Callable[[int], None] | None = None
        self.on_view: Callable[[], None] | None = None
        self._indices: dict = {}
        self.on_msg(self._from_page)

    def show(self, fig) -> None:
        """Draw ``fig`` (a ``go.Figure``) in place of the current figure; traces are found by their ``meta``."""
        self._indices = {tr.meta: i for i, tr in enumerate(fig.data) if isinstance(tr.meta, str)}
        self.figure_json = fig.to_json()

    def update(self, props: dict[str, dict], layout: dict | None = None, ack: bool = False) -> None:
        """Set trace properties ({meta: {property: value}}) and layout properties in one Plotly update."""
        content, buffers = update_message(self._indices, props, layout)
        self.send({**content, "ack": ack}, buffers)

    def _from_page(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict):
            return
        if content.get("drawn") and self.on_drawn is not None:
            self.on_drawn(int(content["drawn"]))
        if content.get("view") and self.on_view is not None:
            self.on_view()
