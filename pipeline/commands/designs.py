"""``edrive designs`` (the reference designs) and ``edrive mesh`` (build or reuse a mesh,
print its summary, write a picture)."""

from __future__ import annotations

import time

from pipeline.commands import emit
from pipeline.io.paths import results_dir

__all__ = ["cmd_designs", "cmd_mesh", "add_mesh_arguments"]


def add_mesh_arguments(p) -> None:
    """Arguments of ``edrive mesh``."""
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


def cmd_designs(args) -> int:
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.design import list_designs, load_design

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
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
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from geometries.areas import analytic_areas, mesh_area_by_kind

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.design import list_designs, load_design

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.mesh import get_mesh

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
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
