"""Command line: ``reesim run | scenarios | compare | validate | sweep | sensitivity | ui``."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Rare-earth trade simulator: run scenarios, compare them, sweep parameters.")
