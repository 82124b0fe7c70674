"""Loss coefficients of a map point vs closed forms, fitted tables and the measured Prius
spin loss (ORNL/TM-2004/247 Table 3.7)."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.design import load_design
from pipeline.errors import DesignError
from pipeline.losses.iron import bertotti, read_loss_table, steinmetz
from pipeline.losses.magnet import (
    rectangular_block_factor,
    strip_eddy_loss_density,
    thin_plate_eddy_loss_density,
)
from pipeline.maps.losses import (
    LOSS_TABLES,
    POINT_LOSS_VARIABLES,
    iron_fit_report,
    iron_loss_model,
    point_losses,
)
from pipeline.materials import load_material


def _theta(n=24, span=math.pi):
    return np.linspace(0.0, span, n, endpoint=False)


def _fake_result(b, theta, regions, area, level="ci", mesh_key=""):
    extras = {"b_elements": b, "regions": regions, "element_area": area}
    return SimpleNamespace(theta_el=theta, extras=extras, level=level, mesh_key=mesh_key)


def _sine_case(design, b0=1.3, b1=0.9, b2=0.2):
    """Element 0 (teeth): B0 cos theta; 1 (yoke): B1 sin theta along y; 2 (rotor, rotor
    frame): B2 cos 2 theta (the rotor sees even orders only, see pipeline.maps.losses)."""
    th = _theta()
    b = np.zeros((th.size, 2, 3))
    b[:, 0, 0] = b0 * np.cos(th)
    b[:, 1, 1] = b1 * np.sin(th)
    b[:, 0, 2] = b2 * np.cos(2 * th)
    regions = {"stator_teeth": [0], "stator_yoke": [1], "rotor_core": [2], "magnets": []}
    area = np.array([2e-5, 3e-5, 4e-5])
    return _fake_result(b, th, regions, area)


def test_sinusoid_gives_bertotti_and_steinmetz_closed_form():
    # gen5_eesm (no magnets, M235-35A table): one element per region with a pure sinusoid
    # of the stack-average B; the steel carries B / k_f.
    # The FFT amplitude of an exact sinusoid and the spectral derivative in the MSE are
    # exact, so the coefficients reproduce the closed forms to rounding (rtol 1e-9).
    d = load_design("gen5_eesm")
    out = point_losses(_sine_case(d), d)
    assert set(out) == set(POINT_LOSS_VARIABLES)
    model = iron_loss_model(d.stator.material)
    fit, st = model.bertotti, model.steinmetz
    n_sectors = d.symmetry[0]
    f = 250.0
    for key, b_peak, order, area, kf in (
        ("iron_stator_teeth", 1.3, 1, 2e-5, d.stator.stacking_factor),
        ("iron_stator_yoke", 0.9, 1, 3e-5, d.stator.stacking_factor),
        ("iron_rotor", 0.2, 2, 4e-5, d.rotor.stacking_factor),
    ):
        mass = model.density * area * d.stack_length * n_sectors * kf
        c = {k: out[f"{key}_{k}"][0] for k in ("c_h", "c_e", "c_a", "k_mse")}
        p = c["c_h"] * f + c["c_e"] * f**2 + c["c_a"] * f**1.5
        b_steel = b_peak / kf  # the FE field is the lamination-stack average
        expected = mass * bertotti(b_steel, order * f, fit.k_h, fit.k_e, fit.k_a, fit.alpha)
        assert_allclose(p, expected, rtol=1e-9)
        alpha = out["iron_stator_mse_alpha"][0]
        expected_mse = mass * steinmetz(b_steel, order * f, st.k, st.alpha, st.beta)
        assert_allclose(c["k_mse"] * f**alpha, expected_mse, rtol=1e-9)
    assert out["magnet_c_e"][0] == 0.0
    assert out["iron_stator_teeth_c_e"][1] == "W/Hz^2"


def test_full_period_span_equals_half_period_extension_for_sinusoids():
    # The same sinusoids sampled over 2 pi (48 positions) must give the same coefficients
    # as the half period extended by symmetry: exact to rounding.
    d = load_design("gen5_eesm")
    half = point_losses(_sine_case(d), d)
    th = _theta(48, 2 * math.pi)
    b = np.zeros((48, 2, 3))
    b[:, 0, 0] = 1.3 * np.cos(th)
    b[:, 1, 1] = 0.9 * np.sin(th)
    b[:, 0, 2] = 0.2 * np.cos(2 * th)
    regions = {"stator_teeth": [0], "stator_yoke": [1], "rotor_core": [2], "magnets": []}
    full = point_losses(_fake_result(b, th, regions, np.array([2e-5, 3e-5, 4e-5])), d)
    for key in half:
        assert_allclose(full[key][0], half[key][0], rtol=1e-10, atol=1e-300)


def test_bad_span_and_missing_fields_raise():
    d = load_design("gen5_eesm")
    case = _sine_case(d)
    case.theta_el = _theta(24, 2 * math.pi / 3)  # neither a sixth, a half nor a period
    with pytest.raises(DesignError, match="span_el"):
        point_losses(case, d)
    case.theta_el = _theta(24, math.pi / 3)  # a sixth needs the solved A_z (keep_fields)
    with pytest.raises(DesignError, match="keep_fields"):
        point_losses(case, d)
    with pytest.raises(DesignError, match="keep_fields"):
        point_losses(SimpleNamespace(theta_el=_theta(), extras={}), d)


@pytest.mark.parametrize("material", sorted(LOSS_TABLES))
def test_fit_reproduces_loss_table_points(material):
    # Bertotti with a fitted hysteresis exponent over the whole table (50-2500 Hz,
    # 0.1-1.8 T). Measured rms relative errors: 0.067 (M19_29Ga), 0.130 (M400-50A),
    # 0.087 (M235-35A); bound 0.14. The points at 1.5 T / 50 Hz and 1.0 T / 400 Hz (typical
    # of traction teeth) are reproduced within 9 % (measured 0.5-7.5 %); 10 % allowed.
    model = iron_loss_model(material)
    assert model.bertotti.rms_relative_error < 0.14
    f, b, p = read_loss_table(model.table)
    for f0, b0 in ((50.0, 1.5), (400.0, 1.0)):
        table = p[(f == f0) & np.isclose(b, b0)][0]
        assert_allclose(model.bertotti(b0, f0), table, rtol=0.10)
    report = iron_fit_report(load_design("prius_2004"))
    assert report["stator"]["loss_table"] == "M19_29Ga"
    assert report["stator"]["steinmetz"]["rms_relative_error"] < 0.11  # measured 0.098


def test_strip_eddy_uniform_field_is_thin_plate():
    # Uniform B across the strips: E is linear across the width, exactly the thin plate.
    th = _theta(32, 2 * math.pi)
    b = 0.05 * np.sin(th)[None, :] * np.ones((7, 1))
    p = strip_eddy_loss_density(b, 1 / 300.0, 0.02, None, 6.25e5)
    assert_allclose(p, thin_plate_eddy_loss_density(0.05, 300.0, 0.02, 6.25e5), rtol=1e-12)


def test_strip_eddy_alternating_field_closed_form():
    # B = B0 cos(k x) sin(w t) on 0 < x < w: E = w B0 cos(wt) (sin(kx)/k - c),
    # c = (1 - cos kw)/(k^2 w); <E^2> = (w B0)^2/2 [ (1/2 - sin(2kw)/(4kw))/k^2 - c^2 ].
    # Midpoint strip values converge as 1/n^2: 1e-4 relative at 400 strips; rtol 1e-3.
    width, b0, f, sigma = 0.0189, 0.1, 500.0, 6.25e5
    k = 2 * math.pi / 0.0106  # a slot-pitch wavelength across the magnet
    n = 400
    x = (np.arange(n) + 0.5) * width / n
    th = _theta(16, 2 * math.pi)
    b = b0 * np.cos(k * x)[:, None] * np.sin(th)[None, :]
    omega = 2 * math.pi * f
    c = (1 - math.cos(k * width)) / (k**2 * width)
    mean_sq = (0.5 - math.sin(2 * k * width) / (4 * k * width)) / k**2 - c**2
    expected = sigma * (omega * b0) ** 2 / 2 * mean_sq
    assert_allclose(strip_eddy_loss_density(b, 1 / f, width, None, sigma), expected, rtol=1e-3)
    # and it is far below the uniform-field formula with the same local amplitude
    assert expected < 0.1 * thin_plate_eddy_loss_density(b0, f, width, sigma)


def test_magnet_coefficient_uniform_field_block_formula():
    # Prius ci mesh, every magnet element sees B0 cos(2 theta) along its magnetisation:
    # c_m f^2 = sigma (omega_2 B0 w)^2 / 24 F(l/w) V, omega_2 = 2 pi 2 f (order 2 in the
    # rotor frame), V = magnet area x stack x n_sectors. Exact to rounding (rtol 1e-9).
    from pipeline.mesh import get_mesh

    d = load_design("prius_2004")
    mm = get_mesh(d, "ci")
    mesh = mm.mesh
    e1 = mesh.p[:, mesh.t[1]] - mesh.p[:, mesh.t[0]]
    e2 = mesh.p[:, mesh.t[2]] - mesh.p[:, mesh.t[0]]
    area = 0.5 * np.abs(e1[0] * e2[1] - e1[1] * e2[0])
    th = _theta()
    b = np.zeros((th.size, 2, mesh.t.shape[1]))
    volume = 0.0
    for name, meta in mm.info["magnets"].items():
        idx = np.asarray(mesh.subdomains[name])
        b[:, :, idx] = (0.1 * np.cos(2 * th))[:, None, None] * np.asarray(meta["direction"])[
            None, :, None
        ]
        volume += area[idx].sum() * d.stack_length * mm.n_sectors
    empty = np.zeros(0, dtype=int)
    regions = {"stator_teeth": empty, "stator_yoke": empty, "rotor_core": empty}
    out = point_losses(_fake_result(b, th, regions, area, "ci", mm.key), d)
    f = 200.0
    sigma = 1.0 / load_material(d.rotor.magnet_material).resistivity
    w = d.rotor.magnet_width
    factor = rectangular_block_factor(w, d.stack_length)
    expected = sigma * (2 * math.pi * 2 * f * 0.1 * w) ** 2 / 24 * factor * volume
    assert_allclose(out["magnet_c_e"][0] * f**2, expected, rtol=1e-9)
    assert out["iron_stator_teeth_c_h"][0] == 0.0  # empty regions carry no loss


def test_prius_point_losses_half_vs_full_period_and_ornl_spin_loss():
    """Real prius_2004 ci solves (48 positions, about 5 s on one core).

    1. Symmetry: on load (i_d -100 A, i_q 150 A) 12 positions over pi extended by
       B(theta + pi) = -B (stator) / +B (rotor frame) equal 24 positions over 2 pi; the
       solves agree to the Newton tolerance (measured 2e-8 relative): rtol 1e-6.
    2. Open circuit at 3007 rpm: FE stator + rotor iron + magnet loss vs the measured spin
       loss of the unpowered MG2 rotor, 161.7 W (ORNL/TM-2004/247 Table 3.7; it also holds
       bearings, seals and oil drag). Measured FE/ORNL = 1.18 (1.19 with 24 positions).
       Epstein data without a build factor lower the estimate; harmonic-sum hysteresis and
       the 2D magnet flux (back-EMF 7-17 % above ORNL's, docs/architecture.md) raise it;
       over 500-6000 rpm the ratio is 0.97-1.41 (benchmarks/bench_maps_losses.py): [0.7, 1.5].
    """
    from pipeline.em.machine import run_case

    d = load_design("prius_2004")
    half = point_losses(run_case(d, -100, 150, positions=12, span_el=math.pi, keep_fields=True), d)
    full = point_losses(
        run_case(d, -100, 150, positions=24, span_el=2 * math.pi, keep_fields=True), d
    )
    for key in half:
        assert_allclose(half[key][0], full[key][0], rtol=1e-6)
    oc = point_losses(run_case(d, 0, 0, positions=12, span_el=math.pi, keep_fields=True), d)
    f = d.pole_pairs * 3007 / 60
    total = oc["magnet_c_e"][0] * f**2
    for key in ("iron_stator_teeth", "iron_stator_yoke", "iron_rotor"):
        c = {k: oc[f"{key}_{k}"][0] for k in ("c_h", "c_e", "c_a")}
        total += c["c_h"] * f + c["c_e"] * f**2 + c["c_a"] * f**1.5
    assert 0.7 <= total / 161.7 <= 1.5, total


def test_repetition_order_and_mse_of_a_six_fold_waveform():
    # A rotor waveform with 6k harmonics repeats 6 times per period: r = 6 (a 0.5 % order-1
    # residue, below the 1 % threshold, does not change it). The MSE of 6 identical loops
    # per period at f equals Steinmetz at 6 f for a sinusoid: r^(2 - alpha) x MSE(full)
    # reproduces it to rounding (spectral derivative of an exact sinusoid).
    from pipeline.losses.iron import modified_steinmetz
    from pipeline.maps.losses import repetition_order

    th = _theta(72, 2 * math.pi)
    b = 0.2 * np.cos(6 * th) + 0.02 * np.cos(12 * th) + 0.001 * np.cos(th)
    assert repetition_order(b) == 6
    assert repetition_order(np.zeros(16)) == 1
    sine = 0.2 * np.cos(6 * th)
    k, alpha, beta = 0.01, 1.43, 1.84
    mse = repetition_order(sine) ** (2 - alpha) * modified_steinmetz(sine, 1.0, k, alpha, beta)
    assert_allclose(mse, steinmetz(0.2, 6.0, k, alpha, beta), rtol=1e-9)
