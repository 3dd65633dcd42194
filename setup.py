"""Package list for setuptools: the code packages, plus configs/ shipped as ``sim.configs``.

Everything else is in pyproject.toml; the list is here because pyproject's automatic package
discovery cannot add a package (sim.configs) whose folder lives outside ``sim/``.
"""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["sim", "sim.*", "agents", "agents.*"]) + ["sim.configs"])
