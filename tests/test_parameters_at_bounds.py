"""A calibrated parameter at the edge of its range is a signal (issue 13 item 7): the ODD must name each one
and say why it sits there."""

from __future__ import annotations

import re
from pathlib import Path

from sim.parameters import AT_EDGE_FRAC, load_parameter_table

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"

def _at_an_edge() -> set[str]:
    out = set()
    for name, p in load_parameter_table().items():
        width = p.max - p.min
        if p.kind == "calibrated" and width > 0 and min(p.value - p.min, p.max - p.value) <= AT_EDGE_FRAC * width:
            out.add(name)
    return out


def _explained() -> set[str]:
    text = ODD.read_text(encoding="utf-8")
    section = text.split("**Calibrated parameters at the edge of their range.**", 1)[1].split("\n\n", 2)[1]
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE))


def test_every_calibrated_parameter_at_an_edge_of_its_range_is_explained_in_the_odd():
    missing = _at_an_edge() - _explained()
    assert not missing, f"explain in docs/ODD.md 6.3 why these sit at a bound: {sorted(missing)}"


def test_the_odd_lists_no_parameter_that_has_left_the_edge():
    stale = _explained() - _at_an_edge()
    assert not stale, f"no longer at a bound, drop from docs/ODD.md 6.3: {sorted(stale)}"
