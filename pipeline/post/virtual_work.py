"""Torque by virtual work: the co-energy change between two rotor positions at constant
phase currents, T = dW'/d(theta_mech) (e.g. Hameyer & Belmans, *Numerical Modelling and
Design of Electrical Machines and Devices*, WIT Press 1999, ch. 4).

Co-energy density w'(H) = int_0^H B . dH [J/m^3] per material:

* air and linear iron (reluctivity nu): w' = nu |B|^2 / 2;
* nonlinear steel: w' = |H| |B| - w(|B|), w(B) = int_0^B H(b) db (the curve's exact
  antiderivative, straight-line continuation beyond the table);
* linear magnets, B = mu H + Br (H = nu (B - Br)): w' = mu |H|^2 / 2 + Br . H
  = nu (|B|^2 - |Br|^2) / 2. The |Br|^2 term is constant for a rigidly moving magnet and
  drops out of differences, so it is left out.

The sliding interface keeps both meshes fixed, so the two positions share every element:
the difference is free of re-meshing noise.
"""

from __future__ import annotations

import numpy as np

from pipeline.constants import MU_0
from pipeline.em.machine import solve_position
from pipeline.post.torque import arkkio_torque

__all__ = ["coenergy", "virtual_work_torque"]


def _energy_density(curve, b: np.ndarray) -> np.ndarray:
    """w(B) = int_0^B H db [J/m^3] of a :class:`~pipeline.em.bh.BHCurve` for B >= 0 [T]."""
    anti = curve._spline.antiderivative()  # exact integral of the cubic Hermite pieces
    bmax, hmax = curve.b[-1], curve.h[-1]
    w = anti(np.minimum(b, bmax))
    extra = np.maximum(b - bmax, 0.0)
    return w + hmax * extra + extra**2 / (2 * MU_0)


def coenergy(model, a: np.ndarray) -> float:
    """Co-energy W' [J] of the whole machine (n_sectors x stack length) for dofs ``a``."""
    solver = model.solver
    pr = solver.problem
    g = np.einsum("ie,ixe->xe", np.asarray(a)[solver.dofs], solver.grad_int) / model.element_area
    b2 = g[0] ** 2 + g[1] ** 2  # P1: B is constant per element
    mi = pr.material_index
    dens = 0.5 * pr.reluctivity * b2
    for c, curve in enumerate(pr.bh_curves):
        sel = mi == c
        b = np.sqrt(b2[sel])
        h, _ = curve.field_strength(b)
        dens[sel] = h * b - _energy_density(curve, b)
    wsec = float(np.sum(dens * model.element_area))
    return wsec * model.n_sectors * model.design.stack_length


def virtual_work_torque(model, k: int, i_abc, i_f: float = 0.0, tol: float = 1e-10):
    """Central-difference torque [N m] at pitch count ``k``:
    (W'(k + 1) - W'(k - 1)) / (angle(k + 1) - angle(k - 1)) at fixed ``i_abc`` [A], ``i_f``.

    Returns (torque, arkkio) with arkkio the Maxwell-stress torque at k (same currents).
    """

    if model.solver.problem.order != 1:
        raise NotImplementedError("virtual work is written for first-order elements")
    it = model.interface
    w = []
    a_mid = None
    a0 = None
    for kk in (k - 1, k, k + 1):
        res = solve_position(model, kk, np.asarray(i_abc, float), i_f, a0=a0, tol=tol)
        a0 = res.a
        if kk == k:
            a_mid = res.a
        else:
            w.append(coenergy(model, res.a))
    dtheta = it.rotation_angle(k + 1) - it.rotation_angle(k - 1)
    t_vw = (w[1] - w[0]) / dtheta
    r = model.radii
    t_ark = model.n_sectors * arkkio_torque(
        model.solver.basis,
        a_mid,
        model.band,
        r["sliding"],
        r["band_outer"],
        model.design.stack_length,
    )
    return t_vw, t_ark
