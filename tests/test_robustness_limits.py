"""Issue 17, bounds: task counts, CPU hours, positions, grid sizes, currents against the
design's ratings and mesh sizes are refused before any work, each with the number and the
flag that confirms it (tested both ways). No FE work except one 1-position ci case.
"""

from __future__ import annotations

import argparse
import math
import re
import time

import pytest

import pipeline.workflow as wfmod
from pipeline.design import DESIGNS_DIR, load_design
from pipeline.errors import DesignError, WorkflowError
from pipeline.workflow import load_workflow


def _workflow(tmp_path, body: str, name: str = "t") -> str:
    p = tmp_path / f"{name}.toml"
    p.write_text(f'name = "{name}"\ndesign = "prius_2004"\n{body}')
    return str(p)


def test_ten_million_points_refused_fast(tmp_path):
    """1e7 grid points: counted from the axis lengths, refused before the list is built."""
    axis = ", ".join(str(i) for i in range(10_000))
    p = _workflow(
        tmp_path,
        f'compute = "case"\n[operating_points]\ni_q_A = [{axis}]\ni_d_A = [{axis[:4000]}]\n',
    )
    t0 = time.perf_counter()
    with pytest.raises(WorkflowError) as err:
        load_workflow(p)
    # a list of 1e7 tasks takes minutes; the count alone takes milliseconds (2 s: margin
    # for a loaded 2-core machine)
    assert time.perf_counter() - t0 < 2.0
    assert "--allow-large" in str(err.value) and "points" in str(err.value)


def test_cpu_hours_limit_both_ways(tmp_path, monkeypatch):
    """3 tasks x 12 positions at ci = 3.6 CPU-s = 0.001 h: over a 0.0005 h limit."""
    monkeypatch.setattr(wfmod, "MAX_CPU_HOURS", 0.0005)
    p = _workflow(tmp_path, 'compute = "case"\n[operating_points]\ni_q_A = [50, 100, 150]\n')
    with pytest.raises(WorkflowError) as err:
        load_workflow(p)
    assert "CPU hours" in str(err.value) and "--allow-large" in str(err.value)
    assert len(load_workflow(p, allow_large=True).tasks) == 3
    # the estimate itself: 3 x 12 x 0.1 s / 3600 (SECONDS_PER_POSITION["ci"] = 0.1 s)
    assert math.isclose(wfmod.estimate_cpu_hours(3, 12, "ci"), 3 * 12 * 0.1 / 3600)


def test_overload_current_both_ways(tmp_path):
    """Prius: 325 A rated peak; i_q = 600 A is 1.85 x, above the 1.5 x limit."""
    p = _workflow(tmp_path, 'compute = "case"\n[operating_points]\ni_q_A = [600]\n')
    with pytest.raises(WorkflowError) as err:
        load_workflow(p)
    assert "--allow-overload" in str(err.value) and "325" in str(err.value)
    assert len(load_workflow(p, allow_overload=True).tasks) == 1
    # 1.5 x 325 = 487.5 A: the corner of a default map grid (325 A on both axes, 1.41 x) passes
    ok = _workflow(
        tmp_path, 'compute = "case"\n[operating_points]\ni_d_A = [-325]\ni_q_A = [325]\n', "ok"
    )
    assert len(load_workflow(ok).tasks) == 1


def test_positions_upper_bound_in_workflow(tmp_path):
    p = _workflow(tmp_path, 'compute = "case"\n[operating_points]\npositions = [1000000]\n')
    with pytest.raises(WorkflowError) as err:
        load_workflow(p)
    assert "<= 144" in str(err.value)


def test_design_list_count_before_building(tmp_path, monkeypatch):
    monkeypatch.setattr(wfmod, "MAX_TASKS", 3)
    entries = "".join(f'[[design_list]]\n"stator.stack_length_mm" = {80 + i}\n' for i in range(4))
    p = _workflow(tmp_path, f'compute = "mesh"\n{entries}')
    with pytest.raises(WorkflowError) as err:
        load_workflow(p)
    assert "4 entries" in str(err.value)
    assert len(load_workflow(p, allow_large=True).tasks) == 4


# --- map grid -------------------------------------------------------------------------------
def _map_args(*argv: str) -> argparse.Namespace:
    from pipeline.commands.map import add_map_arguments

    parser = argparse.ArgumentParser()
    add_map_arguments(parser)
    return parser.parse_args(["prius_2004", *argv])


def test_map_grid_4000_squared_refused():
    from pipeline.commands.map import _grid

    t0 = time.perf_counter()
    with pytest.raises(DesignError) as err:
        _grid(load_design("prius_2004"), _map_args("--grid", "4000", "4000"))
    assert time.perf_counter() - t0 < 2.0  # counted, not built
    assert "16000000 points" in str(err.value)


def test_map_grid_cpu_hours_both_ways(monkeypatch):
    """101 x 101 = 10201 points x 12 positions x 0.1 s = 3.4 CPU-h: over a 1 h limit."""
    from pipeline.commands.map import _grid

    monkeypatch.setattr(wfmod, "MAX_CPU_HOURS", 1.0)
    d = load_design("prius_2004")
    with pytest.raises(WorkflowError) as err:
        _grid(d, _map_args("--grid", "101", "101"))
    assert "3.4 CPU hours" in str(err.value)
    grid = _grid(d, _map_args("--grid", "101", "101", "--allow-large"))
    assert len(grid.i_d) * len(grid.i_q) == 10201


def test_map_grid_and_grid_file_conflict(tmp_path):
    from pipeline.commands.map import _grid

    g = tmp_path / "g.toml"
    g.write_text("[grid]\ni_d_A = [-100, 0]\n")
    with pytest.raises(DesignError) as err:
        _grid(load_design("prius_2004"), _map_args("--grid", "5", "--grid-file", str(g)))
    assert "not both" in str(err.value)


def test_map_grid_file_nan_and_huge_n(tmp_path):
    from pipeline.commands.map import _grid

    d = load_design("prius_2004")
    g = tmp_path / "g.toml"
    g.write_text("[grid]\ni_d_A = [-100, nan]\n")
    with pytest.raises(DesignError, match=re.escape("grid.i_d_A[1]")):
        _grid(d, _map_args("--grid-file", str(g)))
    g.write_text("[grid]\ni_q_A = {from = 0, to = 300, n = 1000000000}\n")
    with pytest.raises(DesignError, match="1000000000 points"):
        _grid(d, _map_args("--grid-file", str(g)))


def test_map_positions_and_overload(tmp_path):
    """A grid file up to 1000 A on i_q (3.1 x the Prius rating): refused, then allowed."""
    from pipeline.commands.map import _grid

    d = load_design("prius_2004")
    with pytest.raises(DesignError, match="<= 144"):
        _grid(d, _map_args("--positions", "1000000"))
    g = tmp_path / "g.toml"
    g.write_text("[grid]\ni_q_A = [0, 500, 1000]\n")
    with pytest.raises(WorkflowError, match="allow-overload"):
        _grid(d, _map_args("--grid-file", str(g)))
    assert max(_grid(d, _map_args("--grid-file", str(g), "--allow-overload")).i_q) == 1000.0


# --- case -----------------------------------------------------------------------------------
def test_case_current_limits():
    """1e9 A: refused by the library (20 x rating) even with --allow-overload."""
    from pipeline.em.machine import check_case_inputs as _check_inputs

    d = load_design("prius_2004")
    with pytest.raises(DesignError, match="20 x the rated 325"):
        _check_inputs(d, 0.0, 1e9, 0.0, 12, math.pi / 3, None)
    with pytest.raises(DesignError, match="<= 144"):
        _check_inputs(d, 0.0, 100.0, 0.0, 1_000_000, math.pi / 3, None)


def test_case_cli_overload_both_ways_with_a_design_path(tmp_path, monkeypatch, capsys):
    """``edrive case my_design.toml`` (a valid design that is no reference design, named by
    path): refused at 600 A without --allow-overload (before any FE work), solved with it,
    and the picture is drawn from the loaded design (before issue 17: "unknown design")."""
    from pipeline.cli import main

    monkeypatch.setenv("EDRIVE_RESULTS_DIR", str(tmp_path / "results"))
    p = tmp_path / "my_design.toml"
    p.write_text(
        (DESIGNS_DIR / "prius_2004.toml")
        .read_text()
        .replace('name = "prius_2004"', 'name = "my_design"')
    )
    assert main(["case", str(p), "--i-q", "600", "--positions", "1"]) == 2
    assert "--allow-overload" in capsys.readouterr().err
    rc = main(["case", str(p), "--i-q", "600", "--positions", "1", "--allow-overload", "--json"])
    assert rc == 0
    out = capsys.readouterr().out
    assert '"design": "my_design"' in out and (tmp_path / "results" / "case").is_dir()


# --- mesh size --------------------------------------------------------------------------------
def test_mesh_element_estimate_against_gmsh():
    """The estimate covers the ci sector mesh gmsh built for the Prius (5157 triangles, see
    pipeline.mesh.ESTIMATE_FACTOR) within a factor 3 either way."""
    from geometries.settings import mesh_settings
    from pipeline.mesh import estimate_elements, get_mesh

    d = load_design("prius_2004")
    n = get_mesh(d, "ci").mesh.t.shape[1]
    est = estimate_elements(d, mesh_settings("ci"))
    assert n / 3 <= est <= 3 * n, (n, est)


def test_mesh_size_refused_before_gmsh(tmp_path, monkeypatch):
    import pipeline.mesh as meshmod

    monkeypatch.setenv("EDRIVE_MESH_DIR", str(tmp_path))
    monkeypatch.setattr(meshmod, "MAX_MESH_ELEMENTS", 1000)
    d = load_design("prius_2004")
    with pytest.raises(DesignError) as err:
        meshmod.get_mesh(d, "ci")
    assert "--allow-large" in str(err.value) and "elements" in str(err.value)
    assert not list(tmp_path.glob("*.msh"))  # gmsh never ran
    assert meshmod.get_mesh(d, "ci", allow_large=True).built
