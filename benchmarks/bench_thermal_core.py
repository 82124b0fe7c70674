"""Time the thermal FE core on a ~20k-node annulus (P1): assembly, steady solve, transient
solve (BDF2, 100 steps, one factorisation). Prints figures; not a test.

Run: python benchmarks/bench_thermal_core.py [--size 0.0012] [--steps 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, tests/ included

from pipeline.thermal.meshes import concentric_mesh
from pipeline.thermal.solver import assemble_thermal, solve_steady, solve_transient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=float, default=0.0012, help="element size [m]")
    parser.add_argument("--steps", type=int, default=100, help="transient steps")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    mesh = concentric_mesh([0.05, 0.08, 0.10], args.size)
    t_mesh = time.perf_counter() - t0
    k = {"layer_0": 30.0, "layer_1": 200.0}
    q = {"layer_0": 1e6, "layer_1": 0.0}
    rho_c = {"layer_0": 3.6e6, "layer_1": 2.4e6}
    robin = [("circle_2", 2000.0, 330.0), ("circle_0", 50.0, 350.0)]
    print(f"mesh: {mesh.p.shape[1]} nodes, {mesh.t.shape[1]} elements, gmsh {t_mesh:.2f} s")

    def best(fn):
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        return min(times), out

    t_asm, _ = best(lambda: assemble_thermal(mesh, k, q, robin, rho_c=rho_c))
    t_steady, sol = best(lambda: solve_steady(mesh, k, q, robin))
    print(f"assembly (K, M, loads):         {t_asm * 1e3:8.1f} ms")
    print(f"steady solve (incl. assembly):  {t_steady * 1e3:8.1f} ms")
    print(f"  imbalance {sol.balance.imbalance:.2e} W/m of {sol.balance.generated:.4g} W/m")
    t_tr, tr = best(
        lambda: solve_transient(
            mesh,
            k,
            rho_c,
            q,
            robin,
            dt=1.0,
            t_end=float(args.steps),
            T0=330.0,
            save_every=args.steps,
        )  # fmt: skip
    )
    print(
        f"transient, {args.steps} BDF2 steps:     {t_tr * 1e3:8.1f} ms "
        f"({t_tr / args.steps * 1e3:.2f} ms/step incl. assembly and per-step balance)"
    )
    print(f"  max |imbalance| {np.max(np.abs(tr.imbalance)):.2e} W/m")
    try:
        import sksparse.cholmod  # noqa: F401

        print("direct solver: CHOLMOD")
    except ImportError:
        print("direct solver: SuperLU")


if __name__ == "__main__":
    main()
