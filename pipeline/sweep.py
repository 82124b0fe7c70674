"""Design and operating-point sweeps on Dask: the only module that imports dask/distributed.

A workflow TOML names a base design, a mesh level, a task kind and a grid::

    name = "gen5_design_sweep"
    design = "gen5_eesm"          # reference name or path (relative to the workflow file)
    level = "ci"                  # "ci" | "fine"
    compute = "mesh"              # a registered task kind (see TASKS)
    output = "netcdf"             # or "zarr" (if installed)

    [design_grid]                 # Cartesian product; or [[design_list]] tables
    "stator.stack_length_mm" = [160, 200]
    "rotor.field_turns" = [70, 80]

    [operating_points]            # optional Cartesian product passed to every task
    i_d_A = [0, -100]
    i_q_A = [200]

Everything is validated before any task starts. A variant the design rejects (DesignError)
is recorded as a failed task with its reason; a malformed file raises WorkflowError.

One task per (design variant, operating point); each distinct mesh is built once by a
mesh task that the tasks of that mesh depend on. Results are written on the client as each
future completes (:mod:`pipeline.io.store`), so a lost worker cannot lose a written result
and an interrupted sweep resumes without recomputing finished tasks. Meshes go to the
shared cache (``$EDRIVE_MESH_DIR``), which must be on a shared file system on a cluster.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import itertools
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pipeline
from pipeline.errors import DesignError, WorkflowError
from pipeline.io.store import ResultStore, records_to_dataset, task_hash, write_dataset
from pipeline.io.tables import UNIT_SCALE, canonical

__all__ = [
    "TaskKind",
    "TASKS",
    "register_task",
    "Task",
    "Workflow",
    "load_workflow",
    "WORKER_ENV",
    "local_cluster",
    "jobqueue_cluster",
    "run_sweep",
    "SweepSummary",
    "add_sweep_arguments",
    "cmd_sweep",
]

log = logging.getLogger(__name__)

#: environment for worker processes (see DESIGN.md: without the mmap threshold two workers
#: gave no speed-up; BLAS threads pinned to one per single-threaded worker)
WORKER_ENV = {
    "MALLOC_TRIM_THRESHOLD_": "67108864",
    "MALLOC_MMAP_THRESHOLD_": "67108864",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

OPERATING_KEYS = ("i_d_A", "i_q_A", "i_f_A", "speed_rpm")
TOP_KEYS = {
    "name",
    "design",
    "level",
    "compute",
    "design_grid",
    "design_list",
    "operating_points",
    "output",
    "description",
}


# --- task registry ---------------------------------------------------------------------
@dataclass(frozen=True)
class TaskKind:
    """A task kind: ``function(design, level, operating_point) -> {name: [value, units, long_name]}``.

    ``needs_mesh``: the sweep builds the design's mesh (once per distinct mesh) before the
    task runs; the task then gets it from the cache with ``get_mesh(design, level)``.
    """

    name: str
    function: Callable[[Any, str, dict], dict]
    needs_mesh: bool = True


TASKS: dict[str, TaskKind] = {}


def register_task(name: str, needs_mesh: bool = True) -> Callable:
    """Decorator registering a task kind under ``name`` (one function per kind)."""

    def deco(fn: Callable) -> Callable:
        TASKS[name] = TaskKind(name, fn, needs_mesh)
        return fn

    return deco


@register_task("mesh")
def mesh_task(design, level: str, operating_point: dict) -> dict:
    """Mesh of one design: node/element counts, area per region kind [m^2], worst relative
    area error against :func:`geometries.areas.analytic_areas` [-]."""
    from geometries.areas import analytic_areas, mesh_area_by_kind
    from pipeline.mesh import get_mesh

    mm = get_mesh(design, level=level, sector=True)
    by_kind = mesh_area_by_kind(mm.areas())
    exact = analytic_areas(design, mm.n_sectors)
    # "copper" is a derived figure, not a mesh region: compare the kinds the mesh has
    errors = {k: abs(by_kind[k] - v) / v for k, v in exact.items() if v > 0 and k in by_kind}
    worst = max(errors, key=errors.get)
    out: dict[str, list] = {
        "n_nodes": [int(mm.mesh.p.shape[1]), "1", "number of mesh nodes"],
        "n_elements": [int(mm.mesh.t.shape[1]), "1", "number of triangles"],
        "n_sectors": [mm.n_sectors, "1", "sectors in the full machine"],
        "area_error_max": [errors[worst], "1", f"worst relative area error vs analytic ({worst})"],
    }
    for kind, a in sorted(by_kind.items()):
        out[f"area_{kind}"] = [a, "m2", f"mesh area of {kind} in one sector"]
    return out


def _build_mesh(design, level: str) -> str:
    from pipeline.mesh import get_mesh

    return get_mesh(design, level=level, sector=True).key


def _run_task(fn: Callable, design, level: str, op: dict, _mesh_key: str | None = None) -> dict:
    t0 = time.perf_counter()
    values = fn(design, level, op)
    return {"values": values, "elapsed_s": time.perf_counter() - t0, "pid": os.getpid()}


# --- workflow --------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """One (design variant, operating point); ``design`` is None when the variant was rejected."""

    key: str
    labels: dict
    operating_point: dict
    design: Any
    error: str | None = None
    mesh_key: str | None = None


@dataclass(frozen=True)
class Workflow:
    name: str
    path: Path
    design_name: str
    design_hash: str
    level: str
    kind: TaskKind
    output: str
    dims: list[str]
    tasks: list[Task] = field(repr=False)


def _wf(key: str, value: object, rule: str) -> WorkflowError:
    return WorkflowError(f"{key} = {value!r}: {rule}")


def _resolve_field(base, key: str) -> tuple[str, float, type]:
    """``"stator.stack_length_mm"`` -> (SI path, scale, field type); WorkflowError if unknown."""
    *heads, last = key.split(".")
    obj = base
    for h in heads:
        names = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
        if h not in names or not dataclasses.is_dataclass(getattr(obj, h)):
            raise _wf(key, h, "unknown design table")
        obj = getattr(obj, h)
    for f in dataclasses.fields(obj):
        unit = f.metadata.get("unit")
        if unit and last == f"{f.name}_{unit}":
            return ".".join([*heads, f.name]), UNIT_SCALE[unit], float
        if not unit and last == f.name:
            if not isinstance(getattr(obj, f.name), (int, float)) or isinstance(
                getattr(obj, f.name), bool
            ):
                raise _wf(key, last, "only numeric design fields can be swept")
            return ".".join([*heads, f.name]), 1.0, type(getattr(obj, f.name))
        if last.startswith(f"{f.name}_") and (unit or last[len(f.name) + 1 :] in UNIT_SCALE):
            raise _wf(
                key,
                last,
                f"wrong unit; this field is written {f.name}_{unit}"
                if unit
                else "this field has no unit",
            )
    known = sorted(
        f"{f.name}_{f.metadata['unit']}" if f.metadata.get("unit") else f.name
        for f in dataclasses.fields(obj)
    )
    raise _wf(key, last, f"unknown design field; expected one of {known}")


def _check_value(key: str, v: object, tp: type) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _wf(key, v, "must be a number")
    if tp is int and not isinstance(v, int):
        raise _wf(key, v, "must be an integer")


def _grid(table: object, where: str, check: Callable[[str, object], None]) -> list[dict]:
    if not isinstance(table, dict) or not table:
        raise _wf(where, table, "must be a non-empty table")
    axes = []
    for k, vals in table.items():
        vals = vals if isinstance(vals, list) else [vals]
        if not vals:
            raise _wf(f"{where}.{k}", vals, "empty grid")
        for v in vals:
            check(k, v)
        axes.append([(k, v) for v in vals])
    return [dict(combo) for combo in itertools.product(*axes)]


def load_workflow(path: str | Path, kinds: dict[str, TaskKind] | None = None) -> Workflow:
    """Read and fully validate a workflow file; every design variant is constructed here."""
    from geometries.settings import mesh_settings
    from pipeline.design import load_design
    from pipeline.io.toml import read_toml
    from pipeline.mesh import mesh_key

    kinds = TASKS if kinds is None else kinds
    path = Path(path)
    if not path.exists():
        raise _wf("workflow", str(path), "file does not exist")
    try:
        table = read_toml(path)
    except DesignError as exc:
        raise WorkflowError(str(exc)) from None
    for k in table:
        if k not in TOP_KEYS:
            raise _wf(k, table[k], f"unknown key; expected one of {sorted(TOP_KEYS)}")
    for k in ("name", "design", "compute"):
        if not isinstance(table.get(k), str) or not table.get(k):
            raise _wf(k, table.get(k), "is required (a string)")
    name = table["name"]
    if not name.replace("_", "").replace("-", "").isalnum():
        raise _wf("name", name, "must be letters, digits, '-' and '_'")
    level = table.get("level", "ci")
    if level not in ("ci", "fine"):
        raise _wf("level", level, "must be ci or fine")
    if table["compute"] not in kinds:
        raise _wf(
            "compute", table["compute"], f"unknown task kind; known: {', '.join(sorted(kinds))}"
        )
    kind = kinds[table["compute"]]
    output = table.get("output", "netcdf")
    if output not in ("netcdf", "zarr"):
        raise _wf("output", output, "must be netcdf or zarr")
    if output == "zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise _wf("output", output, "zarr is not installed; use netcdf") from None
    dref = table["design"]
    if dref.endswith(".toml") and not Path(dref).is_absolute():
        dref = str(path.parent / dref)
    try:
        base = load_design(dref)
    except DesignError as exc:
        raise WorkflowError(f"design: {exc}") from None

    if "design_grid" in table and "design_list" in table:
        raise _wf("design_grid", "...", "give either [design_grid] or [[design_list]], not both")
    resolved: dict[str, tuple[str, float, type]] = {}

    def check_design(k: str, v: object) -> None:
        if k not in resolved:
            resolved[k] = _resolve_field(base, k)
        _check_value(k, v, resolved[k][2])

    if "design_grid" in table:
        variants = _grid(table["design_grid"], "design_grid", check_design)
        dims = list(table["design_grid"])
    elif "design_list" in table:
        lst = table["design_list"]
        if not isinstance(lst, list) or not lst:
            raise _wf("design_list", lst, "must be a non-empty array of tables")
        variants = []
        for i, entry in enumerate(lst):
            if not isinstance(entry, dict) or not entry:
                raise _wf(f"design_list[{i}]", entry, "must be a non-empty table")
            for k, v in entry.items():
                check_design(k, v)
            variants.append(dict(entry))
        dims = sorted({k for e in variants for k in e})
    else:
        variants, dims = [{}], []

    def check_op(k: str, v: object) -> None:
        if k not in OPERATING_KEYS:
            raise _wf(
                f"operating_points.{k}", v, f"unknown key; expected one of {list(OPERATING_KEYS)}"
            )
        _check_value(f"operating_points.{k}", v, float)

    ops = [{}]
    if "operating_points" in table:
        ops = _grid(table["operating_points"], "operating_points", check_op)
        dims = dims + list(table["operating_points"])

    settings = canonical(mesh_settings(level, True))
    version = pipeline.__version__
    tasks: list[Task] = []
    for labels in variants:
        changes = {
            resolved[k][0]: v * resolved[k][1] if resolved[k][2] is float else v
            for k, v in labels.items()
        }
        try:
            design, error = base.with_changes(changes), None
            dcanon = canonical(design)
            mkey = mesh_key(design, mesh_settings(level, True)) if kind.needs_mesh else None
        except DesignError as exc:
            design, error, mkey = None, f"DesignError: {exc}", None
            dcanon = {"base": canonical(base), "changes": canonical(labels), "rejected": True}
        for op in ops:
            key = task_hash(dcanon, settings, canonical(op), kind.name, version)
            tasks.append(Task(key, {**labels, **op}, op, design, error, mkey))
    if len({t.key for t in tasks}) != len(tasks):
        raise _wf("design_grid", "...", "two grid points give the same design and operating point")
    return Workflow(
        name, path.resolve(), base.name, base.content_hash(), level, kind, output, dims, tasks
    )


# --- where it runs ---------------------------------------------------------------------
def _dask_config():
    import dask

    return dask.config.set(
        {
            "distributed.nanny.pre-spawn-environ": dict(WORKER_ENV),
            "distributed.scheduler.allowed-failures": 3,
        }
    )


def local_cluster(
    n_workers: int | None = None, memory_limit: str | float = "auto", dashboard: bool = True
):
    """A ``LocalCluster`` of single-threaded worker processes with :data:`WORKER_ENV`."""
    from distributed import LocalCluster

    with _dask_config():
        return LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            host="127.0.0.1",
            dashboard_address=":0" if dashboard else None,
            env=dict(WORKER_ENV),
        )


def jobqueue_cluster(path: str | Path, **overrides):
    """A dask-jobqueue SLURMCluster/PBSCluster from a YAML file (see workflows/cluster/).

    Keys: ``kind`` (slurm|pbs), ``cores``, ``memory``, ``walltime``, ``queue``, optional
    ``processes``, ``account``, ``job_extra_directives``, ``interface``, and either
    ``n_workers`` (fixed number of jobs) or ``adapt: {minimum, maximum}``.
    """
    import yaml

    spec = dict(yaml.safe_load(Path(path).read_text()) or {})
    spec.update(overrides)
    kind = spec.pop("kind", None)
    if kind == "slurm":
        from dask_jobqueue import SLURMCluster as Cluster
    elif kind == "pbs":
        from dask_jobqueue import PBSCluster as Cluster
    else:
        raise _wf("kind", kind, f"{path}: must be slurm or pbs")
    n_workers = spec.pop("n_workers", None)
    adapt = spec.pop("adapt", None)
    for k in ("cores", "memory", "walltime"):
        if k not in spec:
            raise _wf(k, None, f"{path}: is required")
    prologue = [f"export {k}={v}" for k, v in WORKER_ENV.items()]
    spec["job_script_prologue"] = prologue + list(spec.get("job_script_prologue", []))
    with _dask_config():
        cluster = Cluster(**spec)
    if adapt:
        cluster.adapt(minimum=adapt.get("minimum", 0), maximum=adapt.get("maximum", 1))
    elif n_workers:
        cluster.scale(jobs=n_workers)
    return cluster


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
        "version": pipeline.__version__,
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
) -> SweepSummary:
    """Run (or resume) ``workflow``; write each result as it arrives; gather a Dataset.

    Where: ``client`` if given, else ``Client(scheduler)``, else a jobqueue cluster from
    ``cluster_file``, else :func:`local_cluster`. ``on_result(record, summary)`` is called
    after each record is written (progress display, tests); a KeyboardInterrupt from it or
    from Ctrl-C stops the sweep with everything written kept (``summary.interrupted``).
    """
    from distributed import Client, as_completed

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
            if client is None:
                if scheduler:
                    client = Client(scheduler)
                else:
                    cluster = jobqueue_cluster(cluster_file) if cluster_file else local_cluster()
                    own.append(cluster)
                    client = Client(cluster)
                own.insert(0, client)
            summary.dashboard = getattr(client, "dashboard_link", None)
            _submit_and_collect(client, as_completed, workflow, todo, store, summary, on_result)
    except KeyboardInterrupt:
        summary.interrupted = True
        log.warning("interrupted: %d done, results so far are kept", summary.done)
    finally:
        for obj in own:
            try:
                obj.close()
            except Exception:  # noqa: BLE001 - closing must not hide the sweep's outcome
                log.debug("closing %s failed", obj, exc_info=True)
    if not summary.interrupted:
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
        "workflow_file": str(workflow.path),
        "package_version": pipeline.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    ds = records_to_dataset(records, workflow.dims, attrs)
    ext = "zarr" if workflow.output == "zarr" else "nc"
    return write_dataset(ds, store.root / f"{workflow.name}.{ext}", workflow.output)


# --- command line ----------------------------------------------------------------------
class _Progress:
    def __init__(self, total: int, quiet: bool):
        self.total, self.quiet, self.t0, self.last = total, quiet, time.perf_counter(), 0.0
        self.shown = False

    def __call__(self, record: dict, s: SweepSummary) -> None:
        now = time.perf_counter()
        n = s.done + s.failed + s.skipped
        if self.quiet:
            return
        if s.dashboard and not self.shown:
            self.shown = True
            print(f"[sweep] dashboard: {s.dashboard}", file=sys.stderr)
        if now - self.last < 0.5 and n < self.total:
            return
        self.last = now
        ran = s.done + s.failed
        rate = ran / (now - self.t0) if ran else 0.0
        left = self.total - n
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        print(
            f"\r[sweep] {n}/{self.total} done, {s.failed} failed, ETA {eta}   ",
            end="",
            file=sys.stderr,
            flush=True,
        )


def add_sweep_arguments(parser) -> None:
    """Arguments of ``edrive sweep``."""
    parser.add_argument("workflow", help="workflow TOML file")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDR", help="existing Dask scheduler, e.g. tcp://host:8786"
    )
    where.add_argument(
        "--cluster", metavar="FILE", help="dask-jobqueue YAML (workflows/cluster/*.yaml)"
    )
    parser.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="skip tasks already stored (default on)",
    )
    parser.add_argument("--retry-failed", action="store_true", help="re-run tasks stored as failed")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--json", action="store_true", help="machine-readable summary on stdout")


def cmd_sweep(args) -> int:
    """Run a sweep; exit 0 if every task succeeded, 1 if any failed, 2 on bad input, 130 if interrupted."""
    from pipeline.cli import results_dir

    try:
        wf = load_workflow(args.workflow)
    except (WorkflowError, DesignError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    quiet = getattr(args, "quiet", False)
    progress = _Progress(len(wf.tasks), quiet)
    if not quiet:
        print(f"[sweep] {wf.name}: {len(wf.tasks)} tasks of kind {wf.kind.name}", file=sys.stderr)
    try:
        s = run_sweep(
            wf,
            results_dir(),
            scheduler=args.scheduler,
            cluster_file=args.cluster,
            resume=args.resume,
            retry_failed=getattr(args, "retry_failed", False),
            on_result=progress,
        )
    except (WorkflowError, DesignError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not quiet:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(s.as_dict(), indent=1, sort_keys=True))
    else:
        print(
            f"{wf.name}: {s.done} done, {s.failed} failed, {s.skipped} skipped of {s.total} in {s.elapsed_s:.1f} s"
        )
        for key, reason in s.reasons.items():
            print(f"  failed {key[:12]}: {reason}")
        print(f"results: {s.dataset_path or (results_dir() / wf.name / 'tasks')}")
    if s.interrupted:
        return 130
    return 1 if s.failed or any(s.reasons) else 0
