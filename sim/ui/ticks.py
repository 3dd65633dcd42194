"""Frame counters of the Simulate page: what one month of Play updates, and Play's pace.

``fast`` changes every month: the KPI cards and the price chart follow it; ``month`` changes right
after it and the month display follows that one, so when the month shown changes everything else of
that month has already been sent to the page. Each other chart follows its own lane
(:data:`LANES`), which changes on every change when not playing (a step, a shock, an undo, a
restart, Play stopping) and, while playing, only on that chart's month of a cycle, so a month
redraws the price chart and at most one other chart. ``epoch`` follows the run's structure: the
charts read it and are rebuilt when it changes. The page's parts follow these counters by
subscription (:mod:`sim.ui.widgets`), so a month of Play re-renders no component.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import solara

# While playing, each secondary chart redraws on its own month of a cycle (period, offset), so that a
# frame redraws the price chart and at most one other chart; the map, the heaviest draw, less often.
LANES = {"china": (16, 2), "shortages": (16, 7), "stockpiles": (16, 12), "map": (32, 15)}


SHOWN_TIMEOUT_S = 0.5   # Play waits at most this long for the page to draw a month (a hidden tab gives no sign)
IN_FLIGHT = 2           # months handed to the page and not yet drawn: one being drawn, the next one ready


class Pacer:
    """Paces Play: at most :data:`IN_FLIGHT` months are on their way to the page, and at most one month
    starts per ``period``.

    The page's price chart reports each drawn update (:meth:`shown`, called when the browser answers
    the chart's update), so "as fast as possible" means as fast as this browser draws: the server
    computes the next month while the browser draws the last one, and months never pile up unsent or
    undrawn (Pause acts at once). The next month is due one period after the last one was due (not
    after the work finished), so the time a frame takes is not added to the period; a month that came
    late is made up by the next one, but never more than one period (no burst). ``min_gap_s`` is
    always left between frames for the page's own messages (a click on Pause)."""

    def __init__(self, min_gap_s: float = 0.003):
        self.min_gap_s = min_gap_s
        self.due = time.perf_counter()
        self._in_flight = 0
        self._changed = threading.Condition()

    def start(self) -> None:
        """Play pressed: the first month is due now, nothing is on its way."""
        self.due = time.perf_counter()
        with self._changed:
            self._in_flight = 0

    def sent(self) -> None:
        """A month was handed to the page."""
        with self._changed:
            self._in_flight += 1

    def shown(self, months: int = 1) -> None:
        """The page drew ``months`` months (an update that replaced others counts for them too)."""
        with self._changed:
            self._in_flight = max(0, self._in_flight - months)
            self._changed.notify_all()

    def wait(self, period_s: float) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._in_flight < IN_FLIGHT, SHOWN_TIMEOUT_S):
                self._in_flight = 0          # no sign from the page (hidden, closed): go on at the period
        now = time.perf_counter()
        self.due = max(self.due + period_s, now - period_s)     # a late month is made up by the next one only
        time.sleep(max(self.due - now, self.min_gap_s))


@dataclass(frozen=True)
class Ticks:
    fast: solara.Reactive
    lanes: tuple[solara.Reactive, ...]          # one per LANES entry, in that order
    pacer: Pacer                                # Play's pace; the price chart tells it when a month is drawn
    month: solara.Reactive                      # moves after all the others: the month display changes last
    epoch: solara.Reactive                      # the run's structure (SimSession.epoch): charts rebuild on a change

    def lane(self, name: str) -> solara.Reactive:
        return self.lanes[list(LANES).index(name)]

    def bump(self, playing: bool = False, epoch: int | None = None) -> None:
        """One more frame; ``playing``: a frame of Play (a secondary chart waits for its month);
        ``epoch``: the session's epoch after a restart, shock or undo (the charts rebuild when it changed)."""
        if epoch is not None:
            self.epoch.set(epoch)
        n = self.fast.value + 1
        for (period, offset), lane in zip(LANES.values(), self.lanes):
            if not playing or n % period == offset:
                lane.set(n)
        self.fast.set(n)
        self.month.set(n)

    def catch_up(self) -> None:
        """Play stopped: every chart shows the last month."""
        for lane in self.lanes:
            lane.set(self.fast.value)


def use_ticks() -> Ticks:
    return Ticks(solara.use_reactive(0), tuple(solara.use_reactive(0) for _ in LANES), solara.use_memo(Pacer, []),
                 solara.use_reactive(0), solara.use_reactive(0))
