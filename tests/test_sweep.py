"""Sweep layer on real Dask processes (scheduler and workers on 127.0.0.1, free ports).

Test-only task kinds are registered here; the workers import this module by reference
(``tests.test_sweep``), so they run with the checkout on PYTHONPATH. Each execution of the
``sleepy`` kind leaves a marker file, so recomputation can be counted.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import xarray as xr

from pipeline.errors import WorkflowError
from pipeline.sweep import (
    WORKER_ENV,
    jobqueue_cluster,
    load_workflow,
    local_cluster,
    register_task,
    run_sweep,
)

ROOT = Path(__file__).resolve().parent.parent


@register_task("sleepy", needs_mesh=False)
def sleepy_task(design, level: str, operating_point: dict) -> dict:
    """Echo the stack length after a short sleep; leaves one marker file per execution."""
    markers = Path(os.environ["EDRIVE_TEST_MARKERS"])
    label = f"{design.stator.stack_length * 1e3:.0f}"
    (markers / f"{label}-{uuid.uuid4().hex}").touch()
    time.sleep(float(os.environ.get("EDRIVE_TEST_SLEEP", "0.6")))
    return {
        "stack_length_mm": [design.stator.stack_length * 1e3, "mm", "stator stack length"],
        "i_q": [operating_point.get("i_q_A", 0.0), "A", "q-axis current"],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(markers: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["EDRIVE_TEST_MARKERS"] = str(markers)
    return env


class LocalDask:
    """A scheduler and ``n`` nanny-less workers as separate processes."""

    def __init__(self, n_workers: int, markers: Path):
        self.procs: list[subprocess.Popen] = []
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        env = _env(markers)
        common = {
            "cwd": ROOT,
            "env": env,
            "stdout": subprocess.DEVNULL,
            "stderr": subprocess.DEVNULL,
        }
        self.procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                **common,
            )
        )
        self.workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    self.address,
                    "--nthreads",
                    "1",
                    "--no-nanny",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                **common,
            )
            for _ in range(n_workers)
        ]
        self.procs += self.workers

    def client(self, n_workers: int):
        from distributed import Client

        client = Client(self.address, timeout=30)
        client.wait_for_workers(n_workers, timeout=30)
        return client

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait(timeout=10)


@pytest.fixture(scope="module")
def markers(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("markers")


@pytest.fixture(scope="module")
def dask_pair(markers):
    cluster = LocalDask(2, markers)
    try:
        client = cluster.client(2)
        try:
            yield cluster, client
        finally:
            client.close()
    finally:
        cluster.close()


def _workflow(tmp_path: Path, body: str, name: str = "t") -> Path:
    path = tmp_path / f"{name}.toml"
    level = "" if "level =" in body else 'level = "ci"\n'
    path.write_text(f'name = "{name}"\ndesign = "gen5_eesm"\n{level}' + body)
    return path


def _count(markers: Path, label: str) -> int:
    return len(list(markers.glob(f"{label}-*")))


def _sleepy_workflow(tmp_path: Path, lengths: list[int], name: str):
    """A workflow of the test-only `sleepy` task over stack lengths [mm]."""
    return load_workflow(
        _workflow(
            tmp_path,
            f'compute = "sleepy"\n[design_grid]\n"stator.stack_length_mm" = {lengths}\n',
            name,
        )
    )


def test_sweep_resume_after_interrupt(dask_pair, markers, tmp_path):
    _, client = dask_pair
    lengths = [101, 102, 103, 104, 105, 106]
    wf = _sleepy_workflow(tmp_path, lengths, "resume")
    seen = []

    def stop_after_two(record, summary):
        seen.append(record["hash"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    s1 = run_sweep(wf, tmp_path, client=client, on_result=stop_after_two)
    assert s1.interrupted and s1.done == 2
    stored = {p.stem for p in (tmp_path / "resume" / "tasks").glob("*.json")}
    assert stored == set(seen)  # exactly the two delivered results were written
    finished = {
        json.loads((tmp_path / "resume" / "tasks" / f"{h}.json").read_text())["labels"][
            "stator.stack_length_mm"
        ]
        for h in seen
    }
    before = {v: _count(markers, str(v)) for v in finished}
    s2 = run_sweep(wf, tmp_path, client=client)
    assert (s2.skipped, s2.done, s2.failed) == (2, 4, 0)
    # finished tasks were not executed again: their marker counts did not change
    assert {v: _count(markers, str(v)) for v in finished} == before
    ds = xr.open_dataset(s2.dataset_path)
    # the echoed stack length equals the grid value to float rounding (mm -> m -> mm)
    for v, echoed in zip(
        ds["stator.stack_length_mm"].values, ds.stack_length_mm.values, strict=True
    ):
        assert abs(echoed - v) < 1e-9
    assert sorted(ds["stator.stack_length_mm"].values.tolist()) == lengths
    assert ds.stack_length_mm.attrs["units"] == "mm" and ds.attrs["package_version"]
    ds.close()


def test_infeasible_variant_recorded_as_failed(dask_pair, tmp_path):
    cluster, _ = dask_pair
    body = 'compute = "sleepy"\n[design_grid]\n"stator.stack_length_mm" = [111, 112]\n"rotor.field_turns" = [80, 100000]\n[operating_points]\ni_q_A = [100.0, 200.0]\n'
    wf = load_workflow(_workflow(tmp_path, body, "infeasible"))
    s = run_sweep(wf, tmp_path, scheduler=cluster.address)  # Client(address) path
    # 2 lengths x 1 feasible turns x 2 currents run; the 100000-turn variants fail (4 tasks)
    assert (s.done, s.failed, s.skipped) == (4, 4, 0)
    assert all(r.startswith("DesignError: rotor.field_turns") for r in s.reasons.values())
    ds = xr.open_dataset(s.dataset_path)
    ok = ds.status.values == "ok"
    assert ok.sum() == 4
    # the operating point reaches the task: echoed i_q equals the grid value exactly
    assert (ds.i_q.values[ok] == ds["i_q_A"].values[ok]).all()
    ds.close()


def test_worker_killed_mid_run_each_result_once(markers, tmp_path):
    cluster = LocalDask(2, markers)
    try:
        client = cluster.client(2)
        try:
            lengths = [121, 122, 123, 124, 125, 126]
            wf = _sleepy_workflow(tmp_path, lengths, "kill")
            pids = client.run(os.getpid)
            delivered: list[str] = []
            killed = []

            def kill_one(record, summary):
                delivered.append(record["hash"])
                if not killed:
                    busy = [w for w, tasks in client.processing().items() if tasks]
                    os.kill(pids[busy[0]], 9)
                    killed.append(pids[busy[0]])

            s = run_sweep(wf, tmp_path, client=client, on_result=kill_one)
        finally:
            client.close()
    finally:
        cluster.close()
    assert killed and sum(w.poll() is not None for w in cluster.workers) == 2
    assert (s.done, s.failed) == (6, 0)
    assert sorted(delivered) == sorted(t.key for t in wf.tasks)  # each result exactly once
    assert len(list((tmp_path / "kill" / "tasks").glob("*.json"))) == 6
    # the task lost with the killed worker ran again: at least 7 executions for 6 tasks
    assert sum(_count(markers, str(v)) for v in lengths) >= 7


def test_mesh_task_areas(tmp_path, monkeypatch):
    """The "mesh" kind on 2 variants on the default LocalCluster (one worker here)."""
    from distributed import Client

    monkeypatch.setenv("EDRIVE_MESH_DIR", str(tmp_path / "meshes"))
    body = 'compute = "mesh"\n[design_grid]\n"stator.stack_length_mm" = [150, 210]\n'
    wf = load_workflow(_workflow(tmp_path, body, "meshes"))
    with local_cluster(n_workers=1) as lc, Client(lc) as client:
        s = run_sweep(wf, tmp_path, client=client)
        worker_env = client.run(lambda: {k: os.environ.get(k) for k in WORKER_ENV})
    assert (s.done, s.failed) == (2, 0)
    # the workers run with the malloc thresholds of DESIGN.md (64 MiB = 67108864 B)
    assert all(
        e["MALLOC_MMAP_THRESHOLD_"] == "67108864" and e["MALLOC_TRIM_THRESHOLD_"] == "67108864"
        for e in worker_env.values()
    )
    ds = xr.open_dataset(s.dataset_path)
    # stack length does not change the 2D cross-section: identical meshes, and region areas
    # within 1 % of the analytic areas (curved boundaries: chord error < 0.29 %, see MeshSettings)
    assert ds.n_elements.values[0] == ds.n_elements.values[1]
    assert (ds.area_error_max.values < 0.01).all()
    assert ds.area_coil.attrs["units"] == "m2"
    ds.close()


@pytest.mark.parametrize(
    "body, expect",
    [
        ('compute = "sleepy"\ncolour = "red"\n', "colour = 'red': unknown key"),
        ('compute = "nope"\n', "compute = 'nope': unknown task kind"),
        ('compute = "sleepy"\n[design_grid]\n"stator.stack_length_mm" = []\n', "empty grid"),
        ('compute = "sleepy"\n[design_grid]\n"stator.stack_length_cm" = [1]\n', "wrong unit"),
        ('compute = "sleepy"\n[design_grid]\n"stator.stack_length_deg" = [1]\n', "wrong unit"),
        (
            'compute = "sleepy"\n[design_grid]\n"stator.stack_length" = [0.2]\n',
            "unknown design field",
        ),
        ('compute = "sleepy"\n[design_grid]\n"rotor.field_turns" = [80.5]\n', "must be an integer"),
        (
            'compute = "sleepy"\n[design_grid]\n"stator.stack_length_mm" = ["a"]\n',
            "must be a number",
        ),
        ('compute = "sleepy"\n[operating_points]\ntorque_Nm = [1.0]\n', "unknown key"),
        ('compute = "sleepy"\nlevel = "coarse"\n', "must be ci or fine"),
        ('compute = "case"\n[operating_points]\npositions = [0]\n', "must be >= 1"),
        ('compute = "case"\n[operating_points]\npositions = [1.5]\n', "must be an integer"),
        ('compute = "case"\n[operating_points]\ni_f_A = [-1.0]\n', "must be >= 0"),
        ('compute = "case"\n[operating_points]\nspan_el_rad = [7.0]\n', "must be in (0, 2 pi]"),
    ],
)
def test_malformed_workflows(tmp_path, body, expect):
    with pytest.raises(WorkflowError) as err:
        load_workflow(_workflow(tmp_path, body, "bad"))
    msg = str(err.value)
    assert expect in msg and "\n" not in msg


def test_example_workflows_validate():
    # 2 x 2 x 2 design variants; 3 x 3 (i_d, i_q) operating points
    for name, n in (("gen5_design_sweep", 8), ("prius_operating_points", 9)):
        wf = load_workflow(ROOT / "workflows" / f"{name}.toml")
        assert len(wf.tasks) == n and all(t.error is None for t in wf.tasks)


def test_slurm_job_script():
    cluster = jobqueue_cluster(
        ROOT / "workflows" / "cluster" / "slurm.yaml",
        n_workers=0,
        scheduler_options={"host": "127.0.0.1", "dashboard_address": ":0"},
    )
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p compute" in script and "#SBATCH -t 02:00:00" in script
    assert "--cpus-per-task=8" in script and "--nworkers 8" in script and "--nthreads 1" in script
    assert "export MALLOC_MMAP_THRESHOLD_=67108864" in script
    # 32 GB per job shared by 8 workers: 32e9 / 8 / 2**30 = 3.73 GiB each
    assert f"--memory-limit {32e9 / 8 / 2**30:.2f}GiB" in script


def test_case_task_on_local_cluster(tmp_path):
    """The "case" kind through a real LocalCluster: one Prius operating point (ci, 6 positions).

    References: the same point solved in this process (the values must survive the trip
    through Dask and the JSON store unchanged: 1e-9); Arkkio torque against the dq torque
    3/2 p (psi_d i_q - psi_q i_d) from the flux linkages, an independent post-processing of
    the same field (1 %: they differ by mesh error, < 0.1 % at ci); v_q = omega_el psi_d by hand.
    """
    import math

    from distributed import Client

    from pipeline.em.machine import run_case

    path = tmp_path / "case.toml"
    path.write_text(
        'name = "case"\ndesign = "prius_2004"\ncompute = "case"\n[operating_points]\n'
        "i_d_A = [-100.0]\ni_q_A = [200.0]\nspeed_rpm = [3000.0]\npositions = [6]\n"
    )
    wf = load_workflow(path)
    with local_cluster(n_workers=1, dashboard=False) as lc, Client(lc) as client:
        s = run_sweep(wf, tmp_path, client=client)
    assert (s.done, s.failed) == (1, 0)
    ds = xr.open_dataset(s.dataset_path)
    direct = run_case("prius_2004", -100.0, 200.0, positions=6, speed_rpm=3000.0)
    assert float(ds.torque[0]) == pytest.approx(direct.mean_torque, rel=1e-9)
    assert float(ds.torque[0]) == pytest.approx(float(ds.torque_dq[0]), rel=0.01)
    omega_el = 4 * 3000.0 * 2 * math.pi / 60  # 8 poles -> p = 4
    assert float(ds.v_q[0]) == pytest.approx(omega_el * float(ds.psi_d[0]), rel=1e-12)
    assert ds.torque.attrs["units"] == "N m" and ds.psi_q.attrs["units"] == "Wb"
    assert int(ds.positions_solved[0]) == 6 and float(ds.newton_iterations_mean[0]) >= 1
    ds.close()


def test_progress_line_follows_consecutive_sweeps(capsys):
    # edrive map --refine runs two sweeps through one Progress: the total follows the
    # sweep and the first record of the second sweep arrives at once (no division by zero)
    from pipeline.commands.sweep import Progress
    from pipeline.sweep import SweepSummary

    p = Progress(label="map")
    p({}, SweepSummary("a", total=4, done=4))
    p({}, SweepSummary("b", total=6, done=2, skipped=4))  # complete: always printed
    assert p.total == 6
    err = capsys.readouterr().err
    assert "4/4 done" in err and "6/6 done" in err
