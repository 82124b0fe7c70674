"""2D thermal finite-element core, lumped network and thermal correlations.

- :mod:`pipeline.thermal.forms` weak forms (conduction, convection, heat_source, ...)
- :mod:`pipeline.thermal.solver` steady and transient solves, heat balance
- :mod:`pipeline.thermal.lumped` lumped network and its coupling to the FE model
- :mod:`pipeline.thermal.correlations` homogenisation and heat-transfer correlations
- :mod:`pipeline.thermal.coolant` coolant (water-glycol 50/50) and air properties
- :mod:`pipeline.thermal.meshes` gmsh builders for verification geometries
- :mod:`pipeline.thermal.machine` machine cross-section + housing + jacket + 3D network,
  loss mapping, steady / transient / EM-thermal coupled solves
- :mod:`pipeline.thermal.parameters` thermal parameters, cooling conditions, limits
- :mod:`pipeline.thermal.interface` thin-layer contact interface (doubled nodes)
- :mod:`pipeline.thermal.envelope` continuous and 30 s peak envelopes, time to limit,
  loss sources (FE map + strategy, analytic estimate)
- :mod:`pipeline.commands.thermal` the ``edrive thermal`` command
"""

import importlib

#: the FE core's names, imported from :mod:`pipeline.thermal.solver` on first use, so that
#: light submodules (correlations, coolant, cooling) do not load scikit-fem
_SOLVER_NAMES = (
    "Dirichlet",
    "HeatBalance",
    "Orthotropic",
    "Robin",
    "ThermalSolution",
    "ThermalSystem",
    "TransientSolution",
    "assemble_thermal",
    "element_values",
    "exclude_subdomains",
    "heat_balance",
    "solve_steady",
    "solve_transient",
)


def __getattr__(name: str):
    if name in _SOLVER_NAMES:
        return getattr(importlib.import_module("pipeline.thermal.solver"), name)
    raise AttributeError(f"module 'pipeline.thermal' has no attribute {name!r}")


__all__ = list(_SOLVER_NAMES)
