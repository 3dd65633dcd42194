"""Write the outputs pin: full monthly outputs of four scenarios to 2030-12, seed 1.

tests/test_output_pin.py compares every run against these files, so a change that should not
move the model's outputs (a refactor, a speed-up) is shown to move none. Re-run this script only
when a mechanism changes on purpose, and say so in the commit message.

Usage: python scripts/update_output_pins.py
"""

from __future__ import annotations

from pathlib import Path

from sim.model import RareEarthModel

PIN_DIR = Path(__file__).resolve().parent.parent / "tests" / "pins"
PINNED_SCENARIOS = ("baseline", "china_2025_licences", "china_2010_quota", "tariff_retaliation")
PIN_UNTIL = {"china_2010_quota": "2013-12"}       # the 2010 replay ends in 2015; its window is the crisis
PIN_SEED = 1


def pinned_outputs(scenario: str):
    """The monthly table of one pinned run (the model's output contract)."""
    model = RareEarthModel(scenario, seed=PIN_SEED, until=PIN_UNTIL.get(scenario, "2030-12"), keep_flows=False)
    model.run()
    return model.datacollector.get_model_vars_dataframe()


def main() -> None:
    PIN_DIR.mkdir(parents=True, exist_ok=True)
    for name in PINNED_SCENARIOS:
        df = pinned_outputs(name)
        df.to_parquet(PIN_DIR / f"{name}.parquet")
        print(f"{name}: {len(df)} months x {df.shape[1]} columns")


if __name__ == "__main__":
    main()
