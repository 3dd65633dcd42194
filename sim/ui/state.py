"""UI state without widgets: policy levers -> model, shock catalogue, one session's run.

Everything here is plain Python so that it is tested without a browser: the Solara
components in :mod:`sim.ui.app` only hold a :class:`SimSession` per browser session and
call its methods.

How the levers map onto the model (all from the scenario's first month unless said):

* China export quota, % of baseline: an ``export_quota`` event on China's oxide and magnet
  exports of ``pct x`` China's exports in the spun-up base month (x 12); 100 % = no quota.
* Licence approval share: an ``export_licence`` on China's heavy REEs (Sm Gd Tb Dy Y) to
  everyone; 100 % = no licence regime.
* Banned elements: an ``export_ban`` from China on the chosen elements to the US-allied bloc.
* US tariff on China: an ``import_tariff`` by the USA on China (all goods).
* Jackson-Vanik repeal in a year: ``trade_status`` NTR between the USA and the five Central
  Asian states from January of that year.
* Central Asia investment (t/yr): US ``investment_deal`` events for new mines in Kazakhstan
  (half), Uzbekistan and Kyrgyzstan (a quarter each), starting in the repeal year (or 2025).
* Stockpile days scale and EV growth scale: model parameters of the same names.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

HEAVY_REE = ("Sm", "Gd", "Tb", "Dy", "Y")
CENTRAL_ASIA = ("KAZ", "KGZ", "TJK", "TKM", "UZB")
INVESTMENT_SPLIT = {"KAZ": 0.5, "UZB": 0.25, "KGZ": 0.25}


@dataclass(frozen=True)
class Levers:
    """The policy levers and run settings of the Simulate page."""

    scenario: str = "baseline"
    seed: int = 1
    china_quota_pct: int = 100
    licence_approval_pct: int = 100
    banned_elements: tuple[str, ...] = ()
    us_tariff_pct: int = 0
    jv_repeal: bool = False
    jv_repeal_year: int = 2026
    central_asia_invest_t_per_yr: int = 0
    stockpile_days_scale: float = 1.0
    ev_growth_scale: float = 1.0

    def with_(self, **changes) -> Levers:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


def lever_events(levers: Levers, start: str, china_exports_t_per_yr: float) -> list[dict]:
    """Policy events (scenario-file dicts) that implement the levers.

    Args:
        levers: the lever settings.
        start: first simulated month "YYYY-MM".
        china_exports_t_per_yr: China's oxide + magnet exports in the base month x 12 (t).
    """
    events: list[dict] = []
    if levers.china_quota_pct < 100:
        events.append({"type": "export_quota", "at": start, "nation": "CHN", "stages": ["oxide", "magnet"],
                       "t_per_yr": max(0.0, china_exports_t_per_yr * levers.china_quota_pct / 100.0),
                       "note": f"UI lever: quota {levers.china_quota_pct} % of base exports"})
    if levers.licence_approval_pct < 100:
        events.append({"type": "export_licence", "at": start, "nation": "CHN", "elements": list(HEAVY_REE),
                       "approval_frac": levers.licence_approval_pct / 100.0, "delay_months": 2})
    if levers.banned_elements:
        events.append({"type": "export_ban", "at": start, "nation": "CHN",
                       "elements": list(levers.banned_elements), "to_bloc": ["us_allied"]})
    if levers.us_tariff_pct > 0:
        events.append({"type": "import_tariff", "at": start, "nation": "USA", "on": ["CHN"],
                       "rate_frac": levers.us_tariff_pct / 100.0})
    year_at = max(f"{levers.jv_repeal_year}-01", start)
    if levers.jv_repeal:
        events.append({"type": "trade_status", "at": year_at, "nations": list(CENTRAL_ASIA),
                       "partner": "USA", "status": "ntr"})
    if levers.central_asia_invest_t_per_yr > 0:
        at = year_at if levers.jv_repeal else max("2025-01", start)
        for host, share in INVESTMENT_SPLIT.items():
            events.append({"type": "investment_deal", "at": at, "investor": "USA", "host": host,
                           "stage": "mining", "offtake_frac": 0.5,
                           "capacity_t_per_yr": levers.central_asia_invest_t_per_yr * share})
    return events


def china_base_exports_t_per_yr(model) -> float:
    """China's oxide + magnet exports in the model's latest month, x 12 (tonnes per year)."""
    ch = model.world.nations.index("CHN")
    total = 0.0
    for good in ("oxide", "magnet"):
        f = np.asarray(model.last_flows[good])
        total += float(f[ch].sum() - f[ch, ch])
    return 12.0 * total


def build_model(levers: Levers, until: str | None = None):
    """A fresh model for ``levers`` (the quota lever needs the spun-up base month, so a
    probe model is built first when that lever is set)."""
    from sim.model import RareEarthModel
    params = {"stockpile_days_scale": levers.stockpile_days_scale, "ev_growth_scale": levers.ev_growth_scale}
    probe = RareEarthModel(config=levers.scenario, seed=levers.seed, until=until, **params)
    exports = china_base_exports_t_per_yr(probe) if levers.china_quota_pct < 100 else 0.0
    events = lever_events(levers, probe.spec.start, exports)
    if not events:
        return probe
    return RareEarthModel(config=levers.scenario, seed=levers.seed, until=until, extra_events=events, **params)


@dataclass(frozen=True)
class Shock:
    key: str
    label: str
    events: tuple[dict, ...]


SHOCKS: dict[str, Shock] = {s.key: s for s in (
    Shock("china_heavy_ban", "China bans heavy-REE exports",
          ({"type": "export_ban", "nation": "CHN", "elements": list(HEAVY_REE), "to_bloc": ["us_allied"]},)),
    Shock("jv_repeal", "US repeals Jackson-Vanik",
          ({"type": "trade_status", "nations": list(CENTRAL_ASIA), "partner": "USA", "status": "ntr"},)),
    Shock("stockpile_release", "Allies release stockpiles",
          ({"type": "stockpile", "nations": ["USA", "JPN", "KOR", "DEU", "FRA"], "action": "release"},)),
    Shock("myanmar_disruption", "Myanmar supply disruption",
          ({"type": "supply_disruption", "nation": "MMR", "lost_frac": 0.9, "stage": "mining"},)),
)}


@dataclass
class SimSession:
    """One browser session's run: its model, its views and the latest rendered frame.

    Every mutation holds ``lock`` so that the play loop (a worker thread) and button
    clicks (the UI thread) never touch the model at the same time.
    """

    levers: Levers = field(default_factory=Levers)
    elements: tuple[str, ...] = ("La", "Ce", "Pr", "Nd", "Tb", "Dy", "NdFeB")
    model: object = None
    dashboard: object = None
    frame: dict = field(default_factory=dict)
    frame_ms: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        if self.model is None:
            self.reset()

    def reset(self, levers: Levers | None = None) -> None:
        """A new run from the scenario's start with ``levers`` (or the current ones)."""
        from sim.ui.charts import Dashboard
        with self.lock:
            if levers is not None:
                self.levers = levers
            self.model = build_model(self.levers)
            self.dashboard = Dashboard(self.model, self.elements)
            self.render()

    @property
    def month(self) -> str:
        """The last simulated month ("YYYY-MM"); before the first step, the month before the start."""
        return self.model.current_month()

    @property
    def running(self) -> bool:
        return bool(self.model.running)

    def step(self, months: int = 1) -> dict:
        """Advance ``months`` months (fewer at the end) and render every view: one frame."""
        with self.lock:
            t0 = time.perf_counter()
            for _ in range(months):
                if not self.model.running:
                    break
                self.model.step()
            self.render()
            self.frame_ms = (time.perf_counter() - t0) * 1000.0
            return self.frame

    def render(self) -> dict:
        with self.lock:
            self.frame = self.dashboard.render(self.model)
            return self.frame

    def set_elements(self, elements) -> None:
        with self.lock:
            self.elements = tuple(elements)
            self.dashboard.prices.set_elements(self.elements)
            self.render()

    def shock(self, key: str) -> str:
        """Apply a catalogued shock from the next month; returns the month it takes effect."""
        s = SHOCKS[key]
        with self.lock:
            for ev in s.events:
                self.model.inject(dict(ev), label=s.label)
            self.render()
            return self.model.shock_log[-1][0]

    def summary(self) -> dict:
        """Headline numbers of the latest month."""
        last = self.model.recorder.last or {}
        return {k: last.get(k) for k in ("price_Nd_usd_per_kg", "price_Dy_usd_per_kg", "price_Tb_usd_per_kg",
                                          "china_share_separation", "shortage_frac", "stockpile_total_t")}
