"""Workflow files and task lists: parsing and validation (no Dask; :mod:`pipeline.sweep` runs them).

A workflow TOML names a base design, a mesh level, a task kind and a grid::

    name = "gen5_design_sweep"
    design = "gen5_eesm"          # reference name or path (relative to the workflow file)
    level = "ci"                  # "ci" | "fine"
    compute = "mesh"              # a registered task kind: "mesh", "case", ...
    output = "netcdf"             # or "zarr" (if installed)

    [design_grid]                 # Cartesian product; or [[design_list]] tables
    "stator.stack_length_mm" = [160, 200]
    "rotor.field_turns" = [70, 80]

    [operating_points]            # optional Cartesian product passed to every task
    i_d_A = [0, -100]
    i_q_A = [200]
    positions = [12]

Everything is validated before any task starts: a malformed file raises a one-line
:class:`~pipeline.errors.WorkflowError`; a variant the design rejects (DesignError) becomes a
task carrying its reason (recorded as failed, never run). :func:`make_workflow` builds the
same object from code (flux maps).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geometries.settings import mesh_settings
from pipeline.design import load_design
from pipeline.errors import DesignError, WorkflowError, shorten
from pipeline.io.inputs import read_toml
from pipeline.io.store import task_hash
from pipeline.io.tables import UNIT_SCALE, canonical
from pipeline.mesh import mesh_key
from pipeline.tasks import TASKS, TaskKind, register_task, registered_kinds
from pipeline.version import __version__

__all__ = [
    "OPERATING_KEYS",
    "TaskKind",
    "TASKS",
    "register_task",
    "registered_kinds",
    "Task",
    "Workflow",
    "load_workflow",
    "make_workflow",
    "MAX_POSITIONS",
    "MAX_TASKS",
    "MAX_CPU_HOURS",
    "OVERLOAD_FACTOR",
    "estimate_cpu_hours",
    "check_cost",
    "check_overload",
]

#: operating-point keys a workflow may sweep, with their type (positions: whole number)
OPERATING_KEYS = {
    "i_d_A": float,
    "i_q_A": float,
    "i_f_A": float,
    "speed_rpm": float,
    "positions": int,
    "span_el_rad": float,
    "magnet_temperature_C": float,
}
#: rotor positions per task, at most: the ci and fine meshes have 144 sliding-interface
#: segments per electrical period (``MeshSettings.positions_multiple``); more positions than
#: that over one period repeat positions instead of resolving anything new.
MAX_POSITIONS = 144

#: CPU seconds per rotor position of one nonlinear solve, by mesh level. ci: 0.047 s (Prius)
#: and 0.057 s (gen5) measured on this machine (``run_case(d, -100, 200, positions=12)``,
#: process time / 12), rounded up to 0.1 s for the loss post-processing and task overhead;
#: fine: 0.58 s from the fine Prius map with losses (225 points x 12 positions in 6.5 min on
#: 2 workers, commit ba51f70).
SECONDS_PER_POSITION = {"ci": 0.1, "fine": 0.58}
#: CPU seconds of a task that builds no solution (mesh task: one gmsh build, ~2 s at ci)
SECONDS_PER_MESH_TASK = 5.0

#: task count above which a sweep needs ``--allow-large``: building the task list itself
#: (one validated design variant and one hash per task, ~1 ms each) then takes minutes, and
#: the result store holds one file per task.
MAX_TASKS = 100_000
#: estimated CPU hours above which a sweep needs ``--allow-large``: 24 CPU-h is half a day of
#: this 2-core workstation, or a day of one core; anything larger is a cluster job and should
#: be a deliberate choice.
MAX_CPU_HOURS = 24.0

#: operating-point current magnitude over the design's rated peak phase current above which
#: an explicit ``--allow-overload`` is needed: the map grid's corner (i_d = -I, i_q = I) is
#: sqrt(2) = 1.41 times the rating (pipeline.maps.flux.default_grid), 1.5 leaves a margin.
OVERLOAD_FACTOR = 1.5

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
    path: Path | None
    design_name: str
    design_hash: str
    level: str
    kind: TaskKind
    output: str
    dims: list[str]
    tasks: list[Task] = field(repr=False)


def _wf(key: str, value: object, rule: str) -> WorkflowError:
    return WorkflowError(f"{key} = {shorten(value)}: {rule}")


def read_workflow_table(path: Path, keys) -> dict:
    """The TOML table of a workflow or study file, its top-level keys checked against
    ``keys``; a bad file or an unknown key is a one-line WorkflowError."""
    try:
        table = read_toml(path, "workflow")
    except DesignError as exc:
        raise WorkflowError(str(exc)) from None
    for k in table:
        if k not in keys:
            raise _wf(k, table[k], f"unknown key; expected one of {sorted(keys)}")
    return table


def resolve_field(base, key: str) -> tuple[str, float, type]:
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
            value = getattr(obj, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise _wf(key, last, "only numeric design fields can be swept")
            return ".".join([*heads, f.name]), 1.0, type(value)
        if last.startswith(f"{f.name}_") and (unit or last[len(f.name) + 1 :] in UNIT_SCALE):
            rule = f"this field is written {f.name}_{unit}" if unit else "this field has no unit"
            raise _wf(key, last, f"wrong unit; {rule}")
    known = sorted(
        f"{f.name}_{f.metadata['unit']}" if f.metadata.get("unit") else f.name
        for f in dataclasses.fields(obj)
    )
    raise _wf(key, last, f"unknown design field; expected one of {known}")


def check_value(key: str, v: object, tp: type) -> None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _wf(key, v, "must be a number")
    if tp is int and not isinstance(v, int):
        raise _wf(key, v, "must be an integer")
    if not math.isfinite(v):
        raise _wf(key, v, "must be a finite number")


def _check_op(k: str, v: object) -> None:
    where = f"operating_points.{k}"
    if k not in OPERATING_KEYS:
        raise _wf(where, v, f"unknown key; expected one of {list(OPERATING_KEYS)}")
    check_value(where, v, OPERATING_KEYS[k])
    if k == "positions" and not 1 <= v <= MAX_POSITIONS:
        raise _wf(
            where, v, f"must be >= 1 and <= {MAX_POSITIONS} (interface segments per el. period)"
        )
    if k in ("i_f_A", "speed_rpm") and v < 0:
        raise _wf(where, v, "must be >= 0")
    if k == "span_el_rad" and not 0 < v <= 2 * math.pi:
        raise _wf(where, v, "rotor-position span must be in (0, 2 pi] rad el.")


def _grid(
    table: object, where: str, check: Callable[[str, object], None], limit: int | None = None
) -> list[dict]:
    if not isinstance(table, dict) or not table:
        raise _wf(where, table, "must be a non-empty table")
    axes = []
    for k, vals in table.items():
        vals = vals if isinstance(vals, list) else [vals]
        if not vals:
            raise _wf(f"{where}.{k}", vals, "empty grid")
        axes.append(vals)
    count = math.prod(len(a) for a in axes)
    if limit is not None and count > limit:  # counted before anything is built
        raise _wf(where, f"{count} points", f"more than {limit} tasks; confirm with --allow-large")
    for k, vals in zip(table, axes, strict=True):
        for v in vals:
            check(k, v)
    return [dict(zip(table, combo, strict=True)) for combo in itertools.product(*axes)]


def estimate_cpu_hours(n_tasks: int, positions: int, level: str, solves: bool = True) -> float:
    """Estimated CPU hours [h] of ``n_tasks`` tasks of ``positions`` rotor positions each."""
    per_task = positions * SECONDS_PER_POSITION[level] if solves else SECONDS_PER_MESH_TASK
    return n_tasks * per_task / 3600.0


def check_cost(
    n_tasks: int, positions: int, level: str, allow_large: bool, where: str, solves: bool = True
) -> float:
    """Refuse more than :data:`MAX_TASKS` tasks or :data:`MAX_CPU_HOURS` estimated CPU hours
    unless ``allow_large``; returns the estimate [h]."""
    hours = estimate_cpu_hours(n_tasks, positions, level, solves)
    if allow_large:
        return hours
    if n_tasks > MAX_TASKS:
        raise _wf(where, f"{n_tasks} tasks", f"more than {MAX_TASKS}; confirm with --allow-large")
    if hours > MAX_CPU_HOURS:
        raise _wf(
            where,
            f"{n_tasks} tasks x {positions} positions",
            f"about {hours:.3g} CPU hours at {level} (limit {MAX_CPU_HOURS:g}); "
            "confirm with --allow-large",
        )
    return hours


def check_overload(
    ratings, op: dict, allow_overload: bool, where: str, names=("i_d_A, i_q_A", "i_f_A")
) -> None:
    """Refuse |i_dq| > OVERLOAD_FACTOR x rated peak phase current (and i_f likewise) unless
    ``allow_overload``; ``op`` uses the keys i_d_A, i_q_A, i_f_A [A]; ``where`` + ``names``
    name the fields in the message."""
    if allow_overload:
        return
    i_dq = math.hypot(op.get("i_d_A", 0.0), op.get("i_q_A", 0.0))
    limit = OVERLOAD_FACTOR * ratings.max_phase_current
    if i_dq > limit:
        raise _wf(
            f"{where}{names[0]}",
            f"|i_dq| {i_dq:g} A",
            f"above {OVERLOAD_FACTOR:g} x the rated {ratings.max_phase_current:g} A; "
            "an overload study needs --allow-overload",
        )
    i_f = op.get("i_f_A", 0.0)
    limit_f = OVERLOAD_FACTOR * ratings.max_field_current
    if i_f and i_f > limit_f:
        raise _wf(
            f"{where}{names[1]}",
            i_f,
            f"above {OVERLOAD_FACTOR:g} x the rated {ratings.max_field_current:g} A; "
            "an overload study needs --allow-overload",
        )


def _tasks(base, variants, resolved, ops, level: str, kind: TaskKind) -> list[Task]:

    settings = canonical(mesh_settings(level, True))
    version = __version__
    tasks: list[Task] = []
    for labels in variants:
        changes = {
            resolved[k][0]: v * resolved[k][1] if resolved[k][2] is float else v
            for k, v in labels.items()
        }
        try:
            design, error = (base.with_changes(changes) if changes else base), None
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
    return tasks


def make_workflow(
    name: str,
    design,
    level: str,
    kind: str,
    operating_points: list[dict],
    dims: list[str] | None = None,
    output: str = "netcdf",
) -> Workflow:
    """A workflow of one design over a list of operating points, built from code.

    ``operating_points`` entries use the keys of :data:`OPERATING_KEYS` (checked here).
    """
    kinds = registered_kinds()
    if kind not in kinds:
        raise _wf("compute", kind, f"unknown task kind; known: {', '.join(sorted(kinds))}")
    if level not in ("ci", "fine"):
        raise _wf("level", level, "must be ci or fine")
    if not operating_points:
        raise _wf("operating_points", operating_points, "empty grid")
    for op in operating_points:
        for k, v in op.items():
            _check_op(k, v)
    tasks = _tasks(design, [{}], {}, operating_points, level, kinds[kind])
    dims = dims if dims is not None else sorted({k for op in operating_points for k in op})
    return Workflow(
        name, None, design.name, design.content_hash(), level, kinds[kind], output, dims, tasks
    )


def load_workflow(
    path: str | Path,
    kinds: dict[str, TaskKind] | None = None,
    *,
    allow_large: bool = False,
    allow_overload: bool = False,
) -> Workflow:
    """Read and fully validate a workflow file; every design variant is constructed here.

    Refused before any variant is built: more than :data:`MAX_TASKS` tasks or
    :data:`MAX_CPU_HOURS` estimated CPU hours (unless ``allow_large``), currents beyond
    :data:`OVERLOAD_FACTOR` times the design's ratings (unless ``allow_overload``).
    """

    kinds = registered_kinds() if kinds is None else kinds
    path = Path(path)
    table = read_workflow_table(path, TOP_KEYS)
    for k in ("name", "design", "compute"):
        if not isinstance(table.get(k), str) or not table.get(k):
            raise _wf(k, table.get(k), "is required (a string)")
    name = table["name"]
    if not name.replace("_", "").replace("-", "").isalnum() or len(name) > 100:
        # the name is a folder under results/: 100 characters stay within any file system
        raise _wf("name", name, "must be letters, digits, '-' and '_', at most 100")
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
        try:  # defer: the optional zarr back-end, only when asked for
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
            resolved[k] = resolve_field(base, k)
        check_value(k, v, resolved[k][2])

    limit = None if allow_large else MAX_TASKS
    if "design_grid" in table:
        variants = _grid(table["design_grid"], "design_grid", check_design, limit)
        dims = list(table["design_grid"])
    elif "design_list" in table:
        lst = table["design_list"]
        if not isinstance(lst, list) or not lst:
            raise _wf("design_list", lst, "must be a non-empty array of tables")
        if limit is not None and len(lst) > limit:
            raise _wf(
                "design_list",
                f"{len(lst)} entries",
                f"more than {limit} tasks; confirm with --allow-large",
            )
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

    ops = [{}]
    if "operating_points" in table:
        ops = _grid(table["operating_points"], "operating_points", _check_op, limit)
        dims = dims + list(table["operating_points"])
    for op in ops:
        check_overload(base.ratings, op, allow_overload, "operating_points.")
    positions = max((op.get("positions", 12) for op in ops), default=12)
    check_cost(
        len(variants) * len(ops),
        positions,
        level,
        allow_large,
        "workflow",
        solves=kind.name != "mesh",
    )
    if kind.name == "case" and not base.topology.HAS_FIELD_WINDING and any(op.get("i_f_A") for op in ops):
        raise _wf("operating_points.i_f_A", "> 0", f"{base.name} has no field winding")
    tasks = _tasks(base, variants, resolved, ops, level, kind)
    return Workflow(
        name, path.resolve(), base.name, base.content_hash(), level, kind, output, dims, tasks
    )
