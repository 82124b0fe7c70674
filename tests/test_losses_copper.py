"""Copper, Dowell AC factor, field and brush losses vs hand computation and measurement."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.constants import RHO_CU_20, ZERO_CELSIUS
from pipeline.errors import DesignError
from pipeline.losses.copper import (
    brush_electrical_loss,
    brush_friction_loss,
    brush_loss,
    copper_loss_dq,
    dowell_ac_factor,
    dowell_layer_factor,
    dowell_phi,
    dowell_psi,
    end_winding_length,
    field_copper_loss,
    mean_turn_length,
    phase_resistance,
    resistivity,
    skin_depth,
)


def test_resistivity_hand_computed():
    # rho(120 C) = 1.7241e-8 * (1 + 0.00393 * 100) = 2.40167e-8 ohm m
    assert_allclose(resistivity(ZERO_CELSIUS + 20.0), RHO_CU_20, rtol=1e-14)
    assert_allclose(resistivity(ZERO_CELSIUS + 120.0), 2.401671e-8, rtol=1e-6)


def test_copper_loss_dq_equals_time_average_of_phase_losses():
    # Independent route: inverse amplitude-invariant Park to phase currents, average
    # R (ia^2 + ib^2 + ic^2) over an electrical period (exact for trig sums on a uniform grid).
    r, i_d, i_q = 0.05, -100.0, 200.0
    th = np.linspace(0, 2 * np.pi, 360, endpoint=False)
    shifts = np.array([0.0, -2 * np.pi / 3, 2 * np.pi / 3])[:, None]
    i_abc = i_d * np.cos(th + shifts) - i_q * np.sin(th + shifts)
    assert_allclose(copper_loss_dq(r, i_d, i_q), r * np.mean(np.sum(i_abc**2, axis=0)), 1e-12)
    assert_allclose(copper_loss_dq(r, i_d, i_q), 3750.0, rtol=1e-14)  # 1.5*0.05*5e4


def test_phase_resistance_hand_computed():
    # 1.7241e-8 * 20 turns * 0.5 m / (2 paths * 10 mm^2) = 8.6205e-3 ohm
    assert_allclose(phase_resistance(20, 0.5, 10e-6, 2), 8.6205e-3, rtol=1e-12)
    with pytest.raises(DesignError):
        phase_resistance(20, 0.5, -1.0)


def test_prius_phase_resistance_lower_bound():
    # ORNL teardown: 72 series turns, 1 path, 13 strands AWG 19 (d = 0.127 mm * 92^(17/39)
    # = 0.9116 mm), stack 84 mm, full-pitch span of 6 slot pitches at the mid-slot radius
    # (161.9/2 + 33.5/2 mm); measured 0.069 ohm at 21 C. A semicircular end turn without
    # straight axial extensions is a lower bound on the real end-turn length, so the
    # estimate must be below the measurement, and (measured ratio 0.87) within 20 %.
    d = 0.127e-3 * 92 ** (17 / 39)
    area = 13 * math.pi * d**2 / 4
    span = 2 * math.pi * (0.1619 / 2 + 0.0335 / 2) * 6 / 48
    turn = mean_turn_length(0.084, end_winding_length(span))
    r = phase_resistance(72, turn, area, 1, resistivity(ZERO_CELSIUS + 21.0))
    assert 0.80 * 0.069 <= r <= 0.069


def test_skin_depth_copper_50Hz():
    # sqrt(2 * 1.7241e-8 / (2 pi 50 * 4 pi 1e-7)) = 9.3452e-3 m (textbook ~9.3 mm)
    assert_allclose(skin_depth(50.0, RHO_CU_20), 9.3452e-3, rtol=1e-4)


def test_dowell_hand_computed_values():
    # phi(1) = (sinh 2 + sin 2)/(cosh 2 - cos 2) = 4.536158/4.178344 = 1.0856357
    # psi(1) = 2 (sinh 1 - sin 1)/(cosh 1 + cos 1) = 0.667460/2.083383 = 0.3203734
    assert_allclose(dowell_phi(1.0), 1.0856357, rtol=1e-7)
    assert_allclose(dowell_psi(1.0), 0.3203734, rtol=1e-6)
    assert_allclose(dowell_ac_factor(1.0, 2), 1.0856357 + 0.3203734, rtol=1e-6)
    # layer 3 of any winding: phi + 6 psi
    assert_allclose(dowell_layer_factor(1.0, 3), 1.0856357 + 6 * 0.3203734, rtol=1e-6)


@pytest.mark.parametrize("n_layers", [1, 2, 4, 6])
def test_dowell_low_frequency_series(n_layers):
    # k -> 1 + (5 M^2 - 1) xi^4 / 45; next term is O(xi^8) ~ 1e-8 relative at xi = 0.1
    for xi in (0.005, 0.1):
        expected = 1 + (5 * n_layers**2 - 1) * xi**4 / 45
        assert_allclose(dowell_ac_factor(xi, n_layers), expected, rtol=1e-7)


def test_dowell_high_frequency_limit_single_layer():
    # M = 1: k -> xi with corrections ~ xi * e^{-2 xi}: < 1e-7 at xi = 10; also beyond the
    # switch to the asymptote (xi = 50)
    assert_allclose(dowell_ac_factor(10.0, 1), 10.0, rtol=1e-7)
    assert_allclose(dowell_ac_factor(50.0, 1), 50.0, rtol=1e-12)
    # M layers: phi + (M^2-1)/3 psi -> xi (1 + 2 (M^2-1)/3); psi's correction decays like
    # e^{-xi} (~1.5e-8 at xi = 18)
    assert_allclose(dowell_ac_factor(18.0, 4), 18.0 * (1 + 2 * 15 / 3), rtol=1e-6)


def test_dowell_average_equals_mean_of_layers():
    xi = np.array([0.3, 1.0, 2.5])
    layers = np.mean([dowell_layer_factor(xi, m) for m in range(1, 7)], axis=0)
    assert_allclose(dowell_ac_factor(xi, 6), layers, rtol=1e-13)


def test_field_copper_loss_hand_computed():
    # 2 ohm at 20 C -> 150 C: 2 (1 + 0.00393*130) = 3.02180 ohm; x 10^2 A^2 = 302.18 W
    assert_allclose(field_copper_loss(10.0, 2.0, ZERO_CELSIUS + 150.0), 302.18, rtol=1e-12)
    # reference at 75 C: 2 * (1 + 0.00393*130)/(1 + 0.00393*55) at 150 C
    expected = 2 * (1 + 0.00393 * 130) / (1 + 0.00393 * 55) * 100
    assert_allclose(
        field_copper_loss(10.0, 2.0, ZERO_CELSIUS + 150.0, ZERO_CELSIUS + 75.0), expected, 1e-12
    )


def test_brush_loss_hand_computed():
    # contact: 2 brushes in series x 0.5 V x 20 A = 20 W;
    # friction: 2 x 0.2 x (20 kPa x 1 cm^2 = 2 N) x (1000 rad/s x 0.02 m) = 16 W
    assert_allclose(brush_electrical_loss(-20.0, 0.5), 20.0, rtol=1e-14)
    assert_allclose(brush_friction_loss(1000.0, 0.02, 1e-4, 20e3, 0.2), 16.0, rtol=1e-14)
    assert_allclose(brush_loss(20.0, 1000.0, 0.02, 1e-4, 20e3, 0.2, 0.5), 36.0, rtol=1e-14)
