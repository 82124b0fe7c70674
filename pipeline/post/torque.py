"""Electromagnetic torque by Arkkio's method (Maxwell stress averaged over an airgap band).

The torque on everything inside a circle of radius r follows from the Maxwell stress
tensor, T = (L r^2 / MU_0) int_0^{2 pi} B_r B_theta dtheta. Averaging over the radii of an
annular band r_i <= r <= r_o (dS = r dr dtheta) gives Arkkio's formula

    T = L / (MU_0 (r_o - r_i)) int_band r B_r B_theta dS          [N m]

(A. Arkkio, "Analysis of induction motors based on the numerical solution of the magnetic
field and circuit equations", Acta Polytechnica Scandinavica, Electrical Engineering
Series 59, Helsinki University of Technology, 1987), which is far less sensitive to the
mesh than a line integral. Sign: positive torque acts counter-clockwise (+z) on the body
inside the band (the rotor). 2D planar: L is the stack length [m].

B_r B_theta and r are invariant under a rotation of the frame, so band elements on the
rotor side of a sliding interface may stay in the rotor frame.
"""

from __future__ import annotations

import numpy as np
from skfem.assembly import Basis

from pipeline.constants import MU_0

__all__ = ["arkkio", "arkkio_torque"]


def arkkio(
    x: np.ndarray,
    y: np.ndarray,
    b_x: np.ndarray,
    b_y: np.ndarray,
    weights: np.ndarray,
    r_inner: float,
    r_outer: float,
    stack_length: float,
) -> float:
    """Arkkio torque [N m] from samples of B in the band.

    x, y : sample positions [m] (band centred on the origin); b_x, b_y : B there [T];
    weights : quadrature weights (area) [m^2] of an integration rule over the band;
    r_inner, r_outer : band radii [m]; stack_length : axial length L [m].
    T = L / (MU_0 (r_o - r_i)) sum w r B_r B_theta, with
    r B_r B_theta = (x b_x + y b_y)(x b_y - y b_x) / r.
    """
    r = np.hypot(x, y)
    integrand = (x * b_x + y * b_y) * (x * b_y - y * b_x) / r
    return float(stack_length / (MU_0 * (r_outer - r_inner)) * np.sum(weights * integrand))


def arkkio_torque(
    basis: Basis,
    a: np.ndarray,
    elements: np.ndarray,
    r_inner: float,
    r_outer: float,
    stack_length: float,
) -> float:
    """Arkkio torque [N m] of the A_z solution ``a`` over the band ``elements``.

    ``elements`` must cover the annulus r_inner <= r <= r_outer [m] (e.g. the subdomain
    'airgap_band', possibly split by a sliding interface into rotor and stator halves).
    Per unit length of a sector model, multiply by the number of sectors.
    """
    elements = np.asarray(elements)
    g = basis.interpolate(a).grad[:, elements]
    xy = np.asarray(basis.global_coordinates())[:, elements]
    return arkkio(xy[0], xy[1], g[1], -g[0], basis.dx[elements], r_inner, r_outer, stack_length)
