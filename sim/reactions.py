"""Conditional reactions: ``when`` a metric of the last recorded month crosses a value, ``then`` an event.

The schema of a reaction and its condition, and the test of a condition; ``sim.chain.policy_month`` reads
the metric and schedules the event (ODD 7.1, Reactions).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from sim.errors import Allowed
from sim.policy_events import STRICT

#: Keys each condition metric reads (required, optional); any other key is an error.
METRIC_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "shortage_frac": ((), ("nation",)),
    "tariff_frac": (("nation", "partner"), ()),
    "price_usd_per_kg": ((), ("nation", "element")),
    "china_share_separation": ((), ()),
    "stockpile_days": (("nation",), ()),
}
METRICS = tuple(METRIC_KEYS)


class Condition(BaseModel):
    """``metric(nation[, partner|element]) op value``, read from the last recorded month."""

    model_config = STRICT
    metric: Literal[METRICS]  # type: ignore[valid-type]
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
