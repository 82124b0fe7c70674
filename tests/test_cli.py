"""The command line: --json summaries, pictures written, one-line errors with exit code 2."""

import json
import subprocess
import sys

import pytest

from pipeline.cli import main


def test_designs_json(capsys):
    assert main(["designs", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    names = {d["name"] for d in data["designs"]}
    assert names == {"gen5_eesm", "zoe_eesm", "prius_2004"}
    prius = next(d for d in data["designs"] if d["name"] == "prius_2004")
    # ORNL teardown: stator ID 161.9 mm, rotor OD 160.5 mm -> 0.70 mm airgap
    assert prius["airgap_m"] == pytest.approx(0.70e-3, rel=1e-9)


def test_mesh_json_and_picture(capsys):
    assert main(["mesh", "zoe_eesm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (entry,) = data["meshes"]
    assert entry["nodes"] > 1000 and entry["sectors"] == 4
    # analytic areas within the 0.5 % the issue asks for
    assert max(abs(e) for e in entry["analytic_area_rel_error"].values()) < 5e-3
    with open(entry["picture"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["mesh", "no_such_design"], "unknown design"),
        (["mesh", "/nonexistent/design.toml"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err


def test_python_m_pipeline_help():
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "mesh", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--level" in out.stdout and "--json" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "pipeline", "mesh", "x", "--level", "huge"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
