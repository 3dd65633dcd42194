"""Scenario files: schema, loading and validation before any run.

A scenario (``configs/scenarios/NAME.toml``) names the world it starts from,
its run window, parameter overrides and a timeline of policy events and
conditional reactions. Every key is checked here; an unknown nation, element,
stage, sector, event type or parameter is a :class:`ConfigError` naming the
file, the key path and the allowed values. Nothing in a scenario is executed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError, field_validator

from sim.calendar import MONTH_FORMAT, MONTHS_ALLOWED, YEARS, check_month, month_index
from sim.errors import ConfigError, from_validation_error
from sim.parameters import Params, resolve_parameters
from sim.policy_events import EVENT_ADAPTER, EVENT_CLASSES, EVENT_TYPES, STRICT
from sim.reactions import Reaction
from sim.world import BLOCS, CONFIG_DIR, ELEMENTS, SECTORS, World, load_world

SCENARIO_DIR = CONFIG_DIR / "scenarios"
#: The world folders a scenario may start from: the shipped ones, named without a path, so a
#: scenario can neither read files outside ``configs/`` nor lose its world when events are added.
SHIPPED_WORLDS: tuple[str, ...] = tuple(sorted(
    p.name for p in CONFIG_DIR.iterdir() if p.is_dir() and (p / "nations.csv").is_file()))
EVENT_CLASS = {cls.model_fields["type"].annotation.__args__[0]: cls for cls in EVENT_CLASSES}


class ScenarioFile(BaseModel):
    """The keys of a scenario file; events, reactions and parameters are checked one by one after."""

    model_config = STRICT
    name: str | None = None
    description: str = ""
    sources: list[str] = []
    world: Literal[SHIPPED_WORLDS] = "world"  # type: ignore[valid-type]
    start: str = "2024-01"
    end: str = "2050-12"
    parameters: dict[str, Any] = {}
    events: list[Any] = []
    reactions: list[Any] = []

    @field_validator("start", "end")
    @classmethod
    def _month(cls, v: str) -> str:
        return check_month(v)


TOP_KEYS = tuple(ScenarioFile.model_fields)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, ready for the model."""

    name: str
    description: str
    path: Path | None
    world_dir: Path
    start: str
    end: str
    parameters: dict = field(default_factory=dict)
    events: tuple = ()
    reactions: tuple = ()
    sources: tuple[str, ...] = ()

    def resolved(self, overrides: dict | None = None) -> Params:
        """Parameter values: table defaults, then the scenario's, then ``overrides``."""
        base = resolve_parameters(self.parameters, file=self.path or "<scenario>",
                                  key_prefix="parameters.")
        if overrides:
            base.update(resolve_parameters({**self.parameters, **overrides}, file="<overrides>"))
        return base

    def to_dict(self) -> dict:
        return {
            "name": self.name, "description": self.description,
            "path": str(self.path) if self.path else None, "world": self.world_dir.name,
            "start": self.start, "end": self.end, "parameters": dict(self.parameters),
            "events": [e.model_dump(exclude_defaults=True) for e in self.events],
            "reactions": [r.model_dump() for r in self.reactions], "sources": list(self.sources),
        }


def list_scenarios(directory: Path = SCENARIO_DIR) -> list[tuple[str, str]]:
    """(name, description) of every scenario file, sorted by name."""
    out = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        out.append((path.stem, str(data.get("description", "")).strip()))
    return out


def named_toml(name_or_path: str | Path, directory: Path, kind: str) -> Path:
    """A TOML file given by name (in ``directory``) or by path; ``kind`` names it in errors."""
    p = Path(name_or_path)
    if str(name_or_path).strip() == "":
        raise ConfigError("<name>", kind, f"empty {kind} name",
                          sorted(q.stem for q in directory.glob("*.toml")))
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise ConfigError(p, "<file>", f"{kind} file not found (a name from {directory.name}/ "
                              "or a path to a .toml file)",
                              sorted(q.stem for q in directory.glob("*.toml")))
        return p
    candidate = directory / f"{name_or_path}.toml"
    if not candidate.exists():
        raise ConfigError(candidate, "<name>", f"unknown {kind} '{name_or_path}'",
                          sorted(q.stem for q in directory.glob("*.toml")))
    return candidate


def scenario_path(name_or_path: str | Path) -> Path:
    """A scenario name from ``configs/scenarios`` or a path to a TOML file."""
    return named_toml(name_or_path, SCENARIO_DIR, "scenario")


def read_toml(path: Path) -> dict:
    """Parse a TOML file; a syntax error or an unreadable file is a ConfigError naming the file."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(path, "<toml>", f"not valid TOML: {err}", ["TOML 1.0 (toml.io)"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(path, "<file>", f"cannot read: {err.__class__.__name__}",
                          ["a readable UTF-8 TOML file"]) from None


def load_scenario(name_or_path: str | Path = "baseline") -> Scenario:
    """Read and validate a scenario file."""
    path = scenario_path(name_or_path)
    return scenario_from_dict(read_toml(path), path)


def scenario_from_dict(data: dict, path: Path | None = None) -> Scenario:
    """Validate a scenario given as a dict (as read from TOML)."""
    where = path or Path("<scenario>")
    if not isinstance(data, dict):
        raise ConfigError(where, "<root>", "a scenario is a table of keys", TOP_KEYS)
    try:
        top = ScenarioFile.model_validate(data)
    except ValidationError as err:
        raise from_validation_error(err, where, model=ScenarioFile) from None
    world_dir = CONFIG_DIR / top.world
    world = load_world(world_dir)
    start, end = top.start, top.end
    if month_index(end) < month_index(start):
        raise ConfigError(where, "end", f"end {end} is before start {start}", [f"{start}..{YEARS[1]}-12"])
    resolve_parameters(top.parameters, file=where, key_prefix="parameters.")
    events = tuple(_event(e, f"events[{i}]", where, world, start, end)
                   for i, e in enumerate(top.events))
    _check_contradictions(events, where)
    reactions = tuple(_reaction(r, i, where, world, start, end)
                      for i, r in enumerate(top.reactions))
    return Scenario(
        name=top.name if top.name is not None else where.stem, description=top.description.strip(),
        path=path, world_dir=world_dir, start=start, end=end, parameters=dict(top.parameters),
        events=events, reactions=reactions, sources=tuple(top.sources),
    )


def with_extra_events(spec: Scenario, events: list[dict], where: str | Path = "<extra_events>") -> Scenario:
    """``spec`` with more events (sweep templates, UI levers), checked against its own world and window.

    The scenario keeps its world: the events are validated and appended, never round-tripped
    through a file (which once swapped a custom world for ``configs/world``).
    """
    world = load_world(spec.world_dir)
    new = tuple(_event(e, f"extra_events[{i}]", Path(str(where)), world, spec.start, spec.end)
                for i, e in enumerate(events))
    merged = spec.events + new
    _check_contradictions(merged, Path(str(where)))
    return replace(spec, events=merged)


def validate_event(event: dict, world: World, where: str | Path = "<inject>", key: str = "event",
                   start: str | None = None, end: str | None = None):
    """One event from Python or the UI, checked exactly as a scenario's (``model.inject`` calls it)."""
    return _event(event, key, Path(str(where)), world, start, end)


def run_end(spec: Scenario, until: object, where: str | Path = "--until") -> str:
    """The last month of a run: ``until`` if it is a month within the scenario, else a ConfigError."""
    if until is None:
        return spec.end
    try:
        check_month(until)
    except ValueError:
        raise ConfigError(where, "until", f"{until!r} is not {MONTH_FORMAT}", MONTHS_ALLOWED) from None
    if not month_index(spec.start) <= month_index(until) <= month_index(spec.end):  # type: ignore[arg-type]
        raise ConfigError(where, "until", f"{until} is outside the scenario {spec.name}'s run",
                          [f"{spec.start}..{spec.end}"])
    return until  # type: ignore[return-value]


def _event(raw: object, key: str, where: Path, world: World, start: str | None, end: str | None):
    """One event validated by its schema, its names checked against ``world``, its months against the run."""
    if not isinstance(raw, dict) or "type" not in raw:
        raise ConfigError(where, f"{key}.type", "every event is a table with a type", EVENT_TYPES)
    if not isinstance(raw["type"], str) or raw["type"] not in EVENT_TYPES:
        raise ConfigError(where, f"{key}.type", f"unknown event type {raw['type']!r}", EVENT_TYPES)
    try:
        event = EVENT_ADAPTER.validate_python(raw)
    except ValidationError as err:
        raise from_validation_error(err, where, key, skip=(raw["type"],),
                                    model=EVENT_CLASS[raw["type"]]) from None
    _check_names(event.model_dump(), key, where, world)
    if getattr(event, "stage", None) == "separation" and event.type == "production_quota":
        if not (world.plant_quota_line & (world.plant_nation == world.nations.index(event.nation))).any():
            raise ConfigError(where, f"{key}.nation", f"{Path(world.directory).name}/processing.csv has no quota "
                              f"separation line (quota_line = true) for {event.nation} for a separation quota to "
                              "resize", ["CHN on a world whose processing.csv marks its quota line"])
    if start is not None and end is not None:
        lo, hi = month_index(start), month_index(end)
        if not lo <= month_index(event.at) <= hi:
            raise ConfigError(where, f"{key}.at", f"month {event.at} is outside the run",
                              [f"{start}..{end}"])
    if event.until and month_index(event.until) <= month_index(event.at):
        raise ConfigError(where, f"{key}.until", f"until {event.until} is not after at {event.at}",
                          [f"a month after {event.at}"])
    return event


NATION_KEYS = ("nation", "host", "investor", "partner")
NATION_LIST_KEYS = ("nations", "to", "exempt", "on", "members", "general_licence")


def _check_names(d: dict, key: str, where: Path, world: World) -> None:
    nations = set(world.nations)
    for k in NATION_KEYS:
        if d.get(k) is not None and d[k] not in nations:
            raise ConfigError(where, f"{key}.{k}", f"unknown nation '{d[k]}'", sorted(nations))
    for k in NATION_LIST_KEYS:
        for j, iso in enumerate(d.get(k) or []):
            if iso not in nations:
                raise ConfigError(where, f"{key}.{k}[{j}]", f"unknown nation '{iso}'", sorted(nations))
    for j, el in enumerate(d.get("elements") or []):
        if el not in ELEMENTS:
            raise ConfigError(where, f"{key}.elements[{j}]", f"unknown element '{el}'", ELEMENTS)
    if d.get("element") is not None and d["element"] not in ELEMENTS:
        raise ConfigError(where, f"{key}.element", f"unknown element '{d['element']}'", ELEMENTS)
    for j, bloc in enumerate(d.get("to_bloc") or []):
        if bloc not in BLOCS:
            raise ConfigError(where, f"{key}.to_bloc[{j}]", f"unknown bloc '{bloc}'", BLOCS)
    if d.get("sector") is not None and d["sector"] not in SECTORS:
        raise ConfigError(where, f"{key}.sector", f"unknown sector '{d['sector']}'", SECTORS)
    if d.get("element_mix") is not None and d["element_mix"] not in world.deposit_names:
        raise ConfigError(where, f"{key}.element_mix", f"unknown deposit '{d['element_mix']}'",
                          world.deposit_names)


def _check_contradictions(events: tuple, where: Path) -> None:
    """Two events of the same kind for the same nation and goods may not overlap in time."""
    seen: dict[tuple, list[tuple[int, int, int]]] = {}
    for i, ev in enumerate(events):
        if ev.type not in ("export_quota", "export_duty", "production_quota", "price_floor"):
            continue
        ident = (ev.type, ev.nation, tuple(sorted(getattr(ev, "elements", []) or [])),
                 tuple(sorted(getattr(ev, "stages", []) or [])), getattr(ev, "element", None),
                 tuple(getattr(ev, "to", None) or ()), getattr(ev, "stage", None))
        lo = month_index(ev.at)
        hi = month_index(ev.until) if ev.until else 10**9
        for j, lo2, hi2 in seen.get(ident, []):       # every earlier interval, not only the last one
            if lo < hi2 and lo2 < hi:
                raise ConfigError(where, f"events[{i}]",
                                  f"contradicts events[{j}]: two {ev.type} events for {ev.nation} "
                                  f"on the same goods overlap in time; give the first an 'until'",
                                  [f"events[{j}] with until <= {ev.at}"])
        seen.setdefault(ident, []).append((i, lo, hi))


def _reaction(raw: object, i: int, where: Path, world: World, start: str, end: str) -> Reaction:
    key = f"reactions[{i}]"
    try:
        reaction = Reaction.model_validate(raw)
    except ValidationError as err:
        raise from_validation_error(err, where, key, model=Reaction) from None
    _check_names(reaction.when.model_dump(), f"{key}.when", where, world)
    then = dict(reaction.then)
    then.setdefault("at", start)
    _event(then, f"{key}.then", where, world, start, end)  # validates the template; its 'at' is set when it fires
    return reaction
