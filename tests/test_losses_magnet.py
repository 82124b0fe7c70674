"""Magnet eddy-current loss vs hand computation, thin-plate limit and torsion tables."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.losses.magnet import (
    block_eddy_loss_density,
    magnet_skin_depth,
    rectangular_block_factor,
    thin_plate_eddy_loss_density,
    waveform_eddy_loss_density,
)

SIGMA_NDFEB = 1.0 / 1.5e-6  # sintered NdFeB, resistivity ~1.5 micro-ohm m (typical)


def test_thin_plate_hand_computed():
    # sigma (2 pi f B w)^2 / 24 with sigma = 6.6667e5, f = 1 kHz, B = 0.05 T, w = 10 mm:
    # (2 pi 1000 0.05 0.01)^2 = pi^2 = 9.869604 -> 6.6667e5 * 9.869604 / 24 = 2.741557e5
    assert_allclose(
        thin_plate_eddy_loss_density(0.05, 1000.0, 0.01, SIGMA_NDFEB), 2.741557e5, rtol=1e-6
    )


@pytest.mark.parametrize(
    "aspect, k1",
    # Timoshenko & Goodier, Theory of Elasticity (1951) sec. 109: torsion constant
    # J = k1 l w^3 of a rectangle; the eddy-current and torsion problems are the same
    # Poisson problem, F = 3 k1. Table values have 3 digits: tolerance 5e-4 on k1.
    [
        (1.0, 0.141),
        (1.5, 0.196),
        (2.0, 0.229),
        (3.0, 0.263),
        (4.0, 0.281),
        (5.0, 0.291),
        (10.0, 0.312),
    ],
)
def test_block_factor_matches_torsion_table(aspect, k1):
    assert_allclose(rectangular_block_factor(1.0, aspect) / 3.0, k1, atol=5e-4)


def test_block_factor_thin_plate_limit():
    # Large aspect: F = 1 - (192/pi^5) sum tanh(..)/n^5 (w/l) ~ 1 - 0.6302 w/l (Timoshenko);
    # at l/w = 1e3 and 1e2 the remaining O(exp) terms are negligible: 1e-4 tolerance.
    for aspect in (100.0, 1000.0):
        assert_allclose(rectangular_block_factor(1.0, aspect, 2000), 1 - 0.6302 / aspect, rtol=1e-4)


def test_block_factor_symmetry():
    # Loss per volume must not depend on which side is called width: w^2 F(l/w) = l^2 F(w/l)
    w, length = 0.004, 0.019
    assert_allclose(
        w**2 * rectangular_block_factor(w, length),
        length**2 * rectangular_block_factor(length, w),
        rtol=1e-6,
    )


def test_waveform_loss_sum_of_harmonics():
    # B = 0.05 sin + 0.02 sin(5 .) at f1 = 400 Hz: resistance-limited losses add over
    # harmonics (orthogonal rates): p = p_thin(0.05, f1) + p_thin(0.02, 5 f1), times F.
    th = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    b = 0.3 + 0.05 * np.sin(th) + 0.02 * np.sin(5 * th + 1.0)
    w, length = 0.008, 0.02
    expected = block_eddy_loss_density(
        0.05, 400.0, w, length, SIGMA_NDFEB
    ) + block_eddy_loss_density(0.02, 2000.0, w, length, SIGMA_NDFEB)
    assert_allclose(
        waveform_eddy_loss_density(b, 1 / 400.0, w, length, SIGMA_NDFEB), expected, 1e-10
    )
    thin = thin_plate_eddy_loss_density(0.05, 400.0, w, SIGMA_NDFEB) + thin_plate_eddy_loss_density(
        0.02, 2000.0, w, SIGMA_NDFEB
    )
    assert_allclose(waveform_eddy_loss_density(b, 1 / 400.0, w, None, SIGMA_NDFEB), thin, 1e-10)


def test_magnet_skin_depth():
    # 2 pi 1e3 * 4 pi 1e-7 * 1.05 * 6.6667e5 = 5527.0; sqrt(2 / 5527.0) = 19.023 mm
    assert_allclose(magnet_skin_depth(1000.0, SIGMA_NDFEB), 1.9023e-2, rtol=1e-4)
