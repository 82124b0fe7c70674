"""PWM ripple losses (pipeline.losses.pwm, pipeline.maps.pwm) against closed forms and
independent computations, and the inverter-fed efficiency maps."""

import argparse
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.linalg import solve_banded

from pipeline.commands.efficiency_args import add_efficiency_arguments, options_from_args
from pipeline.constants import MU_0, RHO_CU_20
from pipeline.design import load_design
from pipeline.errors import DesignError
from pipeline.losses.copper import dowell_psi, skin_depth
from pipeline.losses.iron import bertotti
from pipeline.losses.magnet import block_eddy_loss_density
from pipeline.losses.pwm import (
    ripple_copper_loss,
    ripple_iron_loss,
    ripple_magnet_loss,
    round_wire_reduced_height,
    slab_eddy_factor,
)
from pipeline.maps.efficiency import (
    EfficiencyOptions,
)
from pipeline.maps.pwm import PWM_LOSS_KEYS, pwm_losses, pwm_settings
from pipeline.reports.efficiency import run_efficiency_stage
from pipeline.verification.pwm_cases import saturating_map
from tests.linear_machine import GEN5_LIKE, example_machine


def _slab_loss_numerical(xi: float, n: int = 4001) -> float:
    """Eddy loss of a slab (thickness 1, delta = 1/xi) carrying the flux of a unit mean flux
    density parallel to its faces, over the resistance-limited value, by finite differences
    of H'' = j omega mu sigma H = 2j/delta^2 H, H(+-1/2) = 1, scaled to a unit mean of H;
    p = <|H'|^2> / (2 sigma)."""
    x = np.linspace(-0.5, 0.5, n)
    h = x[1] - x[0]
    k2 = 2j * xi**2  # j omega mu sigma with delta = 1/xi, in units of the thickness
    ab = np.zeros((3, n - 2), dtype=complex)
    ab[0, 1:] = 1.0
    ab[1, :] = -2.0 - k2 * h * h
    ab[2, :-1] = 1.0
    rhs = np.zeros(n - 2, dtype=complex)
    rhs[0] = rhs[-1] = -1.0
    field = np.concatenate([[1.0], solve_banded((1, 1), ab, rhs), [1.0]])
    mean = np.sum(0.5 * (field[1:] + field[:-1])) * h  # flux per unit mu (trapezoid)
    current = np.diff(field) / h / mean
    p = np.mean(np.abs(current) ** 2) / 2.0  # sigma = 1
    # resistance-limited: sigma (omega mu H d)^2 / 24 = (omega mu sigma)^2 / 24 = (2 xi^2)^2 / 24
    return p / ((2.0 * xi**2) ** 2 / 24.0)


@pytest.mark.parametrize("xi", [0.3, 1.0, 2.0, 5.0, 10.0])
def test_slab_eddy_factor_against_finite_differences(xi):
    # the closed form against a 4000-cell finite-difference solution of the diffusion
    # equation (second order, error ~ (xi h)^2 < 1e-4 at xi = 10): 1e-3
    assert_allclose(slab_eddy_factor(xi), _slab_loss_numerical(xi), rtol=1e-3)


def test_slab_eddy_factor_limits():
    assert_allclose(slab_eddy_factor([0.0, 1e-3]), 1.0, rtol=1e-12)
    assert_allclose(slab_eddy_factor(100.0), 0.03, rtol=1e-12)  # 3 / xi
    assert_allclose(slab_eddy_factor(29.999), 3 / 29.999, rtol=1e-6)  # continuous at 30


def test_round_wire_dowell_equivalent_vs_exact_low_frequency_proximity():
    # M layers of n_l round wires of diameter d at pitch p in a slot of width b = n_l p.
    # Independent sum: a wire of layer m sits in the field H = (m - 1/2) n_l I / b and loses
    # pi sigma omega^2 mu_0^2 H^2 d^4 / 128 per length (uniform transverse field, d << delta),
    # against R' I^2 / 2 with R' = 4 rho / (pi d^2). The Dowell equivalent (square of equal
    # area, porosity h/p) overestimates it by the factor (4 pi / 3)(M^2 - 1)/(4 M^2 - 1)
    # (= 1.046 at M = 25, the Prius slot): within 6 % of the exact sum.
    d, p, n_l, big_m = 0.912e-3, 1.357e-3, 5, 25
    b = n_l * p
    f = 20.0  # d / delta = 0.05: low frequency
    omega = 2 * math.pi * f
    i_peak = 1.0
    sigma = 1.0 / RHO_CU_20
    r_len = 4 * RHO_CU_20 / (math.pi * d * d)
    layers = np.arange(1, big_m + 1)
    h = (layers - 0.5) * n_l * i_peak / b
    prox = math.pi * sigma * omega**2 * MU_0**2 * h**2 * d**4 / 128.0
    exact = np.mean(prox) / (r_len * i_peak**2 / 2.0)
    xi = round_wire_reduced_height(f, d, p, RHO_CU_20)
    dowell = (big_m**2 - 1) / 3.0 * dowell_psi(xi)
    ratio = dowell / exact
    assert 1.0 < ratio < 1.06
    assert_allclose(ratio, 4 * math.pi / 3 * (big_m**2 - 1) / (4 * big_m**2 - 1), rtol=1e-3)


def test_ripple_copper_loss_hand_values():
    # DC limit (xi -> 0): 3 I^2 R per band; at xi = 1, M = 4 the slot part is Dowell's
    # phi(1) + 5 psi(1) (hand-evaluated from the closed forms: 1.0172 + 5 x 0.3334/... ):
    # compared with the module's own Dowell functions and the slot share
    from pipeline.losses.copper import dowell_phi

    ms = np.array([[2.0, 1.0]])
    dc = ripple_copper_loss(ms, np.array([1e-4, 1e-4]), 4, 0.05, 0.4)
    assert_allclose(dc, 3 * 3.0 * 0.05, rtol=1e-12)
    k = dowell_phi(1.0) + 5.0 * dowell_psi(1.0)
    got = ripple_copper_loss(np.array([[2.0, 0.0]]), np.array([1.0, 1.0]), 4, 0.05, 0.4)
    assert_allclose(got, 3 * 2.0 * 0.05 * (0.4 * k + 0.6), rtol=1e-12)
    assert k > 1.5  # proximity dominates at xi = 1 with 4 layers


def test_ripple_iron_and_magnet_losses_reduce_to_their_closed_forms():
    b = np.array([[0.01, 0.004]])
    f = np.array([5e3, 10e3])
    kh, alpha, ke, ka = 0.02, 1.9, 5e-5, 3e-4
    # a very thin lamination: no skin effect, exactly Bertotti per band x mass
    thin = ripple_iron_loss(b, f, 3.0, kh, alpha, ke, ka, 1e-7, 5e-7)
    ref = 3.0 * sum(bertotti(b[0, k], f[k], kh, ke, ka, alpha) for k in range(2))
    assert_allclose(thin, ref, rtol=1e-9)
    # 0.35 mm at mu_r 500: the classical term times the slab factor of d / delta
    thick = ripple_iron_loss(b, f, 3.0, kh, alpha, ke, ka, 0.35e-3, 5e-7)
    delta = np.sqrt(2 * 5e-7 / (2 * np.pi * f * MU_0 * 500.0))
    lam = slab_eddy_factor(0.35e-3 / delta)
    assert np.all(lam < 1.0)
    ref = 3.0 * np.sum(kh * f * b[0] ** alpha + ke * (f * b[0]) ** 2 * lam + ka * (f * b[0]) ** 1.5)
    assert_allclose(thick, ref, rtol=1e-12)
    # magnets: block formula x slab factor of w / delta_m
    sigma, w, length, vol = 6.25e5, 0.0189, 0.084, 1.65e-4
    got = ripple_magnet_loss(b, f, w, length, vol, sigma)
    delta_m = np.sqrt(2 / (2 * np.pi * f * MU_0 * 1.05 * sigma))
    ref = vol * np.sum(
        block_eddy_loss_density(b[0], f, w, length, sigma) * slab_eddy_factor(w / delta_m)
    )
    assert_allclose(got, ref, rtol=1e-12)
    assert skin_depth(10e3, RHO_CU_20) < 1e-3  # copper skin depth at 10 kHz: 0.66 mm


def test_pwm_settings_from_design_and_options():
    prius = load_design("prius_2004")
    s = pwm_settings(prius)
    assert (s.switching_frequency, s.modulation, s.current_waveform) == (
        5e3,
        "svpwm",
        "inverter-fed",
    )
    assert "HV-ECU" in s.source
    s = pwm_settings(prius, 10e3, "dpwm1", "sinusoidal")
    assert (s.switching_frequency, s.modulation, s.current_waveform) == (
        10e3,
        "dpwm1",
        "sinusoidal",
    )
    assert pwm_settings(None).current_waveform == "sinusoidal"  # no design: no inverter data
    with pytest.raises(DesignError, match="needs a design"):
        pwm_settings(None, current_waveform="inverter-fed")
    with pytest.raises(DesignError, match="modulation"):
        pwm_settings(prius, modulation="sixstep")
    parser = add_efficiency_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--modulation", "spwm", "--current-waveform", "sinusoidal"])
    opt = options_from_args(args)
    assert (opt.modulation, opt.current_waveform, opt.switching_frequency) == (
        "spwm",
        "sinusoidal",
        None,
    )
    # SPWM's linear range is V_dc/2, sqrt(3)/2 of SVPWM's: the strategy's limit follows
    assert_allclose(
        opt.strategy_options().modulation_max, opt.modulation_max * math.sqrt(3) / 2, rtol=1e-12
    )


@pytest.fixture(scope="module")
def prius_like():
    return saturating_map()


def test_pwm_losses_positive_and_scale_with_carrier(prius_like):
    design = prius_like.design
    args = (-10.0, 30.0, 0.0, -120.0, 60.0, 1500 * math.pi / 30)
    low, spec_low = pwm_losses(prius_like, design, *args, 5e3, "svpwm", 373.15)
    high, spec_high = pwm_losses(prius_like, design, *args, 10e3, "svpwm", 373.15)
    for key in PWM_LOSS_KEYS:
        assert low[key] > 0 and high[key] < low[key], key
    # ripple current halves with twice the carrier (same carrier ratio bracket: 1 %)
    assert_allclose(spec_high.phase_current_rms / spec_low.phase_current_rms, 0.5, rtol=0.01)


def test_inverter_fed_efficiency_map(tmp_path, prius_like):
    import xarray as xr

    opt = EfficiencyOptions(n_speed=8, n_torque=8, cycle_exact=False)
    sin = run_efficiency_stage(
        prius_like,
        prius_like.design,
        tmp_path / "s",
        EfficiencyOptions(n_speed=8, n_torque=8, cycle_exact=False, current_waveform="sinusoidal"),
    )
    inv = run_efficiency_stage(prius_like, prius_like.design, tmp_path / "i", opt)
    assert inv["current_waveform"] == "inverter-fed"  # the design has an [inverter] table
    assert inv["peak_motor_efficiency"] < sin["peak_motor_efficiency"]
    assert inv["wltc_kWh_per_100km"] > sin["wltc_kWh_per_100km"]
    with xr.open_dataset(inv["dataset"]) as ds, xr.open_dataset(sin["dataset"]) as ds_s:
        assert ds.attrs["current_waveform"] == "inverter-fed"
        assert ds.attrs["switching_frequency_Hz"] == 5e3 and ds.attrs["modulation"] == "svpwm"
        assert ds_s.attrs["current_waveform"] == "sinusoidal"
        assert not any(k.startswith("loss_pwm") for k in ds_s.data_vars)
        ok = np.isfinite(ds["p_mech"].values)
        total = sum(ds[k].values for k in ds.data_vars if k.startswith("loss_"))
        # bookkeeping: the motor loss is the sum of all components incl. the PWM ones
        assert_allclose(ds["p_loss_motor"].values[ok], total[ok], rtol=1e-12)
        for key in PWM_LOSS_KEYS:
            assert ds[f"loss_{key}"].attrs["units"] == "W"
            assert np.all(ds[f"loss_{key}"].values[ok] > 0)
        fund = ds["phase_current_fundamental_rms"].values[ok]
        tot = ds["phase_current_rms"].values[ok]
        assert np.all(tot > fund)
        assert_allclose(
            fund, np.hypot(ds["i_d"].values, ds["i_q"].values)[ok] / math.sqrt(2), rtol=1e-12
        )


def test_inverter_fed_needs_a_design():
    m = example_machine(GEN5_LIKE)
    with pytest.raises(DesignError, match="needs a design"):
        run_efficiency_stage(
            m, None, "/tmp/unused", EfficiencyOptions(current_waveform="inverter-fed")
        )


def test_fe_flux_paths_confirm_the_stator_circuit_estimate():
    # Three ci magnetostatic solves of the Prius give the region's r.m.s. |Delta B| per unit
    # Delta psi; the magnetic-circuit estimate (pipeline.maps.pwm docstring) is a peak over
    # the region, r.m.s. = peak / sqrt(2). Teeth and yoke: within 10 % (measured 1-8 %: the
    # flux-per-pole argument holds in the stator). Rotor: within 30 % (2.8 / 3.9 T/Wb for
    # d / q against 3.1). Magnets: the circuit puts the whole d-axis flux through them, the
    # FE shows about a third (bridges and pole shoe carry the rest): that is why the
    # efficiency stage uses the FE paths for finite-element maps.
    from pipeline.maps.pwm import fe_flux_paths, pwm_loss_data

    design = load_design("prius_2004")
    fe = fe_flux_paths(design, "ci")
    circuit = pwm_loss_data(design)
    for key, tol in (
        ("pwm_iron_stator_teeth", 0.10),
        ("pwm_iron_stator_yoke", 0.10),
        ("pwm_iron_rotor", 0.30),
    ):
        rms = circuit.iron[key].b_per_psi / math.sqrt(2)
        assert_allclose(fe[key], rms, rtol=tol, err_msg=key)
    g_d, g_q = fe["pwm_magnet"]
    uniform = circuit.magnet[-1]  # uniform B per d-axis flux linkage of the circuit model
    assert 0.2 < g_d / uniform < 0.5 and g_q < g_d


def test_hairpin_eesm_pwm_losses():
    # gen5_eesm: 4 hairpin bars per slot (Dowell over the bars), no magnets; a linear model
    # (magnetic-circuit paths). The hairpin AC factor at 10 kHz makes the ripple copper loss
    # exceed the DC value 3 I_rip^2 R_dc several times over.
    from pipeline.derived import phase_resistance_dc

    design = load_design("gen5_eesm")
    m = example_machine(GEN5_LIKE)
    losses, spec = pwm_losses(
        m, design, -50.0, 200.0, 15.0, -100.0, 150.0, 500.0, 10e3, "svpwm", 373.15
    )
    assert losses["pwm_magnet"] == 0.0
    dc = 3 * float(spec.phase_current_rms) ** 2 * float(phase_resistance_dc(design, 373.15))
    assert losses["pwm_copper"] > 2 * dc
    assert all(losses[k] > 0 for k in PWM_LOSS_KEYS if k != "pwm_magnet")
