"""Flux maps: psi_d, psi_q, psi_f, torque (and per-point losses) over the current space.

A grid over (i_d, i_q) for PM designs and (i_d, i_q, i_f) for EESMs; every grid point is one
coarse task (:func:`flux_point_task`) that solves :func:`pipeline.em.machine.run_case` over
``positions`` rotor positions spanning pi/3 el. (the period of the 6k torque harmonics), fanned
out by :mod:`pipeline.sweep` and cached per point under a content hash in the result store
(``results/maps/<design>-<level>/tasks/``), so a rerun reuses every finished point.

Ranges come from the design ratings: |i| up to ``max_phase_current`` I (i_d from -I to a small
positive margin, default 0.1 I), i_f from 0 to ``max_field_current``.

**i_q sign symmetry.** A machine whose rotor pole and stator (slots and winding) are
mirror-symmetric about the d-axis (all three reference designs: no skew, symmetric poles)
maps onto itself under the reflection theta -> -theta, which turns (i_d, i_q) into
(i_d, -i_q); hence psi_d, psi_f, ripple and losses are even in i_q, while psi_q and torque
are odd (:data:`ODD_IN_IQ`). By default only i_q >= 0 is solved and the i_q < 0 half is
filled by this rule (variable ``solved`` tells which nodes were solved);
``tests/test_maps_flux.py`` checks the rule against direct solves at +/- i_q.

**Magnet temperature.** Every point of a PM map is solved at a stated magnet temperature
(``magnet_temperature_C`` in its operating point, hence in its cache key); one temperature
gives a scalar coordinate ``magnet_temperature`` [K], several an axis of that name
(:mod:`pipeline.maps.magnets`; default :data:`~pipeline.maps.magnets.DEFAULT_MAGNET_TEMPERATURE`).

Accuracy: :func:`held_out_check` solves points between grid nodes directly and compares them
with the (cubic) interpolation of the map.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pipeline.constants import ZERO_CELSIUS
from pipeline.em.machine import run_case
from pipeline.em.sixfold import sixfold_applies
from pipeline.errors import DesignError
from pipeline.io.paths import results_dir
from pipeline.io.store import ResultStore
from pipeline.maps.grid import (
    FluxGrid,
    default_grid,
    grid_from_table,
    held_out_points,
    refine_grid,
)
from pipeline.maps.losses import point_losses
from pipeline.maps.magnets import magnet_temperatures
from pipeline.sweep import run_sweep
from pipeline.tasks import DEFAULT_POSITIONS, case_kwargs, case_values
from pipeline.version import __version__
from pipeline.workflow import make_workflow, register_task

__all__ = [
    "ODD_IN_IQ",
    "FluxGrid",
    "default_grid",
    "grid_from_table",
    "flux_point_task",
    "FluxMap",
    "compute_flux_map",
    "interpolate",
    "refine_grid",
    "held_out_points",
    "held_out_check",
]

log = logging.getLogger(__name__)

#: variables that change sign with i_q (see the module docstring); all others are even
ODD_IN_IQ = ("torque", "torque_dq", "psi_q", "v_d")
#: rotor positions and span [rad el.] per point: flux only (mean torque converged to < 0.02 %
#: at 12 over pi/3, see pipeline.tasks.DEFAULT_POSITIONS) and with losses where the sixth-
#: period symmetry does not apply (pipeline.maps.losses then needs a half period; 36
#: positions resolve the rotor slot harmonics of all reference designs, see its docstring)
FLUX_POSITIONS, FLUX_SPAN_EL = DEFAULT_POSITIONS, math.pi / 3
LOSS_POSITIONS, LOSS_SPAN_EL = 36, math.pi


def loss_sampling(design) -> tuple[int, float]:
    """Rotor positions and span [rad el.] of a map point with losses.

    Integral-slot designs (all reference designs) need only the flux map's sixth of a
    period: the stator's fields over the whole period follow by rotation and the rotor's
    repeat (:mod:`pipeline.em.sixfold`); 12 positions over pi/3 give the same 72 samples
    per period as 36 over pi, with a third of the solves. Others solve half a period.
    """

    if sixfold_applies(design):
        return FLUX_POSITIONS, FLUX_SPAN_EL
    return LOSS_POSITIONS, LOSS_SPAN_EL


# --- the per-point task ------------------------------------------------------------------------
def _flux_point(design, level: str, operating_point: dict, with_losses: bool) -> dict:

    kw = case_kwargs(operating_point)  # span_el: the op's span_el_rad, default pi/3
    if "newton_tolerance" in operating_point:  # a study variant's solver setting (pipeline.study)
        kw["tol"] = float(operating_point["newton_tolerance"])
    if design.topology.HAS_MAGNETS and "magnet_temperature_C" not in operating_point:
        raise DesignError(
            "operating point", operating_point, "a PM map point needs magnet_temperature_C"
        )
    if not with_losses:
        return case_values(run_case(design, level=level, **kw))
    res = run_case(design, level=level, keep_fields=True, **kw)
    values = case_values(res)
    try:
        losses = point_losses(res, design)
    except Exception as exc:  # noqa: BLE001 - a clear reason in the task record
        raise RuntimeError(f"point_losses failed: {type(exc).__name__}: {exc}") from exc
    for name, (value, units, long_name) in losses.items():
        values[name] = [float(value), str(units), str(long_name)]
    return values


@register_task("flux_point")
def flux_point_task(design, level: str, operating_point: dict) -> dict:
    """One map point over :data:`FLUX_SPAN_EL`: the ``case`` scalars (psi_d, psi_q, psi_f,
    torque, ripple, Newton)."""
    return _flux_point(design, level, operating_point, with_losses=False)


@register_task("flux_loss_point")
def flux_loss_point_task(design, level: str, operating_point: dict) -> dict:
    """One map point over the operating point's ``span_el_rad`` (see
    :func:`loss_sampling`) with ``pipeline.maps.losses.point_losses`` scalars added."""
    return _flux_point(design, level, operating_point, with_losses=True)


# --- the map -----------------------------------------------------------------------------------
@dataclass
class FluxMap:
    """A computed map: the Dataset, where it came from, and the held-out check."""

    dataset: object  # xarray.Dataset
    n_points: int
    computed: int
    reused: int
    failed: int
    wall_time_s: float
    point_time_s: float  # mean wall time of one solved point (as recorded by the workers)
    point_cpu_s: float  # mean CPU time of one solved point (insensitive to other load)
    held_out: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    losses_note: str = ""
    dashboard: str | None = None
    refined: list = field(default_factory=list)  # intervals split by refine_grid


def map_operating_point(
    design, i_d: float, i_q: float, i_f: float, positions: int, magnet_temperature=None
) -> dict:
    """Operating point of one map task; ``magnet_temperature`` [K] (PM only) as degC."""
    op = {"i_d_A": float(i_d), "i_q_A": float(i_q), "positions": int(positions)}
    if design.topology.HAS_FIELD_WINDING:
        op["i_f_A"] = float(i_f)
    elif magnet_temperature is not None:
        op["magnet_temperature_C"] = round(float(magnet_temperature) - ZERO_CELSIUS, 9)
    return op


def interpolate(ds, name: str, i_d, i_q, i_f=None, method: str | None = None) -> np.ndarray:
    """``ds[name]`` at (i_d, i_q[, i_f]) [A] by scipy's RegularGridInterpolator (cubic when
    every axis has >= 4 nodes, else linear); no extrapolation (NaN outside)."""
    # defer: this scipy submodule loads only on this path
    from scipy.interpolate import RegularGridInterpolator

    da = ds[name]
    if da.sizes.get("magnet_temperature", 1) > 1:
        raise DesignError(
            "magnet_temperature", "axis", "read the map at one (pipeline.maps.magnets) first"
        )
    for d in [d for d in da.dims if da.sizes[d] == 1]:  # a single node: that slice only
        da = da.isel({d: 0})
    dims = list(da.dims)
    axes = [ds[d].values for d in dims]
    if method is None:
        method = "cubic" if min(a.size for a in axes) >= 4 else "linear"
    f = RegularGridInterpolator(axes, da.values, method=method, bounds_error=False)
    pts = {"i_d": i_d, "i_q": i_q, "i_f": 0.0 if i_f is None else i_f}
    args = np.broadcast_arrays(*(np.asarray(pts[d], float) for d in dims))
    return f(np.stack(args, axis=-1).reshape(-1, len(dims))).reshape(args[0].shape)


def held_out_check(ds, records: list[tuple[tuple, dict]], usable_fraction: float = 0.1) -> dict:
    """Interpolation error at held-out points against their direct solves.

    Torque error relative to the direct torque where |T| >= ``usable_fraction`` of the map's
    largest |T| (the usable region; near T = 0 a relative error is meaningless), and relative
    to that largest |T| everywhere; flux error relative to |psi_dq| = hypot(psi_d, psi_q).
    """
    t_max = float(np.nanmax(np.abs(ds["torque"].values)))
    rows = []
    for (i_d, i_q, i_f), v in records:
        t_dir, d_dir, q_dir = v["torque"][0], v["psi_d"][0], v["psi_q"][0]
        t_int = float(interpolate(ds, "torque", i_d, i_q, i_f))
        d_int = float(interpolate(ds, "psi_d", i_d, i_q, i_f))
        q_int = float(interpolate(ds, "psi_q", i_d, i_q, i_f))
        rows.append(
            {
                "i_d_A": i_d,
                "i_q_A": i_q,
                "i_f_A": i_f,
                "torque_direct_Nm": t_dir,
                "torque_interp_Nm": t_int,
                "torque_rel_error": abs(t_int - t_dir) / abs(t_dir) if t_dir else math.nan,
                "torque_error_of_max": abs(t_int - t_dir) / t_max,
                "usable": abs(t_dir) >= usable_fraction * t_max,
                "psi_rel_error": math.hypot(d_int - d_dir, q_int - q_dir)
                / math.hypot(d_dir, q_dir),
            }
        )
    usable = [r for r in rows if r["usable"]]

    def worst(key, rs):
        vals = [r[key] for r in rs if math.isfinite(r[key])]
        return max(vals) if vals else math.nan

    return {
        "points": rows,
        "n_points": len(rows),
        "n_usable": len(usable),
        "torque_rel_error_max_usable": worst("torque_rel_error", usable),
        "torque_error_of_max_max": worst("torque_error_of_max", rows),
        "psi_rel_error_max": worst("psi_rel_error", rows),
        "usable_fraction": usable_fraction,
    }


def assemble_flux_map(design, level: str, grid: FluxGrid, values: dict, attrs: dict):
    """Gridded Dataset from {(i_d, i_q, i_f): values}; i_q < 0 mirrored if requested."""
    # defer: xarray loads only where datasets are read or written
    import xarray as xr

    eesm = design.topology.HAS_FIELD_WINDING
    i_q = np.asarray(grid.i_q)
    if grid.mirror_iq:
        neg = -i_q[i_q > 0][::-1]
        i_q_all = np.concatenate([neg, i_q])
    else:
        i_q_all = i_q
    shape = (len(grid.i_d), len(i_q_all), len(grid.i_f))
    meta: dict[str, tuple[str, str]] = {}
    for v in values.values():
        if v:
            for name, (_, units, long_name) in v.items():
                meta.setdefault(name, (units, long_name))
    data = {name: np.full(shape, np.nan) for name in meta}
    solved = np.zeros(shape, dtype=np.int8)
    col = {q: j for j, q in enumerate(i_q_all)}
    for i, d in enumerate(grid.i_d):
        for q in grid.i_q:
            for k, f in enumerate(grid.i_f):
                v = values.get((d, q, f))
                if not v:
                    continue
                j = col[q]
                solved[i, j, k] = 1
                for name in meta:
                    if name in v:
                        data[name][i, j, k] = v[name][0]
                if grid.mirror_iq and q > 0:
                    jm = col[-q]
                    for name in meta:
                        if name in v:
                            sign = -1.0 if name in ODD_IN_IQ else 1.0
                            data[name][i, jm, k] = sign * v[name][0]
    dims = ("i_d", "i_q", "i_f") if eesm else ("i_d", "i_q")
    sl = (slice(None), slice(None), slice(None)) if eesm else (slice(None), slice(None), 0)
    coords = {
        "i_d": ("i_d", np.asarray(grid.i_d), {"units": "A", "long_name": "d-axis current (peak)"}),
        "i_q": ("i_q", i_q_all, {"units": "A", "long_name": "q-axis current (peak)"}),
    }
    if eesm:
        coords["i_f"] = ("i_f", np.asarray(grid.i_f), {"units": "A", "long_name": "field current"})
    data_vars = {
        name: (dims, data[name][sl], {"units": meta[name][0], "long_name": meta[name][1]})
        for name in sorted(meta)
    }
    data_vars["solved"] = (
        dims,
        solved[sl],
        {"units": "1", "long_name": "1: solved here, 0: mirrored from -i_q or failed"},
    )
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _assemble_temperatures(design, level, grid, nodes, held, ok, temps, attrs):
    """(Dataset, held-out check) from the records of a temperature-major sweep: a scalar
    ``magnet_temperature`` coordinate [K] for one temperature, an axis for several; the
    held-out check's worst errors over all temperatures."""
    # defer: xarray loads only where datasets are read or written
    import xarray as xr

    n = len(nodes) + len(held)
    parts, checks = [], []
    for j in range(max(len(temps), 1)):
        block = ok[j * n : (j + 1) * n]
        values = {p: (r["values"] if r else None) for p, r in zip(nodes, block, strict=False)}
        ds = assemble_flux_map(design, level, grid, values, attrs)
        recs = [(p, r["values"]) for p, r in zip(held, block[len(nodes) :], strict=True) if r]
        checks.append(held_out_check(ds, recs) if recs and "torque" in ds else {})
        parts.append(ds)
    coord = {"units": "K", "long_name": "magnet temperature"}
    if not temps:
        ds = parts[0]
    elif len(temps) == 1:
        ds = parts[0].assign_coords(magnet_temperature=((), temps[0], coord))
    else:
        ds = xr.concat(parts, dim="magnet_temperature", data_vars="all", combine_attrs="override")
        ds = ds.assign_coords(magnet_temperature=("magnet_temperature", list(temps), coord))
    checks = [c for c in checks if c]
    if not checks:
        return ds, {}
    check = dict(checks[0])
    check["points"] = [p for c in checks for p in c["points"]]
    check["n_points"] = sum(c["n_points"] for c in checks)
    check["n_usable"] = sum(c["n_usable"] for c in checks)
    for key in ("torque_rel_error_max_usable", "torque_error_of_max_max", "psi_rel_error_max"):
        check[key] = float(np.nanmax([c[key] for c in checks]))
    return ds, check


def compute_flux_map(
    design,
    level: str = "ci",
    grid: FluxGrid | None = None,
    results_root: str | Path | None = None,
    *,
    client=None,
    scheduler: str | None = None,
    cluster_file: str | Path | None = None,
    n_held_out: int = 6,
    on_result=None,
    losses: bool | None = None,
    span_el: float | None = None,
    refine: int = 0,
    magnet_temperature=None,
) -> FluxMap:
    """Compute (or reuse) the flux map of ``design`` and check it on held-out points.

    Points and held-out points run as one sweep (``flux_point`` tasks, or ``flux_loss_point``
    unless ``losses`` is False) through :func:`pipeline.sweep.run_sweep`; records live in
    ``results_root/maps/<design>-<level>/tasks``. Returns a :class:`FluxMap` whose Dataset
    has units on every variable and provenance in its attributes. ``losses``: None or True = include
    them, False = flux only (faster: :data:`FLUX_SPAN_EL`). ``span_el`` [rad el.]: rotor-
    position span of a point with losses (None: :func:`loss_sampling`). ``refine``: after
    the grid, split the ``refine`` grid intervals where the map interpolates worst
    (:func:`refine_grid`) and solve the added nodes; the held-out check is on the final grid.
    ``magnet_temperature`` [K]: one or several (ascending) magnet temperatures of a PM map
    (None: :data:`~pipeline.maps.magnets.DEFAULT_MAGNET_TEMPERATURE`; EESM: must be None);
    every grid and held-out point is solved at each; refinement looks at the first.
    """

    if results_root is None:

        results_root = results_dir()
    grid = grid or default_grid(design)
    if not design.topology.HAS_FIELD_WINDING and grid.i_f != (0.0,):
        raise DesignError("grid.i_f_A", list(grid.i_f), f"{design.name} has no field winding")
    with_losses = losses is not False
    note = "not requested (flux and torque only)"
    kind = "flux_loss_point" if with_losses else "flux_point"
    positions, span = loss_sampling(design) if with_losses else (FLUX_POSITIONS, FLUX_SPAN_EL)
    if with_losses and span_el is not None:
        span = float(span_el)
    if grid.positions is None:
        grid = dataclasses.replace(grid, positions=positions)
    if not isinstance(refine, int) or isinstance(refine, bool) or refine < 0:
        raise DesignError("refine", refine, "a whole number >= 0 of intervals to split")
    temps = magnet_temperatures(design, magnet_temperature)
    t_list = temps or (None,)
    name = f"{design.name}-{level}"
    store = ResultStore(Path(results_root) / "maps" / name)
    counts = {"done": 0, "failed": 0, "skipped": 0}

    def sweep(points):  # every point at every magnet temperature, temperature-major
        ops = [map_operating_point(design, *p, grid.positions, t) for t in t_list for p in points]
        if with_losses:
            ops = [{**op, "span_el_rad": span} for op in ops]
        wf = make_workflow(name, design, level, kind, ops, dims=["i_d_A", "i_q_A", "i_f_A"])
        s = run_sweep(
            wf,
            Path(results_root) / "maps",
            client=client,
            scheduler=scheduler,
            cluster_file=cluster_file,
            on_result=on_result,
            gather_dataset=False,
        )
        if s.interrupted:  # finished points are stored; a rerun resumes from them
            raise KeyboardInterrupt
        for k in counts:
            counts[k] += getattr(s, k)
        return wf, s

    t0 = time.perf_counter()
    splits: list[dict] = []
    if refine:  # the base grid first, then the intervals where it interpolates worst
        base = grid.solved_points()
        wf0, _ = sweep(base)
        tasks0 = wf0.tasks[: len(base)]  # at the first magnet temperature
        first = {p: store.load(t.key) for p, t in zip(base, tasks0, strict=True)}
        vals0 = {p: (r["values"] if r and r["status"] == "ok" else None) for p, r in first.items()}
        grid, splits = refine_grid(assemble_flux_map(design, level, grid, vals0, {}), grid, refine)
    nodes = grid.solved_points()
    held = held_out_points(design, grid, n_held_out)
    wf, s = sweep(nodes + held)
    wall = time.perf_counter() - t0
    recs = [store.load(t.key) for t in wf.tasks]
    ok = [r if r and r["status"] == "ok" else None for r in recs]
    times = [r["elapsed_s"] for r in ok if r and "elapsed_s" in r]
    cpu = [r["cpu_s"] for r in ok if r and "cpu_s" in r]
    attrs = {
        "title": f"flux map of {design.name} ({level})",
        "design": design.name,
        "design_kind": design.kind,
        "design_hash": design.content_hash(),
        "mesh_level": level,
        "package_version": __version__,
        "workflow": "edrive map --stage flux",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "positions": grid.positions,
        "position_span_el_rad": span,
        "max_phase_current_A": design.ratings.max_phase_current,
        "max_field_current_A": design.ratings.max_field_current,
        "pole_pairs": design.pole_pairs,
        "task_kind": kind,
        "losses": "included (pipeline.maps.losses.point_losses)" if with_losses else note,
        "iq_symmetry": (
            "i_q < 0 mirrored from i_q > 0: " + ", ".join(ODD_IN_IQ) + " odd, all else even"
            if grid.mirror_iq
            else "i_q solved on both signs"
        ),
        "current_convention": "peak phase, amplitude-invariant Park (pipeline.em.park)",
        "temperatures": (
            "magnets at the magnet_temperature coordinate [K]; no winding temperature "
            "(currents imposed; resistances are applied by pipeline.maps.model)"
            if temps
            else "no magnets; no winding temperature (currents imposed)"
        ),
    }
    if temps:
        attrs["magnet_temperatures_C"] = [round(t - ZERO_CELSIUS, 6) for t in temps]
    attrs["mesh_key"] = wf.tasks[0].mesh_key or ""
    ds, check = _assemble_temperatures(design, level, grid, nodes, held, ok, temps, attrs)
    if check:
        ds.attrs.update(
            {
                "held_out_points": check["n_points"],
                "held_out_torque_rel_error_max_usable": check["torque_rel_error_max_usable"],
                "held_out_torque_error_of_max": check["torque_error_of_max_max"],
                "held_out_psi_rel_error_max": check["psi_rel_error_max"],
            }
        )
    ds.attrs["grid"] = str(asdict(grid))
    ds.attrs["refined_intervals"] = (
        "; ".join(f"{x['axis']} {x['lo']:g}..{x['hi']:g} A ({x['indicator']:.2e})" for x in splits)
        or "none"
    )
    failed = sum(1 for r in recs if r and r["status"] != "ok")
    return FluxMap(
        dataset=ds,
        n_points=len(nodes),
        computed=counts["done"] + counts["failed"],
        reused=counts["skipped"],
        failed=failed,
        wall_time_s=wall,
        point_time_s=float(np.mean(times)) if times else math.nan,
        point_cpu_s=float(np.mean(cpu)) if cpu else math.nan,
        held_out=check,
        reasons=dict(s.reasons),
        losses_note="" if with_losses else note,
        dashboard=s.dashboard,
        refined=splits,
    )
