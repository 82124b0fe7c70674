"""Map refinement study: error of a coarse grid, the same grid refined, and a uniform grid.

Run: ``python benchmarks/bench_map_refine.py [--design prius_2004] [--grid 7 7] [--refine 4]``.

Flux-only maps (12 positions over pi/3, ci) on the default local cluster: the coarse grid,
the coarse grid with ``--refine`` intervals split (:func:`pipeline.maps.flux.refine_grid`),
and a uniform grid with both axes scaled to at least as many points as the refined one. All three are
interpolated (cubic) at the same random check points inside |i| <= 0.95 I_max, which are
solved directly; prints points solved and the worst and mean torque error (relative to the
map's largest |T|) and the worst |psi_dq| error.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> None:
    from distributed import Client

    from pipeline.design import load_design
    from pipeline.em.machine import run_case
    from pipeline.maps.flux import compute_flux_map, default_grid, interpolate
    from pipeline.sweep import local_cluster, quiet_dask_logs

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--design", default="prius_2004")
    ap.add_argument("--grid", type=int, nargs=2, default=[7, 7], help="i_d, i_q nodes")
    ap.add_argument("--refine", type=int, default=4)
    ap.add_argument("--checks", type=int, default=12)
    args = ap.parse_args(argv)
    quiet_dask_logs()
    d = load_design(args.design)
    i_max = d.ratings.max_phase_current
    rng = np.random.default_rng(3)
    checks = []
    while len(checks) < args.checks:
        i_d, i_q = rng.uniform(-i_max, 0.0), rng.uniform(0.05 * i_max, i_max)
        if math.hypot(i_d, i_q) <= 0.95 * i_max:
            checks.append((i_d, i_q))
    t0 = time.perf_counter()
    direct = [run_case(d, i_d, i_q, positions=12) for i_d, i_q in checks]
    print(f"{args.design}: {len(checks)} check points solved directly "
          f"({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    coarse = default_grid(d, *args.grid)
    with tempfile.TemporaryDirectory() as tmp, local_cluster(dashboard=False) as lc:
        with Client(lc) as client:
            kw = dict(client=client, n_held_out=0, losses=False)
            runs = [("coarse", compute_flux_map(d, "ci", coarse, tmp, **kw))]
            runs.append(
                ("refined", compute_flux_map(d, "ci", coarse, tmp, refine=args.refine, **kw))
            )
            n_ref = runs[-1][1].n_points
            scale = math.sqrt(n_ref / (args.grid[0] * args.grid[1]))  # both axes alike
            n_id, n_iq = (math.ceil(n * scale) for n in args.grid)
            uniform = default_grid(d, n_id, n_iq)
            runs.append(("uniform", compute_flux_map(d, "ci", uniform, tmp, **kw)))
    print(f"{'grid':8s} {'points':>6} {'T err max':>10} {'T err mean':>10} {'psi err max':>11}")
    for label, fm in runs:
        ds = fm.dataset
        t_max = float(np.nanmax(np.abs(ds.torque.values)))
        et, ep = [], []
        for (i_d, i_q), r in zip(checks, direct, strict=True):
            t = float(interpolate(ds, "torque", i_d, i_q))
            pd = float(interpolate(ds, "psi_d", i_d, i_q))
            pq = float(interpolate(ds, "psi_q", i_d, i_q))
            et.append(abs(t - r.mean_torque) / t_max)
            ep.append(math.hypot(pd - r.psi_d.mean(), pq - r.psi_q.mean()) /
                      math.hypot(r.psi_d.mean(), r.psi_q.mean()))  # fmt: skip
        print(f"{label:8s} {fm.n_points:6d} {100 * max(et):9.3f}% {100 * np.mean(et):9.3f}% "
              f"{100 * max(ep):10.3f}%")  # fmt: skip
        if fm.refined:
            print("         split: " + "; ".join(
                f"{c['axis']} {c['lo']:g}..{c['hi']:g} A" for c in fm.refined))  # fmt: skip


if __name__ == "__main__":
    main()
