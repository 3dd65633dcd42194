"""RareEarthModel: nations and industries mining, separating, trading and using rare earths.

One step is one month. The model wires the phases together (policy, mining,
concentrate trade, separation, oxide trade, magnet making, magnet trade, use,
prices, investment, record); agents decide, ``sim.market`` clears, and
``sim.policy`` turns scenario events into the controls the markets obey.

State that is cleared jointly lives here as arrays (nation N, element E,
good G = E oxides + NdFeB, deposit D, plant P); agents hold indices into them.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path

import mesa
import numpy as np
from mesa.agent import AgentSet

from agents.industry import (IndustryAgent, hoard_multiple, inventory_order_t, surplus_brake, target_utilisation,
                             update_intensity)
from agents.nation import NationAgent
from agents.trader import TraderAgent
from sim import market
from sim.calendar import add_months, month_index, month_name
from sim.recording import Recorder
from sim.parameters import load_parameter_table
from sim.policy import MAGNET_GOOD, ORE, InvestmentDeal, PolicyBook, holds
from sim.scenarios import Scenario, load_scenario
from sim.world import ELEMENTS, GOODS, SECTORS, UPSTREAM, World, load_world

E, G = len(ELEMENTS), len(GOODS)
MAG = E                       # index of NdFeB on the goods axis
CHINA_ZONE, OUTSIDE_ZONE = 0, 1
STAGE_INDEX = {s: i for i, s in enumerate(UPSTREAM)}
TRANSIT_SLOTS = 25
SPIN_UP_MONTHS = 36
SPIN_UP_CACHE_SIZE = 16
_SPIN_UP_CACHE: dict[tuple, dict] = {}
# everything the spin-up changes (checked by tests/test_model.py::test_spin_up_cache_restores_identical_runs)
SPUN_STATE = ("conc", "feed", "oxide", "maker_oxide", "magnets", "user", "stockpile_t", "spec_t", "transit",
              "losses_t", "flow_ema", "use_ema", "sales_ema", "magnet_sales_ema", "dep_util",
              "util_ema", "shortage_ema", "normal_cover", "magnet_plan", "user_order", "_last_flows",
              "_oxide_flows", "_magnet_flows", "_last_delay", "month_losses_t", "mass_balance_error_t",
              "mined_t", "undocumented_t", "recycled_t", "separated_t", "magnets_made_t",
              "consumed_t_by_sector", "shortage_t_by_sector", "consumed_elements_t", "need_t",
              "unmet_zone", "china_unsold_frac", "china_quota_fill", "orders_zone",
              "short_zone", "released_t", "intensity", "intensity_low", "base_flows_t", "export_bind",
              "margin_ema", "price", "price_hist", "pile_order", "maker_need", "maker_short")
HEAVY_MASK = np.array([e in ("Sm", "Gd", "Tb", "Dy", "Y") for e in ELEMENTS])
MAGNET_PRICE_GOODS = [ELEMENTS.index(e) for e in ("Pr", "Nd", "Tb", "Dy")] + [E]


def _distance_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance between every pair of nations (km)."""
    la, lo = np.radians(lat), np.radians(lon)
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(la)[:, None] * np.cos(la)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


class RareEarthModel(mesa.Model):
    """The world rare-earth supply chain under policy shocks.

    Args:
        scenario: scenario name in ``configs/scenarios`` or path to a TOML file.
        seed: random seed (alias of ``rng``).
        rng: seed, ``numpy.random.Generator`` or ``SeedSequence`` (as ``mesa.batch_run`` passes).
        until: last month to simulate (``YYYY-MM``); defaults to the scenario's end.
        keep_flows: keep the per-month trade-flow matrices (for maps; off in sweeps).
        extra_events: additional policy events (dicts as in a scenario file).
        **params: overrides of any parameter in ``configs/parameters.csv``.
    """

    def __init__(self, scenario: str | Path | Scenario = "baseline", *, seed: int | None = None,
                 rng=None, until: str | None = None, keep_flows: bool = True,
                 extra_events: list[dict] | None = None, **params) -> None:
        super().__init__(rng=rng if rng is not None else seed)
        params = {k: v for k, v in params.items() if v is not None}
        # separate streams, both drawn from the model's seed, so that two scenarios run with the
        # same seed see the same demand noise even when one of them finances more projects
        self.rng_demand, self.rng_projects = self.rng.spawn(2)
        self.spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        if extra_events:
            from sim.scenarios import scenario_from_dict
            merged = self.spec.to_dict()
            merged["events"] = merged["events"] + list(extra_events)
            merged.pop("path")
            merged["world"] = self.spec.world_dir.name
            self.spec = scenario_from_dict(merged, self.spec.path)
        self.p = self.spec.resolved(params)
        self.world: World = load_world(self.spec.world_dir)
        self.seed = seed
        self.start_month = month_index(self.spec.start)
        self.end_month = month_index(until or self.spec.end)
        self.month = self.start_month - 1
        self.keep_flows = keep_flows
        self.book = PolicyBook(self.world, list(self.spec.events), list(self.spec.reactions),
                               base_friction_frac=self.p.base_friction_frac,
                               quota_value_tilt=self.p.quota_value_tilt)
        self.shock_log: list[tuple[str, str]] = []
        self._init_state()
        self._init_agents()
        self._spin_up()
        # controls already in force at the start are the status quo, not news to traders
        tightness = self._china_tightness(np.maximum(self.flow_ema, self.base_flows_t))
        for trader in self.trader_agents:
            trader.expect(*tightness, float(self.controls.lost_frac[0, self.china]))
        self.recorder = Recorder(self)
        self.datacollector = self.recorder.datacollector
        self.running = True

    # ------------------------------------------------------------------ set-up
    def _init_state(self) -> None:
        w, p = self.world, self.p
        n, d = len(w.nations), len(w.deposit_names)
        self.n_nations = n
        self.sector_index = {s: i for i, s in enumerate(SECTORS)}
        self.china = w.nations.index("CHN")
        self.zone = np.where(np.arange(n) == self.china, CHINA_ZONE, OUTSIDE_ZONE)
        self.usa = w.nations.index("USA") if "USA" in w.nations else None

        # deposits: nameplate above base-year output by the headroom share
        headroom = 1.0 + p.capacity_headroom_frac
        self.dep_nation = w.deposit_nation.copy()
        self.dep_mix = w.deposit_mix_frac.copy()
        self.dep_cost = w.deposit_cost_usd_per_kg.copy()
        self.dep_capacity = w.deposit_capacity_t_per_yr * headroom
        self.dep_util = np.full(d, 1.0 / headroom)
        self.dep_base_util = self.dep_util.copy()
        self.dep_online = np.full(d, 10**9)
        self.dep_finance_at = np.full(d, 10**9)
        self.dep_is_clay = np.array(["ion" in t.lower() for t in w.deposit_type])
        self.dep_planned: dict[int, int] = {}
        for i, status in enumerate(w.deposit_status):
            start = month_index(w.deposit_start[i])
            if status == "operating":
                self.dep_online[i] = min(start, self.start_month - p.ramp_up_months)
            elif status == "development":
                self.dep_finance_at[i] = max(start - int(p.lead_time_mine_months) // 2, self.start_month)
                self.dep_online[i] = 10**9
                self.dep_planned[i] = start

        # plants (separation, magnets)
        self.plant_nation = w.plant_nation.copy()
        self.plant_stage = np.array([STAGE_INDEX[s] for s in w.plant_stage])
        # nameplate: the table's capacity, or base-year output plus the headroom share where the
        # table gives output at capacity (China's separation "capacity" is its quota)
        self.plant_capacity = np.maximum(w.plant_capacity_t_per_yr, w.plant_output_t_per_yr * headroom)
        self.plant_heavy = w.plant_heavy.copy()
        self.plant_online = np.full(len(self.plant_nation), 10**9)
        self.plant_finance_at = np.full(len(self.plant_nation), 10**9)
        self.plant_planned: dict[int, int] = {}
        lead = {1: p.lead_time_separation_months, 2: p.lead_time_magnet_months}
        for i, status in enumerate(w.plant_status):
            start = month_index(w.plant_start[i])
            if status == "operating":
                self.plant_online[i] = min(start, self.start_month - p.ramp_up_months)
            elif status == "development":
                self.plant_finance_at[i] = max(start - int(lead[self.plant_stage[i]]) // 2,
                                               self.start_month)
                self.plant_planned[i] = start
        self.base_util = self._base_utilisation()
        self._capacity_cache: dict[tuple, np.ndarray] = {}
        self._capacity_version = 0

        # demand: base monthly need per nation, sector and good
        reo_per_magnet = w.magnet_reo_t_per_t
        self.base_need = np.zeros((n, len(SECTORS), G))
        self.base_need[:, :, :E] = (w.demand_t_reo_per_yr / 12.0)[:, :, None] * (
            (1.0 - w.magnet_share_frac)[:, None] * w.sector_split_frac)[None]
        self.base_need[:, :, MAG] = w.demand_t_reo_per_yr / 12.0 * w.magnet_share_frac / reo_per_magnet
        self.reo_content = np.append(np.ones(E), reo_per_magnet)       # t REO per t good
        self.element_content = np.zeros((G, E))                         # t element per t good
        self.element_content[:E, :E] = np.eye(E)
        self.element_content[MAG] = w.magnet_recipe_t_per_t
        self.intensity = np.ones((2, len(SECTORS), G))
        self.intensity_low = np.ones((2, len(SECTORS), G))
        self.max_sub = np.repeat(w.max_substitution_frac[:, None], G, axis=1)[None]

        # prices: [zone, good]
        self.price = np.stack([w.price_china_usd_per_kg, w.price_usd_per_kg]).astype(float)
        self.anchor = self.price.copy()
        self.floor = self.price * p.price_floor_frac
        self.price_hist = np.repeat(self.price[None], 24, axis=0)

        # stocks (t): concentrate at mines, feed at separators, oxides, makers, magnets, users
        month_need = self.base_need.sum(axis=1)                         # (N, G)
        self.conc = np.zeros((n, E))
        self.feed = np.zeros((n, E))
        self.oxide = np.zeros((n, E))
        self.maker_oxide = np.zeros((n, E))
        self.magnets = np.zeros(n)
        self.user = month_need * p.target_cover_months
        self.stockpile_t = np.zeros((n, G))
        targets = w.stockpile_target_days[:, None] / 30.4 * month_need
        self.stockpile_t[:] = targets * p.stockpile_initial_fill_frac * p.stockpile_days_scale
        self.spec_t = np.zeros((n, E))                                  # traders' off-market oxides
        self.transit = np.zeros((TRANSIT_SLOTS, 4, n, G))              # buyer: user, maker, stockpile, trader
        self.losses_t = np.zeros(E)

        # memories (exponential averages)
        self.flow_ema = np.zeros((G + 1, n, n))                        # market goods: ore, oxides, magnet
        self.use_ema = month_need.copy()
        self.sales_ema = np.zeros((n, E))
        self.magnet_sales_ema = month_need[:, MAG] * 0.0
        self.margin_ema = np.zeros((3, n))
        self.shortage_ema = np.zeros(2)
        self.util_ema = np.ones(3) * 0.85
        self.offtake = np.zeros((n, n))
        self.hurdle_extra_frac = np.zeros(n)

        dist = _distance_km(w.lat, w.lon)
        self.freight = p.freight_base_usd_per_kg * (dist > 0) + p.freight_usd_per_kg_per_1000km * dist / 1000
        self.flows_history: list[dict[str, np.ndarray]] = []
        self._last_flows = {k: np.zeros((n, n)) for k in ("ore", "oxide", "magnet")}
        self.export_bind = np.zeros(G)          # 0-1: how far China's controls are believed to hold goods back
        self._zero_month_outputs()
        self.controls = self.book.controls(self.start_month - 1, self.flow_ema)
        self._prime()

    def _zero_month_outputs(self) -> None:
        n = self.n_nations
        self.mined_t = np.zeros((n, E))
        self.undocumented_t = np.zeros(E)
        self.recycled_t = np.zeros((n, E))
        self.separated_t = np.zeros((n, E))
        self.magnets_made_t = np.zeros(n)
        self.consumed_t_by_sector = np.zeros((n, len(SECTORS)))
        self.shortage_t_by_sector = np.zeros((n, len(SECTORS)))
        self.consumed_elements_t = np.zeros(E)
        self.need_t = np.zeros((n, len(SECTORS), G))
        self.unmet_zone = np.zeros((2, G))
        self.china_unsold_frac = np.zeros(G)
        self.china_quota_fill = np.zeros(G)                             # China's exports / its quota
        self.china_tightness = 0.0                                      # exports, all goods, log units
        self.china_crackdown_frac = 0.0                                 # Chinese mine capacity idled
        self.china_tightness_by_good = np.zeros(len(GOODS) + 1)         # market goods (ore, oxides, magnet)
        self.short_zone = np.zeros((2, G))
        self.orders_zone = np.zeros((2, G))
        self.released_t = np.zeros((n, G))

    def _prime(self) -> None:
        """Base-year margins and a normal pipeline of stocks, so month one starts in balance."""
        self.base_margin_dep = self._deposit_margin()
        sep_m, mag_m = self._separation_margin(), self._magnet_margin()
        self.base_margin_sep, self.base_margin_mag = sep_m, mag_m
        cap_sep = self.stage_capacity_t_per_yr("separation") / 12
        mined = self._mine_potential()
        world_mix = mined.sum(0) / max(mined.sum(), 1e-9)
        self.feed = cap_sep[:, None] * world_mix[None] / (1 + self.p.capacity_headroom_frac)
        self.oxide = self.feed.copy()
        self.sales_ema = self.oxide.copy()
        mag_cap = self.stage_capacity_t_per_yr("magnets") / 12 * self.base_util[2]
        self.maker_oxide = mag_cap[:, None] * self.world.magnet_recipe_t_per_t[None] * self.p.target_cover_months
        self.magnets = mag_cap.copy()
        self.magnet_sales_ema = mag_cap.copy()

    def _init_agents(self) -> None:
        w = self.world
        self.nation_agents = [NationAgent(self, i) for i in range(len(w.nations))]
        # every nation may build any upstream stage (new entrants such as Central Asia)
        self.upstream_agents = [IndustryAgent(self, i, sector)
                                for sector in UPSTREAM for i in range(self.n_nations)]
        self.user_agents = [IndustryAgent(self, int(i), s)
                            for i in range(self.n_nations) for k, s in enumerate(SECTORS)
                            if w.demand_t_reo_per_yr[i, k] > 0]
        self.upstream_set = AgentSet(self.upstream_agents, random=self.random)
        self.trader_agents = [TraderAgent(self, z) for z in (CHINA_ZONE, OUTSIDE_ZONE)]

    # ---------------------------------------------------------------- queries
    def current_month(self) -> str:
        """The month last simulated, ``YYYY-MM`` (the month before the start if none yet)."""
        return month_name(self.month)

    def _ramp(self, online: np.ndarray) -> np.ndarray:
        return np.clip((self.month - online + 1) / max(self.p.ramp_up_months, 1.0), 0.0, 1.0)

    def _mine_potential(self) -> np.ndarray:
        cap = self.dep_capacity * self._ramp(self.dep_online) / 12 * self.dep_util
        out = np.zeros((self.n_nations, E))
        np.add.at(out, self.dep_nation, cap[:, None] * self.dep_mix)
        return out

    def stage_capacity_t_per_yr(self, sector: str) -> np.ndarray:
        """Capacity online per nation for an upstream stage (t REO/yr; magnets t finished NdFeB/yr)."""
        key = (sector, self.month, self._capacity_version)
        if key not in self._capacity_cache:
            if len(self._capacity_cache) > 8:
                self._capacity_cache.clear()
            self._capacity_cache[key] = self._stage_capacity(sector)
        return self._capacity_cache[key]

    def heavy_frac(self) -> np.ndarray:
        """Share of each nation's separation capacity that can separate the heavy elements (0–1)."""
        on = self.plant_stage == 1
        ramp = self._ramp(self.plant_online)
        heavy = np.bincount(self.plant_nation[on], (self.plant_capacity * ramp * self.plant_heavy)[on],
                            minlength=self.n_nations)
        total = np.bincount(self.plant_nation[on], (self.plant_capacity * ramp)[on], minlength=self.n_nations)
        return np.divide(heavy, total, out=np.zeros(self.n_nations), where=total > 0)

    def _base_utilisation(self) -> np.ndarray:
        """Base-year utilisation per stage and nation (3, N): output over nameplate, from the tables."""
        w = self.world
        util = np.full((3, self.n_nations), 1.0 / (1.0 + self.p.capacity_headroom_frac))
        running = np.array([s == "operating" for s in w.plant_status])
        for k in (1, 2):
            on = running & (self.plant_stage == k)
            out = np.bincount(self.plant_nation[on], w.plant_output_t_per_yr[on], minlength=self.n_nations)
            cap = np.bincount(self.plant_nation[on], self.plant_capacity[on], minlength=self.n_nations)
            util[k] = np.where((cap > 0) & (out > 0), np.clip(out / np.maximum(cap, 1e-9), 0.05, 1.0), util[k])
        return util

    def _stage_capacity(self, sector: str) -> np.ndarray:
        if sector == "mining":
            return np.bincount(self.dep_nation, self.dep_capacity * self._ramp(self.dep_online),
                               minlength=self.n_nations)
        k = STAGE_INDEX[sector]
        on = (self.plant_stage == k)
        cap = np.bincount(self.plant_nation[on], (self.plant_capacity * self._ramp(self.plant_online))[on],
                          minlength=self.n_nations)
        return cap * self.p.magnet_yield_frac if sector == "magnets" else cap

    def stage_output_t(self, sector: str) -> np.ndarray:
        """Last month's output per nation for an upstream stage."""
        if sector == "mining":
            return self.mined_t.sum(axis=1)
        if sector == "separation":
            return self.separated_t.sum(axis=1)
        return self.magnets_made_t

    def stockpile_reo_t(self) -> np.ndarray:
        return self.stockpile_t @ self.reo_content

    def total_stocks_by_element(self) -> np.ndarray:
        """Every tonne held anywhere in the chain, per element (for the mass balance)."""
        held_goods = (self.user + self.stockpile_t + self.transit.sum(axis=(0, 1))).sum(axis=0)
        total = held_goods @ self.element_content
        total += (self.conc + self.feed + self.oxide + self.maker_oxide + self.spec_t).sum(axis=0)
        total += self.magnets.sum() * self.world.magnet_recipe_t_per_t
        return total

    def zone_price(self, good: int) -> np.ndarray:
        """Price per nation for a good: the price of the nation's zone (USD/kg)."""
        return self.price[self.zone, good]

    def _producer_prices(self) -> np.ndarray:
        """Prices (N, G) producers receive: their zone's price, raised by any guaranteed floor."""
        prices = self.price[self.zone]
        floors = self.controls.producer_floor_usd_per_kg[1:].T          # (N, G)
        return np.maximum(prices, floors)

    def _deposit_margin(self) -> np.ndarray:
        value = (self.dep_mix * self._producer_prices()[self.dep_nation, :E]).sum(axis=1)
        return value * self.p.concentrate_payability_frac - self.dep_cost

    def _separation_margin(self) -> np.ndarray:
        mix = self.feed / np.maximum(self.feed.sum(axis=1, keepdims=True), 1e-9)
        mix = np.where(self.feed.sum(axis=1, keepdims=True) > 0, mix, self._world_mix())
        value = (mix * self._producer_prices()[:, :E]).sum(axis=1)
        return value * (1 - self.p.concentrate_payability_frac) - self.p.separation_cost_usd_per_kg

    def _magnet_margin(self) -> np.ndarray:
        pr = self._producer_prices()
        oxide_cost = pr[:, :E] @ self.world.magnet_recipe_t_per_t
        return pr[:, MAG] - oxide_cost - self.p.magnet_conversion_cost_usd_per_kg

    def _world_mix(self) -> np.ndarray:
        cap = self.dep_capacity * (self.dep_online < 10**9)
        mix = cap @ self.dep_mix
        return mix / max(mix.sum(), 1e-9)

    def expected_margin_frac(self, sector: str) -> np.ndarray:
        """Average margin over cost of the last months, per nation (dimensionless)."""
        return self.margin_ema[STAGE_INDEX[sector]]

    def investment_signal(self, sector: str, nation: int) -> float:
        """0–1: how short the market this nation sells into has been (shortage, tight capacity, prices)."""
        return float(self.signal[STAGE_INDEX[sector], self.zone[nation]])

    def _update_signals(self) -> None:
        """Scarcity signals per stage and zone, computed once a month for every investor.

        Mines and separators read the two-year average price of the magnet oxides against the
        base year, magnet makers that of NdFeB; tight utilisation and shortages add to both.
        """
        p = self.p
        tight = (self.util_ema - p.investment_util_threshold_frac) / (1.0 - p.investment_util_threshold_frac)
        avg = self.price_hist.mean(axis=0) / self.anchor                      # (zone, G)
        oxides = np.log(avg[:, MAGNET_PRICE_GOODS[:-1]].mean(axis=1))        # (zone,)
        magnets = np.log(avg[:, MAG])
        scarcity = np.stack([oxides, oxides, magnets])                       # (stage, zone)
        shortage = self.shortage_ema[None] / p.investment_shortage_trigger_frac
        self.signal = np.clip(tight[:, None] + shortage + scarcity, 0.0, 1.0)

    # ------------------------------------------------------------ investment
    def commission(self, sector: str, nation: int, size_frac: float, capacity_t: float | None = None,
                   mix_deposit: int | None = None, offtake_to: int | None = None,
                   offtake_frac: float = 0.0) -> bool:
        """Start a project; it delivers after the stage's lead time. Returns whether one started."""
        p, c = self.p, self.controls
        if sector == "mining":
            lead = int(p.lead_time_mine_months)
            idle = [i for i in np.flatnonzero((self.dep_nation == nation) & (self.dep_online >= 10**9))
                    if i not in self.dep_planned or self.dep_finance_at[i] >= 10**9]
            if capacity_t is None and idle:
                i = max(idle, key=lambda k: self.world.deposit_capacity_t_per_yr[k])
                self.dep_online[i] = self.month + lead
                self.dep_finance_at[i] = 10**9
            else:
                own = np.flatnonzero(self.dep_nation == nation)
                if mix_deposit is None and not len(own):
                    return False
                src = mix_deposit if mix_deposit is not None else own[np.argmax(self.dep_capacity[own])]
                cap = capacity_t or max(p.investment_step_frac * self.dep_capacity[own].sum() * size_frac,
                                        p.min_mine_project_t_per_yr)
                self._add_deposit(nation, src, cap, self.month + (lead if capacity_t else lead // 2))
        else:
            k = STAGE_INDEX[sector]
            lead = p.lead_time_separation_months if k == 1 else p.lead_time_magnet_months
            lead = int(round(lead * c.lead_time_multiplier[nation]))
            typical = p.typical_separation_plant_t_per_yr if k == 1 else p.typical_magnet_plant_t_per_yr
            cap = capacity_t or max(typical, self.stage_capacity_t_per_yr(sector)[nation]) \
                * p.investment_step_frac * size_frac
            heavy = bool(k == 1 and self.heavy_frac()[nation] > 0)       # builds what it already runs
            self.plant_nation = np.append(self.plant_nation, nation)
            self.plant_stage = np.append(self.plant_stage, k)
            self.plant_capacity = np.append(self.plant_capacity, cap)
            self.plant_heavy = np.append(self.plant_heavy, heavy)
            self.plant_online = np.append(self.plant_online, self.month + lead)
            self.plant_finance_at = np.append(self.plant_finance_at, 10**9)
        self._capacity_version += 1
        if offtake_to is not None and offtake_frac > 0:
            self.offtake[nation, offtake_to] = max(self.offtake[nation, offtake_to], offtake_frac)
        return True

    def _add_deposit(self, nation: int, src: int, capacity: float, online: int) -> None:
        self.dep_nation = np.append(self.dep_nation, nation)
        self.dep_mix = np.vstack([self.dep_mix, self.dep_mix[src]])
        self.dep_cost = np.append(self.dep_cost, self.dep_cost[src])
        self.dep_capacity = np.append(self.dep_capacity, capacity)
        self.dep_util = np.append(self.dep_util, self.dep_base_util[src])
        self.dep_base_util = np.append(self.dep_base_util, self.dep_base_util[src])
        self.base_margin_dep = np.append(self.base_margin_dep, self.base_margin_dep[src])
        self.dep_online = np.append(self.dep_online, online)
        self.dep_finance_at = np.append(self.dep_finance_at, 10**9)
        self.dep_is_clay = np.append(self.dep_is_clay, self.dep_is_clay[src])

    def _finance_announced_projects(self) -> None:
        """Announced projects whose financing month has come: built on time, or retried later."""
        p = self.p
        self._capacity_version += 1
        for i in np.flatnonzero(self.dep_finance_at == self.month):
            prob = self.world.deposit_finance_prob[i] if i < len(self.world.deposit_finance_prob) else 0.5
            if self.rng_projects.random() < self._finance_prob(prob, self.dep_nation[i]):
                self.dep_online[i] = max(self.dep_planned.get(i, self.month), self.month + int(p.min_mine_build_months))
                self.dep_finance_at[i] = 10**9
            else:
                self.dep_finance_at[i] = self.month + int(p.project_retry_months)
        for i in np.flatnonzero(self.plant_finance_at == self.month):
            prob = p.plant_finance_prob
            if self.rng_projects.random() < self._finance_prob(prob, self.plant_nation[i]):
                self.plant_online[i] = max(self.plant_planned.get(i, self.month),
                                           self.month + int(p.min_plant_build_months))
                self.plant_finance_at[i] = 10**9
            else:
                self.plant_finance_at[i] = self.month + int(p.project_retry_months)

    def _finance_prob(self, base: float, nation: int) -> float:
        c = self.controls
        penalty = self.p.trade_restriction_finance_penalty_frac if self.hurdle_extra_frac[nation] > 0 else 0.0
        return float(np.clip(base * c.finance_prob_multiplier[nation] * (1.0 - penalty), 0.0, 1.0))

    def _start_deals(self) -> None:
        for ev in self.book.events:
            if isinstance(ev, InvestmentDeal) and month_index(ev.at) == self.month:
                host, investor = self.world.nations.index(ev.host), self.world.nations.index(ev.investor)
                if ev.capacity_t_per_yr <= 0 or self.rng_projects.random() >= self._finance_prob(ev.success_prob, host):
                    continue
                mix = self.world.deposit_names.index(ev.element_mix) if ev.element_mix else None
                if ev.stage == "mining" and mix is None:
                    own = np.flatnonzero(self.dep_nation == host)
                    mix = int(own[0]) if len(own) else 0
                self.commission(ev.stage, host, 1.0, capacity_t=ev.capacity_t_per_yr, mix_deposit=mix,
                                offtake_to=investor, offtake_frac=ev.offtake_frac)

    # ------------------------------------------------------------------ phases
    def step(self) -> None:
        """Advance one month."""
        self.month += 1
        self._advance(spin_up=False)
        self.recorder.record()
        if self.month >= self.end_month:
            self.running = False

    def _advance(self, spin_up: bool) -> None:
        """One month of the supply chain; in spin-up, prices and policy stay at the base year."""
        self._zero_month_outputs()
        stocks_before = self.total_stocks_by_element()
        if not spin_up:
            # quotas are spread over goods by usual exports: recent flows, or the base year's where
            # a control has held flows below what buyers want
            usual = np.maximum(self.flow_ema, self.base_flows_t)
            self.controls = self.book.controls(self.month, usual, self._export_values())
            self.china_tightness, self.china_tightness_by_good = self._china_tightness(usual)
            self.china_crackdown_frac = float(self.controls.lost_frac[0, self.china])
            self._fire_reactions()
            self._apply_trade_status()
            self._start_deals()
            self._finance_announced_projects()
        self._plan_demand()
        self._mine()
        self._trade_concentrate_and_separate()
        self._trade_oxides_and_make_magnets()
        self._trade_magnets()
        self._use()
        if not spin_up:
            self._update_prices()
            self._update_signals()
            self.upstream_set.do("plan_investment")
        inputs = self.mined_t.sum(axis=0) + self.recycled_t.sum(axis=0)
        outputs = self.consumed_elements_t + self.month_losses_t
        self.mass_balance_error_t = inputs - outputs - (self.total_stocks_by_element() - stocks_before)

    def _spin_up(self) -> None:
        """Run the base year at fixed prices until stocks and flows settle; their cover is 'normal'.

        Prices then respond to departures from this base-year balance, so the
        structural surplus of Ce and La at 2024 prices is the starting point
        rather than a shock (initialisation in equilibrium). Controls already in force in the
        first month (e.g. the 2009 export duty and quota of the backtest) are the status quo:
        they apply in the second half of the spin-up, so the run starts settled under them.
        """
        in_force = tuple(repr(ev) for ev in self.spec.events if ev.active(self.start_month))
        key = (str(self.world.directory), self.start_month, tuple(sorted(self.p.items())), in_force)
        if key in _SPIN_UP_CACHE:
            self._restore(_SPIN_UP_CACHE[key])
            return
        self.month = self.start_month - SPIN_UP_MONTHS - 1
        for k in range(SPIN_UP_MONTHS):
            self.month += 1
            if in_force and k == SPIN_UP_MONTHS // 2:
                self.controls = self.book.controls(self.start_month, self.flow_ema, self._export_values())
            self._advance(spin_up=True)
        self.normal_cover = self._zone_cover()
        self.base_flows_t = self.flow_ema.copy()
        self.export_bind = self._china_exports_bound().astype(float)
        self.month = self.start_month - 1
        self.losses_t[:] = 0.0
        for nation in self.nation_agents:
            nation.released_t = 0.0
        if len(_SPIN_UP_CACHE) >= SPIN_UP_CACHE_SIZE:
            _SPIN_UP_CACHE.pop(next(iter(_SPIN_UP_CACHE)))
        _SPIN_UP_CACHE[key] = {k: copy.deepcopy(getattr(self, k)) for k in SPUN_STATE}

    def _restore(self, snapshot: dict) -> None:
        """Take the settled base-year state from an earlier, identical spin-up (it draws no random numbers)."""
        for k, v in snapshot.items():
            setattr(self, k, copy.deepcopy(v))
        self.month = self.start_month - 1

    def _export_values(self) -> np.ndarray:
        """What a tonne of export quota earns on each market good (USD/kg): how licence holders rank exports.

        The earning is the gap between the price abroad and at home net of the export duty (the quota
        rent), and at least the normal trading margin (``base_friction_frac`` of the price abroad), so
        before any gap opens goods rank by value; once it opens, quota moves to where the rent is.
        """
        outside = self.price[OUTSIDE_ZONE]
        rent = np.maximum(self._quota_rent(), self.p.base_friction_frac * outside)
        ore = float(self._world_mix() @ outside[:E]) * self.p.concentrate_payability_frac
        return np.concatenate([[ore * self.p.base_friction_frac], rent])

    def _quota_rent(self) -> np.ndarray:
        """Per oxide and NdFeB (G,): price abroad less the home price and China's export duty (USD/kg)."""
        duty = self.controls.duty_frac[1:, self.china]
        return self.price[OUTSIDE_ZONE] - self.price[CHINA_ZONE] * (1.0 + duty)

    @property
    def last_flows(self) -> dict[str, np.ndarray]:
        """Last month's trade flows (t) by market: ``ore``, ``oxide`` (all elements), ``magnet`` [exporter, importer]."""
        return {k: v.copy() for k, v in self._last_flows.items()}

    @property
    def last_oxide_flows(self) -> np.ndarray:
        """Last month's oxide flows per element (t), shape (E, exporter, importer)."""
        return self._oxide_flows.copy()

    def _apply_trade_status(self) -> None:
        """Extra hurdle where the US still restricts trade (Jackson–Vanik, sanctions)."""
        status = self.controls.trade_status
        if self.usa is None or status is None:
            return
        restricted = status[self.usa] >= 1
        self.hurdle_extra_frac = np.where(restricted, self.p.trade_restriction_hurdle_frac, 0.0)

    def _growth_factor(self) -> np.ndarray:
        """End-use output relative to the start of the run (the world's base year), per sector."""
        w, p = self.world, self.p
        years = max((self.month - self.start_month) / 12.0, 0.0)
        first, later = min(years, 6.0), max(years - 6.0, 0.0)
        g1 = w.growth_frac_per_yr_2024_2030 * p.demand_growth_scale
        g2 = w.growth_frac_per_yr_2030_2050 * p.demand_growth_scale
        ev = self.sector_index["ev_motors"]
        g1[ev] *= p.ev_growth_scale
        g2[ev] *= p.ev_growth_scale
        return (1.0 + g1) ** first * (1.0 + g2) ** later

    def _plan_demand(self) -> None:
        """Material need per nation, sector and good: growth, price response, thrifting, shocks."""
        p = self.p
        scale = self._growth_factor()[None, :] * self.controls.demand_multiplier
        if self.month >= self.start_month:       # the spin-up is deterministic (and so shareable)
            noise = 1.0 + p.demand_noise_sd_frac * self.rng_demand.standard_normal((self.n_nations, len(SECTORS)))
            scale = scale * np.clip(noise, 0.5, 1.5)
        price_ratio = self.price / self.anchor                            # (zone, G)
        # backstop technologies (ferrite, induction motors, Dy-free grades) are priced against
        # today's (2024) rare-earth prices, whatever the world's base year
        choke = p.choke_price_ratio * self.world.backstop_reference_usd_per_kg
        response = price_ratio ** p.demand_price_elasticity / (1.0 + (self.price / choke) ** 2)
        response *= 1.0 + (self.anchor / choke) ** 2                        # = 1 at base-year prices
        factor = (self.intensity * response[:, None, :])[self.zone]     # (N, S, G)
        self.need_t = self.base_need * scale[:, :, None] * factor

    def _mine(self) -> None:
        p, c = self.p, self.controls
        margin = self._deposit_margin()
        target = target_utilisation(margin, self.base_margin_dep, self.dep_cost, self.dep_base_util,
                                    p.util_margin_scale_frac, p.util_min_frac)
        cover = self.conc.sum(axis=1)[self.dep_nation] / np.maximum(
            self._mine_potential().sum(axis=1)[self.dep_nation], 1e-9)
        target = target * surplus_brake(cover, p.surplus_cover_months, p.util_min_frac)
        self.dep_util += p.util_adjust_rate_per_month * (target - self.dep_util)
        out = self.dep_capacity * self._ramp(self.dep_online) / 12 * self.dep_util
        out *= 1.0 - c.lost_frac[0, self.dep_nation]
        by_nation = np.bincount(self.dep_nation, out, minlength=self.n_nations)
        quota = c.mining_quota_t_per_yr.copy()
        scale = np.minimum(1.0, np.divide(quota / 12, by_nation, out=np.ones(self.n_nations),
                                          where=by_nation > 0))
        out *= scale[self.dep_nation]
        out = self._china_quota(out)
        mined = np.zeros((self.n_nations, E))
        np.add.at(mined, self.dep_nation, out[:, None] * self.dep_mix)
        # undocumented Chinese output, more when prices outside China run above those inside
        ratio = float(np.clip((self.price[OUTSIDE_ZONE, :E] @ self._world_mix())
                              / max(self.price[CHINA_ZONE, :E] @ self._world_mix(), 1e-9), 0.5, 2.0))
        illegal = (p.illegal_supply_frac * p.china_mining_quota_t_per_yr / 12 * ratio ** p.illegal_price_elasticity
                   * (1.0 - c.lost_frac[0, self.china]))                # crackdowns hit illegal mines too
        clay = self.dep_is_clay & (self.dep_nation == self.china)
        mix = (self.dep_capacity[clay] @ self.dep_mix[clay]) if clay.any() else mined[self.china]
        self.undocumented_t = illegal * mix / max(mix.sum(), 1e-9)
        mined[self.china] += self.undocumented_t
        self.mined_t = mined
        self.conc += mined

    def _china_quota(self, out: np.ndarray) -> np.ndarray:
        """Cap China's documented mine output by MIIT's two quotas (t REO/yr).

        The ion-adsorption (heavy) quota has stayed flat while the rock (light) quota grows each
        year and faster when NdPr prices inside China are high; an event ``production_quota``
        for CHN replaces the total.
        """
        p = self.p
        china = self.dep_nation == self.china
        clay, rock = china & self.dep_is_clay, china & ~self.dep_is_clay
        years = max((self.month - self.start_month) / 12.0, 0.0)
        ndpr = [ELEMENTS.index("Nd"), ELEMENTS.index("Pr")]
        tight = max(float(np.log(self.price[CHINA_ZONE, ndpr].mean() / self.anchor[CHINA_ZONE, ndpr].mean())), 0.0)
        clay_quota = p.china_clay_quota_t_per_yr
        rock_quota = ((p.china_mining_quota_t_per_yr - clay_quota)
                      * (1 + p.china_quota_growth_frac_per_yr) ** years * (1 + p.china_quota_price_response * tight))
        override = self.controls.mining_quota_t_per_yr[self.china]
        if np.isfinite(override):
            share = clay_quota / p.china_mining_quota_t_per_yr
            clay_quota, rock_quota = override * share, override * (1 - share)
        out = out.copy()
        for group, quota in ((clay, clay_quota), (rock, rock_quota)):
            total = out[group].sum() * 12
            if total > quota > 0 or quota == 0:
                out[group] *= quota / total if total > 0 else 0.0
        return out

    def _trade_concentrate_and_separate(self) -> None:
        p, c = self.p, self.controls
        cap = self.stage_capacity_t_per_yr("separation") / 12 * (1 - c.lost_frac[1])
        margin = self._separation_margin()
        util_t = target_utilisation(margin, self.base_margin_sep,
                                    np.full(self.n_nations, p.separation_cost_usd_per_kg), self.base_util[1],
                                    p.util_margin_scale_frac, p.util_min_frac)
        worth = self.price[self.zone, :E]                                 # value-weighted: surplus Ce
        oxide_cover = (self.oxide * worth).sum(1) / np.maximum((self.sales_ema * worth).sum(1), 1e-9)
        util_t = util_t * surplus_brake(oxide_cover, p.surplus_cover_months, p.util_min_frac)
        plan = cap * util_t
        supply = self.conc.sum(axis=1)
        order = inventory_order_t(plan, self.feed.sum(axis=1), 1.0, 2.0)
        comp = self.conc / np.maximum(supply[:, None], 1e-12)
        # concentrates differ in grade, so buyers compare delivered cost per dollar of contained
        # value: every source is priced at the same payable value and differs only by freight,
        # duties, tariffs and risk
        value = (comp * self.price[self.zone, :E]).sum(axis=1) * p.concentrate_payability_frac
        payable = np.full(self.n_nations, np.average(value, weights=np.maximum(supply, 1e-12)))
        res = self._clear(ORE, payable[None], supply[None], order[None])
        flows = res.flows_t[0]
        moved = flows[:, :, None] * comp[:, None, :]                     # (exp, imp, E)
        self.conc -= moved.sum(axis=1)
        self.feed += moved.sum(axis=0)
        self._last_flows["ore"] = flows
        # separation: every element of the feed comes out together (joint production); plants
        # without a heavy-REE circuit pass Sm..Y on as a mixed heavy concentrate for sale
        feed_total = self.feed.sum(axis=1)
        run = np.minimum(feed_total, plan)
        frac = np.divide(run, feed_total, out=np.zeros_like(run), where=feed_total > 0)
        processed = self.feed * frac[:, None]
        self.feed -= processed
        separable = np.where(HEAVY_MASK[None], self.heavy_frac()[:, None], 1.0)
        self.separated_t = processed * separable
        self.conc += processed - self.separated_t
        self.oxide += self.separated_t
        self.recycled_t = p.recycling_rate_frac * (self.use_ema @ self.element_content)
        self.oxide += self.recycled_t
        # surplus beyond the storage limit goes to tailings (recorded loss)
        limit = p.surplus_cover_months * np.maximum(self.sales_ema, self.separated_t)
        excess = p.surplus_disposal_rate_per_month * np.maximum(self.oxide - limit, 0.0)
        self.oxide -= excess
        self.month_losses_t = excess.sum(axis=0)
        self.losses_t += self.month_losses_t
        self.util_ema[1] += self.p.memory_frac * (run.sum() / max(cap.sum(), 1e-9) - self.util_ema[1])

    def _trade_oxides_and_make_magnets(self) -> None:
        p, c = self.p, self.controls
        recipe = self.world.magnet_recipe_t_per_t
        growth = self._expected_growth_per_yr()                          # (zone, G)
        stretched = self.price / self.price_hist.mean(axis=0) > p.hoarding_price_ceiling_ratio
        growth = np.where(stretched, 0.0, growth)
        hoard = hoard_multiple(growth, p.hoarding_sensitivity, p.hoarding_max_multiple)[self.zone]
        cover = p.target_cover_months * hoard                            # (N, G)
        need = self.need_t.sum(axis=1)                                   # (N, G)
        self.user_order = inventory_order_t(need, self.user, cover, p.stock_adjust_months)
        # magnet makers plan from their sales, margins and capacity
        cap = self.stage_capacity_t_per_yr("magnets") / 12 * (1 - c.lost_frac[2])
        util = target_utilisation(self._magnet_margin(), self.base_margin_mag,
                                  np.full(self.n_nations, p.magnet_conversion_cost_usd_per_kg),
                                  self.base_util[2],
                                  p.util_margin_scale_frac, p.util_min_frac)
        wanted = inventory_order_t(self.magnet_sales_ema, self.magnets, 1.0, 2.0)
        self.magnet_plan = np.minimum(cap * util, wanted)
        maker_need = self.magnet_plan[:, None] * recipe[None]
        self.maker_need = maker_need
        maker_order = inventory_order_t(maker_need, self.maker_oxide, cover[:, :E], p.stock_adjust_months)
        self.pile_order = np.array([a.stockpile_orders_t(self.use_ema[a.index]) for a in self.nation_agents])
        use = need[:, :E] + maker_need
        spec_buy, spec_sell = self._speculate(use, self._zone_stock()[:, :E])
        orders = np.stack([self.user_order[:, :E], maker_order, self.pile_order[:, :E], spec_buy])  # (4, N, E)
        total = orders.sum(axis=0)
        offered = self.oxide + spec_sell
        res = self._clear(slice(1, 1 + E), self.price[self.zone, :E].T, offered.T, total.T, use.T)
        sold = res.sold_t.T
        by_traders = sold * np.divide(spec_sell, offered, out=np.zeros_like(offered), where=offered > 0)
        self.spec_t -= by_traders
        self.oxide -= sold - by_traders
        self.sales_ema += self.p.memory_frac * (sold - by_traders - self.sales_ema)
        self._deliver(res, orders, slice(0, E))
        self._note_zone_market(res, total.T, slice(0, E))
        self._last_flows["oxide"] = res.flows_t.sum(axis=0)
        self._oxide_flows = res.flows_t
        # magnet making limited by the scarcest recipe element
        limit = np.min(np.where(recipe > 0, self.maker_oxide / np.where(recipe > 0, recipe, 1.0), np.inf),
                       axis=1)
        made = np.clip(np.minimum(self.magnet_plan, limit), 0.0, None)
        self.maker_short = np.maximum(self.maker_need - self.maker_oxide, 0.0)
        self.maker_oxide -= made[:, None] * recipe[None]
        self.maker_oxide = np.maximum(self.maker_oxide, 0.0)
        self.magnets += made
        self.magnets_made_t = made
        self.util_ema[2] += self.p.memory_frac * (made.sum() / max(cap.sum(), 1e-9) - self.util_ema[2])

    def _speculate(self, use_t: np.ndarray, zone_stock_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Traders' buy orders and sell offers per nation and oxide (N, E).

        Each zone's traders decide on the zone's totals; their orders are placed through the
        zone's nations in proportion to use, their sales come from where they hold the stock.
        """
        buy, sell = np.zeros_like(use_t), np.zeros_like(use_t)
        if self.month < self.start_month:                    # the spin-up has no speculators
            return buy, sell
        for trader in self.trader_agents:
            in_zone = self.zone == trader.zone
            zone_use, held = use_t[in_zone].sum(axis=0), self.spec_t[in_zone].sum(axis=0)
            trader.decide(zone_stock_t[trader.zone], held, zone_use)
            buy[in_zone] = trader.buy_t * np.divide(use_t[in_zone], zone_use, out=np.zeros_like(use_t[in_zone]),
                                                    where=zone_use > 0)
            sell[in_zone] = trader.sell_t * np.divide(self.spec_t[in_zone], held,
                                                      out=np.zeros_like(use_t[in_zone]), where=held > 0)
        return buy, sell

    def _trade_magnets(self) -> None:
        pile = self.pile_order[:, MAG]
        orders = np.zeros((4, self.n_nations, 1))
        orders[0, :, 0] = self.user_order[:, MAG]
        orders[2, :, 0] = pile
        total = orders.sum(axis=0)
        res = self._clear(slice(1 + E, 2 + E), self.price[self.zone, MAG][None], self.magnets[None],
                          total.T, self.need_t[:, :, MAG].sum(axis=1)[None])
        self.magnets -= res.sold_t[0]
        self.magnet_sales_ema += self.p.memory_frac * (res.sold_t[0] - self.magnet_sales_ema)
        self._deliver(res, orders, slice(MAG, MAG + 1))
        self._note_zone_market(res, total.T, slice(MAG, MAG + 1))
        self._last_flows["magnet"] = res.flows_t[0]
        self._magnet_flows = res.flows_t

    def _clear(self, goods, price, supply, demand, licence_base=None) -> market.Clearing:
        """Clear market goods ``goods`` (slice/int on the policy axis) with the month's controls."""
        c, p = self.controls, self.p
        idx = np.arange(c.pair_cap_frac.shape[0])[goods]
        idx = np.atleast_1d(idx)
        friction = p.base_friction_frac * (1 - np.eye(self.n_nations)) + c.friction_frac
        cost = market.delivered_cost(price, self.freight, c.tariff_frac[idx], c.duty_frac[idx], c.risk_frac)
        cost = cost * (1.0 + np.maximum(friction, 0.0))[None] * (1.0 - p.offtake_cost_cut_frac * self.offtake)[None]
        quota = c.export_quota_t[idx].copy()
        if np.isfinite(quota[:, self.china]).any():
            quota[:, self.china] += self._smuggling_allowance(idx)
        res = market.clear_markets(supply, demand, cost, c.pair_cap_t[idx], quota,
                                   pair_cap_frac=c.pair_cap_frac[idx], licence_base_t=licence_base,
                                   logit_beta=p.logit_beta, export_first=self._export_first(idx))
        self.flow_ema[idx] += self.p.memory_frac * (res.flows_t - self.flow_ema[idx])
        self._last_delay = c.licence_delay_months[idx]
        ch, goods = self.china, idx >= 1                                  # oxides and magnet (not ore)
        exported = res.flows_t[goods, ch, :].sum(axis=1) - res.flows_t[goods, ch, ch]
        china_quota = quota[goods, ch]
        self.china_quota_fill[idx[goods] - 1] = np.where(np.isfinite(china_quota),
                                                         exported / np.maximum(china_quota, 1e-9), 0.0)
        return res

    def _export_first(self, idx: np.ndarray) -> np.ndarray:
        """(goods, N): where China's sellers get more from export buyers than from home buyers.

        Buyers abroad pay the outside price, of which the seller keeps what the export duty
        leaves (trading costs fall on the buyer's side); where that beats the home price, holders
        of export licences outbid home buyers for China's goods, up to the quota.
        """
        first = np.zeros((len(idx), self.n_nations), dtype=bool)
        goods = idx >= 1                                                  # oxides and magnet (not ore)
        first[goods, self.china] = self._quota_rent()[idx[goods] - 1] > 0.0
        return first

    def _smuggling_allowance(self, idx: np.ndarray) -> np.ndarray:
        """The smuggled share of undocumented output leaves China outside the quota (per market good)."""
        allowance = np.zeros(len(idx))
        for k, g in enumerate(idx):
            if 1 <= g <= E:
                allowance[k] = self.p.smuggled_share_frac * self.undocumented_t[g - 1]
        return allowance

    def _deliver(self, res: market.Clearing, orders: np.ndarray, goods: slice) -> None:
        """Split deliveries to each nation among its buyers; licensed flows wait in transit."""
        delay = self._last_delay                                          # (g, exp, imp)
        now = np.where(delay == 0, res.flows_t, 0.0).sum(axis=1).T       # (N, g)
        total = orders.sum(axis=0)
        share = np.divide(orders, total[None], out=np.zeros_like(orders), where=total[None] > 0)
        for slot in np.unique(delay[delay > 0]):
            later = np.where(delay == slot, res.flows_t, 0.0).sum(axis=1).T
            self.transit[min(slot, TRANSIT_SLOTS - 1), :, :, goods] += share * later[None]
        arrived = share * now[None]
        if goods.start < E:
            self.user[:, goods] += arrived[0]
            self.maker_oxide += arrived[1]
            self.spec_t += arrived[3]
        else:
            self.user[:, goods] += arrived[0]
        self.stockpile_t[:, goods] += arrived[2]

    def _note_zone_market(self, res: market.Clearing, orders: np.ndarray, goods: slice) -> None:
        ch = self.china
        offered = res.unsold_t[:, ch] + res.flows_t[:, ch, :].sum(axis=1)
        self.china_unsold_frac[goods] = res.unsold_t[:, ch] / np.maximum(offered, 1e-9)
        for z in (CHINA_ZONE, OUTSIDE_ZONE):
            in_zone = self.zone == z
            self.unmet_zone[z, goods] = res.unmet_t[:, in_zone].sum(axis=1)
            self.orders_zone[z, goods] = orders[:, in_zone].sum(axis=1)

    def _use(self) -> None:
        """Deliveries in transit arrive; users consume; nations release stockpiles into shortfalls."""
        arrived = self.transit[0]
        self.transit = np.roll(self.transit, -1, axis=0)
        self.transit[-1] = 0.0
        self.user += arrived[0]
        self.maker_oxide += arrived[1, :, :E]
        self.stockpile_t += arrived[2]
        self.spec_t += arrived[3, :, :E]
        need = self.need_t.sum(axis=1)                                   # (N, G)
        shortfall = np.maximum(need - self.user, 0.0)
        for a in self.nation_agents:
            if shortfall[a.index].any() and self.stockpile_t[a.index].any():
                out = a.release_t(shortfall[a.index], need[a.index])
                self.stockpile_t[a.index] -= out
                self.user[a.index] += out
                self.released_t[a.index] = out
        fill = market.ration(need, self.user)
        used = self.need_t * fill[:, None, :]
        self.user -= used.sum(axis=1)
        self.user = np.maximum(self.user, 0.0)
        reo = self.reo_content
        self.consumed_t_by_sector = used @ reo
        self.shortage_t_by_sector = (self.need_t - used) @ reo
        used_goods = used.sum(axis=1)
        self.consumed_elements_t = used_goods.sum(axis=0) @ self.element_content
        self.use_ema += self.p.memory_frac * (used_goods - self.use_ema)
        # shortage that moves prices: end users' and magnet makers' unmet need for each good
        wanted, missing = need.copy(), need - used_goods
        wanted[:, :E] += self.maker_need
        missing[:, :E] += self.maker_short
        for z in (CHINA_ZONE, OUTSIDE_ZONE):
            in_zone = self.zone == z
            self.short_zone[z] = missing[in_zone].sum(axis=0) / np.maximum(wanted[in_zone].sum(axis=0), 1e-9)
        total_need = need @ reo
        short = (need - used_goods) @ reo
        for z in (CHINA_ZONE, OUTSIDE_ZONE):
            in_zone = self.zone == z
            frac = short[in_zone].sum() / max(total_need[in_zone].sum(), 1e-9)
            self.shortage_ema[z] += self.p.memory_frac * (frac - self.shortage_ema[z])

    def _expected_growth_per_yr(self) -> np.ndarray:
        """Adaptive expectation of price growth from the last three months (per zone and good)."""
        return 4.0 * np.log(self.price_hist[-1] / self.price_hist[-4])

    def _zone_stock(self) -> np.ndarray:
        """Tonnes on hand for the market in each zone, per good (zone, G).

        Sellers' and magnet makers' stocks count in full; users' stocks only up to their normal
        working cover, since what they hoard beyond it is held off the market: hoarding thins
        the market and bids prices up, and releasing the hoard brings them down.
        """
        normal = self.p.target_cover_months * self.need_t.sum(axis=1)
        held = np.minimum(self.user, normal)
        held[:, :E] += self.oxide + self.maker_oxide
        held[:, MAG] += self.magnets
        return np.stack([held[self.zone == z].sum(axis=0) for z in (CHINA_ZONE, OUTSIDE_ZONE)])

    def _zone_cover(self, stock_t: np.ndarray | None = None) -> np.ndarray:
        """Months of use held in each zone by sellers, magnet makers and users, per good.

        ``stock_t``: this month's ``_zone_stock()`` where the caller has it already.
        """
        monthly = self.need_t.sum(axis=1)
        monthly[:, :E] += self.magnet_plan[:, None] * self.world.magnet_recipe_t_per_t[None]
        use = np.stack([monthly[self.zone == z].sum(axis=0) for z in (CHINA_ZONE, OUTSIDE_ZONE)])
        world_use = use.sum(axis=0, keepdims=True)
        stock = self._zone_stock() if stock_t is None else stock_t
        return stock / np.maximum(use, 1e-3 * world_use + 1e-9)

    def _update_prices(self) -> None:
        p, c = self.p, self.controls
        held = self._zone_stock()
        cover = self._zone_cover(held)
        pressure = market.price_pressure(self.short_zone, cover, self.normal_cover,
                                         p.price_shortage_response, p.price_cover_response,
                                         p.max_scarcity_ratio)
        price = market.next_price(self.price, pressure, self.anchor, p.price_anchor_rate_per_month,
                                  p.price_max_step_frac, self.floor)
        # traders learn over a few months whether the controls hold goods back (licences come in batches)
        self.export_bind += (self._china_exports_bound() - self.export_bind) / p.export_bind_memory_months
        wedge = c.duty_frac[1:, self.china] + p.base_friction_frac
        inside_weight = held[CHINA_ZONE] / np.maximum(held.sum(axis=0), 1e-9)
        inside, outside = market.link_zone_prices(price[CHINA_ZONE], price[OUTSIDE_ZONE], self.export_bind,
                                                  wedge, p.arbitrage_rate_per_month, inside_weight[:G])
        self.price = np.maximum(np.stack([inside, outside]), self.floor)
        self.price_hist = np.roll(self.price_hist, -1, axis=0)
        self.price_hist[-1] = self.price
        self.intensity, self.intensity_low = update_intensity(
            self.intensity, self.intensity_low, (self.price / self.anchor)[:, None, :], self.max_sub,
            p.thrift_rate_per_month, p.thrift_price_ratio, p.thrift_rebound_frac)
        for k, sector in enumerate(UPSTREAM):
            margin = {"mining": None, "separation": self._separation_margin(),
                      "magnets": self._magnet_margin()}[sector]
            if sector == "mining":
                value = np.bincount(self.dep_nation, self._deposit_margin() / self.dep_cost,
                                    minlength=self.n_nations)
                count = np.bincount(self.dep_nation, minlength=self.n_nations)
                frac = np.divide(value, count, out=np.zeros(self.n_nations), where=count > 0)
            else:
                cost = p.separation_cost_usd_per_kg if sector == "separation" else p.magnet_conversion_cost_usd_per_kg
                frac = margin / cost
            self.margin_ema[k] += (frac - self.margin_ema[k]) / p.investment_memory_months
        self.util_ema[0] += self.p.memory_frac * (self.mined_t.sum() / max(self._mine_potential().sum() / max(
            self.dep_util.mean(), 1e-9), 1e-9) - self.util_ema[0])

    def _china_tightness(self, usual_t: np.ndarray) -> tuple[float, np.ndarray]:
        """How hard China's export controls bite, as traders read the news (log units).

        Returns the log ratio of usual exports to what quotas, bans and licences now allow,
        over all goods and per market good.
        """
        c, ch = self.controls, self.china
        usual = usual_t[:, ch, :].copy()                                  # (M goods, importers)
        usual[:, ch] = 0.0
        share = np.where(np.isfinite(c.pair_cap_frac[:, ch, :]), np.clip(c.pair_cap_frac[:, ch, :], 0.0, 1.0), 1.0)
        allowed = np.minimum(usual * share, c.pair_cap_t[:, ch, :]).sum(axis=1)
        allowed = np.minimum(allowed, c.export_quota_t[:, ch])
        total = usual.sum(axis=1)
        by_good = np.log(np.maximum(total, 1e-9) / np.maximum(allowed, 1e-9)) * (total > 0)
        overall = float(np.log(max(total.sum(), 1e-9) / max(allowed.sum(), 1e-9)))
        return overall, by_good

    def _china_exports_bound(self) -> np.ndarray:
        """Per good (oxides, magnet): are China's exports held back by a control this month?

        Held back means a control is in force, buyers outside went short, and either the
        export quota was used up or China had the goods but did not sell them all: the control,
        not a lack of stock, kept them home.
        """
        c = self.controls
        ch = self.china
        controlled = np.isfinite(c.export_quota_t[1:, ch]) | (
            np.isfinite(c.pair_cap_frac[1:, ch]) | np.isfinite(c.pair_cap_t[1:, ch])).any(axis=1)
        short_outside = self.unmet_zone[OUTSIDE_ZONE] / np.maximum(self.orders_zone[OUTSIDE_ZONE], 1e-9)
        p = self.p
        quota_used = self.china_quota_fill >= 1.0 - p.bind_unsold_frac
        held_back = (self.china_unsold_frac > p.bind_unsold_frac) | quota_used
        return controlled & (short_outside > p.bind_short_outside_frac) & held_back

    def _fire_reactions(self) -> None:
        """Conditional reactions: when a condition holds, schedule the reaction's event."""
        if not self.book.reactions or self.recorder.last is None:
            return
        for r in self.book.reactions:
            if r.once and r.name in self.book.fired:
                continue
            if holds(r.when, self.recorder.condition_value(r.when)):
                self.book.fired[r.name] = self.month
                ev = dict(r.then)
                ev["at"] = month_name(self.month + r.delay_months)
                if r.duration_months:
                    ev["until"] = add_months(ev["at"], r.duration_months)
                self.inject(ev, label=r.name)

    def inject(self, event: dict, label: str | None = None) -> None:
        """Add a policy event while the model runs (UI shock buttons, reactions)."""
        from sim.policy import EVENT_ADAPTER
        ev = dict(event)
        ev.setdefault("at", month_name(self.month + 1))
        self.book.add(EVENT_ADAPTER.validate_python(ev))
        self.shock_log.append((ev["at"], label or ev["type"]))

    def run_for(self, n: int) -> None:  # type: ignore[override]
        """Run ``n`` months, or until the scenario ends."""
        for _ in range(n):
            if not self.running:
                break
            self.step()

    def run(self) -> None:
        """Run to the end of the scenario (or ``until``)."""
        while self.running:
            self.step()


PARAMETER_NAMES = tuple(load_parameter_table())


def _public_signature() -> inspect.Signature:
    """The constructor's signature with every table parameter as an explicit keyword."""
    sig = inspect.signature(RareEarthModel.__init__)
    params = [p for p in sig.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    table = load_parameter_table()
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None)
               for name in PARAMETER_NAMES if name in table]
    return sig.replace(parameters=params)


RareEarthModel.__init__.__signature__ = _public_signature()  # type: ignore[attr-defined]
