"""The Simulate page's levers: scenario, seed and model parameters, described by configs/parameters.csv.

Every lever is a row of the parameter table (read through :func:`sim.parameters.load_parameter_table`):
its help text, unit, range and source come from there, never from this code. The ``lever`` rows are
always shown; any ``uncertainty`` row can be added. Levers travel in the page's URL
(``?scenario=baseline&seed=1&ev_growth_scale=1.5``) so that a link reproduces a run; a URL that names
an unknown scenario or parameter, or a value out of range, is refused with a message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

SHOWN_KINDS = ("lever",)
ADDABLE_KINDS = ("lever", "uncertainty")
SEED_RANGE = (0, 2**31 - 1)
UPLOAD_PREFIX = "upload: "


def shown_name(text: str) -> str:
    """A name typed or sent by the page, repeated in a message only when it is a plain name (no path)."""
    text = str(text)
    plain = text.replace("_", "").replace("-", "").replace(" ", "").replace(":", "").isalnum()
    return f"'{text[:60]}'" if plain else "the name given (a path, not a name)"


def parameter_table() -> dict:
    from sim.parameters import load_parameter_table
    return load_parameter_table()


def lever_names(kinds=SHOWN_KINDS) -> list[str]:
    """Names of the table's parameters of the given kinds, in table order."""
    return [name for name, p in parameter_table().items() if p.kind in kinds]


def shipped_scenarios() -> dict[str, str]:
    """{name: description} of the scenario files shipped in configs/scenarios (the only ones read by name)."""
    from sim.scenarios import list_scenarios
    return dict(list_scenarios())


def slider_step(name: str) -> float:
    """A step that gives about 100-200 positions over the parameter's range (1 for whole-number units)."""
    p = parameter_table()[name]
    span = p.max - p.min
    if span <= 0:
        return 1.0
    raw = span / 100.0
    step = 10 ** math.floor(math.log10(raw))
    for k in (1, 2, 5):
        if k * step >= raw:
            step = k * step
            break
    if p.unit in ("months", "t_per_yr", "t") and step < 1:
        step = 1.0
    return float(step)


def slider_positions(name: str, current: float | None = None) -> list[float]:
    """The values a lever's slider can take: a round grid over the table's range (:func:`slider_step`)
    plus the table's value and ``current`` exactly, so that showing a value never moves it."""
    p = parameter_table()[name]
    step = slider_step(name)
    n = int(round((p.max - p.min) / step))
    grid = [round(p.min + k * step, 10) for k in range(n + 1) if p.min + k * step <= p.max + 1e-9]
    extra = [v for v in (p.value, current) if v is not None and p.min <= v <= p.max]
    return sorted(set(grid + [float(v) for v in extra] + [float(p.max)]))


def format_value(value: float, unit: str) -> str:
    """A lever value for people: 3 significant digits, thousands separated, with its unit."""
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit.replace('_per_', '/').replace('_', ' ')}".strip()


@dataclass(frozen=True)
class Levers:
    """A run's settings: scenario (a shipped name or an uploaded one), seed, parameter overrides."""

    scenario: str = "baseline"
    seed: int = 1
    params: tuple[tuple[str, float], ...] = field(default_factory=tuple)

    def with_(self, **changes) -> Levers:
        return replace(self, **changes)

    def with_param(self, name: str, value: float) -> Levers:
        d = dict(self.params)
        d[name] = float(value)
        return replace(self, params=tuple(sorted(d.items())))

    def overrides(self) -> dict[str, float]:
        return dict(self.params)

    def value(self, name: str) -> float:
        """The lever's value: the override, else the table's (fitted) value."""
        return dict(self.params).get(name, parameter_table()[name].value)

    def to_query(self) -> str:
        """The URL query string that reproduces these levers (uploaded scenarios can't be linked)."""
        items = [("scenario", self.scenario), ("seed", str(self.seed))]
        items += [(k, f"{v:.10g}") for k, v in self.params]
        return urlencode(items)


def levers_from_query(query: str | None, uploads: dict | None = None) -> tuple[Levers, list[str]]:
    """Levers from a URL query string, and the reasons for anything refused (those parts are ignored).

    Only a shipped (or this session's uploaded) scenario name, an integer seed, and parameters of the
    table within their range are taken.
    """
    levers, problems = Levers(), []
    if not query:
        return levers, problems
    table = parameter_table()
    scenarios = set(shipped_scenarios()) | set(uploads or {})
    params: dict[str, float] = {}
    for key, raw in parse_qsl(query, keep_blank_values=True):
        if key == "scenario":
            if raw in scenarios:
                levers = levers.with_(scenario=raw)
            else:
                problems.append(f"scenario: {shown_name(raw)} is not a shipped scenario (allowed: "
                                f"{', '.join(sorted(scenarios))})")
        elif key == "seed":
            try:
                seed = int(raw)
                if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
                    raise ValueError
                levers = levers.with_(seed=seed)
            except ValueError:
                problems.append(f"seed: '{raw[:30]}' is not a whole number in {SEED_RANGE[0]}..{SEED_RANGE[1]}")
        elif key in ("tab", "sweep"):
            continue
        elif key in table and table[key].kind in ADDABLE_KINDS:
            p = table[key]
            try:
                value = float(raw)
            except ValueError:
                problems.append(f"{key}: '{raw[:30]}' is not a number")
                continue
            if not (math.isfinite(value) and p.min <= value <= p.max):
                problems.append(f"{key}: {raw[:30]} is outside {p.min:g}..{p.max:g} {p.unit}")
                continue
            params[key] = value
        else:
            problems.append(f"'{key[:40]}' is not a lever (allowed: scenario, seed, "
                            f"{', '.join(lever_names(ADDABLE_KINDS)[:8])}, ...)")
    return levers.with_(params=tuple(sorted(params.items()))), problems
