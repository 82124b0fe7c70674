"""Issue 17, cluster and scheduler inputs: validated against what dask-jobqueue accepts; a
missing batch system, a rejected job or a job that never starts gives one line within the
deadline (no SLURM here: fake ``sbatch``/``squeue`` scripts on PATH stand in for it).
"""

from __future__ import annotations

import os
import time

import pytest
import yaml

from pipeline.cluster import check_cluster_spec, check_scheduler_address, jobqueue_cluster
from pipeline.errors import DesignError

BASE = {
    "kind": "slurm",
    "queue": "compute",
    "cores": 2,
    "processes": 2,
    "memory": "4GB",
    "walltime": "00:10:00",
    "n_workers": 1,
}


@pytest.mark.parametrize(
    "change, parts",
    [
        ({"corse": 8}, ("cluster.corse", "unknown key")),
        ({"kind": "lsf"}, ("cluster.kind", "slurm or pbs")),
        ({"memory": "lots"}, ("cluster.memory", "32GB")),
        ({"memory": 32}, ("cluster.memory", "32GB")),
        ({"walltime": "2 hours"}, ("cluster.walltime", "02:00:00")),
        ({"processes": 4}, ("cluster.processes", "<= 2")),
        ({"cores": 0}, ("cluster.cores", ">= 1")),
        ({"cores": True}, ("cluster.cores", "integer")),
        ({"adapt": {"minimum": 0, "maximum": 4}}, ("cluster.adapt", "either n_workers")),
        ({"n_workers": None}, ("cluster.n_workers", "integer")),
        ({"job_extra_directives": "--exclusive"}, ("job_extra_directives", "list of strings")),
    ],
)
def test_cluster_spec_rules(change, parts):
    spec = {k: v for k, v in {**BASE, **change}.items()}
    with pytest.raises(DesignError) as err:
        check_cluster_spec(spec)
    msg = str(err.value)
    assert "\n" not in msg and all(p in msg for p in parts), msg


def test_cluster_spec_without_jobs_refused():
    """Neither n_workers nor adapt: no job would ever start and the sweep would wait forever."""
    spec = {k: v for k, v in BASE.items() if k != "n_workers"}
    with pytest.raises(DesignError, match="give n_workers or adapt"):
        check_cluster_spec(spec)


def test_shipped_cluster_files_pass():
    from pathlib import Path

    for f in sorted((Path(__file__).parent.parent / "workflows" / "cluster").glob("*.yaml")):
        check_cluster_spec(yaml.safe_load(f.read_text()))


def test_cluster_yaml_not_a_mapping(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("- slurm\n- 8\n")
    with pytest.raises(DesignError, match="must be a table, not list"):
        jobqueue_cluster(p)


def _fake_batch(tmp_path, monkeypatch, sbatch: str, squeue: str) -> None:
    """``sbatch``, ``squeue``, ``scancel`` shell scripts first on PATH."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name, body in (("sbatch", sbatch), ("squeue", squeue), ("scancel", "exit 0")):
        f = bin_ / name
        f.write_text(f"#!/bin/sh\n{body}\n")
        f.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_}{os.pathsep}{os.environ['PATH']}")


def _cluster_file(tmp_path, **extra) -> str:
    p = tmp_path / "c.yaml"
    spec = {**BASE, "start_timeout_s": 2, "scheduler_options": {"dashboard_address": ":0"}}
    p.write_text(yaml.safe_dump({**spec, **extra}))
    return str(p)


def test_no_batch_system(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch anywhere
    with pytest.raises(DesignError, match="'sbatch' is not on PATH"):
        jobqueue_cluster(_cluster_file(tmp_path))


def test_job_rejected(tmp_path, monkeypatch):
    _fake_batch(
        tmp_path, monkeypatch, 'echo "sbatch: error: invalid partition specified" >&2; exit 1', ""
    )
    t0 = time.perf_counter()
    with pytest.raises(DesignError) as err:
        jobqueue_cluster(_cluster_file(tmp_path))
    assert "job submission rejected: sbatch: error: invalid partition" in str(err.value)
    assert time.perf_counter() - t0 < 30  # one minute at most; well under it here


def test_job_never_starts(tmp_path, monkeypatch):
    _fake_batch(tmp_path, monkeypatch, 'echo "Submitted batch job 4242"', "echo PENDING")
    t0 = time.perf_counter()
    with pytest.raises(DesignError, match="job 4242 still PENDING after 2 s"):
        jobqueue_cluster(_cluster_file(tmp_path))
    # the 2 s deadline plus cluster start-up and close (10 s: a loaded 2-core machine)
    assert time.perf_counter() - t0 < 12


def test_job_leaves_the_queue(tmp_path, monkeypatch):
    _fake_batch(tmp_path, monkeypatch, 'echo "Submitted batch job 77"', "exit 0")
    with pytest.raises(DesignError, match="job 77 left the queue without starting"):
        jobqueue_cluster(_cluster_file(tmp_path))


def test_job_running_is_accepted(tmp_path, monkeypatch):
    _fake_batch(tmp_path, monkeypatch, 'echo "Submitted batch job 5"', "echo RUNNING")
    cluster = jobqueue_cluster(_cluster_file(tmp_path))
    try:
        assert [j.job_id for j in cluster.workers.values()] == ["5"]
    finally:
        try:
            cluster.close()
        except Exception:  # noqa: BLE001 - the fake job never connects a worker
            pass


@pytest.mark.parametrize(
    "address", ["nonsense", "tcp://host:99999", "tcp://host", "http://h:8786", "", "tcp://a b:1"]
)
def test_malformed_scheduler_address(address):
    with pytest.raises(DesignError, match="an address like tcp://host:8786"):
        check_scheduler_address(address)


def test_scheduler_address_forms_accepted():
    for a in ("tcp://127.0.0.1:8786", "node-01:8786", "tls://sched.example.org:443", "[::1]:8786"):
        assert check_scheduler_address(a) == a


def test_unreachable_scheduler_is_one_line():
    from distributed import Client

    from pipeline.cluster import connect_scheduler

    t0 = time.perf_counter()
    with pytest.raises(DesignError, match="no Dask scheduler answered within 1 s"):
        connect_scheduler(Client, "tcp://127.0.0.1:9", timeout_s=1.0)
    assert time.perf_counter() - t0 < 10
