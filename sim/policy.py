"""Policy as data: instruments, scheduled events and conditional reactions.

Scenario files list events; each is validated here into a frozen pydantic
model, and :class:`PolicyBook` turns the events in force in a month into the
arrays the markets read (pair caps, quotas, duties, tariffs, risk and hurdle
adjustments). No Mesa import: the book is a pure function of the events, the
month and reference trade flows, so every instrument is testable on its own.

Market goods (axis ``M``): ``ore`` (mixed concentrate), the 9 separated oxides
(stages ``oxide`` and ``metal`` both map to them), and ``magnet`` (NdFeB).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from sim.calendar import check_month, month_index
from sim.errors import Allowed
from sim.goods import (ELEMENTS, HEAVY_REE, MAGNET_ELEMENTS, MARKET_GOODS, NDFEB_MARKET, ORE_MARKET,  # noqa: F401
                        element_index, market_index)
from sim.world import BLOCS, SECTORS, World

STAGES = ("ore", "oxide", "metal", "magnet")
ORE, MAGNET_GOOD = ORE_MARKET, NDFEB_MARKET
INVEST_STAGES = ("mining", "separation", "magnets")
TRADE_STATUSES = ("ntr", "jackson_vanik", "sanctioned")

#: Every schema of user input is strict: unknown keys, strings or true/false where a number
#: belongs, and inf/nan are errors, never silently coerced (``true`` once became 1.0, ``inf``
#: turned 110 of 175 series to NaN).
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
Bloc = Literal["china", "us_allied", "nonaligned", "russia_aligned"]


class _Event(BaseModel):
    model_config = STRICT
    at: str
    until: str | None = None
    note: str = ""

    @field_validator("at", "until")
    @classmethod
    def _month(cls, v: str | None) -> str | None:
        return v if v is None else check_month(v)

    def active(self, month: int) -> bool:
        """Whether the event is in force in month ``month`` (a month index)."""
        end = month_index(self.until) if self.until else 10**9
        return month_index(self.at) <= month < end


class _Traded(_Event):
    """Instruments that cover some elements and stages toward some partners."""

    nation: str
    elements: list[str] = Field(default_factory=lambda: list(ELEMENTS))
    stages: list[Literal["ore", "oxide", "metal", "magnet"]] = Field(
        default_factory=lambda: list(STAGES))
    to: list[str] | None = None          # partner nations; None = all
    to_bloc: list[Bloc] | None = None    # partner blocs, added to `to`
    exempt: list[str] = Field(default_factory=list)


#: Upper bounds of event quantities: far above anything real (world mine output ~0.4 Mt REO/yr,
#: the dearest oxide ~1,000 USD/kg in 2024), low enough that no sum or product overflows.
MAX_T_PER_YR = 1e7
MAX_USD_PER_KG = 1e5
MAX_CAPEX_USD = 1e12
MAX_DAYS = 3650.0


class ExportQuota(_Traded):
    type: Literal["export_quota"]
    t_per_yr: float = Field(ge=0, le=MAX_T_PER_YR)


class ExportBan(_Traded):
    type: Literal["export_ban"]


class ExportLicence(_Traded):
    type: Literal["export_licence"]
    approval_frac: float = Field(ge=0, le=1)
    delay_months: int = Field(ge=0, le=24, default=2)
    general_licence: list[str] = Field(default_factory=list)  # partners with blanket approval


class ExportDuty(_Traded):
    type: Literal["export_duty"]
    rate_frac: float = Field(ge=0, le=5)


class ImportTariff(_Event):
    type: Literal["import_tariff"]
    nation: str                           # importer
    on: list[str]                         # exporters
    rate_frac: float = Field(ge=0, le=5)
    elements: list[str] = Field(default_factory=lambda: list(ELEMENTS))
    stages: list[Literal["ore", "oxide", "metal", "magnet"]] = Field(
        default_factory=lambda: list(STAGES))


class Sanction(_Event):
    type: Literal["sanction"]
    nation: str
    on: list[str]


class TradeStatus(_Event):
    type: Literal["trade_status"]
    nations: list[str]
    partner: str
    status: Literal["ntr", "jackson_vanik", "sanctioned"]
    risk_cut_frac: float = Field(ge=0, le=1, default=0.3)
    finance_prob_gain_frac: float = Field(ge=0, le=1, default=0.25)


class TechExportBan(_Event):
    type: Literal["tech_export_ban"]
    nation: str
    lead_time_multiplier: float = Field(ge=1, le=5, default=1.5)


class InvestmentDeal(_Event):
    type: Literal["investment_deal"]
    investor: str
    host: str
    stage: Literal["mining", "separation", "magnets"]
    capacity_t_per_yr: float = Field(ge=0, le=MAX_T_PER_YR)   # 0 = no deal (lets sweeps switch it off)
    capex_usd: float = Field(ge=0, le=MAX_CAPEX_USD, default=0.0)
    offtake_frac: float = Field(ge=0, le=1, default=0.0)
    success_prob: float = Field(ge=0, le=1, default=0.7)
    element_mix: str | None = None        # deposit name whose split a new mine uses


class PriceFloor(_Event):
    type: Literal["price_floor"]
    nation: str                           # producers who receive the floor
    element: str
    usd_per_kg: float = Field(gt=0, le=MAX_USD_PER_KG)


class Stockpile(_Event):
    type: Literal["stockpile"]
    nations: list[str]
    action: Literal["build", "release", "hold"]
    target_days: float | None = Field(ge=0, le=MAX_DAYS, default=None)


class Alliance(_Event):
    type: Literal["alliance"]
    name: str
    members: list[str]
    risk_cut_frac: float = Field(ge=0, le=1, default=0.3)
    friction_cut_frac: float = Field(ge=0, le=1, default=0.3)


class ProductionQuota(_Event):
    """A mining quota (any nation), or China's smelting/separation quota (``stage = "separation"``)."""

    type: Literal["production_quota"]
    stage: Literal["mining", "separation"] = "mining"
    nation: str
    t_per_yr: float = Field(ge=0, le=MAX_T_PER_YR)

    @field_validator("nation")
    @classmethod
    def _separation_quota_is_chinas(cls, v: str, info):
        if info.data.get("stage") == "separation" and v != "CHN":
            raise ValueError(f"a separation quota is China's, not {v!r} (allowed: CHN): only China's separation "
                             "is licensed by a quota in the world tables")
        return v


class SupplyDisruption(_Event):
    type: Literal["supply_disruption"]
    nation: str
    lost_frac: float = Field(ge=0, le=1)
    stage: Literal["mining", "separation", "magnets"] = "mining"


class IllegalMiningCrackdown(_Event):
    """China's campaign against illegal and over-quota mining: cuts its undocumented output by ``cut_frac``.

    Undocumented (ion-adsorption) output is modelled for China only (``illegal_supply_frac``); a
    ``supply_disruption`` idles documented mines, which a binding quota may leave unfelt.
    """

    type: Literal["illegal_mining_crackdown"]
    nation: Literal["CHN"] = "CHN"
    cut_frac: float = Field(ge=0, le=1)


class DemandShock(_Event):
    type: Literal["demand_shock"]
    sector: Literal[SECTORS]  # type: ignore[valid-type]
    multiplier: float = Field(ge=0, le=10)
    nations: list[str] | None = None


EVENT_CLASSES = (ExportQuota, ExportBan, ExportLicence, ExportDuty, ImportTariff, Sanction,
                 TradeStatus, TechExportBan, InvestmentDeal, PriceFloor, Stockpile, Alliance,
                 ProductionQuota, SupplyDisruption, IllegalMiningCrackdown, DemandShock)
Event = Annotated[Union[EVENT_CLASSES], Field(discriminator="type")]  # type: ignore[valid-type]
EVENT_ADAPTER: TypeAdapter = TypeAdapter(Event)
EVENT_TYPES: tuple[str, ...] = tuple(
    cls.model_fields["type"].annotation.__args__[0] for cls in EVENT_CLASSES)  # type: ignore[union-attr]

METRICS = ("shortage_frac", "tariff_frac", "price_usd_per_kg", "china_share_separation",
           "stockpile_days")


#: Keys each condition metric reads (required, optional); any other key is an error.
METRIC_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "shortage_frac": ((), ("nation",)),
    "tariff_frac": (("nation", "partner"), ()),
    "price_usd_per_kg": ((), ("nation", "element")),
    "china_share_separation": ((), ()),
    "stockpile_days": (("nation",), ()),
}


class Condition(BaseModel):
    """``metric(nation[, partner|element]) op value``, read from the last recorded month."""

    model_config = STRICT
    metric: Literal["shortage_frac", "tariff_frac", "price_usd_per_kg", "china_share_separation",
                    "stockpile_days"]
    nation: str | None = None
    partner: str | None = None
    element: str | None = None
    op: Literal[">", ">=", "<", "<="] = ">"
    value: float

    @model_validator(mode="after")
    def _keys_of_metric(self) -> "Condition":
        """A metric's required keys present and no key it ignores (a missing partner once crashed mid-run)."""
        required, optional = METRIC_KEYS[self.metric]
        for key in required:
            if getattr(self, key) is None:
                raise Allowed(f"metric '{self.metric}' needs '{key}' (it reads "
                                 f"{', '.join(required + optional)})", required + optional)
        for key in ("nation", "partner", "element"):
            if getattr(self, key) is not None and key not in required + optional:
                raise Allowed(f"metric '{self.metric}' does not read '{key}'",
                              [*(required + optional), "metric", "op", "value"])
        return self


class Reaction(BaseModel):
    """A conditional event: when the condition holds, schedule ``then`` after ``delay_months``."""

    model_config = STRICT
    name: str
    when: Condition
    then: dict
    delay_months: int = Field(ge=0, le=600, default=0)
    duration_months: int | None = Field(ge=1, le=1200, default=None)
    once: bool = True


def goods_mask(elements: list[str], stages: list[str]) -> np.ndarray:
    """Market goods an instrument covers, shape (M,)."""
    mask = np.zeros(len(MARKET_GOODS), dtype=bool)
    if "ore" in stages:
        mask[ORE] = True
    if "oxide" in stages or "metal" in stages:
        for el in elements:
            mask[market_index(element_index(el))] = True
    if "magnet" in stages and any(el in MAGNET_ELEMENTS for el in elements):
        mask[MAGNET_GOOD] = True
    return mask


@dataclass
class Controls:
    """Arrays the markets read for one month (M goods, N nations)."""

    pair_cap_frac: np.ndarray        # (M, N, N) share of the importer's order an exporter may fill; inf = free
    pair_cap_t: np.ndarray           # (M, N, N) tonnes per month a pair may trade; inf = free
    export_quota_t: np.ndarray       # (M, N) this month's quota per good, inf = none
    duty_frac: np.ndarray            # (M, N)
    tariff_frac: np.ndarray          # (M, N importer, N exporter)
    licence_delay_months: np.ndarray  # (M, N, N)
    risk_frac: np.ndarray            # (N,) political-risk premium toward everyone
    friction_frac: np.ndarray        # (N, N) extra cost of a pair, lowered by alliances
    finance_prob_multiplier: np.ndarray  # (N,)
    lead_time_multiplier: np.ndarray  # (N,) on separation and magnet projects
    producer_floor_usd_per_kg: np.ndarray  # (M, N) price floor received by producers
    mining_quota_t_per_yr: np.ndarray  # (N,) inf = none
    separation_quota_t_per_yr: np.ndarray  # (N,) inf = none (China only: its quota line's licensed size)
    lost_frac: np.ndarray            # (3 stages, N) capacity out of action
    undocumented_cut_frac: np.ndarray  # (N,) share of undocumented mine output a crackdown stops (China only)
    demand_multiplier: np.ndarray    # (N, S)
    stockpile_action: np.ndarray     # (N,) 0 hold/default rule, 1 build, 2 release, -1 none set
    stockpile_days_override: np.ndarray  # (N,) nan = from the world table
    trade_status: np.ndarray | None = None  # (N importer, N exporter) codes in force
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def capped_rows(self) -> np.ndarray:
        """(M, N exporter): True where the exporter has a finite pair cap or approval share toward anyone.

        The compiled clearing reads the dense pair arrays only on these rows (computed once per object).
        """
        if "capped_rows" not in self._derived:
            self._derived["capped_rows"] = (np.isfinite(self.pair_cap_t).any(axis=2)
                                            | np.isfinite(self.pair_cap_frac).any(axis=2))
        return self._derived["capped_rows"]

    def tariff_exporter_first(self) -> np.ndarray:
        """``tariff_frac`` as (M, N exporter, N importer), contiguous (computed once per object)."""
        if "tariff_exporter_first" not in self._derived:
            self._derived["tariff_exporter_first"] = np.ascontiguousarray(self.tariff_frac.transpose(0, 2, 1))
        return self._derived["tariff_exporter_first"]

    def delayed_markets(self) -> np.ndarray:
        """(M,): True where some pair's deliveries wait for a licence (computed once per object)."""
        if "delayed_markets" not in self._derived:
            self._derived["delayed_markets"] = self.licence_delay_months.any(axis=(1, 2))
        return self._derived["delayed_markets"]


def split_quota_t(total_t: float, usual_t: np.ndarray, value_usd_per_kg: np.ndarray, tilt: float) -> np.ndarray:
    """Spread a tonnage quota over goods, given each good's usual exports and what a kg of quota earns on it.

    A quota above usual exports cuts nothing (the slack is spread pro rata). A tighter
    one keeps a share ``min(1, lam * (value / mean value) ** tilt)`` of each good's usual
    exports, with ``lam`` set so the shares use up the quota: exporters cut the goods a
    tonne of quota earns least on first (the model passes the quota rent, so before any
    gap opens that is the cheap La and Ce); ``tilt`` 0 cuts all alike.
    """
    usual = np.maximum(np.asarray(usual_t, dtype=float), 0.0)
    if usual.sum() <= 0:
        return np.full(len(usual), total_t / max(len(usual), 1))
    if total_t >= usual.sum():
        return usual * total_t / usual.sum()
    value = np.maximum(np.asarray(value_usd_per_kg, dtype=float), 1e-9)
    weight = (value / np.average(value, weights=usual + 1e-12)) ** tilt
    lo, hi = 0.0, 1.0 / weight.min()
    for _ in range(60):                                  # bisection on the monotone total
        lam = 0.5 * (lo + hi)
        if (usual * np.minimum(1.0, lam * weight)).sum() > total_t:
            hi = lam
        else:
            lo = lam
    return usual * np.minimum(1.0, lo * weight)


@dataclass
class PolicyBook:
    """The events of a scenario (scheduled and triggered), resolved against a world."""

    world: World
    events: list = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    fired: dict[str, int] = field(default_factory=dict)
    base_friction_frac: float = 0.05   # configs/parameters.csv base_friction_frac
    quota_value_tilt: float = 1.0      # configs/parameters.csv quota_value_tilt

    def __post_init__(self) -> None:
        self._index = {iso: i for i, iso in enumerate(self.world.nations)}
        self._fixed: dict[tuple, tuple] = {}   # ids of the events in force -> (those events, their controls)
        self._in_force: tuple = (None, None, None, (), [])   # (events list, its length, month, in force, quotas)

    def add(self, event) -> None:
        self.events.append(event)

    def partners(self, ev: _Traded) -> np.ndarray:
        """Importer mask of a traded instrument, shape (N,)."""
        n = len(self.world.nations)
        if ev.to is None and ev.to_bloc is None:
            mask = np.ones(n, dtype=bool)
        else:
            mask = np.zeros(n, dtype=bool)
            for iso in ev.to or []:
                mask[self._index[iso]] = True
            for bloc in ev.to_bloc or []:
                mask |= np.array([b == bloc for b in self.world.bloc])
        for iso in ev.exempt:
            mask[self._index[iso]] = False
        mask[self._index[ev.nation]] = False
        return mask

    def quotas_in_force(self, month: int) -> list:
        """The export quotas in force in ``month``: the only instruments that read reference flows."""
        return self._events_in_force(month)[1]

    def _events_in_force(self, month: int) -> tuple[tuple, list]:
        """The events in force in ``month`` and the export quotas among them, worked out once per month (and
        again whenever an event is added)."""
        events, n, at, active, quotas = self._in_force
        if events is not self.events or n != len(self.events) or at != month:
            active = tuple(ev for ev in self.events if ev.active(month))
            quotas = [ev for ev in active if ev.type == "export_quota"]
            self._in_force = (self.events, len(self.events), month, active, quotas)
        return active, quotas

    def controls(self, month: int, reference_exports_t: np.ndarray | None,
                 export_value_usd_per_kg: np.ndarray | None = None) -> Controls:
        """Instruments in force in ``month`` as arrays.

        The arrays of every instrument but export quotas depend only on which events are in force: they
        are built once per set of events in force and shared (read-only) until that set changes. Quotas,
        spread over goods by this month's flows and values, are applied to copies of the two arrays they
        touch.

        Args:
            month: month index (see :mod:`sim.calendar`).
            reference_exports_t: recent monthly trade flows, shape (M, N, N), used
                to spread a total quota over goods and named partners; needed only when
                :meth:`quotas_in_force` is not empty.
            export_value_usd_per_kg: what a kg of quota earns on each good, shape (M,):
                a total quota is cut least where a tonne earns most, as licence holders
                put scarce quota tonnes where the rent is (split_quota_t).
        """
        active, quotas = self._events_in_force(month)
        key = tuple(id(ev) for ev in active)
        if key not in self._fixed:
            if len(self._fixed) >= 32:
                self._fixed.pop(next(iter(self._fixed)))
            # the entry holds its events, so their ids cannot be reused while it is kept
            self._fixed[key] = active, self._fixed_controls([ev for ev in active if ev.type != "export_quota"])
        fixed = self._fixed[key][1]
        if not quotas:
            return fixed
        c = replace(fixed, export_quota_t=fixed.export_quota_t.copy(), pair_cap_t=fixed.pair_cap_t.copy())
        # quotas leave the tariffs and the licence delays alone: their derived arrays are shared
        c._derived.update(tariff_exporter_first=fixed.tariff_exporter_first(), delayed_markets=fixed.delayed_markets())
        value = np.ones(len(MARKET_GOODS)) if export_value_usd_per_kg is None else export_value_usd_per_kg
        for ev in quotas:
            self._apply(ev, c, c.trade_status, reference_exports_t, value)
        c.export_quota_t.flags.writeable = c.pair_cap_t.flags.writeable = False   # as the shared ones
        return c

    def _fixed_controls(self, events: list) -> Controls:
        """The arrays of ``events`` (none of them a quota), made read-only: they are shared between months."""
        w = self.world
        n, m = len(w.nations), len(MARKET_GOODS)
        c = Controls(
            pair_cap_frac=np.full((m, n, n), np.inf),
            pair_cap_t=np.full((m, n, n), np.inf),
            export_quota_t=np.full((m, n), np.inf),
            duty_frac=w.export_tax_frac.copy(),          # standing export taxes of the world tables
            tariff_frac=np.repeat(w.tariff_frac[None], m, axis=0),
            licence_delay_months=np.zeros((m, n, n), dtype=int),
            risk_frac=w.country_risk_frac.copy(),
            friction_frac=np.zeros((n, n)),
            finance_prob_multiplier=np.ones(n),
            lead_time_multiplier=np.ones(n),
            producer_floor_usd_per_kg=np.zeros((m, n)),
            mining_quota_t_per_yr=np.full(n, np.inf),
            separation_quota_t_per_yr=np.full(n, np.inf),
            lost_frac=np.zeros((3, n)),
            undocumented_cut_frac=np.zeros(n),
            demand_multiplier=np.ones((n, len(SECTORS))),
            stockpile_action=np.full(n, -1),
            stockpile_days_override=np.full(n, np.nan),
        )
        status = w.trade_status.copy()
        for ev in events:
            self._apply(ev, c, status, None, None)
        c.trade_status = status
        for array in vars(c).values():
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
        return c

    def _apply(self, ev, c: Controls, status: np.ndarray, ref: np.ndarray, value: np.ndarray) -> None:
        ix = self._index
        match ev.type:
            case "export_quota":
                goods, exporter = goods_mask(ev.elements, ev.stages), ix[ev.nation]
                partners = self.partners(ev)
                pair_ref = np.where(partners[None, :], ref[:, exporter, :], 0.0)
                per_good_t = np.zeros(len(goods))
                per_good_t[goods] = split_quota_t(ev.t_per_yr / 12.0, pair_ref.sum(axis=1)[goods], value[goods],
                                                  self.quota_value_tilt)
                if partners.sum() == len(partners) - 1:        # toward everyone else
                    c.export_quota_t[goods, exporter] = np.minimum(
                        c.export_quota_t[goods, exporter], per_good_t[goods])
                else:                                          # toward named partners
                    spread = np.divide(pair_ref, pair_ref.sum(axis=1, keepdims=True),
                                       out=np.tile(partners / max(partners.sum(), 1), (len(goods), 1)),
                                       where=pair_ref.sum(axis=1, keepdims=True) > 0)
                    cap = per_good_t[:, None] * spread
                    row = c.pair_cap_t[:, exporter, :]
                    c.pair_cap_t[:, exporter, :] = np.where(goods[:, None] & partners[None, :],
                                                            np.minimum(row, cap), row)
            case "export_ban":
                goods, partners = goods_mask(ev.elements, ev.stages), self.partners(ev)
                sel = np.ix_(goods, [ix[ev.nation]], np.flatnonzero(partners))
                c.pair_cap_frac[sel] = 0.0
            case "export_licence":
                goods, partners = goods_mask(ev.elements, ev.stages), self.partners(ev)
                for iso in ev.general_licence:
                    partners[ix[iso]] = False
                sel = np.ix_(goods, [ix[ev.nation]], np.flatnonzero(partners))
                c.pair_cap_frac[sel] = np.minimum(c.pair_cap_frac[sel], ev.approval_frac)
                c.licence_delay_months[sel] = np.maximum(c.licence_delay_months[sel], ev.delay_months)
            case "export_duty":
                goods = goods_mask(ev.elements, ev.stages)
                c.duty_frac[goods, ix[ev.nation]] += ev.rate_frac
            case "import_tariff":
                goods = goods_mask(ev.elements, ev.stages)
                for iso in ev.on:
                    c.tariff_frac[goods, ix[ev.nation], ix[iso]] += ev.rate_frac
            case "sanction":
                a = ix[ev.nation]
                for iso in ev.on:
                    b = ix[iso]
                    c.pair_cap_frac[:, a, b] = 0.0
                    c.pair_cap_frac[:, b, a] = 0.0
                    status[a, b] = status[b, a] = 2
            case "trade_status":
                p = ix[ev.partner]
                for iso in ev.nations:
                    h = ix[iso]
                    status[p, h] = status[h, p] = TRADE_STATUSES.index(ev.status)
                    if ev.status == "ntr":
                        c.risk_frac[h] *= 1.0 - ev.risk_cut_frac
                        c.finance_prob_multiplier[h] *= 1.0 + ev.finance_prob_gain_frac
            case "tech_export_ban":
                own = self.world.bloc[ix[ev.nation]]
                outside = np.array([b != own for b in self.world.bloc])
                c.lead_time_multiplier[outside] = np.maximum(
                    c.lead_time_multiplier[outside], ev.lead_time_multiplier)
            case "price_floor":
                c.producer_floor_usd_per_kg[market_index(element_index(ev.element)), ix[ev.nation]] = ev.usd_per_kg
            case "stockpile":
                for iso in ev.nations:
                    c.stockpile_action[ix[iso]] = ("hold", "build", "release").index(ev.action)
                    if ev.target_days is not None:
                        c.stockpile_days_override[ix[iso]] = ev.target_days
            case "alliance":
                members = [ix[iso] for iso in ev.members]
                for a in members:
                    c.risk_frac[a] *= 1.0 - ev.risk_cut_frac
                    for b in members:
                        if a != b:
                            c.friction_frac[a, b] -= ev.friction_cut_frac * self.base_friction_frac
            case "production_quota" if ev.stage == "separation":
                c.separation_quota_t_per_yr[ix[ev.nation]] = ev.t_per_yr
            case "production_quota":
                c.mining_quota_t_per_yr[ix[ev.nation]] = ev.t_per_yr
            case "supply_disruption":
                k = INVEST_STAGES.index(ev.stage)
                c.lost_frac[k, ix[ev.nation]] = max(c.lost_frac[k, ix[ev.nation]], ev.lost_frac)
            case "illegal_mining_crackdown":
                c.undocumented_cut_frac[ix[ev.nation]] = max(c.undocumented_cut_frac[ix[ev.nation]], ev.cut_frac)
            case "demand_shock":
                s = SECTORS.index(ev.sector)
                rows = [ix[i] for i in ev.nations] if ev.nations else slice(None)
                c.demand_multiplier[rows, s] *= ev.multiplier
            case "investment_deal":
                pass  # one-off: the model commissions the project when the deal starts


def holds(cond: Condition, value: float) -> bool:
    """Whether ``value op cond.value`` is true."""
    match cond.op:
        case ">":
            return value > cond.value
        case ">=":
            return value >= cond.value
        case "<":
            return value < cond.value
        case _:
            return value <= cond.value
