"""Months as ``YYYY-MM`` strings and step counts; one model step is one month.

Every month a user writes (scenario ``start``/``end``, event ``at``/``until``,
``--until``) is parsed strictly: four-digit year, two-digit month 01-12, and a
year within :data:`YEARS`. A loose parse once let ``2026-13`` run to 2027-01 and a
``0000-01`` start run for 24,000 months.
"""

from __future__ import annotations

import re

#: Years a run may cover: the world tables describe 2009 and 2024; a run before 2000 or after
#: 2100 lies outside anything they, or the demand projections built on them, describe.
YEARS = (2000, 2100)
MONTH_FORMAT = f"a month YYYY-MM (month 01-12, year {YEARS[0]}-{YEARS[1]})"
MONTHS_ALLOWED = [f"YYYY-MM from {YEARS[0]}-01 to {YEARS[1]}-12"]
_MONTH = re.compile(r"(\d{4})-(\d{2})")
#: Mean days per month (365.25 / 12 = 30.44, rounded): converts stockpile targets in days of use to months.
DAYS_PER_MONTH = 30.4


def month_index(month: str) -> int:
    """Months since year 0 for a ``YYYY-MM`` string; anything else is a ValueError."""
    match = _MONTH.fullmatch(month) if isinstance(month, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{month!r} is not {MONTH_FORMAT}")
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def month_name(index: int) -> str:
    """Inverse of :func:`month_index`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(month: str, n: int) -> str:
    return month_name(month_index(month) + n)


def is_month(text: object) -> bool:
    """Whether ``text`` is a ``YYYY-MM`` string of a month within :data:`YEARS`."""
    try:
        index = month_index(text)  # type: ignore[arg-type]
    except ValueError:
        return False
    return YEARS[0] <= index // 12 <= YEARS[1]


def check_month(text: object) -> str:
    """``text`` if it is a month (see :func:`is_month`), else a ValueError saying what is allowed."""
    if not is_month(text):
        from sim.errors import Allowed
        raise Allowed(f"not {MONTH_FORMAT}", MONTHS_ALLOWED)
    return text  # type: ignore[return-value]
