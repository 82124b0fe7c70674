"""edrive-fe: finite-element analysis of electric drive units.

Data flow: design (TOML, validated) -> geometry (gmsh) -> mesh (cached by hash)
-> magnetostatic solves -> post-processing -> maps -> efficiency -> thermal.
"""

from pipeline.version import __version__

__all__ = ["__version__"]
