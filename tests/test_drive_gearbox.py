"""Gearbox loss model vs hand computation."""

import math

import pytest
from numpy.testing import assert_allclose

from pipeline.constants import ZERO_CELSIUS
from pipeline.drive.gearbox import (
    Gearbox,
    drag_loss,
    gearbox_loss,
    mesh_loss,
    palmgren_no_load_torque,
    vogel_viscosity,
    walther_viscosity,
)
from pipeline.errors import DesignError


def test_walther_reproduces_anchor_points_and_hand_value():
    nu40, nu100 = 26e-6, 5.7e-6
    t = [ZERO_CELSIUS + 40.0, ZERO_CELSIUS + 100.0]
    assert_allclose(walther_viscosity(t, nu40, nu100), [nu40, nu100], rtol=1e-12)
    # Hand: A - B log10 T with A = 8.279152, B = 3.255482 (from log10 log10(nu+0.7) at the
    # anchors); at 60 C: 10^(10^(8.279152 - 3.255482*log10(333.15))) - 0.7 = 13.9596 cSt
    assert_allclose(walther_viscosity(ZERO_CELSIUS + 60.0, nu40, nu100), 13.9596e-6, rtol=1e-5)


def test_vogel_hand_computed():
    # 0.05 exp(800 / (373.15 - 173.15)) = 0.05 e^4 = 2.729908
    assert_allclose(vogel_viscosity(373.15, 0.05, 800.0, 173.15), 0.05 * math.e**4, rtol=1e-12)


def test_palmgren_hand_computed():
    # nu = 20 cSt, n = 3000 rpm: nu n = 6e4 >= 2000 -> 1e-7 * 2 * 6e4^(2/3) * 60^3 N mm
    # = 66.2091 N mm; below 2000: 160e-7 * 2 * 60^3 = 6.912 N mm
    omega = 3000 * 2 * math.pi / 60
    assert_allclose(palmgren_no_load_torque(20e-6, omega, 0.06), 66.2091e-3, rtol=1e-6)
    assert_allclose(palmgren_no_load_torque(20e-6, 50 * 2 * math.pi / 60, 0.06), 6.912e-3, 1e-12)


def test_mesh_and_drag_hand_computed():
    gb = Gearbox(ratio=9.0, n_stages=2, mesh_efficiency=0.985, bearing_mean_diameters=(0.05,) * 3)
    # 1 - 0.985^2 = 0.029775; x (100 N m x 1000 rad/s) = 2977.5 W
    assert_allclose(mesh_loss(gb, 1000.0, -100.0), 2977.5, rtol=1e-12)
    # drag: shafts at 1000, 333.3, 111.1 rad/s, 2 bearings each; oil at 40 C = 26 cSt
    total = 0.0
    for w in (1000.0, 1000.0 / 3, 1000.0 / 9):
        n_rpm = w * 60 / (2 * math.pi)
        total += 2 * 1e-7 * 2.0 * (26.0 * n_rpm) ** (2 / 3) * 50.0**3 * 1e-3 * w
    t40 = ZERO_CELSIUS + 40.0
    assert_allclose(drag_loss(gb, 1000.0, t40), total, rtol=1e-9)
    assert_allclose(gearbox_loss(gb, 1000.0, -100.0, t40), 2977.5 + total, rtol=1e-9)
    # thinner oil when hot: less drag
    assert drag_loss(gb, 1000.0, ZERO_CELSIUS + 90.0) < drag_loss(gb, 1000.0, t40)


def test_gearbox_validation():
    with pytest.raises(DesignError):
        Gearbox(ratio=9.0, n_stages=1, bearing_mean_diameters=(0.05, 0.06, 0.07))
