"""Design and operating-point sweeps on Dask (with :mod:`pipeline.cluster`, where they run).

Workflows (TOML files or :func:`pipeline.workflow.make_workflow`) are parsed and validated
in :mod:`pipeline.workflow`; the task kinds live in :mod:`pipeline.tasks` (``mesh``,
``case``) and :mod:`pipeline.maps.flux` (``flux_point``). This module decides where the
tasks run (a local cluster by default, an existing scheduler, or a dask-jobqueue cluster:
:mod:`pipeline.cluster`), runs them and writes each result as it arrives.

One task per (design variant, operating point); each distinct mesh is built once by a
mesh task that the tasks of that mesh depend on. Results are written on the client as each
future completes (:mod:`pipeline.io.store`), so a lost worker cannot lose a written result
and an interrupted sweep resumes without recomputing finished tasks. Meshes go to the
shared cache (``$EDRIVE_MESH_DIR``), which must be on a shared file system on a cluster.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pipeline.tasks  # noqa: F401 - registers the built-in task kinds
from pipeline.cluster import (
    WORKER_ENV,
    as_completed,
    check_where,
    close_quietly,
    jobqueue_cluster,
    local_cluster,
    open_client,
    quiet_dask_logs,
)
from pipeline.io.store import ResultStore, records_to_dataset, write_dataset
from pipeline.mesh import get_mesh
from pipeline.version import __version__
from pipeline.workflow import (
    TASKS,
    Task,
    TaskKind,
    Workflow,
    load_workflow,
    make_workflow,
    register_task,
)

__all__ = [
    "TaskKind",
    "TASKS",
    "register_task",
    "Task",
    "Workflow",
    "load_workflow",
    "make_workflow",
    "WORKER_ENV",
    "local_cluster",
    "jobqueue_cluster",
    "run_sweep",
    "SweepSummary",
    "check_where",
    "quiet_dask_logs",
]

log = logging.getLogger(__name__)


def _build_mesh(design, level: str) -> str:

    return get_mesh(design, level=level, sector=True).key


def _run_task(fn: Callable, design, level: str, op: dict, _mesh_key: str | None = None) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    values = fn(design, level, op)
    return {
        "values": values,
        "elapsed_s": time.perf_counter() - t0,
        "cpu_s": time.process_time() - c0,
        "pid": os.getpid(),
    }


# --- running -------------------------------------------------------------------------
@dataclass
class SweepSummary:
    name: str
    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    interrupted: bool = False
    reasons: dict[str, str] = field(default_factory=dict)  # hash -> reason
    dataset_path: str | None = None
    dashboard: str | None = None
    elapsed_s: float = 0.0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _record(task: Task, kind: str, status: str, **extra) -> dict:
    return {
        "hash": task.key,
        "kind": kind,
        "status": status,
        "labels": task.labels,
        "operating_point": task.operating_point,
        "design_hash": task.design.content_hash() if task.design is not None else None,
        "version": __version__,
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        **extra,
    }


def run_sweep(
    workflow: Workflow,
    results_root: str | Path,
    *,
    client=None,
    scheduler: str | None = None,
    cluster_file: str | Path | None = None,
    resume: bool = True,
    retry_failed: bool = False,
    on_result: Callable[[dict, SweepSummary], None] | None = None,
    gather_dataset: bool = True,
) -> SweepSummary:
    """Run (or resume) ``workflow``; write each result as it arrives; gather a Dataset.

    Where: ``client`` if given, else ``Client(scheduler)``, else a jobqueue cluster from
    ``cluster_file``, else :func:`local_cluster`. Records go to
    ``results_root/<workflow name>/tasks/``; ``gather_dataset=False`` skips the Dataset
    along ``case`` (for callers that assemble their own, e.g. flux maps).
    ``on_result(record, summary)`` is called
    after each record is written (progress display, tests); a KeyboardInterrupt from it or
    from Ctrl-C stops the sweep with everything written kept (``summary.interrupted``).
    """
    t0 = time.perf_counter()
    store = ResultStore(Path(results_root) / workflow.name)
    summary = SweepSummary(workflow.name, len(workflow.tasks))
    todo: list[Task] = []
    for task in workflow.tasks:
        old = store.load(task.key) if resume else None
        if old and (old["status"] == "ok" or not retry_failed):
            summary.skipped += 1
            if old["status"] != "ok":
                summary.reasons[task.key] = old.get("reason", "")
            continue
        if task.error is not None:  # rejected variant: recorded without running anything
            rec = _record(task, workflow.kind.name, "failed", reason=task.error)
            store.write(task.key, rec)
            summary.failed += 1
            summary.reasons[task.key] = task.error
            continue
        todo.append(task)

    own: list = []
    try:
        if todo:
            client, own = open_client(client, scheduler, cluster_file)
            summary.dashboard = getattr(client, "dashboard_link", None)
            _submit_and_collect(client, as_completed, workflow, todo, store, summary, on_result)
    except KeyboardInterrupt:
        summary.interrupted = True
        log.info("interrupted: %d done, results so far are kept", summary.done)
        # the cluster is torn down mid-task: its warnings (workers killed after a timeout)
        # say nothing the interrupted summary does not
        logging.getLogger("distributed").setLevel(logging.ERROR)
    finally:
        close_quietly(own, log)
    if gather_dataset and not summary.interrupted:
        summary.dataset_path = str(gather(workflow, store))
    summary.elapsed_s = time.perf_counter() - t0
    return summary


def _submit_and_collect(client, as_completed, workflow, todo, store, summary, on_result) -> None:
    fn = workflow.kind.function
    meshes: dict[str, Any] = {}
    futures = {}
    for task in todo:
        dep = None
        if workflow.kind.needs_mesh:
            if task.mesh_key not in meshes:
                meshes[task.mesh_key] = client.submit(
                    _build_mesh,
                    task.design,
                    workflow.level,
                    pure=False,
                    key=f"mesh-{task.mesh_key}-{os.urandom(4).hex()}",
                )
            dep = meshes[task.mesh_key]
        fut = client.submit(
            _run_task,
            fn,
            task.design,
            workflow.level,
            task.operating_point,
            dep,
            pure=False,
            key=f"{workflow.kind.name}-{task.key[:16]}-{os.urandom(4).hex()}",
        )
        futures[fut] = task
    seen: set[str] = set()
    try:
        for fut in as_completed(list(futures)):
            task = futures[fut]
            if task.key in seen:  # as_completed yields each future once; guard anyway
                continue
            seen.add(task.key)
            if fut.status == "finished":
                out = fut.result()
                rec = _record(
                    task,
                    workflow.kind.name,
                    "ok",
                    values=out["values"],
                    elapsed_s=out["elapsed_s"],
                    cpu_s=out["cpu_s"],
                    pid=out["pid"],
                )
                summary.done += 1
            else:
                exc = fut.exception()
                reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
                rec = _record(task, workflow.kind.name, "failed", reason=reason)
                summary.failed += 1
                summary.reasons[task.key] = reason
            store.write(task.key, rec)
            fut.release()
            if on_result is not None:
                on_result(rec, summary)
    finally:
        client.cancel([f for f in futures if not f.done()] + list(meshes.values()))


def gather(workflow: Workflow, store: ResultStore) -> Path:
    """Collect the stored records of ``workflow`` into ``results/<name>/<name>.nc``."""
    records = [store.load(t.key) for t in workflow.tasks]
    records = [r for r in records if r is not None]
    attrs = {
        "title": f"sweep {workflow.name}",
        "design_name": workflow.design_name,
        "design_hash": workflow.design_hash,
        "mesh_level": workflow.level,
        "task_kind": workflow.kind.name,
        "workflow_file": str(workflow.path or "(built in code)"),
        "package_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    ds = records_to_dataset(records, workflow.dims, attrs)
    ext = "zarr" if workflow.output == "zarr" else "nc"
    return write_dataset(ds, store.root / f"{workflow.name}.{ext}", workflow.output)
