"""PWM carrier-band ripple (pipeline.drive.pwm) against closed forms and a time-domain
simulation of the switched inverter driving a flux-map machine
(pipeline.verification.pwm_cases)."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.drive.pwm import (
    _table_moments,
    incremental_inductance,
    pole_references,
    ripple_spectrum,
    zero_sequence,
)
from pipeline.errors import DesignError
from pipeline.verification.pwm_cases import (
    SATURATING,
    ripple_comparison,
    ripple_time_domain,
    saturating_flux,
    saturating_map,
)
from tests.linear_machine import LinearMachine

RPM = math.pi / 30.0
F_C = 5e3  # the Prius carrier [Hz]
#: low load (MTPA, m = 0.52), mid load (125 N m, m = 0.996), field weakening (5000 rpm,
#: i_d < 0 cancelling most of the magnet flux, m = 0.997); f_c / f_1 = 50, 30, 15
POINTS = [(-10.0, 30.0, 1500 * RPM), (-80.0, 50.0, 2500 * RPM), (-70.0, 20.0, 5000 * RPM)]


@pytest.fixture(scope="module")
def machine():
    return saturating_map()


def test_spwm_small_modulation_ripple_closed_form():
    # m -> 0 with SPWM: every pole ripples with the sawtooth g(tau) (-tau, 1/2 - tau, 1 - tau
    # over the quarters/halves of the period), <g^2> = 1/48, and the alpha-beta ripple is
    # 1/2 g m e^{j theta}: per-phase mean square (V_dc T_c)^2 m^2 / 384 (derived in the
    # pipeline.drive.pwm docstring). The table's ms/m^2 falls linearly with m at small m
    # (the next term is O(m^3)): extrapolated to m = 0 from m = 0.02 and 0.04 (finely
    # sampled, so that the narrow switching ramps are resolved) it must meet 1/384; the
    # quadratic remainder of the extrapolation and the staircase term are ~1e-3: 0.5 %.
    m = np.array([0.02, 0.04])
    moments = _table_moments(m, "spwm", 72, 2048)
    f = np.trace(moments.sum(axis=1), axis1=-2, axis2=-1) / 2.0 / m**2
    at_zero = (m[1] * f[0] - m[0] * f[1]) / (m[1] - m[0])
    assert_allclose(at_zero, 1.0 / 384.0, rtol=5e-3)


def test_table_sampling_converged():
    # the table's 128 samples per carrier period against 4096: 0.5 % for m >= 0.03 (the
    # docstring's claim; the switching instants are exact, only the quadrature is sampled)
    m = np.array([0.03, 0.05, 0.1, 0.3, 0.9, 1.1])
    a = _table_moments(m, "svpwm", 24, 128)
    b = _table_moments(m, "svpwm", 24, 4096)
    ta = np.trace(a.sum(axis=1), axis1=-2, axis2=-1)
    tb = np.trace(b.sum(axis=1), axis1=-2, axis2=-1)
    assert_allclose(ta, tb, rtol=5e-3)


def test_zero_sequence_schemes():
    theta = np.linspace(0, 2 * np.pi, 361)
    m = 1.1
    for scheme in ("svpwm", "dpwm1"):
        refs = pole_references(theta, m, scheme)
        # within the linear range 2/sqrt(3): no clipping, line voltages are sinusoidal
        assert np.max(np.abs(refs)) <= 1.0 + 1e-12
        line = refs[:, 0] - refs[:, 1]
        assert_allclose(line, m * math.sqrt(3) * np.cos(theta + np.pi / 6), atol=1e-12)
    # DPWM1 clamps one phase to a rail at every instant
    refs = pole_references(theta, 0.8, "dpwm1")
    assert np.all(np.isclose(np.max(np.abs(refs), axis=1), 1.0))
    assert np.all(zero_sequence(np.zeros((3, 3)), "spwm") == 0.0)
    with pytest.raises(DesignError, match="modulation"):
        zero_sequence(np.zeros((1, 3)), "sixstep")


def test_incremental_inductance_linear_and_saturating(machine):
    lin = LinearMachine(
        has_field_winding=False,
        pole_pairs=4,
        l_d=2e-4,
        l_q=5e-4,
        r_s=0.02,
        i_max=300.0,
        dc_link_voltage=500.0,
        max_speed=600.0,
        psi_m=0.1,
    )
    l_inc = incremental_inductance(lin, np.array([-100.0, 0.0]), np.array([50.0, 299.0]))
    # constant inductances exactly (the second point is one-sided at the i_q limit)
    assert_allclose(l_inc[..., 0, 0], 2e-4, rtol=1e-12)
    assert_allclose(l_inc[..., 1, 1], 5e-4, rtol=1e-12)
    assert_allclose(l_inc[..., 0, 1], 0.0, atol=1e-15)
    # saturating map: against the analytic derivatives of the co-energy flux; the map is a
    # cubic spline through a 15 x 15 grid and the step is 3.25 A: 1 % of L_q
    i_d, i_q = -80.0, 50.0
    got = incremental_inductance(machine, i_d, i_q)
    h = 1e-4
    ref = np.empty((2, 2))
    for col, (dd, dq) in enumerate(((h, 0.0), (0.0, h))):
        plus = saturating_flux(i_d + dd, i_q + dq, **SATURATING)
        minus = saturating_flux(i_d - dd, i_q - dq, **SATURATING)
        ref[:, col] = (np.array(plus) - np.array(minus)) / (2 * h)
    assert_allclose(got, ref, atol=0.01 * ref[1, 1])


def test_ripple_against_time_domain_at_three_operating_points(machine):
    # the verification: within 5 % r.m.s. at low load, mid load and in field
    # weakening (measured: 0.1 %, 0.4 %, 0.6 % for SVPWM)
    rows = ripple_comparison(machine, POINTS, F_C, "svpwm", substeps=1)
    for row in rows:
        assert abs(row["relative_difference"]) < 0.05, row
        assert row["ripple_rms_model_A"] > 0.1  # a real ripple, not two zeros


def test_modulation_schemes_change_the_ripple_as_simulated(machine):
    # the scheme changes the ripple (DPWM1 about 1.6x SVPWM at m = 0.5, same carrier), and the
    # time-domain simulation with each scheme's switching confirms the model's ratio (2 %)
    point = [POINTS[1]]
    rms = {}
    for scheme in ("svpwm", "spwm", "dpwm1"):
        (row,) = ripple_comparison(machine, point, F_C, scheme, substeps=1)
        rms[scheme] = (row["ripple_rms_model_A"], row["ripple_rms_time_domain_A"])
    for a, b in (("spwm", "svpwm"), ("dpwm1", "svpwm")):
        model_ratio = rms[a][0] / rms[b][0]
        sim_ratio = rms[a][1] / rms[b][1]
        assert model_ratio > 1.3  # SPWM and DPWM1 ripple clearly more at m = 1 than SVPWM
        assert_allclose(model_ratio, sim_ratio, rtol=0.02)


def test_higher_carrier_frequency_lowers_the_ripple(machine):
    # ripple flux ~ V_dc / f_c: doubling f_c halves the ripple current (time domain, 2 %:
    # the carrier ratio changes from 50 to 100, which moves the ripple by < 1 %)
    i_d, i_q, w = POINTS[0]
    low = ripple_time_domain(machine, i_d, i_q, w, F_C, substeps=1).ripple_rms
    high = ripple_time_domain(machine, i_d, i_q, w, 2 * F_C, substeps=1).ripple_rms
    assert_allclose(high / low, 0.5, rtol=0.02)
    # and the spectral model follows (same operating voltage)
    l_inc = incremental_inductance(machine, i_d, i_q)
    f_1 = 4 * w / (2 * math.pi)
    v = (-250.0, 100.0)
    a = ripple_spectrum(l_inc, *v, 500.0, F_C, "svpwm", f_1).phase_current_rms
    b = ripple_spectrum(l_inc, *v, 500.0, 2 * F_C, "svpwm", f_1).phase_current_rms
    assert_allclose(b / a, 0.5, rtol=0.01)


def test_time_domain_refuses_overmodulation_and_odd_ratios(machine):
    with pytest.raises(DesignError, match="linear range"):
        ripple_time_domain(machine, -80.0, 150.0, 5000 * RPM, F_C)
    with pytest.raises(DesignError, match="integer"):
        ripple_time_domain(machine, -10.0, 30.0, 1234 * RPM, F_C)
