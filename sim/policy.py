"""Policy: the book of a scenario's events, which turns the events in force in a month into controls.

:class:`PolicyBook` holds the scheduled and triggered events (schema in ``sim.policy_events``) and gives,
for any month, the arrays the markets read (pair caps, quotas, duties, tariffs, risk and hurdle
adjustments: ``sim.controls.Controls``). No Mesa import: the book is a pure function of the events, the
month and reference trade flows, so every instrument is testable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from sim.controls import Controls, goods_mask, split_quota_t
from sim.goods import MARKET_GOODS, element_index, market_index
from sim.policy_events import INVEST_STAGES, TRADE_STATUSES, _Traded
from sim.reactions import Reaction
from sim.world import SECTORS, World


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
