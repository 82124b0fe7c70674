"""Regression: the reference designs at the ci level against their golden values.

The golden files (``tests/golden/*.json``) hold region areas, torque and flux linkages at a
no-load and a load point, the code version and date that produced them, and per quantity a
tolerance measured as 3 x the spread over meshes of the same physics and resolution (see
:mod:`pipeline.validation.golden`). Re-bless deliberately with
``edrive validate --update-golden`` and review the printed old/new/change table.
"""

import math

import pytest
from numpy.testing import assert_allclose

from geometries.areas import analytic_areas
from pipeline.design import load_design
from pipeline.validation.golden import DESIGNS, check_design, read_golden


@pytest.mark.parametrize("name", DESIGNS)
def test_reference_design_matches_golden(name):
    checks = check_design(name)
    failed = [c for c in checks if not c.passed]
    # One line per quantity that moved: design, quantity, golden, now, change, tolerance.
    assert not failed, "quantities beyond their golden tolerance:\n" + "\n".join(
        c.message() for c in failed
    )
    names = {c.quantity for c in checks}
    # the file covers areas and both operating points (a check cannot pass vacuously)
    assert {"area.stator_core", "area.airgap_band", "load.torque_mean", "load.psi_q"} <= names


@pytest.mark.parametrize("name", DESIGNS)
def test_golden_files_are_sane(name):
    """Provenance and tolerances are recorded, and the golden areas agree with the
    closed-form areas of the design (independent of gmsh)."""
    g = read_golden(name)
    assert g["design"] == name and g["level"] == "ci"
    assert g["code_version"]["package"] and g["date"]
    for q in g["quantities"].values():
        assert q["tolerance"] > 0 and q["basis"]
        assert math.isfinite(q["value"])
    # Tolerances stay well below the physics: torque at load within 1 %, psi within 1 %
    # of the load flux (a looser file would no longer catch a 1-2 % physics change).
    load = g["quantities"]["load.torque_mean"]
    assert load["tolerance"] < 0.01 * abs(load["value"])
    assert g["quantities"]["load.psi_q"]["tolerance"] < 0.01 * abs(
        max(g["quantities"]["load.psi_q"]["value"], g["quantities"]["load.psi_d"]["value"])
    )
    if name == "prius_2004" and "continuous.loss_stator_copper" in g["quantities"]:
        # Hand check with ORNL's measured 0.069 ohm at 21 degC (ORNL/TM-2010/253 Table 2.7)
        # scaled to the stored winding temperature: 3/2 R (i_d^2 + i_q^2). The model's own
        # resistance is +3.9 % above ORNL's (validation report): 5 %.
        pt = g["loss_point"]
        r = 0.069 * (1 + 0.00393 * (pt["winding_temperature_C"] - 20)) / (1 + 0.00393)
        hand = 1.5 * r * (pt["i_d"] ** 2 + pt["i_q"] ** 2)
        assert_allclose(g["quantities"]["continuous.loss_stator_copper"]["value"], hand, rtol=0.05)
    ref = analytic_areas(load_design(name))
    for kind, value in ref.items():
        key = f"area.{kind}"
        if key in g["quantities"]:
            # Chord (polygon) error of curved boundaries at 48 segments per circle is below
            # (2 pi/48)^2/6 = 0.29 % of a circle's area; small regions bounded by two
            # curves (airgap layers) see it twice: 1 % bounds all kinds.
            assert_allclose(g["quantities"][key]["value"], value, rtol=1e-2, err_msg=key)
