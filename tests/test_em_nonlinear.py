"""Nonlinear Newton solve: conductor inside a saturating M-19 ring (analytic by symmetry)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.integrate import quad

from pipeline.errors import ConvergenceError
from pipeline.verification.em_cases import SaturatingRing

A, R1, R2 = 0.005, 0.01, 0.02


@pytest.fixture(scope="module")
def ring():
    r = SaturatingRing(A, R1, R2, h=0.001)
    # every solve from zero (or its a0): the start from an earlier solve is tested below
    r.solver.across_solves = False
    return r


@pytest.mark.parametrize("current", [500.0, 2000.0, 20000.0])
def test_newton_saturating_ring(ring, current):
    res = ring.solve(current, tol=1e-8)
    assert res.residuals[-1] <= 1e-8
    # Axisymmetric: H = I/(2 pi r) in the iron whatever the material, so the flux per unit
    # length through the ring is A(R1) - A(R2) = int_R1^R2 B(I/(2 pi r)) dr. H ranges over
    # 4-8 kA/m (knee), 16-32 kA/m and 160-320 kA/m (deep saturation).
    a_r1 = ring.flux(res.a)
    exact = quad(lambda r: ring.curve.flux_density(current / (2 * np.pi * r)), R1, R2, limit=200)[0]
    assert_allclose(ring.exact_flux(current), exact, rtol=1e-12)
    # Measured P1 h = 1 mm: -0.07 %, -0.13 %, -0.07 %; 0.3 % covers the O(h^2) nodal error.
    assert_allclose(a_r1, exact, rtol=3e-3)
    # From zero Newton needs 7-10 steps here; quadratic in the end (last step gains > 2
    # decades); a broken Jacobian would need many more or stall.
    assert res.iterations <= 15
    assert res.residuals[-1] < 1e-2 * res.residuals[-2]
    # Warm start from a 5 % different current converges in fewer steps than from zero.
    warm = ring.solve(0.95 * current, a0=res.a)
    assert warm.iterations < res.iterations


def test_convergence_error_carries_history(ring):
    with pytest.raises(ConvergenceError) as err:
        ring.solve(20000.0, max_iter=2)
    hist = err.value.residuals
    # Initial relative residual 1 (zero start) plus one entry per Newton step; deep
    # saturation from zero needs ~9 steps, so after 2 the residual is still far above 1e-8.
    assert len(hist) == 3
    assert hist[0] == pytest.approx(1.0)
    assert hist[-1] > 1e-3


def test_recycled_factor_steps_match_plain_newton(ring):
    # Independent computation: the same ring solved by plain Newton (every step factorised)
    # and with recycled-factor CG steps. Both stop at ||r|| <= 1e-10 ||r(0)||, so the two
    # solutions differ by at most ~1e-10 relative (J^-1 bounded); 1e-8 leaves margin.
    from pipeline.em.solver import MagnetostaticSolver

    plain_solver = MagnetostaticSolver(ring.solver.problem, recycle_iterations=0)
    j = ring.current_density(20000.0)
    plain = plain_solver.solve(ring.constraints, current_density=j, tol=1e-10)
    recycled = ring.solver.solve(ring.constraints, current_density=j, tol=1e-10)
    assert plain.residuals[-1] <= 1e-10 and recycled.residuals[-1] <= 1e-10
    assert plain.factorizations == plain.iterations
    # Deep saturation from zero: 9-10 Newton steps; the recycled factor must take some.
    assert recycled.factorizations < plain.factorizations
    assert_allclose(recycled.a, plain.a, rtol=0, atol=1e-8 * np.abs(plain.a).max())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"recycle_iterations": -1}, "recycle_iterations"), ({"recycle_rtol": 1.0}, "recycle_rtol")],
)
def test_recycle_settings_validated(ring, kwargs, field):
    from pipeline.em.solver import MagnetostaticSolver
    from pipeline.errors import DesignError

    with pytest.raises(DesignError, match=field):
        MagnetostaticSolver(ring.solver.problem, **kwargs)


def test_start_from_earlier_solves_at_the_same_pattern(ring):
    # Independent computation: the same solves by a solver that keeps nothing across solves
    # (from zero, or from the a0 given). The ring has one constraint pattern, so the
    # solver's prediction a(n-1) + a0 - a(n-2) is the linear extrapolation along the
    # current; the convergence test is the same, so the solutions agree to the tolerance.
    from pipeline.em.solver import MagnetostaticSolver

    keep = MagnetostaticSolver(ring.solver.problem, across_solves=True)
    j = ring.current_density
    keep.solve(ring.constraints, current_density=j(2000.0), tol=1e-10)
    # no a0: from the solution at 2000 A (measured 5 steps, 1 factorisation; 10 and 5
    # from zero)
    again = keep.solve(ring.constraints, current_density=j(2200.0), tol=1e-10)
    fresh = ring.solver.solve(ring.constraints, current_density=j(2200.0), tol=1e-10)
    assert again.iterations < fresh.iterations
    assert again.factorizations < fresh.factorizations
    # both within ||r|| <= 1e-10 ||r(0)||: 1e-8 of the field leaves margin (as above)
    assert_allclose(again.a, fresh.a, rtol=0, atol=1e-8 * np.abs(fresh.a).max())
    # a0 = the last answer: the extrapolated start has a smaller residual than a0 itself
    # (measured 0.018 against 0.083 relative) and needs fewer steps (3 against 5)
    nxt = keep.solve(ring.constraints, current_density=j(2400.0), a0=again.a, tol=1e-10)
    plain = ring.solver.solve(ring.constraints, current_density=j(2400.0), a0=again.a, tol=1e-10)
    assert nxt.residuals[0] < 0.5 * plain.residuals[0]
    assert nxt.iterations < plain.iterations
    assert_allclose(nxt.a, plain.a, rtol=0, atol=1e-8 * np.abs(plain.a).max())
    # a 40 % change of the current (near_current is 30 %): the prediction is not used, the
    # start is a0 itself (the same first residual as the solver that keeps nothing)
    far = keep.solve(ring.constraints, current_density=j(4000.0), a0=nxt.a, tol=1e-10)
    ref = ring.solver.solve(ring.constraints, current_density=j(4000.0), a0=nxt.a, tol=1e-10)
    assert far.residuals[0] == pytest.approx(ref.residuals[0], rel=1e-12)
