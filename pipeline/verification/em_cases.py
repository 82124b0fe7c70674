"""Magnetostatic verification cases with closed-form answers (no assertions here).

Each function builds its small gmsh geometry (:mod:`pipeline.verification.em_geometries`),
solves it with :mod:`pipeline.em` and returns the computed numbers beside the exact ones;
the tests assert on them and ``edrive validate`` reports them.

- Round conductor of radius a carrying I in air (Dirichlet A = 0 far out):
  B_theta = MU_0 I r / (2 pi a^2) for r < a, MU_0 I / (2 pi r) outside [T]; the relative
  L2 error of B falls as O(h^p) for order-p elements.
- Uniformly magnetised cylinder (mu_r = 1, remanence Br, radius Rm) in a bore of radius Rs
  of (nearly) infinitely permeable iron: uniform inner field B = (Br/2)(1 + Rm^2/Rs^2).
- Conductor inside a saturating M-19 ring: H = I/(2 pi r) in the ring whatever the
  material, so A(R1) - A(R2) = int_R1^R2 B(I / (2 pi r)) dr [Wb/m].
- FEMM torque benchmark (femm.info/wiki/TorqueBenchmark): a magnet of moment m = 1 A m^2
  in a uniform B0 = 1 T, turned by theta through the sliding interface: T = -sin(theta) N m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad
from skfem import Basis

from pipeline.constants import MU_0
from pipeline.em import (
    BHCurve,
    MagnetostaticProblem,
    MagnetostaticSolver,
    boundary_dofs,
    build_constraints,
    element_values,
    sliding_interface,
    split_sliding_interface,
)
from pipeline.post.fields import element_flux_density
from pipeline.post.torque import arkkio_torque
from pipeline.verification.em_geometries import (
    M19_B,
    M19_H,
    TORQUE_BENCHMARK,
    conductor_in_iron,
    magnet_in_bore,
    round_conductor,
    torque_benchmark,
)

__all__ = [
    "ROUND_CONDUCTOR",
    "Convergence",
    "round_conductor_exact",
    "round_conductor_solution",
    "round_conductor_b_error",
    "round_conductor_convergence",
    "magnet_in_bore_field",
    "SaturatingRing",
    "femm_torque_benchmark",
]

#: round conductor case: radius a [m], outer air radius [m], current [A]
ROUND_CONDUCTOR = {"radius": 0.01, "outer_radius": 0.04, "current": 1000.0}


@dataclass(frozen=True)
class Convergence:
    """Errors on a mesh sequence: sizes h [m], errors [-], observed rates d log e / d log h."""

    sizes: np.ndarray
    errors: np.ndarray

    @property
    def rates(self) -> np.ndarray:
        return np.diff(np.log(self.errors)) / np.diff(np.log(self.sizes))


def round_conductor_exact(r: np.ndarray) -> np.ndarray:
    """|B| [T] of the round conductor at radius r [m] (Ampere's law)."""
    a_c, current = ROUND_CONDUCTOR["radius"], ROUND_CONDUCTOR["current"]
    r = np.asarray(r, float)
    inside = MU_0 * current * r / (2 * np.pi * a_c**2)
    return np.where(r < a_c, inside, MU_0 * current / (2 * np.pi * np.maximum(r, 1e-300)))


def round_conductor_solution(order: int, h: float):
    """(solver basis, A_z) of the round conductor at element size h [m]."""
    a_c, r_out, current = (ROUND_CONDUCTOR[k] for k in ("radius", "outer_radius", "current"))
    mesh = round_conductor(a_c, r_out, h)
    j = element_values(mesh, {"conductor": current / (np.pi * a_c**2)}, 0.0)
    nu = np.full(mesh.t.shape[1], 1 / MU_0)
    solver = MagnetostaticSolver(MagnetostaticProblem(mesh, nu, current_density=j, order=order))
    cons = build_constraints(solver.basis.N, boundary_dofs(solver.basis, "outer_boundary"))
    return solver.basis, solver.solve(cons).a


def round_conductor_b_error(order: int, h: float) -> float:
    """Relative L2 error of B [-] for the round conductor at element size h [m]."""
    basis, a = round_conductor_solution(order, h)
    fine = Basis(basis.mesh, basis.elem, intorder=6)
    grad = fine.interpolate(a).grad
    x, y = np.asarray(fine.global_coordinates())
    r = np.hypot(x, y)
    b_t = round_conductor_exact(r)
    ex, ey = -b_t * y / r, b_t * x / r
    err = np.sqrt(np.sum(((grad[1] - ex) ** 2 + (-grad[0] - ey) ** 2) * fine.dx))
    return float(err / np.sqrt(np.sum((ex**2 + ey**2) * fine.dx)))


def round_conductor_convergence(order: int, divisions=(2, 4, 8)) -> Convergence:
    """B error of the round conductor at h = a / n for n in ``divisions``."""
    sizes = np.array([ROUND_CONDUCTOR["radius"] / n for n in divisions])
    return Convergence(sizes, np.array([round_conductor_b_error(order, h) for h in sizes]))


def magnet_in_bore_field(
    r_magnet: float = 0.01,
    r_bore: float = 0.015,
    r_outer: float = 0.02,
    remanence: float = 1.2,
    h: float = 0.001,
    mu_r_iron: float = 1e5,
) -> tuple[np.ndarray, float]:
    """B per magnet element (2, n) [T] (Br along +x) and the closed form (Br/2)(1+Rm^2/Rs^2).

    With mu_r = 1e5 instead of infinity the exact field changes by about 1e-5.
    """
    mesh = magnet_in_bore(r_magnet, r_bore, r_outer, h)
    ne = mesh.t.shape[1]
    nu = element_values(mesh, {"iron": 1 / (MU_0 * mu_r_iron)}, 1 / MU_0)
    rem = np.zeros((2, ne))
    rem[0, mesh.subdomains["magnet"]] = remanence
    solver = MagnetostaticSolver(MagnetostaticProblem(mesh, nu, remanence=rem))
    cons = build_constraints(solver.basis.N, boundary_dofs(solver.basis, "outer_boundary"))
    b = element_flux_density(solver.basis, solver.solve(cons).a)[:, mesh.subdomains["magnet"]]
    return b, remanence / 2 * (1 + r_magnet**2 / r_bore**2)


class SaturatingRing:
    """Conductor (radius a) inside an M-19 ring (R1..R2): mesh, solver and constraints built once."""

    def __init__(self, a: float = 0.005, r1: float = 0.01, r2: float = 0.02, h: float = 0.001):
        self.a, self.r1, self.r2 = a, r1, r2
        self.curve = BHCurve(M19_B, M19_H, "M-19")
        self.mesh = conductor_in_iron(a, r1, r2, h)
        ne = self.mesh.t.shape[1]
        mi = np.full(ne, -1)
        mi[self.mesh.subdomains["iron"]] = 0
        problem = MagnetostaticProblem(self.mesh, np.full(ne, 1 / MU_0), mi, (self.curve,))
        self.solver = MagnetostaticSolver(problem)
        self.constraints = build_constraints(
            self.solver.basis.N, boundary_dofs(self.solver.basis, "outer_boundary")
        )

    def current_density(self, current: float) -> np.ndarray:
        """Uniform J [A/m^2] in the conductor for ``current`` [A]."""
        return element_values(self.mesh, {"conductor": current / (np.pi * self.a**2)}, 0.0)

    def solve(self, current: float, a0=None, **kwargs):
        """Newton solve for ``current`` [A] (optionally warm-started from ``a0``)."""
        return self.solver.solve(
            self.constraints, current_density=self.current_density(current), a0=a0, **kwargs
        )

    def flux(self, a: np.ndarray) -> float:
        """A(R1) [Wb/m] from a solution (A = 0 at R2): the flux per unit length in the ring."""
        rr = np.hypot(*self.solver.basis.doflocs)
        return float(a[np.abs(rr - self.r1) < 1e-9].mean())

    def exact_flux(self, current: float) -> float:
        """int_R1^R2 B(I / (2 pi r)) dr [Wb/m] (axisymmetric closed form)."""
        return quad(
            lambda r: self.curve.flux_density(current / (2 * np.pi * r)),
            self.r1,
            self.r2,
            limit=200,
        )[0]


def femm_torque_benchmark(
    order: int = 1, steps=(0, 15, 45, 75, 112, 150), n_slide: int = 180
) -> tuple[np.ndarray, np.ndarray]:
    """Rotation angles [rad] and Arkkio torques [N m] of the FEMM torque benchmark.

    The rotor turns by ``steps`` interface pitches (2 pi / n_slide each). The uniform
    applied field B0 = (1 T, 0) enters as A = B0 y on the outer circle (in place of FEMM's
    Kelvin exterior, which imposes the same field); exact torque -sin(theta) N m.
    """
    tb = TORQUE_BENCHMARK
    mesh = split_sliding_interface(torque_benchmark(n_slide))
    ne = mesh.t.shape[1]
    rem = np.zeros((2, ne))
    rem[0, mesh.subdomains["magnet"]] = MU_0 * tb["coercivity"]  # mu_r = 1: Br = MU_0 Hc
    solver = MagnetostaticSolver(
        MagnetostaticProblem(mesh, np.full(ne, 1 / MU_0), remanence=rem, order=order)
    )
    basis = solver.basis
    iface = sliding_interface(basis)
    outer = boundary_dofs(basis, "outer_boundary")
    a_outer = tb["applied_flux_density"] * basis.doflocs[1, outer]
    band = np.hstack([mesh.subdomains["band_rotor"], mesh.subdomains["band_stator"]])
    torques, angles = [], []
    for k in steps:
        cons = build_constraints(basis.N, outer, [iface.ties(k)], dirichlet_values=a_outer)
        a = solver.solve(cons).a
        torques.append(
            arkkio_torque(basis, a, band, tb["band_inner"], tb["band_outer"], tb["depth"])
        )
        angles.append(iface.rotation_angle(k))
    return np.asarray(angles), np.asarray(torques)
