"""The net works: a perturbed physical input fails the regression check with a readable
message; ``edrive validate`` reports, exits non-zero on a failure, and re-blesses."""

import json
import shutil

import pytest
from numpy.testing import assert_allclose

import pipeline.materials as materials
from pipeline.cli import main
from pipeline.commands.validate import change_table
from pipeline.design import DESIGNS_DIR
from pipeline.validation.cases import CASE_NAMES, cases
from pipeline.validation.golden import check_design, read_golden, write_golden

PRIUS = (DESIGNS_DIR / "prius_2004.toml").read_text()


def _failed(checks):
    return {c.quantity: c for c in checks if not c.passed}


def test_airgap_change_fails_with_readable_message(tmp_path):
    # Prius airgap 0.70 -> 0.80 mm: rotor outer radius 80.25 -> 80.15 mm in a copied TOML.
    text = PRIUS.replace("outer_radius_mm = 80.25", "outer_radius_mm = 80.15")
    assert text != PRIUS
    path = tmp_path / "prius_2004.toml"
    path.write_text(text)
    failed = _failed(check_design(path, extra=False))
    assert {"area.airgap_band", "open_circuit.psi_d", "load.torque_mean"} <= set(failed)
    # The band (between r + g/3 and r + 2g/3) grows as g (2r + g): the reported change is
    # the closed-form ratio (0.8 x 161.1)/(0.7 x 161.2) - 1 = +14.215 % (mesh nodes on the
    # circles are uniform, so only the polygon's O(h^2) chord error differs: 1e-4).
    band = failed["area.airgap_band"]
    assert_allclose(band.relative_change, 0.8 * 161.1 / (0.7 * 161.2) - 1, rtol=1e-3)
    msg = failed["open_circuit.psi_d"].message()
    # readable: design, quantity, golden and current values, change and tolerance
    assert msg.startswith("prius_2004 open_circuit.psi_d: golden 0.1")
    for word in ("now", "change", "%", "tolerance", "FAIL", "Wb"):
        assert word in msg
    # A larger gap lowers the magnet flux: psi_d drops (measured -2.1 %, tolerance 0.37 %).
    assert failed["open_circuit.psi_d"].change < 0


def test_scaled_bh_curve_fails_only_the_em_quantities(tmp_path, monkeypatch):
    # A copy of the materials folder with M19 29Ga's B scaled by 0.95 under a new name,
    # and a Prius design that uses it (stator and rotor); loaded from the temporary paths.
    mats = tmp_path / "materials"
    shutil.copytree(materials.MATERIALS_DIR, mats)
    rows = []
    for line in (mats / "bh" / "m19_29ga.csv").read_text().splitlines():
        if line and line[0].isdigit():
            b, h = line.split(",")
            line = f"{0.95 * float(b):.8g},{h}"
        rows.append(line)
    (mats / "bh" / "m19_29ga_scaled.csv").write_text("\n".join(rows) + "\n")
    toml = (mats / "m19_29ga.toml").read_text()
    toml = toml.replace('name = "m19_29ga"', 'name = "m19_29ga_scaled"')
    toml = toml.replace('bh_curve = "bh/m19_29ga.csv"', f'bh_curve = "{mats}/bh/m19_29ga_scaled.csv"')  # fmt: skip
    (mats / "m19_29ga_scaled.toml").write_text(toml)
    monkeypatch.setattr(materials, "MATERIALS_DIR", mats)
    design = tmp_path / "prius_2004.toml"
    design.write_text(PRIUS.replace('material = "m19_29ga"', 'material = "m19_29ga_scaled"'))
    assert design.read_text().count("m19_29ga_scaled") == 2  # stator and rotor
    checks = check_design(design, extra=False)
    failed = _failed(checks)
    # Geometry is untouched: every area still matches its golden value ...
    assert not [q for q in failed if q.startswith("area.")]
    # ... while the magnetic quantities move: 5 % less B at every H. Measured: load psi_q
    # -4.7 % (the q-axis path runs through loaded, saturating teeth and rotor iron);
    # open-circuit psi_d +1.3 % (the saturated bridges, which short-circuit part of the
    # magnet flux, now carry 5 % less of it, so more crosses the airgap).
    assert {"open_circuit.psi_d", "load.psi_q", "load.torque_mean"} <= set(failed)
    assert failed["load.psi_q"].change < 0 and failed["open_circuit.psi_d"].change > 0
    assert "load.psi_q: golden" in failed["load.psi_q"].message()


def test_copper_resistivity_change_fails_the_loss_and_thermal_quantities(tmp_path, monkeypatch):
    # The Prius winding in a copper whose resistivity is 5 % higher (a copied material file):
    # the geometry and the magnetic solution are unchanged, the continuous point is not.
    mats = tmp_path / "materials"
    shutil.copytree(materials.MATERIALS_DIR, mats)
    toml = (mats / "copper.toml").read_text()
    toml = toml.replace('name = "copper"', 'name = "copper_test"')
    toml = toml.replace("resistivity_ohm_m = 1.7241e-8", "resistivity_ohm_m = 1.810305e-8")
    (mats / "copper_test.toml").write_text(toml)
    monkeypatch.setattr(materials, "MATERIALS_DIR", mats)
    design = tmp_path / "prius_2004.toml"
    text = PRIUS.replace(
        'conductor = "stranded"', 'conductor = "stranded"\nmaterial = "copper_test"'
    )
    design.write_text(text)
    failed = _failed(check_design(design))
    assert failed, "a 5 % resistivity change must fail the regression"
    assert all(q.startswith("continuous.") for q in failed), sorted(failed)
    assert {"continuous.loss_stator_copper", "continuous.hot_spot_winding"} <= set(failed)
    # DC copper loss is proportional to resistivity: exactly +5 %.
    assert_allclose(failed["continuous.loss_stator_copper"].relative_change, 0.05, rtol=1e-9)
    assert failed["continuous.hot_spot_winding"].change > 0  # more heat, hotter winding


def test_change_table_shows_old_new_and_change():
    old = {"quantities": {"x.psi_d": {"value": 0.2, "tolerance": 0.001, "unit": "Wb"}}}
    new = {
        "design": "d",
        "code_version": {"package": "0.1.0", "git": "abc"},
        "date": "today",
        "quantities": {
            "x.psi_d": {"value": 0.21, "tolerance": 0.001, "unit": "Wb"},
            "x.psi_q": {"value": 0.1, "tolerance": 0.001, "unit": "Wb"},
        },
    }
    lines = change_table(old, new)
    (row,) = [ln for ln in lines if "x.psi_d" in ln]
    # 0.2 -> 0.21 is +5.000 %, beyond the old tolerance of 0.001 Wb
    assert "0.2 " in row and "0.21" in row and "+5.000%" in row and "beyond old tolerance" in row
    assert any("x.psi_q" in ln and "(new)" in ln for ln in lines)


def test_validate_cli_report_and_exit_codes(tmp_path, monkeypatch, capsys):
    # A golden file whose load torque is 2 % off must make `edrive validate` fail (exit 1)
    # and name the quantity; the report and its plot are written.
    golden = read_golden("prius_2004")
    golden["quantities"]["load.torque_mean"]["value"] *= 1.02
    monkeypatch.setenv("EDRIVE_GOLDEN_DIR", str(tmp_path / "golden"))
    write_golden(golden)
    out = tmp_path / "report"
    argv = ["validate", "--case", "regression", "--case", "wltc", "--designs", "prius_2004"]
    code = main(argv + ["--output", str(out), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert summary["failures"] == ["golden prius_2004: load.torque_mean"]
    assert summary["sections"]["validation"] == {"rows": 3, "passed": 3}  # WLTC checksums
    report = (out / "report.md").read_text()
    assert "| golden prius_2004 | load.torque_mean |" in report and "**FAIL**" in report
    assert (out / "regression.png").stat().st_size > 0
    # with the true golden file everything passes: exit 0
    monkeypatch.delenv("EDRIVE_GOLDEN_DIR")
    assert main(argv + ["--output", str(out), "--json"]) == 0
    capsys.readouterr()
    # every case is registered (all stages' code is present) and named in --help
    assert tuple(c.name for c in cases()) == CASE_NAMES
    # bad input: one-line error, exit 2
    assert main(["validate", "--case", "nonsense"]) == 2
    assert "unknown nonsense" in capsys.readouterr().err


@pytest.mark.slow
def test_update_golden_round_trip(tmp_path, monkeypatch, capsys):
    """--update-golden writes files that the regression check then passes (full machine
    solves for the spread: ~1 min)."""
    monkeypatch.setenv("EDRIVE_GOLDEN_DIR", str(tmp_path))
    assert main(["validate", "--update-golden", "--designs", "prius_2004"]) == 0
    assert "area.airgap_band" in capsys.readouterr().out
    assert all(c.passed for c in check_design("prius_2004"))
