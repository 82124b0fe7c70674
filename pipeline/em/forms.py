"""Weak forms of 2D planar magnetostatics in the A_z formulation (per unit length).

Unknown: the z-component of the magnetic vector potential A_z [Wb/m], with

    B = curl(A_z e_z) = (dA/dy, -dA/dx)  [T],   |B|^2 = |grad A|^2.

Ampere's law curl H = J_z e_z, tested with v e_z and integrated by parts (the boundary
term vanishes on Dirichlet, periodic and sliding boundaries), reads

    int H . curl(v e_z) dS = int J_z v dS,      curl(v e_z) = (dv/dy, -dv/dx).

Soft iron and air: H = nu(|B|^2) B. Linear recoil magnets: H = nu_m (B - B_r) with the
remanence vector B_r = (Br_x, Br_y) [T] and the recoil reluctivity nu_m = 1/(MU_0 mu_rec)
[m/H]. Moving the known part to the right-hand side,

    int nu grad A . grad v dS = int J_z v dS + int nu_m B_r . curl(v e_z) dS
                              = int J_z v dS + int nu_m (Br_x dv/dy - Br_y dv/dx) dS.

(Check: a long magnet magnetised along +x with nu = nu_m everywhere has the exact solution
B = B_r, H = 0 inside, and the right-hand side equals the left with grad A = (-Br_y, Br_x).)

Newton linearisation of the nonlinear term about A (B = curl A), with
d(nu B)/dB = nu I + 2 dnu/db2 B B^T and B . curl(u e_z) = grad A . grad u:

    int nu grad u . grad v + 2 dnu/db2 (grad A . grad u)(grad A . grad v) dS.

These forms are the reference definitions; :mod:`pipeline.em.solver` assembles the same
integrals with precomputed basis gradients for speed (a test checks they agree).
Coefficients come in through ``w``: ``nu`` [m/H], ``dnu_db2`` [m/(H T^2)], ``a`` (the
linearisation point, a DiscreteField of A_z), ``j`` [A/m^2], ``br_x``, ``br_y`` [T].
"""

from __future__ import annotations

from skfem import BilinearForm, LinearForm
from skfem.helpers import dot, grad

__all__ = ["reluctivity_stiffness", "newton_jacobian", "current_source", "magnet_source"]


@BilinearForm
def reluctivity_stiffness(u, v, w):
    """int nu grad u . grad v dS  [A/Wb per (Wb/m)^2 -> A]; nu in w.nu [m/H]."""
    return w.nu * dot(grad(u), grad(v))


@BilinearForm
def newton_jacobian(u, v, w):
    """int nu grad u.grad v + 2 dnu/db2 (grad a.grad u)(grad a.grad v) dS; w.a = A_z."""
    ga = grad(w.a)
    return w.nu * dot(grad(u), grad(v)) + 2.0 * w.dnu_db2 * dot(ga, grad(u)) * dot(ga, grad(v))


@LinearForm
def current_source(v, w):
    """int J_z v dS  [A]; J_z in w.j [A/m^2]."""
    return w.j * v


@LinearForm
def magnet_source(v, w):
    """int nu_m (Br_x dv/dy - Br_y dv/dx) dS  [A]; nu_m in w.nu [m/H], Br in w.br_x, w.br_y [T]."""
    return w.nu * (w.br_x * v.grad[1] - w.br_y * v.grad[0])
