"""Weak forms of 2D heat conduction per unit length (scikit-fem).

The steady and transient heat equation on a cross-section Omega (z out of plane, per unit
axial length) with convection (Robin) on part of the boundary Gamma_R::

    rho c dT/dt - div(K grad T) = q           in Omega
    -(K grad T) . n = h (T - T_inf)           on Gamma_R

gives, with test function v, the terms below. Every coefficient enters through ``w`` as a
field at the quadrature points (scikit-fem passes ``basis.assemble(form, k=...)`` keyword
arrays of shape (n_elements, n_quadrature_points) as such fields):

- ``conduction``            int K grad T . grad v dA              [W/(m K)] x [K]
- ``conduction_anisotropic``  the same with the 2x2 tensor K = [[k_xx, k_xy], [k_xy, k_yy]]
- ``convection``            int_Gamma h T v ds                     [W/(m K)] x [K]
- ``convection_load``       int_Gamma h T_inf v ds                 [W/m]
- ``heat_source``           int q v dA                             [W/m]
- ``heat_capacity``         int rho c T v dA                       [J/(m K)] x [K]
- ``region_average``        int v dA  (weights of a region average, a column vector) [m^2]

Units: k [W/(m K)], h [W/(m^2 K)], q [W/m^3], rho c [J/(m^3 K)], T [K]; a 2D integral dA
[m^2] per unit length turns W/m^3 into W/m.
"""

from __future__ import annotations

from skfem import BilinearForm, LinearForm
from skfem.helpers import dot, grad

__all__ = [
    "conduction",
    "conduction_anisotropic",
    "convection",
    "convection_load",
    "heat_source",
    "heat_capacity",
    "region_average",
]


@BilinearForm
def conduction(u, v, w):
    """Isotropic conduction stiffness: int k grad u . grad v dA, k in w.k [W/(m K)]."""
    return w.k * dot(grad(u), grad(v))


@BilinearForm
def conduction_anisotropic(u, v, w):
    """Anisotropic conduction stiffness: int (K grad u) . grad v dA.

    K = [[w.k_xx, w.k_xy], [w.k_xy, w.k_yy]] [W/(m K)], symmetric positive definite.
    """
    du, dv = grad(u), grad(v)
    return (
        w.k_xx * du[0] * dv[0] + w.k_xy * (du[0] * dv[1] + du[1] * dv[0]) + w.k_yy * du[1] * dv[1]
    )


@BilinearForm
def convection(u, v, w):
    """Robin (convection) matrix on a facet basis: int h u v ds, h in w.h [W/(m^2 K)]."""
    return w.h * u * v


@LinearForm
def convection_load(v, w):
    """Robin load on a facet basis: int h T_inf v ds [W/m]; w.h [W/(m^2 K)], w.T_inf [K]."""
    return w.h * w.T_inf * v


@LinearForm
def heat_source(v, w):
    """Volumetric heat source: int q v dA [W/m], q in w.q [W/m^3]."""
    return w.q * v


@BilinearForm
def heat_capacity(u, v, w):
    """Heat capacity (mass) matrix: int rho c u v dA, w.rho_c [J/(m^3 K)]."""
    return w.rho_c * u * v


@LinearForm
def region_average(v, w):
    """Integral of the test function, int v dA [m^2]; divided by the area it averages T."""
    return 1.0 * v
