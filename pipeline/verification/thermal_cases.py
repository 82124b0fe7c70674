"""Heat-conduction verification cases with closed-form answers (no assertions here).

Radial steady conduction (hand-derived from -k (r T')'/r = q):

- annulus r_i..r_o, uniform source q [W/m^3], adiabatic inside, convection h to T_inf
  outside: T(r) = T_o + q (r_o^2 - r^2)/(4k) - q r_i^2/(2k) ln(r_o/r),
  T_o = T_inf + q (r_o^2 - r_i^2)/(2 h r_o);
- solid cylinder of radius R with convection: T(r) = T_inf + q R/(2h) + q (R^2 - r^2)/(4k);
- two-layer annulus, convection on both faces, no source: the series chain of
  resistances 1/(2 pi r h) and ln(r2/r1)/(2 pi k) [m K/W].

Transient: a disc with Bi = h R / (2k) << 1 cools as the lumped-capacitance exponential
T_inf + (T0 - T_inf) exp(-t/tau), tau = rho c A / (h P) (Incropera, *Fundamentals of
Heat and Mass Transfer*, sec. 5.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skfem import Basis, Functional

from pipeline.thermal.meshes import concentric_mesh
from pipeline.thermal.solver import Robin, solve_steady, solve_transient
from pipeline.verification.em_cases import Convergence

__all__ = [
    "ANNULUS",
    "annulus_adiabatic_inside",
    "l2_relative_error",
    "annulus_convergence",
    "solid_cylinder_error",
    "TwoLayerResult",
    "two_layer_annulus",
    "lumped_cooling",
]

#: annulus case: radii [m], conductivity [W/(m K)], source [W/m^3], h [W/(m^2 K)], T_inf [K]
ANNULUS = {"r_i": 0.05, "r_o": 0.10, "k": 30.0, "q": 1e6, "h": 500.0, "t_inf": 300.0}


def annulus_adiabatic_inside(r, r_i=0.05, r_o=0.10, k=30.0, q=1e6, h=500.0, t_inf=300.0):
    """Exact T(r) [K] of the annulus with a source, adiabatic inside, convection outside."""
    t_o = t_inf + q * (r_o**2 - r_i**2) / (2 * h * r_o)
    return t_o + q * (r_o**2 - r**2) / (4 * k) - q * r_i**2 / (2 * k) * np.log(r_o / r)


def l2_relative_error(solution, exact, t_ref: float) -> float:
    """||T_h - T|| / ||T - t_ref|| in L2 over the mesh (6th-order quadrature) [-]."""
    basis = Basis(solution.system.mesh, solution.system.basis.elem, intorder=6)

    @Functional
    def err2(w):
        return (w.th - exact(np.hypot(w.x[0], w.x[1]))) ** 2

    @Functional
    def ref2(w):
        return (exact(np.hypot(w.x[0], w.x[1])) - t_ref) ** 2

    th = basis.interpolate(solution.T)
    return float(np.sqrt(err2.assemble(basis, th=th) / ref2.assemble(basis)))


def annulus_convergence(sizes=(0.01, 0.005, 0.0025), element: str = "P1"):
    """L2 errors of the annulus case on meshes of ``sizes`` [m]; also the finest solution.

    Returns (Convergence, finest ThermalSolution, max nodal error on the finest mesh over
    the largest rise [-]).
    """
    c = ANNULUS
    errors, sol = [], None
    for size in sizes:
        mesh = concentric_mesh([c["r_i"], c["r_o"]], size)
        robin = [("circle_1", c["h"], c["t_inf"])]
        sol = solve_steady(mesh, c["k"], c["q"], robin=robin, element=element)
        errors.append(l2_relative_error(sol, annulus_adiabatic_inside, c["t_inf"]))
    r = np.hypot(*sol.system.basis.doflocs)
    exact = annulus_adiabatic_inside(r)
    nodal = float(np.max(np.abs(sol.T - exact)) / (exact.max() - c["t_inf"]))
    return Convergence(np.asarray(sizes, float), np.asarray(errors)), sol, nodal


def solid_cylinder_error(
    radius: float = 0.04, size: float = 0.002, k=30.0, q=1e6, h=500.0, t_inf=300.0
) -> tuple[float, float, float]:
    """(max nodal error / rise [-], computed hot spot [K], exact hot spot [K])."""
    mesh = concentric_mesh([0.0, radius], size)
    sol = solve_steady(mesh, k, q, robin=[("circle_1", h, t_inf)])
    r = np.hypot(*sol.system.basis.doflocs)
    exact = t_inf + q * radius / (2 * h) + q * (radius**2 - r**2) / (4 * k)
    err = float(np.max(np.abs(sol.T - exact)) / (exact.max() - t_inf))
    hot = t_inf + q * radius / (2 * h) + q * radius**2 / (4 * k)
    return err, sol.region_max("layer_0"), float(hot)


@dataclass(frozen=True)
class TwoLayerResult:
    """Heat per unit length [W/m] in at the inner face, out at the outer face, the exact
    series-resistance value, and the max nodal error over the temperature drop [-]."""

    q_in: float
    q_out: float
    q_exact: float
    nodal_error: float
    solution: object


def two_layer_annulus(
    r1=0.05, r2=0.08, r3=0.10, k1=25.0, k2=150.0, h_i=800.0, h_o=2000.0, t_i=420.0, t_o=330.0,
    size=0.002,
) -> TwoLayerResult:  # fmt: skip
    """Two materials, convection inside (h_i, t_i) and outside (h_o, t_o), no source."""
    mesh = concentric_mesh([r1, r2, r3], size)
    sol = solve_steady(
        mesh,
        {"layer_0": k1, "layer_1": k2},
        robin=[Robin("circle_0", h_i, t_i), Robin("circle_2", h_o, t_o)],
    )
    res = [
        1 / (2 * np.pi * r1 * h_i),
        np.log(r2 / r1) / (2 * np.pi * k1),
        np.log(r3 / r2) / (2 * np.pi * k2),
        1 / (2 * np.pi * r3 * h_o),
    ]
    q_line = (t_i - t_o) / sum(res)
    robin_in, robin_out = sol.balance.robin_out
    r = np.hypot(*sol.system.basis.doflocs)
    t_r1 = t_i - q_line * res[0]
    exact = np.where(
        r <= r2,
        t_r1 - q_line * np.log(r / r1) / (2 * np.pi * k1),
        t_r1 - q_line * (res[1] + np.log(r / r2) / (2 * np.pi * k2)),
    )
    err = float(np.max(np.abs(sol.T - exact)) / (t_i - t_o))
    return TwoLayerResult(-robin_in, robin_out, q_line, err, sol)


def lumped_cooling(
    radius=0.02, rho_c=3.5e6, h=50.0, t_inf=300.0, t0=400.0, k=10000.0, size=0.004
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Mean temperature of a cooling disc (BDF2, dt = tau/100, to 2 tau) vs the exponential.

    tau is that of the meshed polygon (its area and perimeter differ from the circle's by
    about 0.5 %). Returns (times [s], FE mean [K], exact [K], tau [s]).
    """
    disc = concentric_mesh([0.0, radius], size)
    p0, p1, p2 = (disc.p[:, disc.t[i]] for i in range(3))
    d1, d2 = p1 - p0, p2 - p0
    area = 0.5 * np.sum(np.abs(d1[0] * d2[1] - d1[1] * d2[0]))
    edges = disc.p[:, disc.facets[:, disc.boundaries["circle_1"]]]
    perimeter = np.sum(np.linalg.norm(edges[:, 1] - edges[:, 0], axis=0))
    tau = float(rho_c * area / (h * perimeter))
    sol = solve_transient(
        disc, k, rho_c, robin=[("circle_1", h, t_inf)], dt=tau / 100, t_end=2 * tau,
        T0=t0, method="bdf2",
    )  # fmt: skip
    mean = np.array([sol.system.region_mean(T, "layer_0") for T in sol.T])
    exact = t_inf + (t0 - t_inf) * np.exp(-sol.times / tau)
    return np.asarray(sol.times), mean, exact, tau
