"""Mesa's own SolaraViz on RareEarthModel, the interop the README documents: ``solara run sim/ui/mesa_app.py``.

A separate app (not a route of sim/ui/app.py: Solara routes stop the Simulate page's play loop from
reaching the browser).
"""

from __future__ import annotations

import solara


@solara.component
def Page():
    """Step, Play and Reset through Mesa's controls; one model per browser session."""
    from mesa.visualization import SolaraViz, make_plot_component

    from sim.model import RareEarthModel
    model = solara.use_memo(lambda: RareEarthModel("baseline", seed=1), [])
    SolaraViz(model, components=[make_plot_component(["price_Dy_usd_per_kg", "price_Nd_usd_per_kg"])],
              model_params={"seed": {"type": "InputText", "value": 1, "label": "Seed"}},
              name="reesim in Mesa's SolaraViz")
