"""Calibration (``edrive calibrate``): data-file rules, and recovery of a known truth.

The known-truth test perturbs two parameters of the Prius, generates "measurements" from the
perturbed design with the same FE observables, and calibrates the nominal design back.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from pipeline.calibration.data import calibration_data_from_toml
from pipeline.design import load_design
from pipeline.errors import DesignError

PARAM_BR = """
[[parameter]]
path = "rotor.magnet_remanence_T"
lower = 1.0
upper = 1.3
reason = "grade range"
"""

EMF_ROW = """
[[measurement]]
name = "emf"
kind = "back_emf"
role = "{role}"
speed_rpm = 1000.0
value = 85.7
uncertainty = 2.6
unit = "V"
source = "test"
"""


def _data(text: str):
    return calibration_data_from_toml(textwrap.dedent(text), load_design("prius_2004"))


def test_valid_file_is_read_with_units_and_roles():
    d = _data('design = "prius_2004"\n' + PARAM_BR + EMF_ROW.format(role="calibration"))
    (p,) = d.parameters
    assert p.field == "rotor.magnet_remanence" and p.scale == 1.0
    # the start defaults to the value the model uses: the material's 1.24 T (ndfeb_prius.toml)
    # unless the shipped design states its own
    own = load_design("prius_2004").rotor.magnet_remanence
    assert p.start == pytest.approx(1.24 if own is None else own, rel=1e-12)
    assert [m.role for m in d.measurements] == ["calibration"]


@pytest.mark.parametrize(
    "text, field, rule",
    [
        # more parameters (2) than independent calibration rows (1)
        (PARAM_BR + PARAM_BR.replace("magnet_remanence_T", "web_width_mm").replace("1.0", "0.5")
         .replace("1.3", "2.0") + EMF_ROW.format(role="calibration"),
         "parameter", "more parameters than independent calibration measurements"),
        # the same measurement marked calibration and validation
        (PARAM_BR + EMF_ROW.format(role="calibration")
         + EMF_ROW.format(role="validation").replace('name = "emf"', 'name = "emf2"'),
         "measurement emf2.role", "marked both calibration and validation"),
        # a role that is neither
        (PARAM_BR + EMF_ROW.format(role="both"), "measurement[0].role", "one of the two"),
        # bounds that exclude the start value
        (PARAM_BR.replace("upper = 1.3", "upper = 1.3\nstart = 1.4") + EMF_ROW.format(role="calibration"),
         "parameter[0].start", "exclude the start value"),
        (PARAM_BR.replace("lower = 1.0", "lower = 1.29").replace("upper = 1.3", "upper = 1.3")
         + EMF_ROW.format(role="calibration"), "parameter[0]", "exclude the start value"),
        # unknown parameter paths
        (PARAM_BR.replace("magnet_remanence_T", "magnet_remanance_T") + EMF_ROW.format(role="calibration"),
         "parameter.path", "unknown design field"),
        (PARAM_BR.replace("rotor.magnet_remanence_T", "rotr.web_width_mm") + EMF_ROW.format(role="calibration"),
         "parameter.path", "unknown design table"),
        # a unit that does not belong to the kind, an unknown kind, a missing reason
        (PARAM_BR + EMF_ROW.format(role="calibration").replace('unit = "V"', 'unit = "Nm"'),
         "measurement[0].unit", "back_emf is measured in V"),
        (PARAM_BR + EMF_ROW.format(role="calibration").replace("back_emf", "emf"),
         "measurement[0].kind", "must be one of"),
        (PARAM_BR.replace('reason = "grade range"', "") + EMF_ROW.format(role="calibration"),
         "parameter[0].reason", "is required"),
        (PARAM_BR + EMF_ROW.format(role="calibration").replace("uncertainty = 2.6", "uncertainty = 0"),
         "measurement[0].uncertainty", "must be > 0"),
    ],
)  # fmt: skip
def test_bad_files_are_refused_in_one_line(text, field, rule):
    with pytest.raises(DesignError) as err:
        _data(text)
    msg = str(err.value)
    assert "\n" not in msg
    assert err.value.field.startswith(field) and rule in msg, msg


def test_locked_rotor_rows_need_exactly_one_position():
    row = """
    [[measurement]]
    kind = "locked_rotor_torque"
    role = "calibration"
    current_dc_A = 100.0
    connection = "a_to_bc"
    value = 150.0
    uncertainty = 3.0
    unit = "Nm"
    source = "test"
    """
    with pytest.raises(DesignError, match="exactly one of position"):
        _data(PARAM_BR + textwrap.dedent(row))
    with pytest.raises(DesignError, match="connection"):
        _data(PARAM_BR + textwrap.dedent(row).replace("a_to_bc", "delta") + 'position = "peak"\n')


def test_locked_rotor_torque_matches_the_synchronous_case_where_currents_coincide():
    """A DC current I through A -> B||C is the phase pattern (1, -1/2, -1/2) I; a synchronous
    case (i_d, i_q) = I (cos g, sin g) has that pattern where theta_el = -g. There both solve
    the same field problem, so the torques agree to the Newton tolerance (1e-8; 1e-6 allows
    for the different initial guesses). This checks the connection, the current angle and the
    position mapping of the locked-rotor observable against the Park path of run_case."""
    import math

    from pipeline.calibration.observables import locked_rotor_torque
    from pipeline.em.machine import machine_model, run_case

    d = load_design("prius_2004")
    m = machine_model(d, "ci", 25.0)
    span = math.radians(240.0)
    res = run_case(d, 0.0, 0.0, positions=2, span_el=span, magnet_temperature_C=25.0)
    theta = res.theta_el[1]  # the second position, about 240 el. deg from the first
    gamma = -theta
    current = 150.0
    case = run_case(d, current * math.cos(gamma), current * math.sin(gamma), positions=2,
                    span_el=span, magnet_temperature_C=25.0)  # fmt: skip
    g, t = locked_rotor_torque(d, "ci", current, "a_to_bc", np.array([gamma]), 25.0)
    assert math.isclose(math.cos(g[0] - gamma), 1.0, abs_tol=1e-12)  # same rotor position
    assert m.n_sectors > 1 and abs(case.torque[1]) > 50.0  # a loaded, non-trivial point
    assert t[0] == pytest.approx(case.torque[1], rel=1e-6)


def test_calibration_recovers_a_known_truth(tmp_path):
    """Two parameters of the Prius perturbed (remanence -6 %, rotor stacking factor 0.95 ->
    0.91), "measurements" generated from the perturbed design (open-circuit EMF and three
    locked-rotor torques at fixed current angles), the nominal design calibrated back.

    Tolerance: the synthetic measurements are exact model values (Newton tolerance 1e-8), so
    the residuals vanish at the truth; what limits the recovery is the least-squares stopping
    rule (xtol = 1e-3 of the normalised step), i.e. about 1e-3 of each parameter's range;
    5e-3 of the range allows for the finite-difference Jacobian slowing the last steps."""
    from pipeline.calibration.fit import calibrate, with_parameters
    from pipeline.calibration.observables import observable_op, observable_task, prediction

    nominal = load_design("prius_2004")
    rows = [("emf", "back_emf", {"speed_rpm": 1000.0})] + [
        (f"lr{i:.0f}_{g:.0f}", "locked_rotor_torque",
         {"current_dc_A": i, "connection": "a_to_bc", "position_el_deg": g})
        for i, g in ((60.0, 95.0), (180.0, 125.0), (250.0, 140.0))
    ]  # fmt: skip
    params = [("rotor.magnet_remanence_T", 1.0, 1.35), ("rotor.stacking_factor", 0.85, 0.99)]
    text = 'design = "prius_2004"\nlevel = "ci"\n'
    for path, lo, hi in params:
        text += f'[[parameter]]\npath = "{path}"\nlower = {lo}\nupper = {hi}\nreason = "test"\n'
    for name, kind, cond in rows:
        extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in cond.items())
        unit = "V" if kind == "back_emf" else "Nm"
        text += (f'[[measurement]]\nname = "{name}"\nkind = "{kind}"\nrole = "calibration"\n'
                 f'{extra}value = 1.0\nuncertainty = 1.0\nunit = "{unit}"\nsource = "synthetic"\n')  # fmt: skip
    data = calibration_data_from_toml(text, nominal)
    start = np.array([p.start for p in data.parameters])
    truth = start * np.array([0.94, 1.0]) + np.array([0.0, -0.04])
    true_design = with_parameters(nominal, data, truth)
    meas = []
    for m in data.measurements:
        value = prediction(m, true_design, observable_task(true_design, "ci", observable_op(m)))
        # uncertainty 0.5 % of the value: the weights of a realistic data file
        meas.append(m.__class__(**{**m.__dict__, "value": value, "uncertainty": 0.005 * abs(value)}))
    data = data.__class__(**{**data.__dict__, "measurements": tuple(meas)})
    result = calibrate(nominal, data, tmp_path)
    span = np.array([p.upper - p.lower for p in data.parameters])
    err = np.abs(np.array(result.fitted) - truth) / span
    assert np.all(err < 5e-3), (result.fitted, truth, err)
    assert result.chi2_after < 1e-2 * result.chi2_before
    # the design carries the fitted values and its provenance
    assert result.design.rotor.magnet_remanence == pytest.approx(result.fitted[0])
    assert result.design.calibration["parameters"]["rotor.stacking_factor"]["fitted"] == pytest.approx(
        result.fitted[1], rel=1e-5
    )
    assert all(math.isfinite(u) and u > 0 for u in result.uncertainty)


def test_cli_writes_a_calibrated_design_that_loads(tmp_path, capsys):
    """``edrive calibrate`` end to end on one parameter and one row: the remanence fitted to
    an open-circuit EMF 5 % below the shipped design's. One parameter against one row has a
    zero residual at the optimum, so the written design, solved again, reproduces the target
    EMF to the solver's stopping rule (xtol 1e-3 of the normalised 0.3 T range: 3e-4 T, about
    0.03 % of the EMF; 0.2 % allowed); the written file is a valid design carrying the fitted
    value and its [calibration] table; a bad data file is refused with exit code 2."""
    import json

    from pipeline.calibration.observables import evaluate_rows
    from pipeline.cli import main
    from pipeline.design import design_from_toml

    d = load_design("prius_2004")
    probe = _data(PARAM_BR + EMF_ROW.format(role="calibration"))
    emf = evaluate_rows(d, "ci", probe.measurements)["emf"]
    data = tmp_path / "data.toml"
    data.write_text('design = "prius_2004"\n' + PARAM_BR + EMF_ROW.format(role="calibration")
                    .replace("value = 85.7", f"value = {0.95 * emf:.6f}"))  # fmt: skip
    out = tmp_path / "calibrated.toml"
    assert main(["calibrate", "prius_2004", "--data", str(data), "--output", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    start = probe.parameters[0].start
    fitted = design_from_toml(out.read_text(), str(out))
    again = evaluate_rows(fitted, "ci", probe.measurements)["emf"]
    assert again == pytest.approx(0.95 * emf, rel=2e-3)
    assert 0.9 * start < fitted.rotor.magnet_remanence < 0.97 * start  # lower, by about 5 %
    assert fitted.calibration["parameters"]["rotor.magnet_remanence_T"]["start"] == start
    assert summary["calibration"]["rows"]["emf"]["role"] == "calibration"
    bad = tmp_path / "bad.toml"
    bad.write_text(data.read_text().replace('role = "calibration"', 'role = "both"'))
    assert main(["calibrate", "prius_2004", "--data", str(bad)]) == 2
    assert "measurement[0].role" in capsys.readouterr().err


def test_shipped_prius_reproduces_its_recorded_calibration():
    """The shipped prius_2004 is the calibrated design: solved again with today's code, it
    gives the model values its [calibration] table recorded for the calibration rows (the
    Newton tolerance is 1e-8; 1e-4 allows for the parabola/spline post-processing of the
    position scans). A code change that moves them means the calibration must be rerun."""
    from pipeline.calibration.data import load_calibration_data
    from pipeline.calibration.observables import evaluate_rows
    from pipeline.validation.cases import PRIUS_DATA

    d = load_design("prius_2004")
    table = d.calibration
    assert table is not None and "rotor.magnet_remanence_T" in table["parameters"]
    fitted = table["parameters"]["rotor.magnet_remanence_T"]["fitted"]
    assert d.rotor.magnet_remanence == pytest.approx(fitted, rel=1e-5)
    data = load_calibration_data(PRIUS_DATA, d)
    rows = [m for m in data.rows("calibration") if m.name in ("back_emf_1000rpm", "locked_rotor_peak_250A")]
    model = evaluate_rows(d, data.level, rows)
    for m in rows:
        assert model[m.name] == pytest.approx(table["rows"][m.name]["model_after"], rel=1e-4)
