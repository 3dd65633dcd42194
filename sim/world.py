"""Load the world (nations, deposits, plants, demand, prices) from sourced CSV tables.

Every table in ``configs/world/`` has a ``source`` column; every row is
validated with pydantic and a bad value raises :class:`ConfigError` naming the
file, the row and key, and the allowed values. The result is a frozen
:class:`World` of numpy arrays that the model copies into its state.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.calendar import month_index
from sim.errors import Allowed, ConfigError
from sim.goods import ELEMENTS, GOODS, MAGNET  # noqa: F401  (re-exported: the world tables' goods)
from sim.goods import MARKET_GOODS, NDFEB_MARKET, ORE_MARKET, OXIDE_MARKETS


def _config_dir() -> Path:
    """The shipped configs: ``sim/configs`` inside an installed package (read through importlib.resources,
    so a wheel or a Dask worker with only the package finds them), else the checkout's ``configs/``."""
    installed = resources.files("sim") / "configs"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parent.parent / "configs"


CONFIG_DIR = _config_dir()
WORLD_DIR = CONFIG_DIR / "world"

SECTORS: tuple[str, ...] = (
    "ev_motors", "wind", "electronics", "defence", "industrial_motors",
    "catalysts", "glass_polishing", "phosphors", "metallurgy_batteries", "other",
)
UPSTREAM: tuple[str, ...] = ("mining", "separation", "magnets")
BLOCS = ("china", "us_allied", "nonaligned", "russia_aligned")
CENTRAL_ASIA: tuple[str, ...] = ("KAZ", "KGZ", "TJK", "TKM", "UZB")
SHARE_TOL = 0.05  # percent points: splits must sum to 100 within this

YearMonth = str


def _check_month(value: str) -> str:
    """A table's start month: the calendar's strict ``YYYY-MM``, any year (mines opened in the 1950s)."""
    try:
        month_index(value)
    except ValueError:
        raise Allowed("not a month YYYY-MM", ["YYYY-MM"]) from None
    return value


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    source: str = Field(min_length=3)


class NationRow(_Row):
    iso3: str = Field(pattern=r"^[A-Z]{3}$")
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    bloc: Literal["china", "us_allied", "nonaligned", "russia_aligned"]
    reserves_t_reo: float = Field(ge=0)
    country_risk_frac: float = Field(ge=0, le=1)
    stockpile_target_days: float = Field(ge=0)


class _ElementSplit(_Row):
    """Percent of each element in a mix (a deposit's ore or a sector's non-magnet use)."""

    La: float = Field(ge=0)
    Ce: float = Field(ge=0)
    Pr: float = Field(ge=0)
    Nd: float = Field(ge=0)
    Sm: float = Field(ge=0)
    Gd: float = Field(ge=0)
    Tb: float = Field(ge=0)
    Dy: float = Field(ge=0)
    Y: float = Field(ge=0)


class DepositRow(_ElementSplit):
    deposit: str
    iso3: str
    type: str
    status: Literal["operating", "development", "prospect"]
    capacity_t_per_yr: float = Field(ge=0)
    start: str
    cost_usd_per_kg: float = Field(gt=0)
    finance_prob: float = Field(ge=0, le=1)

    _month = field_validator("start")(_check_month)


class ProcessingRow(_Row):
    iso3: str
    stage: Literal["separation", "magnets"]
    facility: str
    capacity_t_per_yr: float = Field(ge=0)
    base_output_t_per_yr: float = Field(ge=0)
    heavy_separation: bool
    status: Literal["operating", "development", "prospect"]
    start: str
    quota_line: bool = False       # its capacity is the nation's base-year separation quota (China's MIIT quota)

    _month = field_validator("start")(_check_month)


class SectorRow(_ElementSplit):
    sector: Literal[SECTORS]  # type: ignore[valid-type]
    magnet_share_frac: float = Field(ge=0, le=1)
    growth_frac_per_yr_2024_2030: float = Field(ge=-0.5, le=1.0)
    growth_frac_per_yr_2030_2050: float = Field(ge=-0.5, le=1.0)
    max_substitution_frac: float = Field(ge=0, le=1)


class MagnetGradeRow(_Row):
    sector: Literal[SECTORS]  # type: ignore[valid-type]
    dy_mass_pct: float = Field(ge=0, le=15)
    tb_mass_pct: float = Field(ge=0, le=15)


class DemandRow(_Row):
    iso3: str
    sector: Literal[SECTORS]  # type: ignore[valid-type]
    demand_t_reo_per_yr: float = Field(ge=0)


class RecipeRow(_Row):
    element: Literal[ELEMENTS]  # type: ignore[valid-type]
    t_oxide_per_t_magnet: float = Field(ge=0, le=1)
    content_trend_frac_per_yr: float = Field(default=0.0, ge=-0.2, le=0.2)   # Dy and Tb only (technology)


class PriceRow(_Row):
    good: Literal[GOODS]  # type: ignore[valid-type]
    price_usd_per_kg: float = Field(gt=0)
    price_china_usd_per_kg: float = Field(gt=0)
    backstop_reference_usd_per_kg: float = Field(gt=0)
    backstop_reference_china_usd_per_kg: float = Field(gt=0)


class TradeRow(_Row):
    importer_iso3: str
    exporter_iso3: str
    status: Literal["ntr", "jackson_vanik", "sanctioned"]
    tariff_frac: float = Field(ge=0, le=5)


TRADE_STATUS_CODES = {"ntr": 0, "jackson_vanik": 1, "sanctioned": 2}


class ExportTaxRow(_Row):
    iso3: str
    stage: Literal["ore", "oxide", "magnet"]
    rate_frac: float = Field(ge=0, le=1, allow_inf_nan=False)


def _export_taxes(path: Path, index: dict[str, int]) -> np.ndarray:
    """Standing taxes on exports (M market goods, N nations): e.g. the VAT a country does not refund on exports.

    Optional table: a world without it taxes no exports beyond what scenarios add as ``export_duty`` events.
    """
    out = np.zeros((len(MARKET_GOODS), len(index)))
    if not path.exists():
        return out
    goods = {"ore": ORE_MARKET, "oxide": OXIDE_MARKETS, "magnet": NDFEB_MARKET}
    for i, r in enumerate(read_table(path, ExportTaxRow, "iso3")):
        out[goods[r.stage], _nation_index(path, f"line {i + 2}.iso3", r.iso3, index)] += r.rate_frac
    return out


def _magnet_grades(path: Path, sectors: list) -> np.ndarray:
    """Dy and Tb in the magnet grade each sector buys (S, E), % of magnet mass; one row per sector that uses
    magnets. The model reads them as relative weights (the average recipe follows the application mix)."""
    rows = read_table(path, MagnetGradeRow, "sector")
    out = np.zeros((len(SECTORS), len(ELEMENTS)))
    seen = set()
    for i, r in enumerate(rows):
        if r.sector in seen:
            raise ConfigError(path, f"line {i + 2}.sector", f"duplicate sector '{r.sector}'")
        seen.add(r.sector)
        k = SECTORS.index(r.sector)
        out[k, ELEMENTS.index("Dy")], out[k, ELEMENTS.index("Tb")] = r.dy_mass_pct, r.tb_mass_pct
    users = [r.sector for r in sectors if r.magnet_share_frac > 0]
    missing = [s for s in users if s not in seen]
    if missing:
        raise ConfigError(path, "sector", f"missing the magnet-using sectors {missing}", tuple(users))
    return out


def read_table(path: Path, row_model: type[_Row], key: str | None = None) -> list:
    """Read a CSV into validated rows; the first bad value raises ConfigError."""
    if not path.exists():
        raise ConfigError(path, "<file>", "table not found")
    with path.open(newline="", encoding="utf-8") as fh:
        raw = [r for r in csv.DictReader(fh) if any((v or "").strip() for v in r.values())]
    rows = []
    for i, record in enumerate(raw, start=2):  # line 1 is the header
        label = f"line {i}" + (f" ({key} '{record.get(key)}')" if key else "")
        try:
            rows.append(row_model.model_validate(record))
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            reason = (first.get("ctx") or {}).get("error")
            allowed = reason.allowed if isinstance(reason, Allowed) else _literal_values(row_model, field)
            raise ConfigError(path, f"{label}.{field}",
                              f"{first['msg']} (got {record.get(field)!r})", allowed) from None
    return rows


def _literal_values(row_model: type[BaseModel], field: str):
    info = row_model.model_fields.get(field)
    args = getattr(info.annotation, "__args__", None) if info else None
    return list(args) if args and all(isinstance(a, str) for a in args) else None


def _split(row, path: Path, label: str, allow_empty: bool = False) -> np.ndarray:
    pct = np.array([getattr(row, e) for e in ELEMENTS], dtype=float)
    total = pct.sum()
    if allow_empty and total == 0:
        return pct
    if abs(total - 100.0) > SHARE_TOL:
        raise ConfigError(path, f"{label}.{{{','.join(ELEMENTS)}}}",
                          f"element split sums to {total:.3f} %, not 100 %")
    return pct / total


def _nation_index(path: Path, label: str, iso3: str, index: dict[str, int]) -> int:
    if iso3 not in index:
        raise ConfigError(path, label, f"unknown nation '{iso3}'", sorted(index))
    return index[iso3]


@dataclass(frozen=True)
class World:
    """Static world data, arrays indexed by nation, deposit, plant, sector, element."""

    directory: Path
    nations: tuple[str, ...]
    nation_names: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    bloc: tuple[str, ...]
    reserves_t_reo: np.ndarray
    country_risk_frac: np.ndarray
    stockpile_target_days: np.ndarray
    deposit_names: tuple[str, ...]
    deposit_nation: np.ndarray
    deposit_status: tuple[str, ...]
    deposit_type: tuple[str, ...]          # ore type, e.g. "ion-adsorption clay"
    deposit_capacity_t_per_yr: np.ndarray
    deposit_start: tuple[str, ...]
    deposit_cost_usd_per_kg: np.ndarray
    deposit_finance_prob: np.ndarray
    deposit_mix_frac: np.ndarray           # (D, E), rows sum to 1
    plant_names: tuple[str, ...]
    plant_nation: np.ndarray
    plant_stage: tuple[str, ...]           # "separation" | "magnets"
    plant_status: tuple[str, ...]
    plant_capacity_t_per_yr: np.ndarray
    plant_output_t_per_yr: np.ndarray      # base-year output (0 for projects)
    plant_heavy: np.ndarray                # bool: separates Sm..Y as well as the light elements
    plant_quota_line: np.ndarray           # bool: a separation line sized by a quota (a separation production_quota resizes it)
    plant_start: tuple[str, ...]
    magnet_share_frac: np.ndarray          # (S,)
    sector_split_frac: np.ndarray          # (S, E), rows sum to 1 or 0
    growth_frac_per_yr_2024_2030: np.ndarray
    growth_frac_per_yr_2030_2050: np.ndarray
    max_substitution_frac: np.ndarray
    magnet_grade_mass_pct: np.ndarray      # (S, E) Dy and Tb in the grade each sector buys (0 elsewhere)
    demand_t_reo_per_yr: np.ndarray        # (N, S)
    magnet_recipe_t_per_t: np.ndarray      # (E,)
    magnet_content_trend_frac_per_yr: np.ndarray  # (E,) technology drift of the Dy and Tb content (0 elsewhere)
    price_usd_per_kg: np.ndarray           # (G,) outside China
    price_china_usd_per_kg: np.ndarray     # (G,)
    backstop_reference_usd_per_kg: np.ndarray  # (zone, G): price level choke_price_ratio multiplies
    tariff_frac: np.ndarray                # (N importer, N exporter)
    trade_status: np.ndarray               # (N importer, N exporter) codes
    export_tax_frac: np.ndarray            # (M market goods, N) standing taxes on exports (export_taxes.csv)

    @property
    def magnet_reo_t_per_t(self) -> float:
        """Tonnes of oxide contained in one tonne of NdFeB magnet."""
        return float(self.magnet_recipe_t_per_t.sum())


@lru_cache(maxsize=8)
def load_world(directory: str | Path = WORLD_DIR) -> World:
    """Read and cross-check every table of a world directory."""
    d = Path(directory)
    nations = read_table(d / "nations.csv", NationRow, "iso3")
    index = {}
    for i, r in enumerate(nations):
        if r.iso3 in index:
            raise ConfigError(d / "nations.csv", f"line {i + 2}.iso3", f"duplicate nation '{r.iso3}'")
        index[r.iso3] = i
    n = len(nations)

    dep_path = d / "deposits.csv"
    deposits = read_table(dep_path, DepositRow, "deposit")
    dep_nation = [_nation_index(dep_path, f"line {i + 2} (deposit '{r.deposit}').iso3", r.iso3, index)
                  for i, r in enumerate(deposits)]
    mix = np.array([_split(r, dep_path, f"line {i + 2} (deposit '{r.deposit}')")
                    for i, r in enumerate(deposits)])

    proc_path = d / "processing.csv"
    plants = read_table(proc_path, ProcessingRow, "facility")
    plant_nation = [_nation_index(proc_path, f"line {i + 2} (facility '{r.facility}').iso3", r.iso3, index)
                    for i, r in enumerate(plants)]

    sec_path = d / "sectors.csv"
    sectors = {r.sector: r for r in read_table(sec_path, SectorRow, "sector")}
    missing = [s for s in SECTORS if s not in sectors]
    if missing:
        raise ConfigError(sec_path, "sector", f"missing sectors {missing}", SECTORS)
    ordered = [sectors[s] for s in SECTORS]
    split = np.array([_split(r, sec_path, f"sector '{r.sector}'", allow_empty=r.magnet_share_frac >= 1.0)
                      for r in ordered])

    grades = _magnet_grades(d / "magnet_grades.csv", ordered)

    dem_path = d / "demand.csv"
    demand = np.zeros((n, len(SECTORS)))
    for i, r in enumerate(read_table(dem_path, DemandRow, "iso3")):
        k = _nation_index(dem_path, f"line {i + 2}.iso3", r.iso3, index)
        demand[k, SECTORS.index(r.sector)] += r.demand_t_reo_per_yr

    recipe, trend = np.zeros(len(ELEMENTS)), np.zeros(len(ELEMENTS))
    recipe_path = d / "magnet_recipe.csv"
    for i, r in enumerate(read_table(recipe_path, RecipeRow, "element")):
        recipe[ELEMENTS.index(r.element)] = r.t_oxide_per_t_magnet
        if r.content_trend_frac_per_yr and r.element not in ("Dy", "Tb"):
            raise ConfigError(recipe_path, f"line {i + 2} (element '{r.element}').content_trend_frac_per_yr",
                              "only the Dy and Tb diffused into a magnet may drift (the magnet good carries a "
                              "fixed Nd and Pr content)", ("Dy", "Tb"))
        trend[ELEMENTS.index(r.element)] = r.content_trend_frac_per_yr

    price_path = d / "prices_base_year.csv"
    prices = {r.good: r for r in read_table(price_path, PriceRow, "good")}
    absent = [g for g in GOODS if g not in prices]
    if absent:
        raise ConfigError(price_path, "good", f"missing prices for {absent}", GOODS)

    tr_path = d / "trade_status.csv"
    tariff = np.zeros((n, n))
    status = np.zeros((n, n), dtype=np.int8)
    for i, r in enumerate(read_table(tr_path, TradeRow)):
        a = _nation_index(tr_path, f"line {i + 2}.importer_iso3", r.importer_iso3, index)
        b = _nation_index(tr_path, f"line {i + 2}.exporter_iso3", r.exporter_iso3, index)
        tariff[a, b] = r.tariff_frac
        status[a, b] = TRADE_STATUS_CODES[r.status]

    return World(
        directory=d,
        nations=tuple(r.iso3 for r in nations),
        nation_names=tuple(r.name for r in nations),
        lat=np.array([r.lat for r in nations]),
        lon=np.array([r.lon for r in nations]),
        bloc=tuple(r.bloc for r in nations),
        reserves_t_reo=np.array([r.reserves_t_reo for r in nations]),
        country_risk_frac=np.array([r.country_risk_frac for r in nations]),
        stockpile_target_days=np.array([r.stockpile_target_days for r in nations]),
        deposit_names=tuple(r.deposit for r in deposits),
        deposit_nation=np.array(dep_nation, dtype=int),
        deposit_status=tuple(r.status for r in deposits),
        deposit_type=tuple(r.type for r in deposits),
        deposit_capacity_t_per_yr=np.array([r.capacity_t_per_yr for r in deposits]),
        deposit_start=tuple(r.start for r in deposits),
        deposit_cost_usd_per_kg=np.array([r.cost_usd_per_kg for r in deposits]),
        deposit_finance_prob=np.array([r.finance_prob for r in deposits]),
        deposit_mix_frac=mix,
        plant_names=tuple(r.facility for r in plants),
        plant_nation=np.array(plant_nation, dtype=int),
        plant_stage=tuple(r.stage for r in plants),
        plant_status=tuple(r.status for r in plants),
        plant_capacity_t_per_yr=np.array([r.capacity_t_per_yr for r in plants]),
        plant_output_t_per_yr=np.array([r.base_output_t_per_yr for r in plants]),
        plant_heavy=np.array([r.heavy_separation for r in plants], dtype=bool),
        plant_quota_line=np.array([r.quota_line and r.stage == "separation" for r in plants], dtype=bool),
        plant_start=tuple(r.start for r in plants),
        magnet_share_frac=np.array([r.magnet_share_frac for r in ordered]),
        sector_split_frac=split,
        growth_frac_per_yr_2024_2030=np.array([r.growth_frac_per_yr_2024_2030 for r in ordered]),
        growth_frac_per_yr_2030_2050=np.array([r.growth_frac_per_yr_2030_2050 for r in ordered]),
        max_substitution_frac=np.array([r.max_substitution_frac for r in ordered]),
        magnet_grade_mass_pct=grades,
        demand_t_reo_per_yr=demand,
        magnet_recipe_t_per_t=recipe,
        magnet_content_trend_frac_per_yr=trend,
        price_usd_per_kg=np.array([prices[g].price_usd_per_kg for g in GOODS]),
        price_china_usd_per_kg=np.array([prices[g].price_china_usd_per_kg for g in GOODS]),
        backstop_reference_usd_per_kg=np.array([[prices[g].backstop_reference_china_usd_per_kg for g in GOODS],
                                                [prices[g].backstop_reference_usd_per_kg for g in GOODS]]),
        tariff_frac=tariff,
        trade_status=status,
        export_tax_frac=_export_taxes(d / "export_taxes.csv", index),
    )
