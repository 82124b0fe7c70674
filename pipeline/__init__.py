"""edrive-fe: finite-element analysis of electric drive units.

Data flow: design (TOML, validated) -> geometry (gmsh) -> mesh (cached by hash)
-> magnetostatic solves -> post-processing -> maps -> efficiency -> thermal.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
