"""``edrive map DESIGN``: flux (and loss) maps, then the efficiency stage.

Stages: ``flux`` computes or reuses the map (:func:`pipeline.api.flux_map`),
prints its size, time and held-out interpolation errors, writes
``results/maps/<design>-<level>/flux.nc`` and PNG contours (psi_d, psi_q, torque over the
current plane; EESM: at the rated field current; loss components when the map has them).
``all`` (the default) runs ``flux`` and then :func:`pipeline.api.efficiency_map` (the
efficiency stage, :func:`pipeline.api.efficiency_map`).

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

from pipeline import api
from pipeline.commands import add_where_arguments
from pipeline.commands.efficiency_args import add_efficiency_arguments, options_from_args
from pipeline.constants import ZERO_CELSIUS
from pipeline.drive.vehicle import load_vehicle
from pipeline.errors import DesignError

__all__ = ["add_map_arguments", "cmd_map", "STAGES"]

log = logging.getLogger(__name__)

STAGES = ("all", "flux")


def add_map_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``edrive map`` (``--json`` only if the parser does not have it yet)."""
    parser.add_argument("design", help="design name (see `edrive designs`) or a .toml path")
    parser.add_argument("--stage", default="all", choices=STAGES, help="what to run (default all)")
    parser.add_argument("--level", default="ci", choices=["ci", "fine"], help="mesh level")
    add_where_arguments(parser)
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
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.commands.sweep import add_limit_arguments

    add_limit_arguments(parser)
    if "--json" not in parser._option_string_actions:
        parser.add_argument("--json", action="store_true", help="machine-readable summary")
    add_efficiency_arguments(parser)


def _axis_count(table: dict, key: str) -> int:
    """Nodes along one axis of a grid table, counted (and checked) before it is built."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
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
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.maps.flux import FLUX_POSITIONS

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
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
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.inputs import check_table, read_toml

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.maps.flux import default_grid, grid_from_table

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
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


def map_magnet_temperatures(design, args) -> tuple[tuple[float, ...], float | None]:
    """(temperatures [K] to solve the map at, the efficiency stage's magnet temperature [K])
    from ``--magnet-axis-C`` / ``--magnet-temperature-C`` (:func:`pipeline.maps.magnets.map_temperatures`)."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.maps.magnets import map_temperatures

    return map_temperatures(
        design, getattr(args, "magnet_temperature_C", None), getattr(args, "magnet_axis_C", None)
    )


def run_flux_stage(design, args) -> tuple[dict, list[str], object]:
    """Compute/reuse the map, write flux.nc and the PNGs; (summary, lines, the
    :class:`pipeline.api.FluxMap`, read at the efficiency stage's magnet temperature)."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.paths import results_dir

    grid = _grid(design, args)
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.commands.sweep import Progress

    temps, _ = map_magnet_temperatures(design, args)

    out_dir = results_dir() / "maps" / f"{design.name}-{args.level}"
    result = api.flux_map(
        design,
        args.level,
        grid=grid,
        held_out=args.held_out,
        losses=not args.no_losses,
        refine=args.refine,
        magnet_temperature_C=getattr(args, "magnet_temperature_C", None),
        magnet_axis_C=getattr(args, "magnet_axis_C", None),
        scheduler=args.scheduler,
        cluster=args.cluster,
        allow_large=True,  # checked by _grid, with the flags' names
        allow_overload=True,
        progress=Progress(quiet=args.quiet, label="map"),
    )
    if not args.quiet:
        print(file=sys.stderr)
    fm, ds = result.run, result.dataset
    path = result.save(out_dir / "flux.nc")
    pngs = result.plot(out_dir)
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
    return summary, lines, result


def cmd_map(args) -> int:
    """``edrive map``: run the stages; exit 1 if a map point failed."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.design import load_design

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.paths import results_dir

    if not getattr(args, "verbose", False):
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.cluster import quiet_dask_logs

        quiet_dask_logs()
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.sweep import check_where

    design = load_design(args.design)
    map_magnet_temperatures(design, args)  # EESM with a magnet flag, bad axis: fail first
    check_where(args.scheduler, args.cluster)  # address / cluster YAML before any work
    _grid(design, args)  # size, cost and current limits before any work
    if args.stage == "all":  # bad efficiency options fail before the map is computed
        options = options_from_args(args)
        options.strategy_options()
        load_vehicle(options.vehicle)
    summary, lines, result = run_flux_stage(design, args)
    out = {"flux": summary}
    if args.stage == "all":
        if summary["failed"]:
            lines.append("  efficiency stage skipped: the flux map has failed points")
        else:
            out_dir = results_dir() / "maps" / f"{design.name}-{args.level}"
            res = api.efficiency_map(result, options, out_dir=out_dir).summary
            res["iron_losses_included"] = result.machine_map().has_iron_losses
            out["efficiency"] = res
            lines.append("efficiency stage:")
            lines += [f"  {k}: {v}" for k, v in res.items() if not isinstance(v, dict | list)]
    if getattr(args, "json", False):
        print(json.dumps(out, indent=1, sort_keys=True, default=str))
    else:
        print("\n".join(lines))
    return 1 if summary["failed"] else 0
