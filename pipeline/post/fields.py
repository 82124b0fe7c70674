"""Fields from an A_z solution: flux density per element and region integrals.

2D planar, per unit length: B = (dA/dy, -dA/dx) [T] with A_z [Wb/m]. The flux linkage of a
stranded coil side of N turns, cross-section S and stack length L is

    psi = L N / S * int_S A dS   [Wb]

summed over the coil sides with their signs (go +1, return -1); :func:`region_integral`
gives the integral int_S A dS [Wb m] over any element set.
"""

from __future__ import annotations

import numpy as np
from skfem.assembly import Basis

__all__ = [
    "flux_density",
    "element_flux_density",
    "flux_density_magnitude",
    "region_integral",
    "region_area",
]


def flux_density(basis: Basis, a: np.ndarray) -> np.ndarray:
    """B = (dA/dy, -dA/dx) [T] at the quadrature points, shape (2, n_elements, n_qp)."""
    g = basis.interpolate(a).grad
    return np.array([g[1], -g[0]])


def element_flux_density(basis: Basis, a: np.ndarray) -> np.ndarray:
    """Element-averaged B [T], shape (2, n_elements)."""
    b = flux_density(basis, a)
    dx = basis.dx
    return (b * dx).sum(axis=2) / dx.sum(axis=1)


def flux_density_magnitude(b: np.ndarray) -> np.ndarray:
    """|B| [T] from an array whose first axis holds (B_x, B_y)."""
    return np.hypot(b[0], b[1])


def region_integral(a: np.ndarray, basis: Basis, elements: np.ndarray | None = None) -> float:
    """int A dS over the given elements (all if None) [Wb m] for A_z [Wb/m]."""
    v = np.asarray(basis.interpolate(a)) * basis.dx
    sel = slice(None) if elements is None else np.asarray(elements)
    return float(v[sel].sum())


def region_area(basis: Basis, elements: np.ndarray | None = None) -> float:
    """Area of the given elements (all if None) [m^2]."""
    sel = slice(None) if elements is None else np.asarray(elements)
    return float(basis.dx[sel].sum())
