"""Fast repeated rendering of a matplotlib Figure to PNG bytes (Agg blitting).

The static part of a figure (axes, ticks, labels, outlines) is drawn once and kept as
a pixel background; each frame restores it and draws only the artists marked as
animated, then encodes the pixels. A chart calls :meth:`BlitFigure.invalidate` when
something static changes (axis limits, a shock marker), which costs one full draw.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

FORMAT = "jpeg"   # "jpeg" or "png"


class BlitFigure:
    """A Figure with an Agg canvas, a cached background and a set of animated artists."""

    def __init__(self, figsize=(6.4, 3.2), dpi: int = 80, fig: Figure | None = None) -> None:
        self.fig = fig if fig is not None else Figure(figsize=figsize, dpi=dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self.dynamic: list = []
        self._background = None

    def animate(self, artist):
        """Mark ``artist`` as redrawn every frame; returns it."""
        artist.set_animated(True)
        self.dynamic.append(artist)
        return artist

    def invalidate(self) -> None:
        self._background = None

    def render_png(self) -> bytes:
        """Draw the frame and return it as image bytes (:data:`FORMAT`, JPEG by default: 3x faster to
        encode than PNG and a quarter of the size, which matters at several frames a second)."""
        if self._background is None:
            self.canvas.draw()
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        for artist in self.dynamic:
            if artist.get_visible():
                self.fig.draw_artist(artist)
        w, h = self.canvas.get_width_height()
        img = Image.frombuffer("RGBA", (w, h), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        if FORMAT == "png":
            img.convert("RGB").save(out, format="png", compress_level=1)
        else:
            img.convert("RGB").save(out, format="jpeg", quality=90, subsampling=0)
        return out.getvalue()
