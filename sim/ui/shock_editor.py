"""The shock editor: any event type the scenario files support, with presets, undo and save.

The form is generated from the event schema (:data:`sim.policy_events.EVENT_CLASSES`): each field of the
chosen type gets a widget (nations, elements, blocs, stages from the world's closed sets; numbers
as text, so that a bad value reaches the schema and is reported, never silently fixed). The event
is checked by the scenario files' rules (:func:`sim.ui.state.validate_shock`) before it reaches the
model: a refused shock shows the schema's message and changes nothing.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

import solara

from sim.calendar import add_months
from sim.errors import ConfigError
from sim.goods import HEAVY_REE
from sim.ui.state import public_message
from sim.world import CENTRAL_ASIA

SKIPPED_FIELDS = ("type", "at", "until", "note")
NATION_ONE = ("nation", "host", "investor", "partner")
NATION_MANY = ("nations", "to", "exempt", "on", "members", "general_licence")


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    event: dict


PRESETS = (
    Preset("china_heavy_ban", "China bans heavy-REE exports to US allies",
           {"type": "export_ban", "nation": "CHN", "elements": list(HEAVY_REE), "to_bloc": ["us_allied"]}),
    Preset("jv_repeal", "US repeals Jackson-Vanik for Central Asia",
           {"type": "trade_status", "nations": list(CENTRAL_ASIA), "partner": "USA", "status": "ntr"}),
    Preset("stockpile_release", "Allies release stockpiles",
           {"type": "stockpile", "nations": ["USA", "JPN", "KOR", "DEU", "FRA"], "action": "release"}),
    Preset("myanmar_disruption", "Myanmar loses 90 % of mining",
           {"type": "supply_disruption", "nation": "MMR", "lost_frac": 0.9, "stage": "mining"}),
)


def event_classes() -> dict:
    from sim.policy_events import EVENT_CLASSES, EVENT_TYPES
    return dict(zip(EVENT_TYPES, EVENT_CLASSES))


def _literal_args(annotation) -> tuple | None:
    """The allowed values of a Literal (or list of Literal, or Optional of either) annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return typing.get_args(annotation)
    for arg in typing.get_args(annotation):
        found = _literal_args(arg)
        if found:
            return found
    return None


def _is_list(annotation) -> bool:
    origin = typing.get_origin(annotation)
    return origin is list or any(typing.get_origin(a) is list for a in typing.get_args(annotation))


def field_choices(name: str, annotation, world) -> tuple[str, tuple | None]:
    """How to edit a field: ("one" | "many" | "text", allowed values or None)."""
    from sim.world import BLOCS, ELEMENTS, SECTORS
    closed = _literal_args(annotation)          # values the schema fixes (e.g. the nation of a China-only event)
    if closed is not None:
        return ("many" if _is_list(annotation) else "one"), closed
    if name in NATION_ONE or name in NATION_MANY:
        closed = tuple(world.nations) if world is not None else ()
    elif name in ("elements", "element"):
        closed = tuple(ELEMENTS)
    elif name == "to_bloc":
        closed = tuple(BLOCS)
    elif name == "sector":
        closed = tuple(SECTORS)
    if closed is None:
        return "text", None
    return ("many" if _is_list(annotation) else "one"), closed


def _number(text: str):
    """A number typed in the form; anything else is passed on as typed (the schema reports it)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return text
    return int(value) if value.is_integer() and "." not in str(text) and "e" not in str(text).lower() else value


def event_from_form(event_type: str, values: dict, duration_months: str, at: str) -> dict:
    """The event dict the form describes: empty fields left out (schema defaults apply)."""
    cls = event_classes()[event_type]
    ev: dict = {"type": event_type, "at": at}
    for name, f in cls.model_fields.items():
        if name in SKIPPED_FIELDS or name not in values:
            continue
        v = values[name]
        if v in (None, "", []):
            continue
        ev[name] = _number(v) if isinstance(v, str) and field_choices(name, f.annotation, None)[0] == "text" \
            and name not in ("name", "element_mix") else v
    if str(duration_months).strip():
        months = _number(str(duration_months).strip())
        if not isinstance(months, int) or months < 1:
            raise ConfigError("shock", "duration_months", f"'{duration_months}' is not a whole number of months >= 1")
        ev["until"] = add_months(at, months)
    return ev


def shock_message(err: ConfigError) -> str:
    """The schema's message for the shock form: key path from the event, without the whole event echoed."""
    import re
    text = public_message(err).replace("shock: events[0].", "shock: ")
    return re.sub(r" \(got \{.*\}\)", "", text)


@solara.component
def FieldInput(name: str, annotation, required: bool, world, value, on_value):
    kind, allowed = field_choices(name, annotation, world)
    label = name + ("" if required else " (optional)")
    if kind == "many":
        solara.SelectMultiple(label, values=list(value or []), all_values=list(allowed), on_value=on_value,
                              classes=[f"reesim-field-{name}"])
    elif kind == "one":
        solara.Select(label, values=list(allowed), value=value, on_value=on_value,
                      classes=[f"reesim-field-{name}"])
    else:
        solara.InputText(label, value="" if value is None else str(value), on_value=on_value,
                         continuous_update=True, classes=[f"reesim-field-{name}"])


@solara.component
def ShockEditor(session, on_change, busy: bool):
    """Presets, a custom shock form, undo, and the session's shocks as a scenario file."""
    types = list(event_classes())
    event_type = solara.use_reactive("supply_disruption")
    values = solara.use_reactive({})
    duration = solara.use_reactive("")
    message = solara.use_reactive(("", "info"))
    model = session.model

    def apply(event: dict, label: str):
        try:
            at = session.shock(event, label)
        except ConfigError as err:
            message.set((shock_message(err), "error"))
            return
        message.set((f"{label}: in force from {at}", "info"))
        on_change()

    def apply_custom():
        try:
            ev = event_from_form(event_type.value, values.value, duration.value,
                                 add_months(model.current_month(), 1))
        except ConfigError as err:
            message.set((shock_message(err), "error"))
            return
        apply(ev, f"custom {event_type.value.replace('_', ' ')}")

    def undo():
        last = session.undo()
        message.set((f"undone: {last.label}" if last else "nothing to undo", "info"))
        on_change()

    def set_type(t):
        event_type.set(t)
        values.set({})

    with solara.Card("Shocks (from next month)", classes=["reesim-shocks"]):
        with solara.Row(style={"flex-wrap": "wrap"}, gap="4px"):
            for p in PRESETS:
                solara.Button(p.label, on_click=lambda p=p: apply(dict(p.event), p.label), color="warning",
                              outlined=True, disabled=busy or model is None,
                              style={"text-transform": "none", "white-space": "normal", "height": "auto",
                                     "padding": "4px 8px", "margin": "2px"})
        with solara.Details("Custom shock", expand=False):
            solara.Select("Event type", values=types, value=event_type.value, on_value=set_type,
                          classes=["reesim-event-type"])
            cls = event_classes()[event_type.value]
            world = model.world if model is not None else None
            for name, f in cls.model_fields.items():
                if name in SKIPPED_FIELDS or world is None:
                    continue
                FieldInput(name, f.annotation, f.is_required(), world, values.value.get(name),
                           lambda v, name=name: values.set({**values.value, name: v})).key(
                    f"{event_type.value}-{name}")
            solara.InputText("Duration in months (empty = to the end)", value=duration, continuous_update=True,
                             classes=["reesim-field-duration"])
            solara.Button("Apply custom shock", color="primary", on_click=apply_custom,
                          disabled=busy or model is None, classes=["reesim-apply-shock"])
        text, kind = message.value
        if text:
            (solara.Error if kind == "error" else solara.Info)(text, dense=True, classes=["reesim-shock-message"])
        shocks = session.shocks
        if shocks:
            solara.Text("Made: " + "; ".join(f"{s.event['at']} {s.label}" for s in shocks),
                        classes=["reesim-shock-list"])
        with solara.Row(gap="4px"):
            solara.Button("Undo last shock", icon_name="mdi-undo", on_click=undo,
                          disabled=busy or not shocks, classes=["reesim-undo"])
            if model is not None:
                solara.FileDownload(session.scenario_toml, filename=f"{model.spec.name}_session.toml",
                                    label="Save as scenario TOML", mime_type="application/toml")
