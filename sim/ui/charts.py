"""The animated views of the Simulate page, as persistent matplotlib Figures.

Each chart keeps its Figure and artists for the whole run and only updates their data
every frame (see :mod:`sim.ui.blit`); a shock adds a vertical marker to every time
axis. Series are read from the model's DataCollector columns (``model_vars``), which are
plain lists, so no DataFrame is built per frame.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import colormaps

from sim.ui.blit import BlitFigure
from sim.ui.trade_map import TradeMap
from sim.world import ELEMENTS, SECTORS

GOODS = ELEMENTS + ("NdFeB",)
STAGES = ("mining", "separation", "magnets")
STAGE_COLOURS = {"mining": "#8c564b", "separation": "#1f77b4", "magnets": "#d62728"}
WINDOW_YEARS = 5
SHOCK_COLOUR = "#9467bd"


def month_to_year(month: str) -> float:
    """'2027-03' -> 2027.1667 (the month's start as a fractional year)."""
    y, m = month.split("-")
    return int(y) + (int(m) - 1) / 12.0


def series(model, column: str) -> np.ndarray:
    """One recorded model series as an array (one value per simulated month)."""
    return np.asarray(model.datacollector.model_vars.get(column, ()), dtype=float)


def time_axis(model) -> np.ndarray:
    """Fractional years of the recorded months."""
    dates = model.datacollector.model_vars.get("date", [])
    if not dates:
        return np.empty(0)
    return month_to_year(dates[0]) + np.arange(len(dates)) / 12.0


class _TimeChart:
    """Shared behaviour: a growing x window, y limits that only widen, shock markers."""

    def __init__(self, start_year: float, figsize=(6.4, 3.0), ncols: int = 1) -> None:
        self.bf = BlitFigure(figsize=figsize)
        self.axes = list(np.atleast_1d(self.bf.fig.subplots(1, ncols)))
        self.time_axes = list(self.axes)
        self.start = start_year
        self.right = start_year + WINDOW_YEARS
        self.n_shocks = 0
        for ax in self.axes:
            ax.set_xlim(self.start, self.right)
            ax.grid(True, lw=0.3, alpha=0.5)
            ax.tick_params(labelsize=7)

    def _update_x(self, x_now: float) -> None:
        if x_now + 0.5 > self.right:
            self.right = self.start + WINDOW_YEARS * math.ceil((x_now + 1.0 - self.start) / WINDOW_YEARS)
            for ax in self.time_axes:
                ax.set_xlim(self.start, self.right)
            self.bf.invalidate()

    def _widen_y(self, ax, lo: float, hi: float, log: bool = False) -> None:
        b, t = ax.get_ylim()
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return
        nb, nt = b, t
        if hi > t:
            nt = hi * (3.0 if log else 1.4)
        if log and lo < b and lo > 0:
            nb = lo / 3.0
        if (nb, nt) != (b, t):
            ax.set_ylim(nb, nt)
            self.bf.invalidate()

    def _mark_shocks(self, shocks: list[tuple[str, str]]) -> None:
        for month, label in shocks[self.n_shocks:]:
            x = month_to_year(month)
            for k, ax in enumerate(self.time_axes):
                ax.axvline(x, color=SHOCK_COLOUR, lw=1.2, ls="-", alpha=0.8, gid="shock")
                if k == 0:
                    ax.text(x, 0.98, " " + label, transform=ax.get_xaxis_transform(), rotation=90,
                            va="top", ha="left", fontsize=6.5, color=SHOCK_COLOUR, gid="shock")
            self.bf.invalidate()
        self.n_shocks = len(shocks)

    def render(self, model) -> bytes:
        x = time_axis(model)
        if len(x):
            self._update_x(float(x[-1]))
        self._mark_shocks(list(model.shock_log))
        self.draw(model, x)
        return self.bf.render_png()

    def draw(self, model, x: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class PriceChart(_TimeChart):
    """Prices by element, log scale: outside China solid, inside China dashed."""

    def __init__(self, start_year: float, elements=GOODS) -> None:
        super().__init__(start_year, figsize=(6.4, 3.4))
        ax = self.axes[0]
        ax.set_yscale("log")
        ax.set_ylim(0.5, 3000)
        ax.set_ylabel("USD/kg (oxide; NdFeB magnet)", fontsize=7)
        ax.set_title("Prices: outside China (solid) vs inside China (dashed)", fontsize=9, loc="left")
        cmap = colormaps["tab10"]
        self.lines = {}
        for i, g in enumerate(GOODS):
            c = cmap(i % 10)
            out, = ax.plot([], [], color=c, lw=1.4, label=g)
            ins, = ax.plot([], [], color=c, lw=0.9, ls="--")
            self.lines[g] = (self.bf.animate(out), self.bf.animate(ins))
        ax.legend(ncols=5, fontsize=6.5, loc="upper left", framealpha=0.7)
        self.set_elements(elements)

    def set_elements(self, elements) -> None:
        for g, pair in self.lines.items():
            for line in pair:
                line.set_visible(g in elements)
        self.bf.invalidate()

    def draw(self, model, x):
        lo, hi = np.inf, 0.0
        for g, (out, ins) in self.lines.items():
            if not out.get_visible():
                continue
            yo = series(model, f"price_{g}_usd_per_kg")
            yi = series(model, f"price_{g}_china_usd_per_kg")
            out.set_data(x, yo)
            ins.set_data(x, yi)
            if len(yo):
                lo = min(lo, yo.min(), yi.min())
                hi = max(hi, yo.max(), yi.max())
        if hi > 0:
            self._widen_y(self.axes[0], lo, hi, log=True)


class ChinaChart(_TimeChart):
    """China's share of output by stage, and the Herfindahl index of each stage."""

    def __init__(self, start_year: float) -> None:
        super().__init__(start_year, figsize=(6.4, 2.8), ncols=2)
        share_ax, hhi_ax = self.axes
        share_ax.set_title("China's share of output", fontsize=9, loc="left")
        hhi_ax.set_title("Concentration (HHI, 0-10,000)", fontsize=9, loc="left")
        self.lines = {}
        for stage in STAGES:
            c = STAGE_COLOURS[stage]
            s, = share_ax.plot([], [], color=c, lw=1.5, label=stage)
            h, = hhi_ax.plot([], [], color=c, lw=1.5)
            self.lines[stage] = (self.bf.animate(s), self.bf.animate(h))
        share_ax.set_ylim(0, 1.05)
        hhi_ax.set_ylim(0, 10500)
        share_ax.legend(fontsize=6.5, loc="lower left")
        self.bf.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.1, top=0.88, wspace=0.18)

    def draw(self, model, x):
        for stage, (s, h) in self.lines.items():
            s.set_data(x, series(model, f"china_share_{stage}"))
            h.set_data(x, series(model, f"hhi_{stage}"))


class ShortageChart(_TimeChart):
    """Shortages by sector over time (left) and by nation over the last 12 months (right)."""

    TOP = 8

    def __init__(self, start_year: float, nations: tuple[str, ...]) -> None:
        super().__init__(start_year, figsize=(6.4, 3.0), ncols=2)
        sec_ax, nat_ax = self.axes
        self.time_axes = [sec_ax]
        self.nations = nations
        sec_ax.set_title("Shortage by sector (t/month)", fontsize=9, loc="left")
        nat_ax.set_title("By nation, last 12 months (t)", fontsize=9, loc="left")
        cmap = colormaps["tab10"]
        self.lines = {s: self.bf.animate(sec_ax.plot([], [], color=cmap(i % 10), lw=1.2, label=s)[0])
                      for i, s in enumerate(SECTORS)}
        sec_ax.set_ylim(0, 10)
        sec_ax.legend(fontsize=5.5, ncols=2, loc="upper left", framealpha=0.6)
        nat_ax.set_xlim(0, 10)
        nat_ax.set_ylim(-0.6, self.TOP - 0.4)
        nat_ax.invert_yaxis()
        nat_ax.set_yticks([])
        self.bars = [self.bf.animate(b) for b in nat_ax.barh(range(self.TOP), [0] * self.TOP, color="#d62728",
                                                             alpha=0.7)]
        self.bar_labels = [self.bf.animate(nat_ax.text(0, i, "", va="center", fontsize=7))
                           for i in range(self.TOP)]
        self.bf.fig.subplots_adjust(left=0.08, right=0.98, bottom=0.1, top=0.88, wspace=0.12)

    def draw(self, model, x):
        sec_ax, nat_ax = self.axes
        hi = 0.0
        for s, line in self.lines.items():
            y = series(model, f"shortage_{s}_t")
            line.set_data(x, y)
            if len(y):
                hi = max(hi, float(y.max()))
        self._widen_y(sec_ax, 0.0, hi)
        totals = np.array([series(model, f"shortage_{iso}_t")[-12:].sum() for iso in self.nations])
        order = np.argsort(totals)[::-1][: self.TOP]
        peak = float(totals[order[0]]) if len(order) else 0.0
        if peak > nat_ax.get_xlim()[1]:
            nat_ax.set_xlim(0, peak * 1.5)
            self.bf.invalidate()
        for k, (bar, label) in enumerate(zip(self.bars, self.bar_labels)):
            i = order[k]
            bar.set_width(totals[i])
            label.set_position((0, k))
            label.set_text(f" {self.nations[i]} {totals[i]:,.0f}" if totals[i] > 0 else "")


class StockpileChart(_TimeChart):
    """Strategic stockpiles (world total, five largest holders) and traders' speculative stock (t REO)."""

    TOP = 5

    def __init__(self, start_year: float, nations: tuple[str, ...]) -> None:
        super().__init__(start_year, figsize=(6.4, 2.8))
        ax = self.axes[0]
        self.nations = nations
        ax.set_title("Strategic stockpiles and speculative stock (t REO)", fontsize=9, loc="left")
        ax.set_ylim(0, 1000)
        self.total = self.bf.animate(ax.plot([], [], color="k", lw=1.8, label="world")[0])
        self.spec = self.bf.animate(ax.plot([], [], color="tab:red", lw=1.4, ls="--",
                                            label="speculators (off market)")[0])
        cmap = colormaps["tab10"]
        self.lines = [self.bf.animate(ax.plot([], [], color=cmap(i), lw=1.2)[0]) for i in range(self.TOP)]
        self.legend = ax.legend(fontsize=6.5, loc="upper left")
        self.top: tuple = ()

    def draw(self, model, x):
        ax = self.axes[0]
        total = series(model, "stockpile_total_t")
        self.total.set_data(x, total)
        spec = series(model, "speculative_stock_t")
        self.spec.set_data(x, spec)
        now = np.array([model.recorder.last.get(f"stockpile_{iso}_t", 0.0) if model.recorder.last else 0.0
                        for iso in self.nations])
        top = tuple(self.nations[i] for i in sorted(np.argsort(now)[::-1][: self.TOP]) if now[i] > 0)
        for line, iso in zip(self.lines, top + (None,) * self.TOP):
            if iso is None:
                line.set_data([], [])
                line.set_label("_")
            else:
                line.set_data(x, series(model, f"stockpile_{iso}_t"))
                line.set_label(iso)
        if top != self.top:
            self.top = top
            self.legend.remove()
            self.legend = ax.legend(fontsize=6.5, loc="upper left")
            self.bf.invalidate()
        if len(total):
            self._widen_y(ax, 0.0, float(max(total.max(), spec.max() if len(spec) else 0.0)))


class Dashboard:
    """Every animated view of one model: render all of them to PNG bytes in one call."""

    VIEWS = ("prices", "china", "shortages", "stockpiles", "map")

    def __init__(self, model, elements=GOODS) -> None:
        start = month_to_year(model.spec.start)
        w = model.world
        self.prices = PriceChart(start, elements)
        self.china = ChinaChart(start)
        self.shortages = ShortageChart(start, w.nations)
        self.stockpiles = StockpileChart(start, w.nations)
        self.map = TradeMap(w.nations, w.lat, w.lon, w.bloc)
        self.map_bf = BlitFigure(fig=self.map.fig)
        for artist in (self.map.lines, self.map.heads, self.map.title):
            self.map_bf.animate(artist)

    def render(self, model) -> dict[str, bytes]:
        """PNG bytes of every view for the model's current month."""
        out = {
            "prices": self.prices.render(model),
            "china": self.china.render(model),
            "shortages": self.shortages.render(model),
            "stockpiles": self.stockpiles.render(model),
        }
        self.map.update(model.last_flows, model.current_month(), list(model.shock_log))
        out["map"] = self.map_bf.render_png()
        return out
