"""Sixth-period symmetry (pipeline.em.sixfold): stator fields over a period from pi/3 el.

The references are directly solved rotor positions: the symmetry argument (balanced
currents, integral-slot winding) is exact in the continuum, and the builder makes the
stator mesh periodic under pi/3 el., so the discrete problem at theta + pi/3 is the rotated
problem at theta and the mapped fields must equal the solved ones up to the Newton
tolerance (||r|| <= 1e-8 ||r0||) wherever the whole stator side is periodic (gen5: its 18
cooling channels repeat every pi/3 el.). In the Prius the 16 channels do not (2 per pole
against 3 sixths), so its housing mesh is not periodic and leaves a small, measured residue.
Before the periodic stator mesh (builder version 1) the map interpolated: 4.1 % r.m.s. in
stator B, loss coefficients within 2.1 % (Prius) and 5.6 % (gen5).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from pipeline.design import load_design
from pipeline.em.machine import machine_model, run_case
from pipeline.em.sixfold import (
    rotation_operator,
    sixfold_applies,
    sixfold_stator,
    stator_full_period,
    stator_side,
)
from pipeline.maps.flux import LOSS_POSITIONS, LOSS_SPAN_EL, loss_sampling
from pipeline.maps.losses import point_losses

COEFFS = ("c_h", "c_e", "c_a")
REGIONS = ("iron_stator_teeth", "iron_stator_yoke", "iron_rotor")


def _rel(x, ref):
    return float(np.sqrt(np.sum((x - ref) ** 2) / np.sum(ref**2)))


@pytest.fixture(scope="module")
def prius_two_sixths():
    """Prius at a field-weakening load point, 24 positions over 2 pi/3 solved directly."""
    return run_case("prius_2004", -250.0, 200.0, positions=24, span_el=2 * math.pi / 3,
                    keep_fields=True)  # fmt: skip


def _core(m):
    return np.sort(np.concatenate([m.regions["stator_teeth"], m.regions["stator_yoke"]]))


def test_stator_field_at_the_next_sixth_is_the_rotated_field(prius_two_sixths):
    res = prius_two_sixths
    m = machine_model("prius_2004", "ci")
    stator = _core(m)
    b = res.extras["b_elements"]
    # the periodic stator mesh makes the map a signed node permutation
    assert sixfold_stator(m).exact
    rebuilt = stator_full_period(m, res.extras["a_positions"][:12], stator)
    assert rebuilt.shape == (72, 2, stator.size)
    # block k = 0 is the solved field itself
    np.testing.assert_allclose(rebuilt[:12], b[:12][:, :, stator], rtol=1e-12, atol=1e-12)
    # block k = 1 against the directly solved second sixth: 1.3e-5 to 3.2e-5 r.m.s. (with
    # and without the solver's starts across solves) over all stator
    # elements and samples at ci (the non-periodic housing mesh, module doc); the issue's
    # target is 0.1 %, the bound
    assert _rel(rebuilt[12:24], b[12:24][:, :, stator]) < 1e-3
    # without the rotation (the solved field reused as is) the error is of order one,
    # so the check above can fail
    assert _rel(b[:12][:, :, stator], b[12:24][:, :, stator]) > 0.5


def test_sixth_period_map_of_a_fully_periodic_stator_is_exact():
    res = run_case("gen5_eesm", -200.0, 400.0, i_f=20.0, positions=12, span_el=2 * math.pi / 3,
                   keep_fields=True)  # fmt: skip
    m = machine_model("gen5_eesm", "ci")
    stator = _core(m)
    b = res.extras["b_elements"][6:12][:, :, stator]
    rebuilt = stator_full_period(m, res.extras["a_positions"][:6], stator)[6:12]
    # measured 1.6e-7 r.m.s.: two Newton solves each within ||r|| <= 1e-8 ||r0||; a 1e-5
    # bound is 60 x that and 400 x below the interpolating map's error (4 %)
    assert _rel(rebuilt, b) < 1e-5


def test_interpolating_fallback_agrees_with_the_permutation(prius_two_sixths):
    m = machine_model("prius_2004", "ci")
    six = sixfold_stator(m)
    a = prius_two_sixths.extras["a_positions"][3]
    stator_dofs = np.unique(m.solver.dofs[:, stator_side(m)])
    angle = math.pi / (3 * m.design.pole_pairs)
    # without the dof at one rotated target the exact match fails and the operator falls
    # back to point location and interpolation
    target = six.ops[0].indices[0]
    interp = rotation_operator(m, six.dofs, angle, stator_dofs=stator_dofs[stator_dofs != target])
    assert interp.nnz > six.dofs.size
    # at a node the P1 weights are one and zeros: both paths give the same values up to
    # the round-off of the inverse element mapping (1e-9 of the field scale)
    exact = six.ops[0] @ a
    assert np.max(np.abs(interp @ a - exact)) < 1e-9 * np.max(np.abs(exact))


def test_rotor_field_repeats_every_sixth(prius_two_sixths):
    res = prius_two_sixths
    m = machine_model("prius_2004", "ci")
    rotor = m.regions["rotor_core"]
    b = res.extras["b_elements"][:, :, rotor]
    # rotor-frame fields at theta and theta + pi/3: 0.11 % apart (sliding-interface
    # discretisation); 0.5 % bound
    assert _rel(b[:12], b[12:24]) < 0.005


def test_sixth_period_losses_match_half_period_solves():
    d = load_design("prius_2004")
    op = dict(i_d=-250.0, i_q=200.0)
    half = point_losses(run_case(d, positions=36, span_el=math.pi, keep_fields=True, **op), d)
    six = point_losses(run_case(d, positions=12, span_el=math.pi / 3, keep_fields=True, **op), d)
    for region in REGIONS:
        for c in COEFFS:
            key = f"{region}_{c}"
            # measured at ci: within 7.2e-6 (stator yoke excess term; 2.1 % with the
            # interpolating map), rotor 3e-7; 1e-4 bound (the housing residue, module doc)
            assert six[key][0] == pytest.approx(half[key][0], rel=1e-4), key
    # magnets see the rotor frame: 2.1e-5 apart (0.4 % before); 1e-4 bound
    assert six["magnet_c_e"][0] == pytest.approx(half["magnet_c_e"][0], rel=1e-4)


def test_sixth_period_total_iron_loss_of_an_eesm():
    d = load_design("gen5_eesm")
    op = dict(i_d=-200.0, i_q=400.0, i_f=20.0)
    half = point_losses(run_case(d, positions=36, span_el=math.pi, keep_fields=True, **op), d)
    six = point_losses(run_case(d, positions=12, span_el=math.pi / 3, keep_fields=True, **op), d)
    f = d.pole_pairs * 6000 / 60  # 300 Hz

    def total(p, region):
        return sum(p[f"{region}_{c}"][0] * f**e for c, e in zip(COEFFS, (1, 2, 1.5), strict=True))

    for region in REGIONS:
        # measured at ci: within 1.1e-8 (rotor; stator 1e-9): the gen5 stator side is
        # periodic, so the map is exact up to the Newton tolerance (was yoke +2.1 %);
        # 1e-6 bound
        assert total(six, region) == pytest.approx(total(half, region), rel=1e-6), region


def test_fractional_slot_designs_fall_back_to_half_a_period():
    integral = SimpleNamespace(stator=SimpleNamespace(n_slots=48), pole_pairs=4)
    fractional = SimpleNamespace(stator=SimpleNamespace(n_slots=12), pole_pairs=5)
    assert sixfold_applies(integral)
    assert not sixfold_applies(fractional)
    assert loss_sampling(fractional) == (LOSS_POSITIONS, LOSS_SPAN_EL)
    for name in ("prius_2004", "gen5_eesm", "zoe_eesm"):
        assert loss_sampling(load_design(name)) == (12, pytest.approx(math.pi / 3))
