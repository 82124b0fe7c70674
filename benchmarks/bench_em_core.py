"""Speed of the nonlinear magnetostatic core (prints figures; not a test).

Problem: slotless 4-pole PM ring machine (radial NdFeB-like magnets, M-19 rotor and
stator iron, full model with a sliding interface), about 20k unknowns (P1 at h, and P2 at
2h for comparison). Reports the
number of unknowns, Newton iterations and wall time per nonlinear solve: from zero (cold)
and from the previous rotor position (warm), with CHOLMOD and with SuperLU.

Run: python benchmarks/bench_em_core.py [h_mm]   (default 0.4 mm)
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

# One BLAS thread: on a shared 2-core machine threaded BLAS made even vector norms 100x
# slower. Must be set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.constants import MU_0  # noqa: E402
from pipeline.em import (  # noqa: E402
    BHCurve,
    MagnetostaticProblem,
    MagnetostaticSolver,
    boundary_dofs,
    build_constraints,
    element_values,
    sliding_interface,
    split_sliding_interface,
)
from pipeline.em.solver import HAVE_CHOLMOD  # noqa: E402
from pipeline.verification.em_geometries import M19_B, M19_H, pm_ring_sector, replicate_sector  # noqa: E402


def build(h: float, order: int = 1):
    sector = pm_ring_sector((0.02, 0.025, 0.0255, 0.026, 0.03), 60, h)
    mesh = split_sliding_interface(replicate_sector(sector, 4, math.pi / 2))
    ne = mesh.t.shape[1]
    mi = np.full(ne, -1)
    for name in ("rotor_core", "stator_core"):
        mi[mesh.subdomains[name]] = 0
    nu = element_values(mesh, {"magnet": 1 / (MU_0 * 1.05)}, 1 / MU_0)
    mag = mesh.subdomains["magnet"]
    xc = mesh.p[:, mesh.t[:, mag]].mean(axis=1)
    pole = np.floor(np.mod(np.arctan2(xc[1], xc[0]), 2 * np.pi) / (math.pi / 2))
    rem = np.zeros((2, ne))
    rem[:, mag] = 1.25 * np.where(pole % 2 == 0, 1.0, -1.0) * xc / np.hypot(*xc)
    return MagnetostaticProblem(mesh, nu, mi, (BHCurve(M19_B, M19_H),), None, rem, order)


def run(problem: MagnetostaticProblem, backend: str, n_positions: int = 6) -> None:
    t0 = time.perf_counter()
    solver = MagnetostaticSolver(problem, backend=backend)
    basis = solver.basis
    iface = sliding_interface(basis)
    outer = boundary_dofs(basis, "outer_boundary")
    t_setup = time.perf_counter() - t0
    prep, cold, warm, a_prev = [], [], [], None
    for k in range(n_positions):
        t1 = time.perf_counter()
        cons = build_constraints(basis.N, outer, [iface.ties(k)])
        solver.prepare(cons)
        prep.append(time.perf_counter() - t1)
        t1 = time.perf_counter()
        res = solver.solve(cons)
        cold.append((time.perf_counter() - t1, res.iterations))
        if a_prev is not None:  # warm: from the previous rotor position's solution
            t1 = time.perf_counter()
            res_w = solver.solve(cons, a0=a_prev)
            warm.append((time.perf_counter() - t1, res_w.iterations))
        a_prev = res.a
    c, w = np.array(cold), np.array(warm)
    print(
        f"{backend:8s} unknowns {cons.n_reduced:6d}  solver setup {t_setup * 1e3:5.0f} ms  "
        f"T + analysis per position {np.mean(prep) * 1e3:5.1f} ms\n"
        f"         cold {c[:, 0].mean() * 1e3:6.1f} ms ({c[:, 1].mean():.1f} Newton it, "
        f"{c[:, 0].sum() / c[:, 1].sum() * 1e3:.1f} ms/it)  "
        f"warm {w[:, 0].mean() * 1e3:6.1f} ms ({w[:, 1].mean():.1f} it)"
    )


def main() -> None:
    h = float(sys.argv[1]) * 1e-3 if len(sys.argv) > 1 else 0.4e-3
    for order, size in ((1, h), (2, 2 * h)):
        problem = build(size, order)
        print(
            f"P{order}, h = {size * 1e3:.2f} mm: {problem.mesh.t.shape[1]} elements, "
            f"{problem.mesh.p.shape[1]} nodes"
        )
        for backend in (["cholmod"] if HAVE_CHOLMOD else []) + ["superlu"]:
            run(problem, backend)


if __name__ == "__main__":
    main()
