"""Policy as data: the schema of the events a scenario schedules (instruments, deals, shocks).

Scenario files, sweeps, the UI's shock editor and ``model.inject`` list events; each is validated here into a
frozen pydantic model (strict: unknown keys, wrong types, inf and nan are errors). ``sim.policy.PolicyBook``
turns the events in force in a month into the arrays the markets read (``sim.controls.Controls``);
reactions (``sim.reactions``) schedule events when a condition holds.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from sim.calendar import check_month, month_index
from sim.goods import ELEMENTS
from sim.world import SECTORS

STAGES = ("ore", "oxide", "metal", "magnet")
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
