"""Nonlinear Newton solve: conductor inside a saturating M-19 ring (analytic by symmetry)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import quad

from pipeline.constants import MU_0
from pipeline.em import (
    BHCurve,
    MagnetostaticProblem,
    MagnetostaticSolver,
    boundary_dofs,
    build_constraints,
    element_values,
)
from pipeline.errors import ConvergenceError
from tests.em_geometries import M19_B, M19_H, conductor_in_iron

A, R1, R2 = 0.005, 0.01, 0.02
CURVE = BHCurve(M19_B, M19_H, "M-19")


@pytest.fixture(scope="module")
def setup():
    mesh = conductor_in_iron(A, R1, R2, 0.001)
    ne = mesh.t.shape[1]
    mi = np.full(ne, -1)
    mi[mesh.subdomains["iron"]] = 0
    problem = MagnetostaticProblem(mesh, np.full(ne, 1 / MU_0), mi, (CURVE,))
    solver = MagnetostaticSolver(problem)
    cons = build_constraints(solver.basis.N, boundary_dofs(solver.basis, "outer_boundary"))
    return mesh, solver, cons


def _current_density(mesh, current):
    return element_values(mesh, {"conductor": current / (np.pi * A**2)}, 0.0)


@pytest.mark.parametrize("current", [500.0, 2000.0, 20000.0])
def test_newton_saturating_ring(setup, current):
    mesh, solver, cons = setup
    res = solver.solve(cons, current_density=_current_density(mesh, current), tol=1e-8)
    assert res.residuals[-1] <= 1e-8
    # Axisymmetric: H = I/(2 pi r) in the iron whatever the material, so the flux per unit
    # length through the ring is A(R1) - A(R2) = int_R1^R2 B(I/(2 pi r)) dr. H ranges over
    # 4-8 kA/m (knee), 16-32 kA/m and 160-320 kA/m (deep saturation).
    rr = np.hypot(*solver.basis.doflocs)
    a_r1 = res.a[np.abs(rr - R1) < 1e-9].mean()
    exact = quad(lambda r: CURVE.flux_density(current / (2 * np.pi * r)), R1, R2, limit=200)[0]
    # Measured P1 h = 1 mm: -0.07 %, -0.13 %, -0.07 %; 0.3 % covers the O(h^2) nodal error.
    assert_allclose(a_r1, exact, rtol=3e-3)
    # From zero Newton needs 7-10 steps here; quadratic in the end (last step gains > 2
    # decades); a broken Jacobian would need many more or stall.
    assert res.iterations <= 15
    assert res.residuals[-1] < 1e-2 * res.residuals[-2]
    # Warm start from a 5 % different current converges in fewer steps than from zero.
    warm = solver.solve(cons, current_density=_current_density(mesh, 0.95 * current), a0=res.a)
    assert warm.iterations < res.iterations


def test_convergence_error_carries_history(setup):
    mesh, solver, cons = setup
    with pytest.raises(ConvergenceError) as err:
        solver.solve(cons, current_density=_current_density(mesh, 20000.0), max_iter=2)
    hist = err.value.residuals
    # Initial relative residual 1 (zero start) plus one entry per Newton step; deep
    # saturation from zero needs ~9 steps, so after 2 the residual is still far above 1e-8.
    assert len(hist) == 3
    assert hist[0] == pytest.approx(1.0)
    assert hist[-1] > 1e-3
