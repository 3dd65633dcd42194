"""Solara user interface of reesim (``reesim ui``); see docs/ui.md."""
