"""A design study as one task graph on one Dask cluster.

1. Every feasible variant's flux-and-loss map points (``flux_loss_point`` tasks, the same
   tasks and content-hash keys as ``edrive map``, stored in ``results/maps/<design>-<level>/
   tasks``) are submitted together through one :func:`pipeline.sweep.run_sweep`: workers
   never wait for one variant's map to finish.
2. As the last point of a variant arrives, its post-processing (:func:`variant_post`: flux
   Dataset, efficiency stage with the drive unit and WLTC, S1 and 30 s torques at base
   speed from the thermal model, KPIs) is submitted to the same cluster while the other
   maps go on.
3. Each variant's record (inputs, status, reason, KPIs, paths) is stored under a hash of
   everything it depends on in ``results/<study>/tasks``; :mod:`pipeline.study.outputs`
   writes ``study.nc``, the ranked CSV and the pictures.

Rerunning reuses every stored map point and every stored variant record, so a study with
more samples solves only the new variants, and a killed worker or batch job loses only
its running tasks (the scheduler runs them again elsewhere; results are written on the
client, once each). Variants rejected by the design are recorded as ``infeasible`` with
the reason; a variant with a failed map point (e.g. Newton not converged) as ``failed``
with the first point's reason; the others complete.
"""

from __future__ import annotations

import dataclasses
import dataclasses as dc
import datetime
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from geometries.settings import mesh_settings
from pipeline.cluster import as_completed, close_quietly, open_client
from pipeline.io.store import ResultStore, netcdf_engine, task_hash, write_dataset
from pipeline.io.tables import canonical
from pipeline.maps.flux import assemble_flux_map, loss_sampling, map_operating_point
from pipeline.maps.model import MachineMap
from pipeline.mesh import get_mesh, mesh_key
from pipeline.reports.efficiency import run_efficiency_stage
from pipeline.study import kpis
from pipeline.study.outputs import write_study_outputs
from pipeline.study.spec import DEFAULT_NEWTON_TOLERANCE, SECONDS_PER_VARIANT_POST, StudySpec
from pipeline.sweep import run_sweep
from pipeline.thermal import envelope as ev
from pipeline.thermal.machine import MachineThermalModel
from pipeline.version import __version__
from pipeline.workflow import SECONDS_PER_POSITION, TASKS, Task, Workflow, registered_kinds

__all__ = ["StudySummary", "StudyProgress", "run_study", "variant_post", "variant_plan"]

log = logging.getLogger(__name__)

POINT_KIND = "flux_loss_point"


@dataclass
class VariantPlan:
    """A variant's map tasks (keys in the map store), its record key and what is known."""

    variant: object
    key: str  # record key in results/<study>/tasks
    grid: object = None
    points: list = field(default_factory=list)  # (i_d, i_q, i_f) [A]
    tasks: list = field(default_factory=list)  # pipeline.workflow.Task, one per point


@dataclass
class StudySummary:
    name: str
    variants: int
    done: int = 0
    failed: int = 0
    infeasible: int = 0
    reused_variants: int = 0
    computed_variants: int = 0
    map_points: int = 0
    map_points_computed: int = 0
    map_points_reused: int = 0
    map_points_failed: int = 0
    wall_time_s: float = 0.0
    dashboard: str | None = None
    interrupted: bool = False
    outputs: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)  # variant index -> reason

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _point_op(design, grid, point, span: float, tol: float) -> dict:

    op = {**map_operating_point(design, *point, grid.positions), "span_el_rad": span}
    if tol != DEFAULT_NEWTON_TOLERANCE:
        op["newton_tolerance"] = tol
    return op


def variant_plan(spec: StudySpec, variant) -> VariantPlan:
    """Map tasks and record key of one variant (no computation)."""


    version = __version__
    if variant.design is None:
        blob = {"base": canonical(spec.base), "changes": canonical(variant.labels)}
        key = task_hash(blob, {}, {}, "study_variant_rejected", version)
        return VariantPlan(variant, key)
    design = variant.design
    positions, span = loss_sampling(design)
    grid = spec.grid(design)
    if grid.positions is None:
        grid = dc.replace(grid, positions=positions)
    settings = mesh_settings(spec.level, True)
    dcanon, scanon = canonical(design), canonical(settings)
    mkey = mesh_key(design, settings)
    points = grid.solved_points()
    tasks = []
    for p in points:
        op = _point_op(design, grid, p, span, variant.newton_tolerance)
        tkey = task_hash(dcanon, scanon, canonical(op), POINT_KIND, version)
        labels = {**variant.labels, **op}
        tasks.append(Task(tkey, labels, op, design, None, mkey))
    fingerprint = {
        "grid": canonical(dc.asdict(grid)),
        "newton_tolerance": variant.newton_tolerance,
        **spec.fingerprint(),
    }
    key = task_hash(dcanon, scanon, fingerprint, "study_variant", version)
    return VariantPlan(variant, key, grid, points, tasks)


# --- per-variant post-processing (runs on a worker) ---------------------------------------
def _flux_attrs(design, level: str, grid) -> dict:
    return {
        "title": f"flux map of {design.name} ({level}), design study variant",
        "design": design.name,
        "design_kind": design.kind,
        "design_hash": design.content_hash(),
        "mesh_level": level,
        "package_version": __version__,
        "workflow": "pipeline.study",
        "positions": grid.positions,
        "max_phase_current_A": design.ratings.max_phase_current,
        "max_field_current_A": design.ratings.max_field_current,
        "pole_pairs": design.pole_pairs,
        "task_kind": POINT_KIND,
        "losses": "included (pipeline.maps.losses.point_losses)",
        "grid": str(dataclasses.asdict(grid)),
    }


def _kpi(value, units: str, long_name: str) -> list:
    value = float(value)
    return [value if math.isfinite(value) else math.nan, units, long_name]


def variant_post(design, level: str, grid, values: dict, options, rtol: float, out_dir) -> dict:
    """Flux Dataset, efficiency stage, S1 and 30 s torques at base speed, KPIs of one variant.

    values: {(i_d, i_q, i_f): point values} of every solved grid point; options:
    :class:`~pipeline.maps.efficiency.EfficiencyOptions`; rtol: bisection tolerance of the
    thermal torques [-]; out_dir: the variant's folder (flux.nc, efficiency.nc, pictures).
    Returns {"values": {name: [value, units, long_name]}, "envelope": {...}, "paths": {...}}.
    """

    t0, c0 = time.perf_counter(), time.process_time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = assemble_flux_map(design, level, grid, values, _flux_attrs(design, level, grid))
    flux_path = write_dataset(ds, out / "flux.nc")
    model = MachineMap(ds, design)
    eff = run_efficiency_stage(model, design, out, options)
    # defer: xarray loads only where datasets are read or written
    import xarray as xr


    with xr.open_dataset(eff["dataset"], engine=netcdf_engine()) as e:
        speed = e["speed"].values.tolist()
        t_env = e["torque_envelope"].isel(quadrant=0).values.tolist()
    r = design.ratings
    base_speed = r.peak_power / r.peak_torque  # [rad/s]: where the rated torque meets power
    losses_at, torque_max = ev.strategy_losses_at(model, options.strategy_options())
    thermal = MachineThermalModel(design, get_mesh(design, level=level, sector=True))
    t_em = float(torque_max(base_speed))
    s1 = ev.continuous_torque(thermal, losses_at, base_speed, t_em, rtol=rtol) if t_em > 0 else 0.0
    pk = ev.peak_torque(thermal, losses_at, base_speed, t_em, rtol=rtol) if t_em > 0 else 0.0
    masses = kpis.design_masses(design)
    t_peak = eff["max_torque_Nm"]
    k = {
        "peak_torque": _kpi(t_peak, "N m", "peak torque (motoring envelope maximum)"),
        "peak_power": _kpi(eff["max_power_kW"] * 1e3, "W", "peak mechanical power"),
        "power_at_max_speed": _kpi(eff["power_at_max_speed_kW"] * 1e3, "W", "power at max speed"),
        "wltc_energy": _kpi(
            eff["wltc_kWh_per_100km"] * 36.0,
            "J/m",
            "WLTC class 3b energy at the DC link per distance",
        ),
        "peak_motor_efficiency": _kpi(eff["peak_motor_efficiency"], "1", "peak motor efficiency"),
        "peak_drive_efficiency": _kpi(
            eff["peak_drive_efficiency"], "1", "peak drive-unit efficiency"
        ),
        "base_speed": _kpi(base_speed, "rad/s", "base speed: rated peak power / peak torque"),
        "em_torque_base_speed": _kpi(t_em, "N m", "electromagnetic torque limit at base speed"),
        "continuous_torque_base_speed": _kpi(
            s1, "N m", "S1 (thermal steady state) torque at base speed"
        ),
        "peak_30s_torque_base_speed": _kpi(
            pk, "N m", "30 s torque at base speed from coolant temperature"
        ),
        "airgap_shear_stress": _kpi(
            kpis.airgap_shear_stress(t_peak, design.rotor.outer_radius, design.stack_length),
            "Pa",
            "peak airgap shear stress T / (2 pi r^2 L)",
        ),
        "material_cost": _kpi(
            kpis.material_cost(masses), "USD", "active material cost (raw material prices)"
        ),
    }
    for name in (
        "stator_core",
        "rotor_core",
        "stator_copper",
        "field_copper",
        "magnets",
        "shaft",
        "active",
    ):
        k[f"mass_{name}"] = _kpi(masses[name], "kg", f"mass of {name.replace('_', ' ')}")
    if design.topology.HAS_FIELD_WINDING:
        k["field_current_density"] = _kpi(
            kpis.current_density(r.max_field_current, design.rotor.field_conductor_area),
            "A/m2",
            "field current density at the rated field current",
        )
    k["post_cpu_time"] = _kpi(time.process_time() - c0, "s", "CPU time of the post-processing")
    k["post_wall_time"] = _kpi(time.perf_counter() - t0, "s", "wall time of the post-processing")
    return {
        "values": k,
        "envelope": {"speed": speed, "torque": t_env},
        "paths": {"flux": str(flux_path), "efficiency": eff["dataset"], "folder": str(out)},
    }


# --- progress ---------------------------------------------------------------------------
class StudyProgress:
    """One line on stderr: variants done / running / failed, map points done of the total,
    ETA, and the dashboard address (once)."""

    def __init__(self, quiet: bool = False, stream=None):
        self.quiet, self.stream = quiet, stream or sys.stderr
        self.t0, self.last, self.shown = time.perf_counter(), 0.0, False
        self.lines: list[str] = []  # every line shown (tests)

    def __call__(self, state: dict, force: bool = False) -> None:
        now = time.perf_counter()
        if state.get("dashboard") and not self.shown:
            self.shown = True
            if not self.quiet:
                print(f"[study] dashboard: {state['dashboard']}", file=self.stream)
        if not force and now - self.last < 0.5:
            return
        self.last = now
        w = state["post_weight"]
        total = state["points_total"] + w * state["variants_to_post"]
        done = state["points_done"] + w * state["posts_done"]
        el = now - self.t0
        eta = f"{el * (total - done) / done:.0f} s" if done > 0 and total > done else "?"
        if total and done >= total:
            eta = "0 s"
        line = (
            f"[study] variants {state['done']} done / {state['running']} running / "
            f"{state['failed']} failed of {state['variants']}; map points "
            f"{state['points_done']}/{state['points_total']}; ETA {eta}"
        )
        self.lines.append(line)
        if not self.quiet:
            print(f"\r{line}   ", end="", file=self.stream, flush=True)


# --- orchestration ----------------------------------------------------------------------
def _record(plan: VariantPlan, outcome: str, **extra) -> dict:
    """The stored record of a variant: ``status`` ok | failed (the result store's), ``outcome``
    ok | failed | infeasible, the KPIs under ``values`` ({name: [value, units, long_name]})."""
    v = plan.variant
    return {
        "hash": plan.key,
        "kind": "study_variant",
        "status": "ok" if outcome == "ok" else "failed",
        "outcome": outcome,
        "index": v.index,
        "labels": v.labels,
        "origin": v.origin,
        "newton_tolerance": v.newton_tolerance,
        "design_hash": v.design.content_hash() if v.design is not None else None,
        "map_tasks": [t.key for t in plan.tasks],
        "version": __version__,
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        **extra,
    }


class _Run:
    """State of one study run on the client (progress counts, pending post futures)."""

    def __init__(self, spec, plans, store, map_store, out_root, client, summary, progress):
        self.spec, self.plans, self.store, self.map_store = spec, plans, store, map_store
        self.out_root, self.client, self.s, self.progress = out_root, client, summary, progress
        self.options = spec.efficiency_options()
        self.remaining: dict[int, int] = {}
        self.by_task: dict[str, list[int]] = {}
        self.post: dict = {}  # future -> plan index
        self.started: set[int] = set()
        self.finished: set[int] = set()
        self.points_done = 0
        self.points_total = 0
        self.to_post = 0
        self.posts_done = 0
        g = plans[0].grid if plans and plans[0].grid is not None else None
        positions = g.positions if g is not None else 12

        self.post_weight = SECONDS_PER_VARIANT_POST / (positions * SECONDS_PER_POSITION[spec.level])

    def state(self) -> dict:
        s = self.s
        running = len(self.started - self.finished)
        return {
            "variants": s.variants,
            "done": s.done,
            "failed": s.failed + s.infeasible,
            "running": max(running, 0),
            "points_done": self.points_done,
            "points_total": self.points_total,
            "variants_to_post": self.to_post,
            "posts_done": self.posts_done,
            "post_weight": self.post_weight,
            "dashboard": s.dashboard,
        }

    def show(self, force: bool = False) -> None:
        if self.progress is not None:
            self.progress(self.state(), force)

    def fail(self, i: int, reason: str, status: str = "failed") -> None:
        plan = self.plans[i]
        self.finished.add(i)
        self.store.write(plan.key, _record(plan, status, reason=reason))
        self.s.reasons[plan.variant.index] = reason
        if status == "infeasible":
            self.s.infeasible += 1
        else:
            self.s.failed += 1

    def variant_ready(self, i: int) -> None:
        """All map points of plan i are stored: submit its post-processing, or record why not."""
        plan = self.plans[i]
        recs = [self.map_store.load(t.key) for t in plan.tasks]
        bad = [r for r in recs if not r or r["status"] != "ok"]
        if bad:
            reason = bad[0].get("reason", "map point missing") if bad[0] else "map point missing"
            self.fail(i, f"map point failed: {reason}")
            self.show()
            return
        values = {p: r["values"] for p, r in zip(plan.points, recs, strict=True)}
        cpu = sum(r.get("cpu_s", 0.0) for r in recs)
        out_dir = self.out_root / "variants" / plan.key[:16]
        fut = self.client.submit(
            variant_post,
            plan.variant.design,
            self.spec.level,
            plan.grid,
            values,
            self.options,
            self.spec.thermal_rtol,
            str(out_dir),
            pure=False,
            priority=1,  # before queued map points: a finished variant is reported early
            key=f"study-post-{plan.key[:16]}-{os.urandom(4).hex()}",
        )
        self.post[fut] = (i, cpu)
        self.started.add(i)

    def on_point(self, record: dict, _sweep_summary) -> None:
        self.points_done += 1
        for i in self.by_task.get(record["hash"], []):
            self.started.add(i)
            self.remaining[i] -= 1
            if self.remaining[i] == 0:
                self.variant_ready(i)
        self.show()

    def collect_posts(self) -> None:
        for fut in as_completed(list(self.post)):
            i, map_cpu = self.post.pop(fut)
            plan = self.plans[i]
            self.posts_done += 1
            if fut.status == "finished":
                out = fut.result()
                out["values"]["map_cpu_time"] = _kpi(map_cpu, "s", "CPU time of the map points")
                self.store.write(plan.key, _record(plan, "ok", **out))
                self.finished.add(i)
                self.s.done += 1
                self.s.computed_variants += 1
            else:
                exc = fut.exception()
                self.fail(i, f"post-processing failed: {type(exc).__name__}: {exc}".splitlines()[0])
            fut.release()
            self.show()


def run_study(
    spec: StudySpec,
    results_root: str | Path,
    *,
    client=None,
    scheduler: str | None = None,
    cluster_file: str | Path | None = None,
    resume: bool = True,
    retry_failed: bool = False,
    progress=None,
    write_outputs: bool = True,
) -> StudySummary:
    """Run (or resume) ``spec`` (module docstring); returns a :class:`StudySummary`.

    Where: ``client``, else ``Client(scheduler)``, else a dask-jobqueue cluster from
    ``cluster_file``, else :func:`pipeline.cluster.local_cluster`. ``resume=False``
    recomputes everything (map points and variants); ``retry_failed`` re-runs map points
    stored as failed (and so the variants they failed). ``progress(state, force)``: e.g.
    :class:`StudyProgress`.
    """

    registered_kinds()

    t0 = time.perf_counter()
    root = Path(results_root)
    out_root = root / spec.name
    store = ResultStore(out_root)
    map_name = f"{spec.base.name}-{spec.level}"
    map_store = ResultStore(root / "maps" / map_name)
    plans = [variant_plan(spec, v) for v in spec.variants]
    s = StudySummary(spec.name, len(plans))
    run = _Run(spec, plans, store, map_store, out_root, None, s, progress)
    todo: list[int] = []
    for i, plan in enumerate(plans):
        old = store.load(plan.key) if resume else None
        outcome = old.get("outcome") if old is not None else None
        if outcome in ("ok", "infeasible"):
            s.reused_variants += 1
            s.done += outcome == "ok"
            s.infeasible += outcome == "infeasible"
            if outcome != "ok":
                s.reasons[plan.variant.index] = old.get("reason", "")
            continue
        if plan.variant.design is None:
            run.fail(i, plan.variant.error, "infeasible")
            continue
        todo.append(i)
    tasks: dict = {}
    for i in todo:
        run.remaining[i] = len(plans[i].tasks)
        for t in plans[i].tasks:
            tasks.setdefault(t.key, t)
            run.by_task.setdefault(t.key, []).append(i)
    run.points_total = len(tasks)
    run.to_post = len(todo)
    s.map_points = len(tasks)
    own: list = []
    try:
        if todo:
            run.client, own = open_client(client, scheduler, cluster_file)
            s.dashboard = getattr(run.client, "dashboard_link", None)
            stored = set()
            for k in tasks if resume else ():
                r = map_store.load(k)
                if r is not None and (r["status"] == "ok" or not retry_failed):
                    stored.add(k)
            run.points_done = len(stored)
            for i in todo:  # variants whose points are all stored already
                run.remaining[i] -= sum(t.key in stored for t in plans[i].tasks)
                if run.remaining[i] == 0:
                    run.variant_ready(i)
            run.show(force=True)
            wf = Workflow(
                map_name,
                spec.path,
                spec.base.name,
                spec.base.content_hash(),
                spec.level,
                TASKS[POINT_KIND],
                "netcdf",
                ["i_d_A", "i_q_A", "i_f_A"],
                list(tasks.values()),
            )
            sw = run_sweep(
                wf,
                root / "maps",
                client=run.client,
                resume=resume,
                retry_failed=retry_failed,
                on_result=run.on_point,
                gather_dataset=False,
            )
            s.map_points_computed = sw.done + sw.failed
            s.map_points_reused = sw.skipped
            s.map_points_failed = sum(
                1 for k in tasks if (r := map_store.load(k)) is not None and r["status"] != "ok"
            )
            if sw.interrupted:
                raise KeyboardInterrupt
            run.collect_posts()
    except KeyboardInterrupt:
        s.interrupted = True
    finally:
        if run.client is not None and run.post:
            run.client.cancel(list(run.post))
        close_quietly(own, log)
    run.show(force=True)
    s.wall_time_s = time.perf_counter() - t0
    if write_outputs and not s.interrupted:

        records = [store.load(p.key) for p in plans]
        s.outputs = write_study_outputs(spec, records, out_root, s)
        s.wall_time_s = time.perf_counter() - t0  # with the outputs
    return s
