"""Constraints: union-find merging, and sector models with (anti-)periodic boundaries and
a sliding interface against the full model built from the same sector mesh."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from pipeline.constants import MU_0
from pipeline.em import (
    BHCurve,
    MagnetostaticProblem,
    MagnetostaticSolver,
    boundary_dofs,
    build_constraints,
    element_values,
    periodic_ties,
    sliding_interface,
    split_sliding_interface,
)
from pipeline.post.fields import element_flux_density
from pipeline.verification.em_geometries import M19_B, M19_H, pm_ring_sector, replicate_sector


def test_build_constraints_chains_conflicts_and_values():
    # dof 1 = -dof 0, dof 2 = -dof 1 (chain: dof 2 = dof 0); dof 3 = dof 4 and dof 4 = -dof 3
    # (contradiction -> both 0); dof 5 Dirichlet 2.0 and dof 6 = -dof 5 -> dof 6 = -2.0.
    ties = [
        (np.array([1, 2, 3, 4, 6]), np.array([0, 1, 4, 3, 5]), np.array([-1, -1, 1, -1, -1])),
    ]
    c = build_constraints(8, dirichlet=np.array([5]), ties=ties, dirichlet_values=np.array([2.0]))
    assert c.n_reduced == 2  # dof 0 (with 1, 2) and dof 7
    a = c.expand(np.array([3.0, 7.0]))
    assert_allclose(a, [3.0, -3.0, 3.0, 0.0, 0.0, 2.0, -2.0, 7.0])
    # T^T of a full vector gathers with signs: r0 - r1 + r2.
    assert_allclose(c.reduce(np.arange(8.0)), [0 - 1 + 2, 7])
    assert_array_equal(c.T.toarray() @ np.array([3.0, 7.0]) + c.offset, a)


RADII = (0.02, 0.025, 0.0255, 0.026, 0.035)  # rotor iron, magnet, slide, bore, stator outer
N_SLIDE = 30  # per quarter: 3 degree pitch


def _sector_solution(sector_mesh, n_copies, sign, k, order, antiperiodic_slide):
    """Element B of the first copy for a model of n_copies quarter sectors."""
    mesh = sector_mesh if n_copies == 1 else replicate_sector(sector_mesh, n_copies, math.pi / 2)
    mesh = split_sliding_interface(mesh)
    ne = mesh.t.shape[1]
    mi = np.full(ne, -1)
    for name in ("rotor_core", "stator_core"):
        mi[mesh.subdomains[name]] = 0
    nu = element_values(mesh, {"magnet": 1 / (MU_0 * 1.05)}, 1 / MU_0)
    mag = mesh.subdomains["magnet"]
    xc = mesh.p[:, mesh.t[:, mag]].mean(axis=1)
    pole = np.floor(np.mod(np.arctan2(xc[1], xc[0]), 2 * np.pi) / (math.pi / 2))
    rem = np.zeros((2, ne))  # 4 poles, radial, alternating: anti-periodic over 90 degrees
    rem[:, mag] = 1.2 * np.where(pole % 2 == 0, 1.0, -1.0) * xc / np.hypot(*xc)
    curve = BHCurve(M19_B, M19_H)
    solver = MagnetostaticSolver(MagnetostaticProblem(mesh, nu, mi, (curve,), None, rem, order))
    basis = solver.basis
    ties = [sliding_interface(basis).ties(k, antiperiodic=antiperiodic_slide)]
    if sign is not None:
        span = n_copies * math.pi / 2
        for part in ("rotor", "stator"):
            ties.append(
                periodic_ties(
                    basis, f"periodic_{part}_master", f"periodic_{part}_slave", span, sign
                )
            )
    cons = build_constraints(basis.N, boundary_dofs(basis, "outer_boundary"), ties)
    res = solver.solve(cons, tol=1e-11)
    return element_flux_density(basis, res.a)[:, : sector_mesh.t.shape[1]]


@pytest.mark.parametrize("order", [1, 2])
def test_sector_models_match_full_model(order):
    sector = pm_ring_sector(RADII, N_SLIDE, 0.0015 if order == 1 else 0.003)
    k = 7  # 21 degrees: rotor dofs near the sector end wrap around (sign flip)
    full = _sector_solution(sector, 4, None, k, order, False)
    quarter = _sector_solution(sector, 1, -1, k, order, True)
    half = _sector_solution(sector, 2, +1, k, order, False)
    # Same discrete problem (the full mesh is made of rotated copies of the sector), so
    # the only difference is the Newton tolerance 1e-11 (measured 3e-14 T): 1e-8 T.
    assert_allclose(quarter, full, atol=1e-8)
    assert_allclose(half, full, atol=1e-8)
    assert np.abs(full).max() > 1.0  # saturated teeth-free iron, a real test
    # Negative control: ignoring the anti-periodic sign on the sliding wrap is detected.
    wrong = _sector_solution(sector, 1, -1, k, order, False)
    assert np.abs(wrong - full).max() > 1e-2
