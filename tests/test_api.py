"""The public Python API (pipeline.api) and the synchronous scheduler (issue 15 items 2, 7).

References: the same computation through another path (a worker process of a LocalCluster,
the command line's JSON, a direct library call); equal to round-off where the arithmetic is
the same, with the tolerance stated per test.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import pipeline
import pipeline.api as edrive
from pipeline.cli import main
from pipeline.errors import PipelineError

#: a 3 x 2 Prius flux map (i_q mirrored -> 3 x 3), 4 positions, flux only, 1 held-out
#: point: 7 solves of ~0.2 s; enough to compare two ways of running the same tasks
TINY = dict(grid=(3, 2), positions=4, held_out=1, losses=False)


@pytest.fixture
def no_dask_client(monkeypatch):
    """Fail if anything starts a Dask Client or LocalCluster (the synchronous path must not)."""
    import distributed

    def refuse(*args, **kwargs):
        raise AssertionError("a Dask Client/LocalCluster was started")

    monkeypatch.setattr(distributed.Client, "__init__", refuse)
    monkeypatch.setattr(distributed.LocalCluster, "__init__", refuse)


def test_synchronous_map_equals_the_local_cluster_map(tmp_path, no_dask_client, monkeypatch):
    """The same tiny map solved in this process (no Client) and on a 2-worker LocalCluster,
    each into its own result store (so nothing is reused between them): every variable
    equal to 1e-12 relative. Same code, same mesh, same arithmetic in another process; the
    workers pin BLAS to one thread (WORKER_ENV), this process may not, so bitwise equality
    is not promised, 1e-12 is."""
    sync = edrive.flux_map("prius_2004", **TINY, scheduler="synchronous",
                           results_root=tmp_path / "sync")  # fmt: skip
    assert (sync.run.computed, sync.run.reused, sync.run.failed) == (7, 0, 0)
    assert sync.run.dashboard is None  # no cluster, no dashboard
    monkeypatch.undo()  # Dask allowed again
    from distributed import Client

    from pipeline.cluster import local_cluster

    with local_cluster(n_workers=2, dashboard=False) as lc, Client(lc) as client:
        dask = edrive.flux_map("prius_2004", **TINY, scheduler=client,
                               results_root=tmp_path / "dask")  # fmt: skip
    assert (dask.run.computed, dask.run.failed) == (7, 0)
    a, b = sync.to_dataset(), dask.to_dataset()
    assert set(a.data_vars) == set(b.data_vars)
    for name in ("psi_d", "psi_q", "psi_f", "torque", "torque_ripple", "solved"):
        x, y = a[name].values, b[name].values
        scale = max(float(np.nanmax(np.abs(y))), 1e-300)
        assert np.nanmax(np.abs(x - y)) <= 1e-12 * scale, name
    assert sync.run.held_out["torque_rel_error_max_usable"] == pytest.approx(
        dask.run.held_out["torque_rel_error_max_usable"], rel=1e-12
    )


def test_map_no_load_flux_is_the_case_flux(tmp_path, no_dask_client):
    """A map node at i = 0 against api.run_case at the same point (same 4 positions, same
    magnet temperature 80 degC): the task is that solve, so psi_d agrees to 1e-12."""
    fm = edrive.flux_map("prius_2004", **TINY, scheduler="synchronous", results_root=tmp_path)
    node = float(fm.dataset.psi_d.sel(i_d=0.0, i_q=0.0))
    case = edrive.run_case("prius_2004", positions=4, magnet_temperature_C=80.0)
    assert node == pytest.approx(float(np.mean(case.result.psi_d)), rel=1e-12)
    ds = case.to_dataset()
    assert ds.torque.attrs["units"] == "N m" and ds.sizes["rotor_angle"] == 4
    png = case.plot(tmp_path / "field.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pngs = fm.plot(tmp_path / "flux")
    assert [p.name for p in pngs] == ["flux.png"]  # no losses in this map: no losses.png


def test_api_case_equals_the_cli_json(tmp_path, monkeypatch, capsys):
    """``edrive case --json`` is a thin layer over api.run_case: the same numbers."""
    monkeypatch.setenv("EDRIVE_RESULTS_DIR", str(tmp_path))
    argv = ["case", "prius_2004", "--i-d", "-50", "--i-q", "100", "--positions", "4", "--json"]
    assert main(argv) == 0
    cli = json.loads(capsys.readouterr().out)
    api = edrive.run_case("prius_2004", -50.0, 100.0, positions=4).summary()
    for key in ("torque_mean_Nm", "psi_d_Wb", "psi_q_Wb", "torque_dq_mean_Nm"):
        assert cli[key] == pytest.approx(api[key], rel=1e-12), key


def test_sweep_and_cli_accept_synchronous(tmp_path, monkeypatch, capsys, no_dask_client):
    """``edrive sweep WF --scheduler synchronous``: two case tasks in this process; each
    torque equal (1e-12) to a direct run_case of the same point."""
    monkeypatch.setenv("EDRIVE_RESULTS_DIR", str(tmp_path))
    wf = tmp_path / "two.toml"
    wf.write_text(
        'name = "two"\ndesign = "prius_2004"\ncompute = "case"\n[operating_points]\n'
        "i_q_A = [50.0, 150.0]\npositions = [4]\n"
    )
    assert main(["sweep", str(wf), "--scheduler", "synchronous", "--quiet", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["done"], s["failed"], s["dashboard"]) == (2, 0, None)
    # a rerun through the API reuses both records and gathers the same Dataset
    again = edrive.sweep(wf, scheduler="synchronous")
    assert (again.summary.done, again.summary.skipped) == (0, 2)
    ds = again.to_dataset()
    for i_q, torque in zip(ds["i_q_A"].values, ds["torque"].values, strict=True):
        direct = edrive.run_case("prius_2004", 0.0, float(i_q), positions=4).torque
        assert torque == pytest.approx(direct, rel=1e-12)
    assert again.plot("torque", tmp_path / "torque.png").stat().st_size > 1000


def test_failing_task_is_recorded_as_on_a_worker(tmp_path, no_dask_client):
    """A task that raises is stored as failed with "Type: message", and the others run:
    the synchronous client keeps a task's error as a worker does."""
    from pipeline.cluster import SynchronousClient, as_completed

    client = SynchronousClient()
    futs = [client.submit(math.sqrt, x) for x in (4.0, -1.0, 9.0)]
    done = list(as_completed(futs))
    assert [f.status for f in done] == ["finished", "error", "finished"]
    assert done[0].result() == 2.0 and isinstance(done[1].exception(), ValueError)
    dep = client.submit(math.sqrt, client.submit(math.sqrt, 16.0))  # futures as arguments
    assert next(iter(as_completed([dep]))).result() == 2.0


SYNC = "synchronous"  # if a check did not fire, nothing would start a cluster


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: edrive.flux_map("prius_2004", scheduler="localhost"), "--scheduler"),
        (lambda: edrive.flux_map("prius_2004", grid=(1, 5), scheduler=SYNC), "grid"),
        # 300 x 300 points x 12 positions x 0.1 s = 30 CPU hours > MAX_CPU_HOURS (24)
        (lambda: edrive.flux_map("prius_2004", grid=(300, 300), scheduler=SYNC), "allow-large"),
        (lambda: edrive.flux_map("gen5_eesm", magnet_temperature_C=80.0), "has no magnets"),
        (lambda: edrive.run_case("prius_2004", i_q=5000.0), "allow-overload"),
        (lambda: edrive.load_design("no_such_design"), "no_such_design"),
    ],
)
def test_bad_input_is_one_line_before_any_solve(call, fragment, tmp_path, monkeypatch):
    monkeypatch.setenv("EDRIVE_RESULTS_DIR", str(tmp_path))
    with pytest.raises(PipelineError) as exc:
        call()
    assert fragment in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "maps").exists()  # nothing was solved or stored


def test_package_level_names_are_the_api():
    assert pipeline.flux_map is edrive.flux_map and pipeline.run_case is edrive.run_case
    with pytest.raises(AttributeError):
        pipeline.no_such_name  # noqa: B018


def test_synchronous_study_equals_the_local_cluster_study(tmp_path, monkeypatch, capsys):
    """``edrive sweep STUDY --scheduler synchronous`` (map points and each variant's
    post-processing in this process) against the default local cluster: the shipped CI
    study cut to one variant (18 map points), each run in its own results folder; every
    KPI of study.nc equal to 1e-12 relative (CPU and wall times excepted): the same
    arithmetic in another process (measured: all equal bit for bit on 2026-12-04)."""
    import xarray as xr

    from pipeline import cluster

    text = (pipeline_root() / "workflows" / "gen5_design_study_ci.toml").read_text()
    study = tmp_path / "one.toml"
    study.write_text(text.replace("\nn = 4\n", "\nn = 1\n").replace(
        'name = "gen5_design_study_ci"', 'name = "one"'))  # fmt: skip
    started = []
    real = cluster.local_cluster

    def counted(*args, **kwargs):
        started.append(1)
        return real(n_workers=2, dashboard=False)

    monkeypatch.setattr(cluster, "local_cluster", counted)
    out = {}
    for how in ("synchronous", None):
        monkeypatch.setenv("EDRIVE_RESULTS_DIR", str(tmp_path / str(how)))
        argv = ["sweep", str(study), "--quiet", "--json"]
        assert main(argv + (["--scheduler", how] if how else [])) == 0
        s = json.loads(capsys.readouterr().out)
        assert (s["done"], s["map_points_computed"]) == (1, 18)
        assert started == ([] if how else [1])  # the synchronous run started no cluster
        out[how] = xr.load_dataset(tmp_path / str(how) / "one" / "study.nc")
    a, b = out["synchronous"], out[None]
    names = [k for k in b.data_vars if "time" not in k and b[k].dtype.kind == "f"]
    assert len(names) > 10
    for k in names:
        np.testing.assert_allclose(a[k].values, b[k].values, rtol=1e-12, err_msg=k)


def pipeline_root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def test_synchronous_interrupt_keeps_finished_tasks_and_resumes(tmp_path, no_dask_client):
    """Ctrl-C (here: KeyboardInterrupt from the progress callback after the first record)
    stops a synchronous sweep with that record kept and the rest not run; the rerun
    computes only the remaining two (counted by the task itself)."""
    from pipeline.sweep import run_sweep
    from pipeline.tasks import register_task
    from pipeline.workflow import make_workflow

    calls = []

    @register_task("api_test_echo", needs_mesh=False)
    def echo(design, level, op):
        calls.append(op["i_q_A"])
        return {"i_q": [op["i_q_A"], "A", "echoed i_q"]}

    points = [{"i_q_A": q} for q in (1.0, 2.0, 3.0)]
    wf = make_workflow("echo", edrive.load_design("prius_2004"), "ci", "api_test_echo", points)

    def stop(record, summary):
        raise KeyboardInterrupt

    s = run_sweep(wf, tmp_path, scheduler="synchronous", on_result=stop)
    assert s.interrupted and (s.done, calls) == (1, [1.0])
    s = run_sweep(wf, tmp_path, scheduler="synchronous")
    assert (s.done, s.skipped, s.interrupted) == (2, 1, False)
    assert calls == [1.0, 2.0, 3.0]
