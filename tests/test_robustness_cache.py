"""Issue 17, integrity: a damaged mesh cache entry or task record is detected, reported
once, moved aside and recomputed; never trusted.

The mesh cases copy one pristine ci Prius mesh (built once per module, about 1 s of gmsh)
into a fresh cache folder, damage it one way, and check that ``get_mesh`` rebuilds it and
that the rebuilt mesh is identical to the pristine one (same node coordinates: gmsh is
deterministic for the same inputs). The record cases write damaged JSON files into a store.
"""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from pipeline.design import load_design
from pipeline.io.store import ResultStore
from pipeline.mesh import get_mesh


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """(folder, msh name, sidecar name, node coordinates) of a freshly built ci mesh."""
    folder = tmp_path_factory.mktemp("pristine")
    mp = pytest.MonkeyPatch()
    mp.setenv("EDRIVE_MESH_DIR", str(folder))
    try:
        mm = get_mesh(load_design("prius_2004"), "ci")
    finally:
        mp.undo()
    return folder, mm.path.name, mm.path.with_suffix(".json").name, mm.mesh.p.copy()


def _damage_msh_truncate(msh, sidecar):
    data = msh.read_bytes()
    msh.write_bytes(data[: len(data) // 2])


def _damage_msh_empty(msh, sidecar):
    msh.write_bytes(b"")


def _damage_msh_move_node(msh, sidecar):
    """Shift one node coordinate by 1 um: a valid mesh that no longer matches its hash
    (before issue 17 such a mesh was used silently, torque +0.26 %)."""
    lines = msh.read_text().splitlines(keepends=True)
    start = lines.index("$Nodes\n")
    for i in range(start + 1, len(lines)):
        parts = lines[i].split()
        if len(parts) == 3:  # "x y z" of a node
            parts[0] = repr(float(parts[0]) + 1e-6)
            lines[i] = " ".join(parts) + "\n"
            break
    msh.write_text("".join(lines))


def _damage_sidecar_garbled(msh, sidecar):
    sidecar.write_bytes(b"\x00\xff{not json")


def _damage_sidecar_empty(msh, sidecar):
    sidecar.write_text("")


def _damage_sidecar_no_hash(msh, sidecar):
    meta = json.loads(sidecar.read_text())
    del meta["mesh_sha256"]
    sidecar.write_text(json.dumps(meta))


def _damage_sidecar_wrong_key(msh, sidecar):
    meta = json.loads(sidecar.read_text())
    meta["key"] = "0" * 16
    sidecar.write_text(json.dumps(meta))


def _damage_sidecar_missing(msh, sidecar):
    sidecar.unlink()


@pytest.mark.parametrize(
    "damage, reason",
    [
        (_damage_msh_truncate, "does not match the hash"),
        (_damage_msh_empty, "does not match the hash"),
        (_damage_msh_move_node, "does not match the hash"),
        (_damage_sidecar_garbled, "sidecar unreadable"),
        (_damage_sidecar_empty, "sidecar unreadable"),
        (_damage_sidecar_no_hash, "mesh_sha256"),
        (_damage_sidecar_wrong_key, "does not match"),
        (_damage_sidecar_missing, "sidecar unreadable"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[8:] if callable(v) else "",
)
def test_damaged_mesh_entry_is_rebuilt(pristine, tmp_path, monkeypatch, caplog, damage, reason):
    folder, msh_name, side_name, nodes = pristine
    for name in (msh_name, side_name):
        shutil.copy(folder / name, tmp_path / name)
    monkeypatch.setenv("EDRIVE_MESH_DIR", str(tmp_path))
    damage(tmp_path / msh_name, tmp_path / side_name)
    with caplog.at_level(logging.WARNING, logger="pipeline.mesh"):
        mm = get_mesh(load_design("prius_2004"), "ci")
        again = get_mesh(load_design("prius_2004"), "ci")  # the rebuilt entry is trusted
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and reason in warnings[0], warnings  # reported once
    assert mm.built and not again.built
    assert list((tmp_path / "damaged").iterdir())  # kept aside for inspection
    # the rebuilt mesh is the pristine one (gmsh is deterministic): exact
    np.testing.assert_array_equal(mm.mesh.p, nodes)


# --- task records -----------------------------------------------------------------------------
KEY = "ab" * 32
GOOD = {
    "hash": KEY,
    "status": "ok",
    "labels": {"i_q_A": 100.0},
    "values": {"torque": [123.4, "N m", "mean torque"]},
}


@pytest.mark.parametrize(
    "content, reason",
    [
        ('{"status": "ok"}', "hash"),
        (json.dumps({**GOOD, "values": None}), "without values"),
        (json.dumps({**GOOD, "values": {"torque": [True, "N m", "x"]}}), "value torque"),
        (json.dumps({**GOOD, "values": {"torque": "123"}}), "value torque"),
        (json.dumps({**GOOD, "hash": "cd" * 32}), "not the file's key"),
        (json.dumps({**GOOD, "status": "done"}), "status"),
        (json.dumps({**GOOD, "labels": {"i_q_A": "x"}}), "label i_q_A"),
        (json.dumps({**GOOD, "status": "failed"}), "without a reason"),
        (json.dumps(GOOD)[:40], "Unterminated string"),
        ("[1, 2]", "not a JSON object"),
        ("", "Expecting value"),
    ],
    ids=[
        "ok-without-data",
        "values-null",
        "value-bool",
        "value-not-list",
        "other-hash",
        "bad-status",
        "label-not-number",
        "failed-no-reason",
        "truncated",
        "not-object",
        "empty",
    ],
)
def test_damaged_task_record_is_moved_aside(tmp_path, caplog, content, reason):
    store = ResultStore(tmp_path)
    store.tasks.mkdir(parents=True)
    store.path(KEY).write_text(content)
    with caplog.at_level(logging.WARNING, logger="pipeline.io.store"):
        assert store.load(KEY) is None
        assert store.load(KEY) is None  # gone: reported once, not twice
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and reason in warnings[0], warnings
    assert not store.path(KEY).exists() and len(list((store.tasks / "damaged").iterdir())) == 1


def test_good_record_is_trusted(tmp_path):
    store = ResultStore(tmp_path)
    store.write(KEY, GOOD)
    assert store.load(KEY) == GOOD


def test_sweep_recomputes_a_damaged_record(tmp_path):
    """End to end on an in-process Dask client: a finished sweep whose records were replaced
    by ``{"status": "ok"}`` reruns exactly those tasks and gathers the same dataset (before
    issue 17 the gather failed on every rerun)."""
    from distributed import Client

    from pipeline.sweep import load_workflow, run_sweep
    from pipeline.workflow import register_task

    marks = tmp_path / "marks"
    marks.mkdir()

    def calls() -> list[float]:
        return sorted(float(p.name.split("-")[0]) for p in marks.iterdir())

    @register_task("robust_echo", needs_mesh=False)
    def robust_echo(design, level, op):
        (marks / f"{op['i_q_A']}-{len(list(marks.iterdir()))}").touch()
        return {"i_q": [op["i_q_A"], "A", "q-axis current"]}

    wf_path = tmp_path / "wf.toml"
    wf_path.write_text(
        'name = "robust"\ndesign = "prius_2004"\ncompute = "robust_echo"\n'
        "[operating_points]\ni_q_A = [10.0, 20.0, 30.0]\n"
    )
    wf = load_workflow(wf_path)
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as c:
        first = run_sweep(wf, tmp_path / "res", client=c)
        assert first.done == 3 and calls() == [10.0, 20.0, 30.0]
        store = ResultStore(tmp_path / "res" / "robust")
        damaged = wf.tasks[1].key
        store.path(damaged).write_text('{"status": "ok"}')
        for p in marks.iterdir():
            p.unlink()
        second = run_sweep(wf, tmp_path / "res", client=c)
    assert calls() == [20.0] and second.done == 1 and second.skipped == 2
    import xarray as xr

    with xr.open_dataset(second.dataset_path) as ds:
        np.testing.assert_array_equal(np.sort(ds["i_q"].values), [10.0, 20.0, 30.0])
