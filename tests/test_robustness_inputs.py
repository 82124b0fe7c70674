"""Issue 17, input layer: every malformed file or value is one line ``field = value: rule``.

Each case writes a damaged input from scratch and checks the refusal names the field and
the rule, stays on one line and echoes at most a shortened value. No FE work: all cases
fail in validation, before any mesh or solve.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.design import DESIGNS_DIR, design_from_toml, load_design
from pipeline.errors import MAX_VALUE_CHARS, DesignError, WorkflowError, shorten
from pipeline.io import inputs

PRIUS = (DESIGNS_DIR / "prius_2004.toml").read_text()
ZOE = (DESIGNS_DIR / "zoe_eesm.toml").read_text()


def one_line(exc: BaseException, *parts: str) -> str:
    """The message of ``exc``: one line, within a terminal-friendly length, with ``parts``."""
    msg = str(exc)
    assert "\n" not in msg, msg
    # field + value (<= MAX_VALUE_CHARS) + rule: 400 characters is a generous bound for a
    # rule sentence, and far below the 50 MB an unshortened echo could reach
    assert len(msg) < 400, msg
    for p in parts:
        assert p in msg, (p, msg)
    return msg


def _set(text: str, key: str, value: str, count: int = 1) -> str:
    """``text`` with the first ``count`` lines ``key = ...`` given ``value``."""
    out, n = re.subn(rf"(?m)^{re.escape(key)} = .*$", f"{key} = {value}", text, count=count)
    assert n == count, key
    return out


# --- files: regular, readable, UTF-8, size, nesting ----------------------------------------
def test_non_utf8_design_file(tmp_path):
    p = tmp_path / "latin1.toml"
    p.write_bytes(PRIUS.replace("description = ", "# caf\xe9\ndescription = ").encode("latin-1"))
    with pytest.raises(DesignError) as err:
        load_design(p)
    one_line(err.value, "design", "not UTF-8")


def test_directory_given_as_design_file(tmp_path):
    d = tmp_path / "folder.toml"
    d.mkdir()
    with pytest.raises(DesignError) as err:
        load_design(d)
    one_line(err.value, "not a regular file")


def test_missing_design_file(tmp_path):
    with pytest.raises(DesignError) as err:
        load_design(tmp_path / "absent.toml")
    one_line(err.value, "file does not exist")


def test_oversized_file_refused_before_reading(tmp_path, monkeypatch):
    p = tmp_path / "big.toml"
    p.write_text("a = 1\n" * 2000)  # 12 kB
    monkeypatch.setattr(inputs, "MAX_FILE_BYTES", 10_000)
    with pytest.raises(DesignError) as err:
        inputs.read_toml(p, "workflow")
    one_line(err.value, "workflow", "12000 bytes", "limit is 10000")


@pytest.mark.parametrize(
    "reader, text",
    [
        (inputs.read_toml, "a = " + "[" * 5000 + "]" * 5000),
        (lambda p, f: inputs.read_json(p, f), "[" * 5000 + "]" * 5000),
        (lambda p, f: inputs.read_yaml(p, f), "[" * 5000 + "]" * 5000),
    ],
    ids=["toml", "json", "yaml"],
)
def test_deep_nesting_refused(tmp_path, reader, text):
    """Without the layer: RecursionError tracebacks from tomllib, json and yaml."""
    p = tmp_path / "deep.txt"
    p.write_text(text)
    with pytest.raises(DesignError) as err:
        reader(p, "input")
    one_line(err.value, "nesting deeper than")


def test_nesting_just_over_the_limit_refused_and_at_it_accepted(tmp_path):
    ok, bad = tmp_path / "ok.json", tmp_path / "bad.json"
    ok.write_text("[" * inputs.MAX_DEPTH + "]" * inputs.MAX_DEPTH)
    bad.write_text("[" * (inputs.MAX_DEPTH + 1) + "]" * (inputs.MAX_DEPTH + 1))
    inputs.read_json(ok, "x")
    with pytest.raises(DesignError):
        inputs.read_json(bad, "x")


def test_json_nan_literal_refused(tmp_path):
    p = tmp_path / "l.json"
    p.write_text('{"stator_copper": NaN}')
    with pytest.raises(DesignError) as err:
        inputs.read_json(p, "losses")
    one_line(err.value, "losses", "not valid JSON")


def test_yaml_syntax_error(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("kind: slurm\n  cores: [8\n")
    with pytest.raises(DesignError) as err:
        inputs.read_yaml(p, "cluster")
    one_line(err.value, "cluster", "not valid YAML")


def test_huge_value_is_shortened_in_the_message():
    """A 5 MB string in a field: the message echoes at most MAX_VALUE_CHARS of it."""
    big = "x" * 5_000_000
    with pytest.raises(DesignError) as err:
        design_from_toml(_set(PRIUS, "material", f'"{big}"'))
    msg = one_line(err.value)
    assert "(5000002 chars)" in msg
    assert len(shorten(big)) == MAX_VALUE_CHARS + len(" (5000002 chars)")


# --- design values ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "key, value, parts",
    [
        ("tilt_deg", "nan", ("rotor.tilt_deg", "finite")),
        ("stack_length_mm", "1e308", ("stator.stack_length_mm", "<= 10 m")),
        ("stack_length_mm", "inf", ("stator.stack_length_mm", "finite")),
        ("n_slots", "true", ("stator.n_slots", "integer")),
    ],
)
def test_design_values(key, value, parts):
    with pytest.raises(DesignError) as err:
        design_from_toml(_set(PRIUS, key, value))
    one_line(err.value, *parts)


def test_near_zero_airgap_is_a_design_rule():
    """0.05 mm airgap: without the rule, gmsh failed with a message naming no field."""
    with pytest.raises(DesignError) as err:
        load_design("prius_2004").with_changes({"rotor.outer_radius": 80.90e-3})
    one_line(err.value, "rotor.outer_radius_mm", "below 0.1 mm")


def test_negative_field_fill_factor():
    with pytest.raises(DesignError) as err:
        load_design("zoe_eesm").with_changes({"rotor.field_max_fill": -0.5})
    one_line(err.value, "rotor.field_max_fill", "(0, 1]")


def test_field_coil_outside_the_rotor_is_a_design_rule():
    """A 20 mm wide coil with no gap to the shoe passes every other check but pokes 0.27 mm
    out of the rotor (83.97 vs 83.7 mm): gmsh would have failed on it."""
    with pytest.raises(DesignError) as err:
        load_design("zoe_eesm").with_changes(
            {"rotor.coil_width": 0.02, "rotor.coil_gap_shoe": 0.0, "rotor.field_turns": 1}
        )
    one_line(err.value, "rotor.coil_width_mm", "outside the rotor")


@pytest.mark.parametrize("name", ["x" * 5000, "x" * 5000 + ".toml"], ids=["name", "path"])
def test_design_name_too_long_for_the_file_system(name):
    """Before: OSError 'File name too long' from pathlib, a traceback."""
    with pytest.raises(DesignError) as err:
        load_design(name)
    one_line(err.value, "design", "(5", "chars)")


def test_design_path_without_toml_suffix(tmp_path):
    """A path is accepted wherever a name is: here a file without the .toml suffix."""
    p = tmp_path / "my_design.cfg"
    p.write_text(_set(PRIUS, "name", '"my_design"'))
    assert load_design(p).name == "my_design"


# --- materials, BH and loss tables ---------------------------------------------------------
def _material(tmp_path, bh: str, **extra) -> dict:
    (tmp_path / "bh.csv").write_text(bh)
    return {
        "name": "test_steel",
        "kind": "electrical_steel",
        "source": "test",
        "density_kg_per_m3": 7650,
        "thermal_conductivity_W_per_mK": 28,
        "specific_heat_J_per_kgK": 460,
        "bh_curve": "bh.csv",
        **extra,
    }


@pytest.mark.parametrize(
    "bh, parts",
    [
        ("B_T,H_A_per_m\n0,0\n0.5,abc\n1.0,200\n", ("line 3", "finite number")),
        ("B_T,H_A_per_m\n# only a header\n", ("0 data rows", ">= 3")),
        ("B_T,H_A_per_m\n0,0\n0.5,100,7\n1,200\n", ("line 3", "2 comma-separated")),
        ("B_T,H_A_per_m\n0,0\n0.5,nan\n1,200\n", ("line 3", "finite number")),
    ],
    ids=["non-numeric", "no-rows", "extra-cell", "nan"],
)
def test_bh_table(tmp_path, bh, parts):
    from pipeline.materials import material_from_dict

    with pytest.raises(DesignError) as err:
        material_from_dict(_material(tmp_path, bh), base=tmp_path)
    one_line(err.value, "bh_curve", *parts)


@pytest.mark.parametrize(
    "extra, parts",
    [
        ({"density_kg_per_m3": float("nan")}, ("density_kg_per_m3", "finite")),
        ({"density_kg_per_m3": True}, ("density_kg_per_m3", "a number")),
        ({"bh_curve": 3}, ("bh_curve", "string")),
    ],
)
def test_material_values(tmp_path, extra, parts):
    from pipeline.materials import material_from_dict

    with pytest.raises(DesignError) as err:
        material_from_dict(_material(tmp_path, "0,0\n1,100\n2,1000\n", **extra), base=tmp_path)
    one_line(err.value, *parts)


def test_loss_table_with_a_bad_row(tmp_path):
    from pipeline.losses.iron import read_loss_table

    p = tmp_path / "loss.csv"
    p.write_text("frequency_Hz,b_peak_T,loss_W_per_kg\n50,0.1,0.02\n50,oops,0.1\n")
    with pytest.raises(DesignError) as err:
        read_loss_table(p)
    one_line(err.value, "loss table line 3", "finite number")


# --- vehicle, grid, workflow ----------------------------------------------------------------
def test_vehicle_toml_syntax_error(tmp_path):
    from pipeline.drive.vehicle import load_vehicle

    p = tmp_path / "car.toml"
    p.write_text("[mass\nvalue = 1800\n")
    with pytest.raises(DesignError) as err:
        load_vehicle(p)
    one_line(err.value, "vehicle", "syntax error")


def test_vehicle_value_not_a_number(tmp_path):
    from pipeline.drive.vehicle import DATA_DIR, load_vehicle

    text = (DATA_DIR / "ix3.toml").read_text()
    p = tmp_path / "car.toml"
    p.write_text(re.sub(r"(?ms)(\[mass\].*?value = )[^\n]*", r'\1"heavy"', text, count=1))
    with pytest.raises(DesignError) as err:
        load_vehicle(p)
    one_line(err.value, "vehicle.mass", "a number")


def _workflow(tmp_path, body: str) -> Path:
    p = tmp_path / "wf.toml"
    p.write_text(f'name = "t"\ndesign = "prius_2004"\n{body}')
    return p


def test_workflow_nan_current(tmp_path):
    p = _workflow(tmp_path, 'compute = "case"\n[operating_points]\ni_q_A = [nan]\n')
    from pipeline.workflow import load_workflow

    with pytest.raises(WorkflowError) as err:
        load_workflow(p)
    one_line(err.value, "operating_points.i_q_A", "finite")


def test_workflow_name_too_long(tmp_path):
    """The name is a results folder: 5000 characters failed with OSError when writing."""
    from pipeline.workflow import load_workflow

    p = tmp_path / "wf.toml"
    p.write_text(f'name = "{"n" * 5000}"\ndesign = "prius_2004"\ncompute = "mesh"\n')
    with pytest.raises(WorkflowError) as err:
        load_workflow(p)
    one_line(err.value, "name", "at most 100")


def test_workflow_not_utf8(tmp_path):
    from pipeline.workflow import load_workflow

    p = tmp_path / "wf.toml"
    p.write_bytes(b'name = "t\xff"\n')
    with pytest.raises(WorkflowError) as err:
        load_workflow(p)
    one_line(err.value, "workflow", "not UTF-8")


def test_thermal_losses_json(tmp_path):
    """``true`` and 1e15 W as losses: accepted before issue 17."""
    import argparse

    from pipeline.commands.thermal import add_thermal_arguments, validate_inputs

    parser = add_thermal_arguments(argparse.ArgumentParser())
    base = ["prius_2004", "--speed-rpm", "3000", "--torque-Nm", "100"]
    for content, parts in (
        ({"stator_copper": True}, ("losses.stator_copper", "a number")),
        ({"stator_copper": 1e15}, ("losses.stator_copper", "<= 1e+06")),
    ):
        p = tmp_path / "losses.json"
        p.write_text(json.dumps(content))
        with pytest.raises(DesignError) as err:
            validate_inputs(parser.parse_args([*base, "--losses", str(p)]))
        one_line(err.value, *parts)
    p.write_text(json.dumps({"stator_copper": 500.0}))
    with pytest.raises(DesignError) as err:  # conflicting flags, resolved silently before
        validate_inputs(parser.parse_args([*base, "--losses", str(p), "--loss-source", "map"]))
    one_line(err.value, "--loss-source", "either --losses or --loss-source")
    assert validate_inputs(parser.parse_args([*base, "--losses", str(p)])) == {
        "stator_copper": 500.0
    }
