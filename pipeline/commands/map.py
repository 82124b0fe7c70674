"""``edrive map DESIGN``: flux (and loss) maps, then the efficiency stage.

Stages: ``flux`` computes or reuses the map (:func:`pipeline.maps.flux.compute_flux_map`),
prints its size, time and held-out interpolation errors, writes
``results/maps/<design>-<level>/flux.nc`` and PNG contours (psi_d, psi_q, torque over the
current plane; EESM: at the rated field current; loss components when the map has them).
``all`` (the default) runs ``flux`` and then
``pipeline.maps.efficiency.run_efficiency_stage(MachineMap(flux), design, out_dir, args)``.

Magnet temperature (PM designs): the map is solved at ``--magnet-temperature-C`` (default
80 degC, :data:`pipeline.maps.magnets.DEFAULT_MAGNET_TEMPERATURE`), the temperature the
efficiency stage reports; ``--magnet-axis-C T1 T2 ...`` solves it at several temperatures
instead (an axis of ``flux.nc``, which ``edrive thermal`` needs for its EM-thermal coupling)
and the efficiency stage reads it at ``--magnet-temperature-C`` (linear in T). Either flag
on an EESM design is an error (exit 2).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

import numpy as np

from pipeline.commands.efficiency_args import add_efficiency_arguments, options_from_args
from pipeline.constants import ZERO_CELSIUS
from pipeline.drive.vehicle import load_vehicle
from pipeline.errors import DesignError
from pipeline.maps.model import MachineMap
from pipeline.reports.efficiency import run_efficiency_stage

__all__ = ["add_map_arguments", "cmd_map", "flux_figures", "STAGES"]

log = logging.getLogger(__name__)

STAGES = ("all", "flux")


def add_map_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``edrive map`` (``--json`` only if the parser does not have it yet)."""
    parser.add_argument("design", help="design name (see `edrive designs`) or a .toml path")
    parser.add_argument("--stage", default="all", choices=STAGES, help="what to run (default all)")
    parser.add_argument("--level", default="ci", choices=["ci", "fine"], help="mesh level")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler", metavar="ADDR", help="existing Dask scheduler tcp://host:port"
    )
    where.add_argument("--cluster", metavar="FILE", help="dask-jobqueue YAML (workflows/cluster/)")
    parser.add_argument(
        "--grid",
        type=int,
        nargs="+",
        metavar="N",
        help="nodes along i_d, i_q (i_q >= 0 when mirrored) and i_f; one N for all "
        "(default 15 x 15 PM, 11 x 11 x 6 EESM)",
    )
    parser.add_argument("--grid-file", metavar="TOML", help="grid table (see docs in flux.py)")
    parser.add_argument("--positions", type=int, help="rotor positions per point")
    parser.add_argument(
        "--iq-both-signs", action="store_true", help="solve i_q < 0 too (no mirroring)"
    )
    parser.add_argument("--held-out", type=int, default=6, help="held-out check points")
    parser.add_argument(
        "--refine",
        type=int,
        default=0,
        metavar="N",
        help="after the grid, split the N intervals where it interpolates worst and solve "
        "the added nodes (default 0)",
    )
    parser.add_argument(
        "--no-losses", action="store_true", help="flux and torque only (12 positions over pi/3)"
    )
    parser.add_argument(
        "--magnet-axis-C",
        type=float,
        nargs="+",
        metavar="T",
        help="PM: solve the map at these magnet temperatures [degC] (ascending; an axis the "
        "efficiency stage interpolates at --magnet-temperature-C and `edrive thermal` "
        "couples over, e.g. 20 100 160 200); default: --magnet-temperature-C only",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    from pipeline.commands.sweep import add_limit_arguments

    add_limit_arguments(parser)
    if "--json" not in parser._option_string_actions:
        parser.add_argument("--json", action="store_true", help="machine-readable summary")
    add_efficiency_arguments(parser)


def _axis_count(table: dict, key: str) -> int:
    """Nodes along one axis of a grid table, counted (and checked) before it is built."""
    from pipeline.io.inputs import check_number

    v = table.get(key)
    if isinstance(v, dict):
        for end in ("from", "to"):
            check_number(f"grid.{key}.{end}", v.get(end))
        return int(check_number(f"grid.{key}.n", v.get("n"), 1, integer=True))
    if isinstance(v, list):
        for i, x in enumerate(v):
            check_number(f"grid.{key}[{i}]", x)
        return len(v)
    return 1


def _check_map_size(design, grid, args) -> None:
    """Refuse a map over the task-count / CPU-hour limits or beyond the design's current
    ratings, unless ``--allow-large`` / ``--allow-overload``."""
    from pipeline.maps.flux import FLUX_POSITIONS
    from pipeline.workflow import check_cost, check_overload

    n = len(grid.i_d) * len(grid.i_q) * len(grid.i_f)
    n *= len(getattr(args, "magnet_axis_C", None) or [0])
    positions = grid.positions or FLUX_POSITIONS
    check_cost(n, positions, args.level, getattr(args, "allow_large", False), "--grid")
    corner = {
        "i_d_A": max(abs(x) for x in grid.i_d),
        "i_q_A": max(abs(x) for x in grid.i_q),
        "i_f_A": max(grid.i_f),
    }
    check_overload(design.ratings, corner, getattr(args, "allow_overload", False), "grid.")


def _grid(design, args):
    from pipeline.io.inputs import check_table, read_toml
    from pipeline.maps.flux import default_grid, grid_from_table
    from pipeline.workflow import MAX_POSITIONS, MAX_TASKS

    allow_large = getattr(args, "allow_large", False)
    if args.grid_file and args.grid:
        raise DesignError("--grid", args.grid, "give either --grid or --grid-file, not both")
    if args.positions is not None and not 1 <= args.positions <= MAX_POSITIONS:
        raise DesignError(
            "--positions", args.positions, f"a whole number >= 1 and <= {MAX_POSITIONS}"
        )
    if args.grid_file:
        table = read_toml(args.grid_file, "--grid-file")
        table = check_table(table.get("grid", table), "--grid-file grid")
        count = math.prod(_axis_count(table, k) for k in ("i_d_A", "i_q_A", "i_f_A"))
        if count > MAX_TASKS and not allow_large:
            raise DesignError(
                "--grid-file",
                f"{count} points",
                f"more than {MAX_TASKS}; confirm with --allow-large",
            )
        if args.positions is not None:
            table["positions"] = args.positions
        if args.iq_both_signs:
            table["mirror_iq"] = False
        grid = grid_from_table(design, table)
    else:
        n = list(args.grid or [])
        if any(x < 2 for x in n) or len(n) > 3:
            raise DesignError("--grid", n, "one to three whole numbers >= 2 (i_d, i_q, i_f)")
        if len(n) == 1:
            n = n * 3
        n += [None] * (3 - len(n))
        if not design.topology.HAS_FIELD_WINDING:
            n[2] = None
        count = math.prod(x for x in n if x is not None)
        if count > MAX_TASKS and not allow_large:  # before the axes are built
            raise DesignError(
                "--grid", args.grid, f"{count} points; more than {MAX_TASKS}, see --allow-large"
            )
        grid = default_grid(
            design, n[0], n[1], n[2], positions=args.positions, mirror_iq=not args.iq_both_signs
        )
    _check_map_size(design, grid, args)
    return grid


def _contour(ax, fig, ds, name: str, i_max: float, title: str) -> None:
    da = ds[name]
    if "i_f" in da.dims:
        da = da.isel(i_f=-1)
    x, y = ds["i_d"].values, ds["i_q"].values
    z = da.transpose("i_q", "i_d").values
    cs = ax.contourf(x, y, z, levels=20, cmap="viridis")
    ax.contour(x, y, z, levels=10, colors="k", linewidths=0.4)
    t = np.linspace(0, 2 * math.pi, 200)
    ax.plot(i_max * np.cos(t), i_max * np.sin(t), "w--", lw=1)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_xlabel("i_d [A]")
    ax.set_ylabel("i_q [A]")
    ax.set_title(title)
    fig.colorbar(cs, ax=ax, label=f"{name} [{da.attrs.get('units', '')}]")


def flux_figures(ds, out_dir: str | Path, model=None, speed_rpm: float | None = None) -> list[Path]:
    """``flux.png`` (psi_d, psi_q, torque contours; dashed: current limit) and, when ``model``
    (a MachineMap) is given, ``losses.png`` (its loss components at ``speed_rpm``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    i_max = float(ds.attrs.get("max_phase_current_A", 0.0))
    tag = f"{ds.attrs.get('design', '')} ({ds.attrs.get('mesh_level', '')})"
    if "i_f" in ds.dims:
        tag += f", i_f = {float(ds['i_f'].values[-1]):g} A"
    fig, axes = plt.subplots(1, 3, figsize=(17, 5), constrained_layout=True)
    for ax, name in zip(axes, ("psi_d", "psi_q", "torque"), strict=True):
        _contour(ax, fig, ds, name, i_max, f"{name}: {tag}")
    paths = [out / "flux.png"]
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)
    if model is None:
        return paths
    from pipeline.maps.protocol import LOSS_KEYS

    i_d, i_q = np.meshgrid(ds["i_d"].values, ds["i_q"].values, indexing="ij")
    i_f = float(ds["i_f"].values[-1]) if "i_f" in ds.dims else 0.0
    speed = (speed_rpm or 3000.0) * 2 * math.pi / 60
    losses = model.losses(i_d, i_q, i_f, speed)
    # components that vary over the current plane (mechanical losses do not; named in a note)
    values = {k: np.asarray(losses[k]) for k in LOSS_KEYS if k in losses}
    keys = [k for k, v in values.items() if np.nanmax(v) - np.nanmin(v) > 1e-9 * np.nanmax(v)]
    flat = [
        f"{k} {np.nanmax(v):.0f} W" for k, v in values.items() if k not in keys and np.nanmax(v)
    ]
    if not keys:
        return paths
    cols = min(4, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.8 * rows), constrained_layout=True)
    for ax, k in zip(np.atleast_1d(axes).ravel(), keys, strict=False):
        cs = ax.contourf(i_d[:, 0], i_q[0], losses[k].T, levels=20, cmap="magma")
        fig.colorbar(cs, ax=ax, label="W")
        ax.set_title(f"{k} at {speed * 60 / (2 * math.pi):.0f} rpm")
        ax.set_xlabel("i_d [A]")
        ax.set_ylabel("i_q [A]")
    for ax in np.atleast_1d(axes).ravel()[len(keys) :]:
        ax.axis("off")
    if flat:
        fig.suptitle(f"{tag}; constant over the plane: {', '.join(flat)}")
    paths.append(out / "losses.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def map_magnet_temperatures(design, args) -> tuple[tuple[float, ...], float | None]:
    """(temperatures [K] to solve the map at, the efficiency stage's magnet temperature [K])
    from ``--magnet-axis-C`` / ``--magnet-temperature-C``; ((), None) for an EESM, whose
    maps have no magnets (either flag given: DesignError)."""
    from pipeline.maps.magnets import DEFAULT_MAGNET_TEMPERATURE, magnet_temperatures

    axis = getattr(args, "magnet_axis_C", None)
    single = getattr(args, "magnet_temperature_C", None)
    if not design.topology.HAS_MAGNETS:
        if axis is not None or single is not None:
            flag = "--magnet-axis-C" if axis is not None else "--magnet-temperature-C"
            raise DesignError(flag, axis or single, f"{design.name} has no magnets")
        return (), None
    t = DEFAULT_MAGNET_TEMPERATURE if single is None else ZERO_CELSIUS + single
    magnet_temperatures(design, t, "--magnet-temperature-C")
    if axis is None:
        return (t,), t
    nodes = magnet_temperatures(design, [ZERO_CELSIUS + x for x in axis], "--magnet-axis-C")
    if len(nodes) < 2 or not nodes[0] <= t <= nodes[-1]:
        raise DesignError(
            "--magnet-axis-C",
            axis,
            f">= 2 temperatures around --magnet-temperature-C = {t - ZERO_CELSIUS:g} degC",
        )
    return nodes, t


def run_flux_stage(design, args) -> tuple[dict, list[str], object]:
    """Compute/reuse the map, write flux.nc and the PNGs; (summary, lines, the MachineMap
    built from it, read at the efficiency stage's magnet temperature)."""
    from pipeline.io.paths import results_dir
    from pipeline.io.store import write_dataset
    from pipeline.maps.flux import compute_flux_map

    grid = _grid(design, args)
    from pipeline.commands.sweep import Progress

    temps, t_magnet = map_magnet_temperatures(design, args)

    out_dir = results_dir() / "maps" / f"{design.name}-{args.level}"
    fm = compute_flux_map(
        design,
        args.level,
        grid,
        results_dir(),
        scheduler=args.scheduler,
        cluster_file=args.cluster,
        n_held_out=args.held_out,
        on_result=Progress(quiet=args.quiet, label="map"),
        losses=False if args.no_losses else None,
        refine=args.refine,
        magnet_temperature=temps or None,
    )
    if not args.quiet:
        print(file=sys.stderr)
    ds = fm.dataset
    path = write_dataset(ds, out_dir / "flux.nc")
    model = MachineMap(ds, design, magnet_temperature=t_magnet)
    pngs = flux_figures(model.dataset, out_dir, model if model.has_iron_losses else None)
    h = fm.held_out
    shape = " x ".join(f"{ds.sizes[d]} {d}" for d in ds["torque"].dims) if "torque" in ds else ""
    t_text = (
        "no magnets"
        if not temps
        else "magnets at " + ", ".join(f"{t - ZERO_CELSIUS:g}" for t in temps) + " degC"
    )
    summary = {
        "design": design.name,
        "level": args.level,
        "stage": "flux",
        "points_solved": fm.n_points * max(len(temps), 1),
        "grid_shape": {d: int(ds.sizes[d]) for d in ds.dims},
        "positions": int(ds.attrs["positions"]),
        "computed": fm.computed,
        "reused": fm.reused,
        "failed": fm.failed,
        "wall_time_s": fm.wall_time_s,
        "point_time_s": fm.point_time_s,
        "point_cpu_s": fm.point_cpu_s,
        "held_out": {k: v for k, v in h.items() if k != "points"},
        "refined_intervals": fm.refined,
        "losses": ds.attrs.get("losses", ""),
        "magnet_temperatures_C": [round(t - ZERO_CELSIUS, 6) for t in temps],
        "dataset": str(path),
        "pictures": [str(p) for p in pngs],
        "failures": fm.reasons,
    }
    pct = (lambda v: f"{100 * v:.2f} %") if h else (lambda v: "n/a")
    lines = [
        f"{design.name} [{args.level}] flux map: {shape} ({fm.n_points * max(len(temps), 1)} points solved, "
        f"{summary['positions']} positions each, i_q < 0 "
        f"{'mirrored' if grid.mirror_iq else 'solved'}; {t_text})",
        f"  {fm.computed} computed, {fm.reused} reused, {fm.failed} failed in "
        f"{fm.wall_time_s:.1f} s ({fm.point_time_s:.2f} s wall, {fm.point_cpu_s:.2f} s CPU "
        "per point on a worker)",
        f"  held-out check ({h.get('n_points', 0)} points): torque error max "
        f"{pct(h.get('torque_rel_error_max_usable', math.nan))} of the direct solve where "
        f"|T| >= {100 * h.get('usable_fraction', 0.1):.0f} % of max, "
        f"{pct(h.get('torque_error_of_max_max', math.nan))} of max |T| anywhere; "
        f"flux {pct(h.get('psi_rel_error_max', math.nan))} of |psi_dq|",
        *([f"  refined: {ds.attrs['refined_intervals']}"] if fm.refined else []),
        f"  losses: {summary['losses']}",
        f"  written: {path}",
        *(f"  picture: {p}" for p in pngs),
        *(f"  failed {k[:12]}: {r}" for k, r in fm.reasons.items()),
    ]
    return summary, lines, model


def cmd_map(args) -> int:
    """``edrive map``: run the stages; exit 1 if a map point failed."""
    from pipeline.design import load_design
    from pipeline.io.paths import results_dir

    if not getattr(args, "verbose", False):
        from pipeline.cluster import quiet_dask_logs

        quiet_dask_logs()
    from pipeline.sweep import check_where

    design = load_design(args.design)
    map_magnet_temperatures(design, args)  # EESM with a magnet flag, bad axis: fail first
    check_where(args.scheduler, args.cluster)  # address / cluster YAML before any work
    _grid(design, args)  # size, cost and current limits before any work
    if args.stage == "all":  # bad efficiency options fail before the map is computed
        options = options_from_args(args)
        options.strategy_options()
        load_vehicle(options.vehicle)
    summary, lines, model = run_flux_stage(design, args)
    out = {"flux": summary}
    if args.stage == "all":
        if summary["failed"]:
            lines.append("  efficiency stage skipped: the flux map has failed points")
        else:
            out_dir = results_dir() / "maps" / f"{design.name}-{args.level}"
            res = run_efficiency_stage(model, design, out_dir, options)
            res["iron_losses_included"] = model.has_iron_losses
            out["efficiency"] = res
            lines.append("efficiency stage:")
            lines += [f"  {k}: {v}" for k, v in res.items() if not isinstance(v, dict | list)]
    if getattr(args, "json", False):
        print(json.dumps(out, indent=1, sort_keys=True, default=str))
    else:
        print("\n".join(lines))
    return 1 if summary["failed"] else 0
