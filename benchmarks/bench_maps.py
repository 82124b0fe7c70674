"""Flux-map speed: per-point time and map wall time on the default local cluster (2 workers).

Run: ``python benchmarks/bench_maps.py [--levels ci fine] [--designs prius_2004 gen5_eesm]
[--measure-only] [--no-losses | --half-period] [--grid-prius 15 15] [--grid-gen5 11 11 6]``.

For each design and level it first solves one representative point in this process
(warm model, the map's positions and span) and prints its wall and CPU time and the
extrapolated map time ``n_points * t_point / 2`` (two workers, perfect scaling); unless
``--measure-only`` it then computes the whole map into a fresh results folder through
:func:`pipeline.maps.flux.compute_flux_map` (no cached points) and prints the measured wall
time, the per-point worker time and the held-out interpolation errors, with the issue 16
figures (before, target, ratio) and the peak resident memory of the largest worker process
(``getrusage(RUSAGE_CHILDREN)`` after the local cluster has shut down). Other load on the
machine inflates wall times; the CPU time per point is the steadier figure.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

__all__ = ["main"]

#: issue 16 (2026-12-04), map wall time with losses on the 2-core machine [min]: (figure
#: then, target) per (design, level); Gen 5 ci "about 5 min" as written in the issue
ISSUE16_MIN = {
    ("prius_2004", "fine"): (6.5, 3.0),
    ("gen5_eesm", "fine"): (21.6, 10.0),
    ("gen5_eesm", "ci"): (5.0, 2.0),
}
#: issue 16 target for the peak resident memory of one worker on the Gen 5 fine map [GiB]
ISSUE16_WORKER_GIB = 1.0


def _children_peak_gib() -> float:
    """Peak resident set [GiB] of the largest terminated child process (the Dask workers of
    the local cluster, once it has shut down; Linux reports ru_maxrss in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20


def _point_time(
    design, level: str, grid, with_losses: bool, span: float
) -> tuple[float, float, float]:
    """(wall, CPU, model build) [s] of one map point near rated current, model warm."""
    from pipeline.maps import flux
    from pipeline.mesh import get_mesh

    get_mesh(design, level)
    op = {
        "i_d_A": -0.4 * design.ratings.max_phase_current,
        "i_q_A": 0.6 * design.ratings.max_phase_current,
        "positions": grid.positions,
        "span_el_rad": span,
    }
    if design.kind == "eesm":
        op["i_f_A"] = 0.8 * design.ratings.max_field_current
    else:  # the map's default magnet temperature, as compute_flux_map gives its tasks
        from pipeline.constants import ZERO_CELSIUS
        from pipeline.maps.magnets import DEFAULT_MAGNET_TEMPERATURE

        op["magnet_temperature_C"] = DEFAULT_MAGNET_TEMPERATURE - ZERO_CELSIUS
    t0 = time.perf_counter()
    flux._flux_point(design, level, {**op, "positions": 1}, with_losses=False)  # builds model
    build = time.perf_counter() - t0
    # the point before, one i_q map step away (the solver starts a position from its last
    # solution there, as in a map; the point itself again would start from its own answer)
    before = {**op, "i_q_A": op["i_q_A"] - design.ratings.max_phase_current / 7}
    # (the sixth-period operators are built once per mesh and worker, here too)
    flux._flux_point(design, level, before, with_losses)
    t0, c0 = time.perf_counter(), time.process_time()
    flux._flux_point(design, level, op, with_losses)
    return time.perf_counter() - t0, time.process_time() - c0, build


def main(argv: list[str] | None = None) -> None:
    from pipeline.design import load_design
    from pipeline.maps.flux import (
        FLUX_POSITIONS,
        FLUX_SPAN_EL,
        LOSS_POSITIONS,
        LOSS_SPAN_EL,
        compute_flux_map,
        default_grid,
        loss_sampling,
    )

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", nargs="+", default=["ci"], choices=["ci", "fine"])
    ap.add_argument("--designs", nargs="+", default=["prius_2004", "gen5_eesm"])
    ap.add_argument("--measure-only", action="store_true", help="per-point time only")
    ap.add_argument("--no-losses", action="store_true", help="flux only (12 positions, pi/3)")
    ap.add_argument(
        "--half-period",
        action="store_true",
        help="losses from 36 positions over pi (the method before the sixth-period symmetry)",
    )
    ap.add_argument("--grid-prius", type=int, nargs=2, default=[15, 15])
    ap.add_argument("--grid-gen5", type=int, nargs=3, default=[11, 11, 6])
    ap.add_argument("--positions", type=int, default=None)
    args = ap.parse_args(argv)

    with_losses = not args.no_losses
    print(f"losses per point: {with_losses}; cpu_count {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    for level in args.levels:
        for name in args.designs:
            d = load_design(name)
            if not with_losses:
                positions, span = FLUX_POSITIONS, FLUX_SPAN_EL
            elif args.half_period:
                positions, span = LOSS_POSITIONS, LOSS_SPAN_EL
            else:
                positions, span = loss_sampling(d)
            positions = args.positions or positions
            sizes = args.grid_gen5 if d.kind == "eesm" else [*args.grid_prius, None]
            grid = default_grid(d, *sizes, positions=positions)
            n = len(grid.solved_points())
            wall, cpu, build = _point_time(d, level, grid, with_losses, span)
            shape = " x ".join(str(s) for s in grid.shape if s > 1)
            print(
                f"{name} [{level}] {shape} = {n} points x {positions} positions over "
                f"{math.degrees(span):.0f} el. deg: one point "
                f"{wall:.2f} s wall / {cpu:.2f} s CPU (model build {build:.2f} s); "
                f"extrapolated map on 2 workers: {n * cpu / 2 / 60:.1f} min (CPU-based), "
                f"{n * wall / 2 / 60:.1f} min (wall-based)"
            )
            if args.measure_only:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                fm = compute_flux_map(d, level, grid, tmp, losses=with_losses, span_el=span)
                t = time.perf_counter() - t0
            h = fm.held_out
            print(
                f"  map: {t:.1f} s = {t / 60:.2f} min wall ({fm.computed} solved, "
                f"{fm.failed} failed); per point on a worker {fm.point_time_s:.2f} s wall / "
                f"{fm.point_cpu_s:.2f} s CPU; {t / (n + h.get('n_points', 0)):.2f} s wall per point"
            )
            ref = ISSUE16_MIN.get((name, level)) if with_losses and not args.half_period else None
            if ref and sizes == ([15, 15, None] if d.kind != "eesm" else [11, 11, 6]):
                print(
                    f"  issue 16: then {ref[0]:.1f} min, target {ref[1]:.1f} min, "
                    f"now/target {t / 60 / ref[1]:.2f}"
                )
            peak = _children_peak_gib()
            print(
                f"  peak memory of the largest worker process so far: {peak:.2f} GiB "
                f"(target {ISSUE16_WORKER_GIB:.1f} GiB on the Gen 5 fine map)"
            )
            if h:
                print(
                    f"  held-out ({h['n_points']} points, {h['n_usable']} usable): torque "
                    f"{100 * h['torque_rel_error_max_usable']:.2f} % max (usable), "
                    f"{100 * h['torque_error_of_max_max']:.2f} % of max |T|; "
                    f"|psi_dq| {100 * h['psi_rel_error_max']:.2f} % max"
                )


if __name__ == "__main__":
    main()
