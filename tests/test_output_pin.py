"""The outputs pin: refactors and speed-ups leave every recorded series of four scenarios unchanged.

The pinned tables (tests/pins/*.parquet) are written by scripts/update_output_pins.py; a mechanism
change updates them on purpose, in its own commit.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("update_output_pins", ROOT / "scripts" / "update_output_pins.py")
pins = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pins)


@pytest.mark.parametrize("scenario", pins.PINNED_SCENARIOS)
def test_outputs_match_the_pin(scenario):
    expected = pd.read_parquet(pins.PIN_DIR / f"{scenario}.parquet")
    got = pins.pinned_outputs(scenario)
    assert list(got.columns) == list(expected.columns)
    assert (got["date"].to_numpy() == expected["date"].to_numpy()).all()
    numeric = [c for c in expected.columns if c != "date"]
    a, b = got[numeric].to_numpy(float), expected[numeric].to_numpy(float)
    worst = np.abs(a - b) / np.maximum(np.abs(b), 1e-6)
    i, j = np.unravel_index(np.nanargmax(worst), worst.shape)
    assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True), (
        f"{scenario}: {numeric[j]} differs first-worst at {expected['date'].iloc[i]}: {a[i, j]!r} vs {b[i, j]!r}")
