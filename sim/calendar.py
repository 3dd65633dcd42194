"""Months as ``YYYY-MM`` strings and step counts; one model step is one month."""

from __future__ import annotations


def month_index(month: str) -> int:
    """Months since year 0 for a ``YYYY-MM`` string."""
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def month_name(index: int) -> str:
    """Inverse of :func:`month_index`."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def add_months(month: str, n: int) -> str:
    return month_name(month_index(month) + n)


def months_between(start: str, end: str) -> int:
    """Number of months from ``start`` to ``end`` (``end`` exclusive)."""
    return month_index(end) - month_index(start)


def is_month(text: str) -> bool:
    parts = str(text).split("-")
    return (len(parts) == 2 and len(parts[0]) == 4 and parts[0].isdigit() and parts[1].isdigit()
            and 1 <= int(parts[1]) <= 12)
