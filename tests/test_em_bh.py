"""BH curve interpolation: table points, monotonicity, vacuum limit, derivatives."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.constants import MU_0
from pipeline.em.bh import BHCurve
from pipeline.errors import DesignError
from pipeline.verification.em_geometries import M19_B, M19_H

CURVE = BHCurve(M19_B, M19_H, "M-19")


def test_reproduces_table_points():
    # The Hermite spline interpolates the FEMM M-19 table exactly (round-off only).
    h, _ = CURVE.field_strength(M19_B)
    assert_allclose(h, M19_H, rtol=1e-12, atol=1e-9)
    b2 = M19_B[1:] ** 2
    assert_allclose(CURVE.nu(b2), M19_H[1:] / M19_B[1:], rtol=1e-12)


def test_monotone_and_vacuum_limit():
    b = np.linspace(0, 4.0, 20001)
    h, dh = CURVE.field_strength(b)
    # Strictly increasing H(B) keeps the Newton Jacobian SPD (its eigenvalues are nu, dH/dB).
    assert np.all(np.diff(h) > 0)
    assert dh.min() > 0
    # Beyond the table the slope is the vacuum value 1/MU_0 exactly (linear extrapolation).
    _, dh_far = CURVE.field_strength(np.array([2.31, 3.0, 10.0]))
    assert_allclose(dh_far, 1 / MU_0, rtol=1e-12)
    # nu -> 1/MU_0 as B -> infinity: nu(B) = 1/MU_0 + (H_max - B_max/MU_0)/B; at 1e4 T the
    # offset term is 1.6e6/1e4 = 160 A/(T m), i.e. 2e-4 of 1/MU_0.
    assert_allclose(CURVE.nu(np.array([1e4**2])), 1 / MU_0, rtol=3e-4)


def test_derivative_against_finite_difference():
    # dnu/db2 from the analytic spline derivative vs a central difference away from the table
    # nodes, where the cubic is smooth (step 1e-6 relative,
    # truncation ~1e-12, round-off ~1e-10 relative -> 1e-6 tolerance is ample).
    b2 = np.array([0.123, 0.61, 1.03, 1.37, 1.52, 1.87, 2.21, 2.7, 3.3]) ** 2  # off the nodes
    step = 1e-6 * b2
    fd = (CURVE.nu(b2 + step) - CURVE.nu(b2 - step)) / (2 * step)
    assert_allclose(CURVE.dnu_db2(b2), fd, rtol=1e-6, atol=1e-6)


def test_inverse_curve_round_trip():
    # B(H) inverts H(B) to the Newton tolerance 1e-12 T.
    b = np.array([0.0, 0.3, 1.0, 1.5, 1.9, 2.2, 2.6])
    h, _ = CURVE.field_strength(b)
    assert_allclose(CURVE.flux_density(h), b, atol=1e-10)


@pytest.mark.parametrize(
    "b, h",
    [([0, 1, 0.5], [0, 1, 2]), ([0.1, 1, 2], [0, 1, 2]), ([0, 1, 2], [0, 2, 1])],
)
def test_rejects_bad_tables(b, h):
    with pytest.raises(DesignError):
        BHCurve(np.array(b, float), np.array(h, float))


@pytest.mark.parametrize("knots", [M19_B, np.array([0.0, 1e-6, 0.5, 0.5 + 1e-6, 2.0])])
def test_piece_lookup_matches_binary_search(knots):
    # Independent computation: numpy's binary search. Random B, every knot, its two
    # neighbouring floats and far beyond the table must land in the same interval (the
    # second table's narrow intervals need 2e6 grid cells: the binary-search fallback).
    curve = BHCurve(knots, np.cumsum(np.ones(knots.size)) - 1.0, "t")
    rng = np.random.default_rng(16)
    x = np.concatenate(
        [rng.random(100_000) * 1.3 * knots[-1], knots, np.nextafter(knots, -1.0),
         np.nextafter(knots, 9.0), [0.0, 1e3]]
    )  # fmt: skip
    x = np.abs(x)
    ref = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, knots.size - 2)
    np.testing.assert_array_equal(curve._lookup(x), ref)
