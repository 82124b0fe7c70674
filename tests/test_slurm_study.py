"""The small Gen 5 design study under a real SLURM: real sbatch jobs run the Dask workers.

SLURM comes from ``.ci/slurm.sh start`` (one node, partition ``debug``; ``.ci/run`` starts
it around the test suite). If no SLURM answers, this module starts one itself when it can
(root with apt-get) and stops exactly the daemons it started at the end of the session.
In CI (``CI`` set) a SLURM that cannot start fails these tests loudly; elsewhere they are
skipped with the reason.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import xarray as xr

from pipeline.cli import main
from pipeline.study.run import run_study
from pipeline.study.spec import load_study

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "slurm.sh"
CLUSTER = ROOT / "workflows" / "cluster" / "slurm-local.yaml"
CI_STUDY = ROOT / "workflows" / "gen5_design_study_ci.toml"


def _slurm_answers() -> bool:
    if not shutil.which("sinfo"):
        return False
    r = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=20)
    return r.returncode == 0 and any(s in r.stdout for s in ("idle", "mix", "alloc"))


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A SLURM partition for the tests: the running one, or one started here."""
    started = None
    if not _slurm_answers():
        why = None
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            why = "no SLURM answers (sinfo) and this is not root with apt-get to start one"
        else:
            state = tmp_path_factory.mktemp("slurm")
            env = {**os.environ, "EDRIVE_SLURM_STATE": str(state)}
            r = subprocess.run(
                ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=300
            )
            if r.returncode != 0 or not _slurm_answers():
                why = f".ci/slurm.sh start failed: {r.stderr.strip()[-300:]}"
            else:
                started = env
        if why is not None:
            if os.environ.get("CI"):
                pytest.fail(f"SLURM tests must run in CI: {why}")
            pytest.skip(why)
    yield
    if started is not None:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=started, timeout=60, check=True)


def _worker_jobs() -> dict[str, str]:
    """{job id: state} of the dask-worker jobs SLURM still knows (MinJobAge = 30 s)."""
    r = subprocess.run(["scontrol", "-o", "show", "jobs"], capture_output=True, text=True)
    jobs = {}
    for line in r.stdout.splitlines():
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if f.get("JobName", "").startswith("dask-worker"):
            jobs[f["JobId"]] = f.get("JobState", "")
    return jobs


def _check_exactly_once(results: Path, name: str, n_variants: int) -> xr.Dataset:
    """Every variant present once in study.nc and in the record store, each map point
    stored once (one record file per distinct task key)."""
    with xr.open_dataset(results / name / "study.nc") as ds:
        ds = ds.load()
    assert ds.sizes["variant"] == n_variants
    assert list(ds["status"].values) == ["ok"] * n_variants
    assert len(set(ds["record_hash"].values)) == n_variants
    assert len(list((results / name / "tasks").glob("*.json"))) == n_variants
    map_records = list((results / "maps" / "gen5_eesm-ci" / "tasks").glob("*.json"))
    assert len(map_records) == n_variants * 18  # 3 x 3 x 2 points per variant
    return ds


def test_small_study_through_cluster_with_real_sbatch_jobs(slurm, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EDRIVE_RESULTS_DIR", str(tmp_path / "results"))
    before = set(_worker_jobs())
    argv = ["sweep", str(CI_STUDY), "--cluster", str(CLUSTER), "--quiet", "--json"]
    code = main(argv)
    s = json.loads(capsys.readouterr().out)
    assert code == 0, s["reasons"]
    assert (s["done"], s["computed_variants"], s["map_points_computed"]) == (4, 4, 72)
    new_jobs = set(_worker_jobs()) - before
    assert len(new_jobs) >= 2, "the workers did not run as SLURM jobs"
    _check_exactly_once(tmp_path / "results", "gen5_design_study_ci", 4)
    pids = set()
    for f in (tmp_path / "results" / "maps" / "gen5_eesm-ci" / "tasks").glob("*.json"):
        pids.add(json.loads(f.read_text())["pid"])
    assert len(pids) == 2  # both batch jobs' workers computed map points


def test_study_survives_a_cancelled_batch_job(slurm, tmp_path):
    """scancel one of the two worker jobs mid-study: the other finishes everything; no
    variant and no map point lost or stored twice."""
    from distributed import Client

    from pipeline.cluster import jobqueue_cluster

    spec = load_study(CI_STUDY)
    cluster = jobqueue_cluster(CLUSTER)
    cancelled: dict = {}
    try:
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=120)
            jobs = sorted({w.job_id for w in cluster.workers.values()})
            assert len(jobs) == 2

            def progress(state, force=False):
                if not cancelled and state["points_done"] >= 12:
                    subprocess.run(["scancel", jobs[0]], check=True)
                    cancelled.update(job=jobs[0], at=state["points_done"])

            s = run_study(spec, tmp_path / "results", client=client, progress=progress)
            alive = len(client.scheduler_info()["workers"])
    finally:
        cluster.close()
    assert cancelled and cancelled["at"] < 72, "the job was not cancelled mid-study"
    assert alive == 1  # the cancelled job's worker is gone, and not replaced
    assert (s.done, s.failed, s.computed_variants, s.map_points_computed) == (4, 0, 4, 72)
    _check_exactly_once(tmp_path / "results", spec.name, 4)
