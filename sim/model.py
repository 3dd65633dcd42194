"""RareEarthModel: nations and industries mining, separating, trading and using rare earths.

One step is one month. The model is a Mesa shell that sequences the submodels of ``sim.chain`` in the
order of the ODD's schedule (section 3); each takes the state and this month's inputs explicitly and
returns what it produced. Agents decide (``agents/``), ``sim.market`` clears, ``sim.policy`` turns
scenario events into the controls the markets obey. The state lives in one :class:`ChainState`.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import mesa
import numpy as np

from agents.end_use import EndUseIndustry
from agents.plant import PlantIndustry
from agents.nation import NationAgent
from agents.trader import TraderAgent
from sim import market
from sim.calendar import month_index, month_name
from sim.chain import (china, demand, initial, investment, magnets, mining, orders, oxides, policy_month, prices,
                       projects, recipe, separation, spinup, trade, use)
from sim.chain.backstop import backstop_usd_per_kg
from sim.chain.capacity import stage_capacity_t_per_yr
from sim.chain.state import (CHINA_ZONE, OUTSIDE_ZONE, ChainState, ChinaNews, Month, mass_balance_t, need_by_good_t,
                             stocks_by_element_t)
from sim.errors import ConfigError
from sim.parameters import load_parameter_table
from sim.policy import PolicyBook
from sim.recording import Recorder
from sim.sanity import NEGATIVE_STOCK_TOL_T, check_month, price_ceilings_usd_per_kg
from sim.scenarios import Scenario, load_scenario, run_end, validate_event, with_extra_events
from sim.goods import GOODS
from sim.world import SECTORS, UPSTREAM, World, load_world


class RareEarthModel(mesa.Model):
    """The world rare-earth supply chain under policy shocks.

    Args:
        config: scenario name in ``configs/scenarios``, path to a TOML file, or a loaded ``Scenario``.
            (Not called ``scenario``: Mesa gives every model a ``scenario`` of its own.)
        seed: random seed (alias of ``rng``).
        rng: seed, ``numpy.random.Generator`` or ``SeedSequence`` (as ``mesa.batch_run`` passes).
        until: last month to simulate (``YYYY-MM``); defaults to the scenario's end.
        keep_flows: keep the per-month trade-flow matrices (for maps; off in sweeps).
        extra_events: additional policy events (dicts as in a scenario file).
        **params: overrides of any parameter in ``configs/parameters.csv``.
    """

    def __init__(self, config: str | Path | Scenario = "baseline", *, seed: int | None = None,
                 rng=None, until: str | None = None, keep_flows: bool = True,
                 extra_events: list[dict] | None = None, **params) -> None:
        super().__init__(rng=rng if rng is not None else seed)
        params = {k: v for k, v in params.items() if v is not None}
        # separate streams, both drawn from the model's seed, so that two scenarios run with the
        # same seed see the same demand noise even when one of them finances more projects
        self.rng_demand, self.rng_projects = self.rng.spawn(2)
        self.spec = config if isinstance(config, Scenario) else load_scenario(config)
        if extra_events:
            self.spec = with_extra_events(self.spec, extra_events)
        self.p = self.spec.resolved(params)
        self.world: World = load_world(self.spec.world_dir)
        self.seed = seed
        self.start_month = month_index(self.spec.start)
        self.end_month = month_index(run_end(self.spec, until, "until"))
        self.keep_flows = keep_flows
        self._price_ceiling_usd_per_kg = price_ceilings_usd_per_kg(backstop_usd_per_kg())
        self.book = PolicyBook(self.world, list(self.spec.events), list(self.spec.reactions),
                               base_friction_frac=self.p.base_friction_frac,
                               quota_value_tilt=self.p.quota_value_tilt)
        self.shock_log: list[tuple[str, str]] = []
        self.flows_history: list[dict[str, np.ndarray]] = []
        self.last_month: Month | None = None
        self._held_after: tuple | None = None       # (state, month, stocks by element) at the end of the last step
        self._create_agents()
        self.structure, state = initial.build(self.world, self.p, self.start_month, self.book)
        self.state: ChainState = spinup.settle(state, self.structure, self.p, self.book, self.start_month,
                                               self._spin_up_key(), self._spin_up_month)
        # controls already in force at the start are the status quo, not news to traders
        overall, by_good = china.tightness(self.state, self.structure)
        for trader in self.traders:
            trader.expect(overall, by_good, self.state.controls, self.structure.china)
        self.recorder = Recorder(self)
        self.datacollector = self.recorder.datacollector
        self.agent_datacollector = self.recorder.agent_datacollector     # yearly agent table
        self.running = True

    def _create_agents(self) -> None:
        w, n = self.world, len(self.world.nations)
        NationAgent.create_agents(self, n, index=list(range(n)))
        # every nation may build any upstream stage (new entrants such as Central Asia)
        PlantIndustry.create_agents(self, n * len(UPSTREAM), nation=[i for _ in UPSTREAM for i in range(n)],
                                    sector=[s for s in UPSTREAM for _ in range(n)])
        users = [(i, s) for i in range(n) for k, s in enumerate(SECTORS) if w.demand_t_reo_per_yr[i, k] > 0]
        EndUseIndustry.create_agents(self, len(users), nation=[i for i, _ in users], sector=[s for _, s in users])
        TraderAgent.create_agents(self, 2, zone=[CHINA_ZONE, OUTSIDE_ZONE])
        self.traders = list(self.agents_by_type[TraderAgent])
        self.plants = list(self.agents_by_type[PlantIndustry])

    def _spin_up_key(self) -> tuple:
        in_force = tuple(repr(ev) for ev in self.spec.events if ev.active(self.start_month))
        return str(self.world.directory), self.start_month, tuple(sorted(self.p.items())), in_force

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """Advance one month and record it."""
        self.state.month += 1
        self.last_month = self._advance(self.state, spin_up=False)
        self._check_possible()
        self.recorder.record()
        if self.state.month >= self.end_month:
            self.running = False

    def _check_possible(self) -> None:
        """Stop the run with a clear error (month, quantity) if its numbers leave the possible (``sim.sanity``).

        The stocks are handed to the check unless one compiled pass has found every one of them finite and
        above the negative-stock tolerance (then there is nothing for the check to find in them).
        """
        st = self.state
        kernels = market.chain_kernels()
        in_range = _stocks_in_range_numpy if kernels is None else kernels.stocks_in_range
        stocks = None if in_range(NEGATIVE_STOCK_TOL_T, st.conc, st.feed, st.oxide, st.maker_oxide, st.magnets,
                                  st.user, st.stockpile_t, st.spec_t, st.transit, st.transit_live) else {
            "conc_t": st.conc, "feed_t": st.feed, "oxide_t": st.oxide, "maker_oxide_t": st.maker_oxide,
            "magnets_t": st.magnets, "user_t": st.user, "stockpile_t": st.stockpile_t, "spec_t": st.spec_t,
            "transit_t": st.transit[st.transit_live]}
        check_month(self.current_month(), st.price, self._price_ceiling_usd_per_kg, stocks,
                    float(np.abs(self.last_month.mass_balance_error_t).max()), goods=GOODS,
                    held_t=float(self.last_month.held_t.sum()))

    def _spin_up_month(self, st: ChainState) -> Month:
        return self._advance(st, spin_up=True)

    def _held_before(self, st: ChainState) -> np.ndarray:
        """Every tonne held at the start of the month (E,): what the state held at the end of the last one
        (the steps in between only read it), else summed afresh."""
        last = self._held_after
        if last is not None and last[0] is st and last[1] == st.month - 1:
            return last[2]
        return stocks_by_element_t(st, self.structure)

    def _advance(self, st: ChainState, spin_up: bool) -> Month:
        """One month of the supply chain, in the order of the ODD's schedule (section 3).

        In the spin-up prices, policy and investment stay at the base year and there is no speculation.
        """
        fx, p, w = self.structure, self.p, self.world
        before = self._held_before(st)
        tightness = None
        if not spin_up:
            tightness = policy_month.set_controls(st, fx, p, self.book)
            if self.book.reactions and self.recorder.values is not None:
                policy_month.fire_reactions(self.book, st.month, self.recorder.condition_value, self.inject)
            projects.apply_trade_status(st, fx, p)
            projects.start_deals(st, fx, p, w, self.book.events, self.rng_projects)
            projects.finance_announced(st, p, w, self.rng_projects)
        need_t = demand.material_need_t(st, fx, w, p, self.start_month, None if spin_up else self.rng_demand)
        recipe.follow_application_mix(st, fx, need_t)
        mined = mining.mine(st, fx, p, self.start_month)
        sep = separation.trade_and_separate(st, fx, p, mined.undocumented_t)
        need_goods_t = need_by_good_t(need_t)                             # (N, G): every sector's need
        news = None if spin_up else ChinaNews(*tightness, undocumented_share=mined.undocumented_share)
        placed = orders.place_orders(st, fx, p, need_goods_t, w.stockpile_target_days, self.traders, news)
        ox = oxides.trade_oxides(st, fx, p, placed, need_goods_t, mined.undocumented_t)
        mag = magnets.trade_magnets(st, fx, p, placed, need_t, mined.undocumented_t)
        used = use.use(st, fx, p, need_t, need_goods_t, w.stockpile_target_days, placed.maker_need_t,
                       ox.maker_short_t)
        zones = trade.zone_market(fx, ox.trade, ox.orders_t, mag.trade, mag.orders_t)
        if not spin_up:
            prices.update(st, fx, p, need_goods_t, placed.maker_need_t, used.short_zone, zones)
            demand.thrift(st, fx, p)
            recipe.thrift_heavy(st, fx, p)
            investment.remember(st, fx, p, mined)
            signal = investment.update_signals(st, fx, p, w, need_t, self.start_month)
            investment.plan(st, fx, p, signal, self.plants, self.rng_projects, w)
        after = stocks_by_element_t(st, fx)
        consumed, error = mass_balance_t(mined.mined_t, sep.recycled_t, used.consumed_elements_t, ox.heavy_used_t,
                                         sep.losses_t, after, before)      # (Dy and Tb leave in making magnets)
        if not spin_up:
            self._held_after = (st, st.month, after)
        return Month(need_t=need_t, mined_t=mined.mined_t, undocumented_t=mined.undocumented_t,
                     separated_t=sep.separated_t, recycled_t=sep.recycled_t, losses_t=sep.losses_t,
                     magnets_made_t=ox.magnets_made_t, consumed_t_by_sector=used.consumed_t_by_sector,
                     shortage_t_by_sector=used.shortage_t_by_sector, consumed_elements_t=consumed,
                     released_t=used.released_t,
                     flows={"ore": sep.ore_flows_t, "oxide": ox.trade.res.total_over_goods_t(),
                            "oxide_by_element": ox.trade.res.flows_t, "magnet": mag.trade.res.flows_t[0]},
                     maker_need_t=placed.maker_need_t, zones=zones,
                     mass_balance_error_t=error, held_t=after, china_news=news)

    # ------------------------------------------------------------------ read API
    @property
    def month(self) -> int:
        """Index of the month last simulated (see ``sim.calendar``)."""
        return self.state.month

    def current_month(self) -> str:
        """The month last simulated, ``YYYY-MM`` (the month before the start if none yet)."""
        return month_name(self.state.month)

    def prices_usd_per_kg(self) -> dict[str, np.ndarray]:
        """Current prices per good (G,) in each zone: ``{"china": ..., "outside": ...}``."""
        return {"china": self.state.price[CHINA_ZONE].copy(), "outside": self.state.price[OUTSIDE_ZONE].copy()}

    @property
    def last_flows(self) -> dict[str, np.ndarray]:
        """Last month's trade flows (t) by market: ``ore``, ``oxide`` (all elements), ``magnet`` [exporter, importer]."""
        n = len(self.world.nations)
        if self.last_month is None:
            return {k: np.zeros((n, n)) for k in ("ore", "oxide", "magnet")}
        return {k: self.last_month.flows[k].copy() for k in ("ore", "oxide", "magnet")}

    @property
    def last_oxide_flows(self) -> np.ndarray:
        """Last month's oxide flows per element (t), shape (E, exporter, importer)."""
        return self.last_month.flows["oxide_by_element"].copy()

    def stage_capacity_t_per_yr(self, stage: str) -> np.ndarray:
        """Capacity online per nation for an upstream stage (t REO/yr; magnets t NdFeB/yr)."""
        return stage_capacity_t_per_yr(self.state.assets, stage, self.state.month, self.p,
                                       self.structure.n_nations).copy()

    def sector_output_t(self, sector: str) -> np.ndarray:
        """Last month's output per nation of an upstream stage, or consumption of an end-use sector (t REO)."""
        m, n = self.last_month, self.structure.n_nations
        if m is None:
            return np.zeros(n)
        if sector == "mining":
            return m.mined_t.sum(axis=1)
        if sector == "separation":
            return m.separated_t.sum(axis=1)
        if sector == "magnets":
            return m.magnets_made_t
        return m.consumed_t_by_sector[:, SECTORS.index(sector)]

    def sector_shortage_t(self, sector: str) -> np.ndarray:
        """Last month's unmet need per nation of an end-use sector (t REO)."""
        m = self.last_month
        return np.zeros(self.structure.n_nations) if m is None else m.shortage_t_by_sector[:, SECTORS.index(sector)]

    def stockpile_reo_t(self) -> np.ndarray:
        """Strategic stock per nation (N,), t REO content."""
        return self.state.stockpile_t @ self.structure.reo_content

    def total_stocks_by_element(self) -> np.ndarray:
        """Every tonne held anywhere in the chain, per element (for the mass balance)."""
        return stocks_by_element_t(self.state, self.structure)

    # ------------------------------------------------------------------ control
    def inject(self, event: dict, label: str | None = None) -> None:
        """Add a policy event while the model runs (UI shocks, reactions); it starts next month by default.

        Raises:
            ConfigError: the event breaks the scenario schema, or the run has ended (it takes no more
                shocks); the run is unchanged.
        """
        if not self.running:
            raise ConfigError("<inject>", "event", f"the run ended in {self.current_month()}: it takes no more "
                              "events", [f"an event while the run is running (until {month_name(self.end_month)})"])
        ev = dict(event)
        ev.setdefault("at", month_name(self.state.month + 1))
        self.book.add(validate_event(ev, self.world))
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


def _stocks_in_range_numpy(floor, conc, feed, oxide, maker_oxide, magnets, user, stockpile, spec, transit,
                           live) -> bool:
    """Whether every stock is finite, at least ``floor`` and sums to a finite total (``transit``'s slots
    flagged ``live`` only); the reference of ``sim.chain.kernels.stocks_in_range``."""
    stocks = (conc, feed, oxide, maker_oxide, magnets, user, stockpile, spec, transit[live])
    return all(bool(np.isfinite(v).all() and (v >= floor).all() and np.isfinite(v.sum())) for v in stocks)


PARAMETER_NAMES = tuple(load_parameter_table())


def _public_signature() -> inspect.Signature:
    """The constructor's signature with every table parameter as an explicit keyword."""
    sig = inspect.signature(RareEarthModel.__init__)
    params = [p for p in sig.parameters.values() if p.kind != inspect.Parameter.VAR_KEYWORD]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None) for name in PARAMETER_NAMES]
    return sig.replace(parameters=params)


RareEarthModel.__init__.__signature__ = _public_signature()  # type: ignore[attr-defined]
