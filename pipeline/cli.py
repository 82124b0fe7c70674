"""Command line: ``edrive`` (also ``python -m pipeline``).

Every command takes ``--help`` and ``--json`` (a machine-readable summary on stdout: SI
numbers under unit-suffixed keys, and the paths written), prints where its outputs went and
exits non-zero with a one-line reason on bad input.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

from pipeline.commands import emit
from pipeline.errors import PipelineError

__all__ = ["main", "results_dir"]

from pipeline.io.paths import RESULTS, results_dir  # noqa: E402,F401 - re-exported


def cmd_designs(args) -> int:
    from pipeline.design import list_designs, load_design
    from pipeline.winding import winding_factor, winding_layout

    rows, summary = [], {"designs": []}
    for name in list_designs():
        d = load_design(name)
        layout = winding_layout(d)
        n_sectors, anti = d.symmetry
        entry = {
            "name": name,
            "kind": d.kind,
            "description": d.description,
            "n_slots": d.stator.n_slots,
            "n_poles": d.n_poles,
            "airgap_m": d.airgap,
            "stack_length_m": d.stack_length,
            "series_turns": layout.series_turns,
            "winding_factor": winding_factor(layout),
            "symmetry_sectors": n_sectors,
            "antiperiodic": anti,
            "peak_torque_Nm": d.ratings.peak_torque,
            "peak_power_W": d.ratings.peak_power,
        }
        summary["designs"].append(entry)
        rows.append(
            f"{name:12s} {d.kind:4s} {d.stator.n_slots:3d} slots {d.n_poles:2d} poles  "
            f"airgap {d.airgap * 1e3:.2f} mm  N_s {layout.series_turns:g}  k_w1 {entry['winding_factor']:.4f}  "
            f"sector 1/{n_sectors}{' anti' if anti else ''}  {d.ratings.peak_torque:.0f} N m / "
            f"{d.ratings.peak_power / 1e3:.0f} kW  - {d.description}"
        )
    emit(args, summary, rows)
    return 0


def cmd_mesh(args) -> int:
    from geometries.areas import analytic_areas, mesh_area_by_kind
    from pipeline.design import list_designs, load_design
    from pipeline.mesh import get_mesh
    from pipeline.reports.plots import plot_regions

    names = list_designs() if args.design == "all" else [args.design]
    designs = [load_design(n) for n in names]  # validate everything before meshing
    out, lines = {"meshes": []}, []
    for d in designs:
        for sector in (True, False) if args.full else (True,):
            t0 = time.perf_counter()
            mm = get_mesh(
                d, args.level, sector=sector, rebuild=args.rebuild, allow_large=args.allow_large
            )
            wall = time.perf_counter() - t0
            areas = mm.areas()
            kinds = mesh_area_by_kind(areas)
            ref = analytic_areas(d, mm.n_sectors)
            errors = {k: kinds.get(k, 0.0) / v - 1 for k, v in ref.items() if k != "copper"}
            tag = "sector" if sector else "full"
            png = results_dir() / "meshes" / f"{d.name}-{args.level}-{tag}.png"
            plot_regions(mm.mesh, png, f"{d.name} ({args.level}, {tag})", zoom=d.stator.bore_radius)
            entry = {
                "design": d.name,
                "level": args.level,
                "model": tag,
                "nodes": int(mm.mesh.p.shape[1]),
                "elements": int(mm.mesh.t.shape[1]),
                "sectors": mm.n_sectors,
                "antiperiodic": mm.antiperiodic,
                "reused": not mm.built,
                "build_time_s": mm.build_time,
                "wall_time_s": wall,
                "region_areas_m2": kinds,
                "analytic_area_rel_error": errors,
                "mesh_file": str(mm.path),
                "picture": str(png),
            }
            out["meshes"].append(entry)
            worst = max(errors.items(), key=lambda kv: abs(kv[1]))
            lines.append(
                f"{d.name} [{args.level}, {tag} 1/{mm.n_sectors}]: {entry['nodes']} nodes, "
                f"{entry['elements']} elements, {'reused' if entry['reused'] else 'built'} "
                f"(meshing {mm.build_time:.2f} s)"
            )
            for k, a in sorted(kinds.items()):
                e = errors.get(k)
                lines.append(
                    f"    {k:16s} {a * 1e6:12.2f} mm2"
                    + (f"   analytic {e * 100:+.3f} %" if e is not None else "")
                )
            lines.append(f"    worst area error vs analytic: {worst[0]} {worst[1] * 100:+.3f} %")
            lines.append(f"    mesh: {mm.path}\n    picture: {png}")
    emit(args, out, lines)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edrive", description="Finite-element analysis of electric drive units."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an unexpected error, print the traceback (it always goes to a log file)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
        p.set_defaults(func=func)
        return p

    add("designs", cmd_designs, "list the reference designs")
    p = add(
        "mesh", cmd_mesh, "build (or reuse) a design's mesh, print its summary, write a picture"
    )
    p.add_argument(
        "design", help="design name (see `edrive designs`), a design .toml path, or 'all'"
    )
    p.add_argument("--level", default="ci", choices=["ci", "fine"], help="mesh level (default ci)")
    p.add_argument(
        "--full", action="store_true", help="also mesh the full machine, not only the sector"
    )
    p.add_argument("--rebuild", action="store_true", help="ignore the cache")
    p.add_argument(
        "--allow-large",
        action="store_true",
        help="build even beyond pipeline.mesh.MAX_MESH_ELEMENTS (estimated before gmsh)",
    )
    from pipeline.commands.case import add_case_arguments, cmd_case

    p = add("case", cmd_case, "one operating point over rotor positions: torque, flux linkages")
    add_case_arguments(p)
    from pipeline.commands.thermal import add_thermal_arguments, cmd_thermal

    p = add("thermal", cmd_thermal, "temperatures, hot spots and thermal envelopes at a point")
    add_thermal_arguments(p)
    from pipeline.commands.sweep import add_sweep_arguments, cmd_sweep

    p = sub.add_parser(
        "sweep",
        help="run a workflow of design variants/operating points with Dask",
        description="run a workflow of design variants/operating points with Dask",
    )
    add_sweep_arguments(p)
    p.set_defaults(func=cmd_sweep)
    from pipeline.commands.map import add_map_arguments, cmd_map

    p = add("map", cmd_map, "flux and loss maps over (i_d, i_q[, i_f]), then efficiency maps")
    add_map_arguments(p)
    from pipeline.commands.validate import add_validate_arguments, cmd_validate

    p = add(
        "validate",
        cmd_validate,
        "verification, validation and golden-regression report (results/validation/)",
    )
    add_validate_arguments(p)
    from pipeline.commands.calibrate import add_calibrate_arguments, cmd_calibrate

    p = add("calibrate", cmd_calibrate, "fit unsourced design inputs to measurements (least squares)")
    add_calibrate_arguments(p)
    return parser


#: exit code of an unexpected exception (sysexits.h EX_SOFTWARE), apart from 1 (a sweep or
#: map with failed points) and 2 (bad input)
EXIT_INTERNAL = 70


def _failing_stage(exc: BaseException) -> str:
    """``module.function`` of the innermost traceback frame inside the ``pipeline`` package."""
    import traceback

    stage = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        parts = Path(frame.filename).parts
        if "pipeline" in parts:
            mod = ".".join(parts[parts.index("pipeline") :]).removesuffix(".py")
            stage = f"{mod}.{frame.name}"
    return stage or "edrive"


def _write_crash_log(command: str, exc: BaseException) -> Path | None:
    """The traceback of ``exc`` in ``results/logs/edrive-<command>-<time>-<pid>.log``."""
    import os
    import traceback

    folder = results_dir() / "logs"
    path = folder / f"edrive-{command}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"edrive {' '.join(sys.argv[1:])}\n" + "".join(traceback.format_exception(exc))
        )
    except OSError:
        return None
    return path


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 ok, 1 some points failed, 2 bad input (one line
    ``field = value: rule``), 70 an unexpected error (one line with the failing stage and
    the log file holding the traceback; ``--debug`` prints it), 130 interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except PipelineError as exc:
        print(f"edrive {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"edrive {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the top-level handler of the command layer
        from pipeline.errors import shorten

        log_path = _write_crash_log(args.command, exc)
        if args.debug:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        message = shorten(str(exc), 120).strip("'\"")
        print(
            f"edrive {args.command}: internal error in {_failing_stage(exc)}: "
            f"{type(exc).__name__}: {message}" + (f" (traceback: {log_path})" if log_path else ""),
            file=sys.stderr,
        )
        return EXIT_INTERNAL


_ = math
