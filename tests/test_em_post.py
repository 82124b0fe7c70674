"""Post-processing of a motor case: fields kept for iron losses, end-winding leakage,
back-EMF reconstruction, field export, virtual-work torque."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.design import load_design
from pipeline.em.machine import machine_model, run_case
from pipeline.post.fields import element_flux_density


@pytest.fixture(scope="module")
def prius_fields():
    return run_case("prius_2004", 0.0, 250.0, positions=3, keep_fields=True)


def test_kept_fields_match_post_processing_and_region_areas(prius_fields):
    res = prius_fields
    m = machine_model("prius_2004")
    b = res.extras["b_elements"]
    assert b.shape == (3, 2, m.solver.basis.mesh.t.shape[1])
    # element-mean B from the quadrature-point field: the same linear algebra, so only
    # round-off may differ (1e-9 T on fields of ~2 T)
    ref = element_flux_density(m.solver.basis, res.extras["a_positions"][1])
    np.testing.assert_allclose(b[1], ref, atol=1e-9)
    d = load_design("prius_2004")
    st, sl = d.stator, d.stator.slot
    area = res.extras["element_area"]
    n = res.extras["n_sectors"]
    reg = res.extras["regions"]
    # hand areas of the whole machine [m^2]: magnets 16 x 18.9 x 6.5 mm (design data);
    # yoke = annulus between the round slot bottom and the outer radius; teeth = annulus
    # bore..slot bottom minus the 48 slots (opening + trapezoid + semicircle)
    r_sb = st.bore_radius + sl.depth
    yoke = math.pi * (st.outer_radius**2 - r_sb**2)
    teeth = math.pi * (r_sb**2 - st.bore_radius**2) - st.n_slots * sl.area(st.bore_radius)
    magnets = 16 * d.rotor.magnet_width * d.rotor.magnet_thickness
    # 1e-6 relative: the magnets are straight-edged polygons, meshed exactly
    assert n * area[reg["magnets"]].sum() == pytest.approx(magnets, rel=1e-6)
    # 1 %: the meshed circles are polygons (chord error (2 pi / 48)^2 / 6 = 0.3 % of the
    # outer annulus area on the coarse mesh, more on the small slot-bottom arcs)
    assert n * area[reg["stator_yoke"]].sum() == pytest.approx(yoke, rel=0.01)
    assert n * area[reg["stator_teeth"]].sum() == pytest.approx(teeth, rel=0.01)
    # the four kinds are disjoint
    allidx = np.concatenate(list(reg.values()))
    assert np.unique(allidx).size == allidx.size


def test_end_winding_inductance_hand_computation():
    from pipeline.constants import MU_0
    from pipeline.post.endwinding import design_end_winding_inductance, end_winding_inductance

    # Prius 2004 by hand (design data): mid-slot radius 80.95 + 1.0 + 33.3/2 = 98.6 mm,
    # span 6 slots = 6 * 2 pi/48 * 98.6 mm = 77.44 mm; end connection (the one of the
    # phase resistance): semicircle pi 77.44 / 2 = 121.64 mm plus 2 x 19.366 mm straight
    # = 160.37 mm. tau_p = pi * 80.95 / 4 = 63.58 mm, beta = 1, N_s = 72, p = 4:
    # L_ew = 0.68 MU_0 72^2 (160.37 - 0.64 * 63.58) mm / 4 = 132.5 uH.
    hand = 0.68 * MU_0 * 72**2 * (160.37e-3 - 0.64 * 63.58e-3) / 4
    assert hand == pytest.approx(132.5e-6, rel=2e-3)
    # 0.1 %: the hand values above are rounded to 4 digits
    assert design_end_winding_inductance(load_design("prius_2004")) == pytest.approx(hand, rel=1e-3)
    # outside the formula's range (end connection shorter than 0.64 tau_p) it is 0, not < 0
    assert end_winding_inductance(72, 4, 0.01, 1.0, 0.0636) == 0.0


def test_end_winding_leakage_enters_flux_linkage(prius_fields):
    res = prius_fields
    # psi_abc = psi_2D + L_ew i_abc exactly, so psi_q rises by L_ew i_q (Park is linear)
    assert res.L_ew == pytest.approx(132.5e-6, rel=2e-3)  # hand value above
    np.testing.assert_allclose(
        res.psi_abc - res.extras["psi_abc_2d"], res.L_ew * res.i_abc, rtol=1e-12, atol=1e-15
    )
    assert res.summary()["L_ew_H"] == res.L_ew


def test_back_emf_of_a_pure_sinusoid():
    from pipeline.post.backemf import back_emf

    # psi = 0.2 cos(theta) + 0.01 cos(5 theta) at 3000 rpm, p = 4: omega = 1256.6 rad/s;
    # closed form: E_1 = omega 0.2 = 251.3 V, E_5 = 5 omega 0.01 = 62.8 V peak;
    # line-to-line: the fundamental x sqrt(3), the 5th x sqrt(3) too (3 nd/5th not triplen).
    th = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    emf = back_emf(th, 0.2 * np.cos(th) + 0.01 * np.cos(5 * th), 3000.0, 4)
    w = 4 * 3000 * 2 * np.pi / 60
    # spectral differentiation is exact for sampled harmonics below Nyquist: round-off only
    assert emf.phase_harmonics[0] == pytest.approx(0.2 * w, rel=1e-12)
    assert emf.phase_harmonics[4] == pytest.approx(0.05 * w, rel=1e-12)
    assert emf.line_harmonics[0] == pytest.approx(math.sqrt(3) * 0.2 * w, rel=1e-12)
    assert emf.thd_phase == pytest.approx(0.25, rel=1e-12)
    np.testing.assert_allclose(
        emf.e_phase, -w * (0.2 * np.sin(th) + 0.05 * np.sin(5 * th)), atol=1e-9
    )


@pytest.mark.parametrize("i_d, i_q", [(0.0, 0.0), (-50.0, 200.0)])
def test_six_fold_reconstruction_matches_full_period(i_d, i_q):
    from pipeline.post.backemf import full_period

    # Independent reference: a solve over the whole electrical period (24 positions).
    full = run_case("prius_2004", i_d, i_q, positions=24, span_el=2 * math.pi)
    sixth = run_case("prius_2004", i_d, i_q, positions=4)
    theta, psi_a = full_period(sixth.psi_abc, sixth.theta_el)
    np.testing.assert_allclose(theta, full.theta_el, atol=1e-12)
    # 0.2 % of the peak: the relabelled phases sit on other (unstructured) slot meshes and
    # the rotor on other pitches, so only discretisation noise may differ (measured 0.07 %
    # open circuit, 0.01 % on load); a wrong sign or phase in the relation gives > 100 %.
    peak = np.abs(full.psi_abc[0]).max()
    np.testing.assert_allclose(psi_a, full.psi_abc[0], atol=2e-3 * peak)


def test_case_back_emf_consistent_with_dq_voltage():
    res = run_case("prius_2004", 0.0, 0.0, positions=12, speed_rpm=1000.0)
    emf = res.back_emf()
    s = res.summary()
    # Open circuit: v_q = omega psi_d is the Park fundamental of the same flux linkages
    # (mean over 60 el. deg, where the 6th harmonic in dq averages out): 0.5 % (the
    # 5th/7th phase harmonics leave a small non-averaging part on 12 samples).
    assert emf.phase_fundamental == pytest.approx(s["v_q_V"], rel=5e-3)
    # balanced set: line fundamental = sqrt(3) x phase fundamental (round-off)
    assert emf.line_harmonics[0] == pytest.approx(math.sqrt(3) * emf.phase_fundamental, rel=1e-9)
    # no even harmonics (half-wave symmetry built in) and no triplens in the line EMF
    assert np.all(emf.line_harmonics[1::2] < 1e-9 * emf.line_harmonics[0])
    assert np.all(emf.line_harmonics[2::3] < 1e-9 * emf.line_harmonics[0])
    ds = res.to_dataset()
    assert ds["emf_line"].attrs["units"] == "V" and ds.sizes["theta_period"] == 72
    assert s["emf_line_rms_V"] == pytest.approx(emf.line_rms)


def test_prius_back_emf_comparison_table():
    from pipeline.post.validation import prius_back_emf_comparison

    t = prius_back_emf_comparison("ci")
    # measured column = ORNL/TM-2004/247 Table 3.4 (first and last rows by hand)
    assert t["speed_rpm"][0] == 502 and t["measured_V"][0] == 42.0
    assert t["speed_rpm"][-1] == 5998 and t["measured_V"][-1] == 539.8
    assert t["speed_rpm"].size == 12
    # EMF is proportional to speed at open circuit (round-off)
    np.testing.assert_allclose(
        t["computed_V"] / t["speed_rpm"], t["computed_V"][0] / 502, rtol=1e-12
    )
    # error column = (computed - measured) / measured, row by row (the model-vs-ORNL
    # judgement itself is validation, in `edrive validate`)
    np.testing.assert_allclose(t["error"], t["computed_V"] / t["measured_V"] - 1, rtol=1e-12)


def test_field_export_round_trip(tmp_path, prius_fields):
    import meshio

    from pipeline.post.export import case_snapshot, plot_field, write_vtu, write_xdmf

    snap = case_snapshot(prius_fields, position=1)
    vtu = write_vtu(snap, tmp_path / "f.vtu")
    back = meshio.read(vtu)
    ne = machine_model("prius_2004").solver.basis.mesh.t.shape[1]
    assert back.cells[0].data.shape == (ne, 3)
    # |B| of the written file equals the kept field of that position (float64 round trip)
    b = prius_fields.extras["b_elements"][1]
    np.testing.assert_allclose(back.cell_data["B_magnitude"][0], np.hypot(b[0], b[1]), rtol=1e-12)
    xd = meshio.read(write_xdmf(snap, tmp_path / "f.xdmf"))
    assert xd.cells[0].data.shape == (ne, 3)
    with open(plot_field(snap, tmp_path / "f.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "design, i_d, i_q, i_f",
    [("prius_2004", -100.0, 200.0, 0.0), ("gen5_eesm", -100.0, 300.0, 20.0)],
)
def test_virtual_work_torque_matches_arkkio(design, i_d, i_q, i_f):
    from pipeline.em.park import abc_from_dq
    from pipeline.post.virtual_work import virtual_work_torque

    m = machine_model(design)
    k = m.k0 + 3
    t_vw, t_ark = virtual_work_torque(m, k, abc_from_dq(i_d, i_q, m.theta_el(k)), i_f)
    # Two independent evaluations (co-energy change over +-1 interface pitch vs Maxwell
    # stress in the band). The central difference of W' is the mean torque over 2 pitches
    # (2.5 el. deg), which differs from the point value by the ripple slope over that span
    # (< 0.2 %), plus discretisation: 0.5 % (measured: 0.1 % Prius, 0.08 % Gen5).
    assert t_ark > 100.0
    assert t_vw == pytest.approx(t_ark, rel=5e-3)
