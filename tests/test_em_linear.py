"""Linear verification: round conductor (convergence rates), magnet in a permeable bore,
and the fast assembly against the scikit-fem forms."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from skfem import asm

from pipeline.constants import MU_0
from pipeline.em import (
    BHCurve,
    MagnetostaticProblem,
    MagnetostaticSolver,
    boundary_dofs,
    build_constraints,
    element_values,
)
from pipeline.em.forms import current_source, magnet_source, newton_jacobian, reluctivity_stiffness
from pipeline.verification.em_cases import magnet_in_bore_field, round_conductor_convergence
from pipeline.verification.em_geometries import M19_B, M19_H, conductor_in_iron


@pytest.mark.parametrize("order, expected_rate", [(1, 1.0), (2, 2.0)])
def test_round_conductor_convergence_rate(order, expected_rate):
    conv = round_conductor_convergence(order, divisions=(2, 4, 8))
    errors, rates = conv.errors, conv.rates
    # Measured: P1 rates 1.00, 0.96 (errors 13 %, 6.5 %, 3.3 %); P2 rates 1.97, 1.92
    # (3.7 %, 0.95 %, 0.25 %). Unstructured meshes make the observed rate wander by ~0.1;
    # 0.15 below the theoretical O(h^p) still fails any loss of an order.
    assert rates.min() > expected_rate - 0.15
    # The finest P1 error bound follows from the O(h) constant (~0.27 h/a): 3.3 % +- 1 %.
    assert errors[-1] < (0.045 if order == 1 else 0.004)


def test_magnet_in_permeable_bore():
    # Uniformly magnetised cylinder (mu_r = 1, Br along +x) in an iron bore: the field in
    # the magnet is uniform, B = (Br / 2)(1 + Rm^2 / Rs^2) along Br (infinitely permeable
    # iron; mu_r = 1e5 here changes it by ~1e-5). The sign checks the magnet source form.
    b, expected = magnet_in_bore_field(0.01, 0.015, 0.02, remanence=1.2, h=0.001)
    assert_allclose(expected, 1.2 / 2 * (1 + 0.01**2 / 0.015**2), rtol=1e-15)
    # Measured with P1, h = 1 mm: mean -0.12 %, worst element 0.41 %, |B_y| <= 0.33 % (the
    # polygonal circles and the O(h) P1 error); tolerances about twice that.
    assert_allclose(b[0].mean(), expected, rtol=3e-3)
    assert_allclose(b[0], expected, rtol=1e-2)
    assert np.abs(b[1]).max() < 1e-2 * expected


@pytest.mark.parametrize("order", [1, 2])
def test_fast_assembly_matches_forms_and_finite_differences(order):
    mesh = conductor_in_iron(0.005, 0.01, 0.02, 0.002)
    ne = mesh.t.shape[1]
    curve = BHCurve(M19_B, M19_H)
    mi = np.full(ne, -1)
    mi[mesh.subdomains["iron"]] = 0
    j = element_values(mesh, {"conductor": 1e7}, 0.0)
    nu_lin = element_values(mesh, {"conductor": 1 / (MU_0 * 1.05)}, 1 / MU_0)
    rem = np.zeros((2, ne))
    rem[:, mesh.subdomains["conductor"]] = [[0.3], [-0.7]]  # a magnet-like source too
    pr = MagnetostaticProblem(mesh, nu_lin, mi, (curve,), j, rem, order=order)
    solver = MagnetostaticSolver(pr)
    basis = solver.basis
    cons = build_constraints(basis.N, boundary_dofs(basis, "outer_boundary"))
    rng = np.random.default_rng(1)
    a = cons.expand(rng.normal(scale=5e-3, size=cons.n_reduced))

    # Reference assembly with the named scikit-fem forms.
    aw = basis.interpolate(a)
    b2 = aw.grad[0] ** 2 + aw.grad[1] ** 2
    nu = np.where(mi[:, None] >= 0, curve.nu(b2), nu_lin[:, None])
    dnu = np.where(mi[:, None] >= 0, curve.dnu_db2(b2), 0.0)
    nu_e = np.broadcast_to(nu_lin[:, None], b2.shape)
    k = asm(reluctivity_stiffness, basis, nu=nu)
    f = asm(current_source, basis, j=np.broadcast_to(j[:, None], b2.shape))
    f += asm(
        magnet_source, basis, nu=nu_e, br_x=rem[0][:, None] + 0 * b2, br_y=rem[1][:, None] + 0 * b2
    )
    jac = asm(newton_jacobian, basis, nu=nu, dnu_db2=dnu, a=aw)
    t = cons.T
    r_ref = t.T @ (k @ a - f)
    j_ref = (t.T @ jac @ t).toarray()
    r_fast = solver.residual(cons, a)
    j_fast = solver.jacobian(cons, a).toarray()
    # Same integrals, same quadrature: agreement to round-off.
    assert_allclose(r_fast, r_ref, rtol=1e-10, atol=1e-10 * np.abs(r_ref).max())
    assert_allclose(j_fast, j_ref, rtol=1e-10, atol=1e-10 * np.abs(j_ref).max())
    # Independent check of the Newton linearisation: directional finite difference of the
    # residual (central, step 1e-6 of |a|; truncation ~1e-10, tolerance 1e-5).
    d = rng.normal(size=cons.n_reduced)
    eps = 1e-6 * np.abs(a).max() / np.abs(d).max()
    fd = (solver.residual(cons, a + eps * (t @ d)) - solver.residual(cons, a - eps * (t @ d))) / (
        2 * eps
    )
    assert_allclose(j_fast @ d, fd, rtol=1e-5, atol=1e-5 * np.abs(fd).max())
