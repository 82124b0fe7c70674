"""``edrive case``: outputs written (NetCDF, PNG, VTU) and one-line errors for bad input."""

from __future__ import annotations

import json
import math

import meshio
import pytest

from pipeline.cli import main


def test_case_writes_dataset_picture_and_vtu(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EDRIVE_RESULTS_DIR", str(tmp_path))
    argv = ["case", "prius_2004", "--i-q", "100", "--positions", "6", "--speed-rpm", "1000"]
    assert main(argv + ["--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    for key in ("output", "picture", "field_vtu"):
        assert s[key].startswith(str(tmp_path / "case"))
    with open(s["picture"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert meshio.read(s["field_vtu"]).cells[0].data.shape[1] == 3
    # back-EMF at the given speed: line fundamental rms = sqrt(3/2) x phase fundamental peak
    # (balanced set, round-off)
    assert s["emf_line_fundamental_rms_V"] == pytest.approx(
        math.sqrt(1.5) * s["emf_phase_fundamental_peak_V"], rel=1e-9
    )
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "back-EMF" in out and ".png" in out and ".vtu" in out


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["case", "no_such_design"], ("design", "no_such_design", "unknown design")),
        (["case", "prius_2004", "--positions", "-3"], ("positions", "-3", ">= 1")),
        (["case", "prius_2004", "--positions", "0"], ("positions", "0", ">= 1")),
        (["case", "prius_2004", "--i-f", "5"], ("i_f", "5", "wound rotor")),
        (["case", "prius_2004", "--i-q", "nan"], ("i_q", "nan", "finite")),
        (["case", "prius_2004", "--i-d", "inf"], ("i_d", "inf", "finite")),
        (["case", "gen5_eesm", "--i-f", "-1"], ("i_f", "-1", ">= 0")),
        (["case", "prius_2004", "--speed-rpm", "-5"], ("speed_rpm", "-5", ">= 0")),
    ],
)
def test_case_bad_input_one_line_error(argv, fragments, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    for frag in fragments:
        assert frag in err


@pytest.mark.parametrize("flag", ["--i-d", "--i-q", "--i-f", "--speed-rpm", "--positions"])
def test_case_non_numbers_rejected_by_the_parser(flag, capsys):
    # argparse exits with status 2 and names the option, the value and the expected type
    with pytest.raises(SystemExit) as exc:
        main(["case", "prius_2004", flag, "abc"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert flag in err and "'abc'" in err and ("float" in err or "int" in err)
