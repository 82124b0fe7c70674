"""edrive-fe: finite-element analysis of electric drive units.

Data flow: design (TOML, validated) -> geometry (gmsh) -> mesh (cached by hash)
-> magnetostatic solves -> post-processing -> maps -> efficiency -> thermal.

The public Python API is :mod:`pipeline.api` (``import pipeline.api as edrive``); its
functions are also reachable here (``pipeline.load_design``, ``pipeline.flux_map``, ...),
imported on first use so that ``import pipeline`` stays cheap.
"""

import importlib

from pipeline.version import __version__

#: names of :mod:`pipeline.api` offered at the package level (loaded on first access)
_API = (
    "load_design",
    "run_case",
    "flux_map",
    "efficiency_map",
    "thermal_envelope",
    "calibrate",
)  # not sweep: pipeline.sweep is a module

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:

        return getattr(importlib.import_module("pipeline.api"), name)
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
