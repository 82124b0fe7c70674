"""2D nonlinear magnetostatics (A_z): B-H curves, weak forms, constraints, Newton solver."""

from pipeline.em.bh import BHCurve
from pipeline.em.constraints import (
    Constraints,
    SlidingInterface,
    boundary_dofs,
    build_constraints,
    periodic_ties,
    sliding_interface,
    split_sliding_interface,
)
from pipeline.em.solver import (
    MagnetostaticProblem,
    MagnetostaticResult,
    MagnetostaticSolver,
    element_values,
    solve,
)

__all__ = [
    "BHCurve",
    "Constraints",
    "SlidingInterface",
    "boundary_dofs",
    "build_constraints",
    "periodic_ties",
    "sliding_interface",
    "split_sliding_interface",
    "MagnetostaticProblem",
    "MagnetostaticResult",
    "MagnetostaticSolver",
    "element_values",
    "solve",
]
