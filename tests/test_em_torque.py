"""Arkkio torque: pure formula against a 2D dipole in a uniform field, and the FEMM torque
benchmark (T = sin theta) driven through the sliding interface."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.constants import MU_0
from pipeline.post.torque import arkkio
from pipeline.verification.em_cases import femm_torque_benchmark


def test_arkkio_dipole_in_uniform_field():
    # Line dipole m [A m] at the origin in a uniform field B0: outside it,
    # B = B0 + MU_0/(2 pi r^2) (2 (m.e_r) e_r - m); the torque per unit length on the
    # dipole is m x B0 (a standard result; the dipole's own field gives none).
    m = np.array([3.0, 1.0])
    b0 = np.array([0.2, -0.5])
    r_i, r_o, length = 0.01, 0.02, 0.1
    # Gauss-Legendre in r times a uniform rule in theta: exact up to round-off here.
    xr, wr = np.polynomial.legendre.leggauss(8)
    r = 0.5 * (r_o - r_i) * xr + 0.5 * (r_o + r_i)
    wr = 0.5 * (r_o - r_i) * wr
    th = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    rr, tt = np.meshgrid(r, th)
    w = np.outer(np.full(th.size, 2 * np.pi / th.size), wr) * rr
    ex, ey = np.cos(tt), np.sin(tt)
    mr = m[0] * ex + m[1] * ey
    c = MU_0 / (2 * np.pi * rr**2)
    bx = b0[0] + c * (2 * mr * ex - m[0])
    by = b0[1] + c * (2 * mr * ey - m[1])
    torque = arkkio(rr * ex, rr * ey, bx, by, w, r_i, r_o, length)
    assert_allclose(torque, length * (m[0] * b0[1] - m[1] * b0[0]), rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
def test_femm_torque_benchmark_sliding(order):
    # 2 degree interface pitch; steps of 0, 30, 90, 150, 224, 300 degrees
    angles, torques = femm_torque_benchmark(order, steps=(0, 15, 45, 75, 112, 150), n_slide=180)
    assert_allclose(np.degrees(angles), [0, 30, 90, 150, 224, 300], atol=1e-9)
    # Rotor (magnet, m = 1 A m^2 along the rotor x axis) turned by theta counter-clockwise
    # in B0 = 1 T along x: T = m x B0 = -sin(theta) N m (restoring; FEMM quotes |T| = sin
    # theta). Measured errors <= 1.1e-4 N m (P1 and P2); 1e-3 N m = 0.1 % of the peak
    # allows for mesh changes while failing any wrong tie, sign or rotation.
    assert_allclose(torques, -np.sin(angles), atol=1e-3)
