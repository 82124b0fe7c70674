"""Speed and mesh convergence of one motor operating point (prints figures; not a test).

Per design (prius_2004, gen5_eesm, zoe_eesm) and mesh level (ci, fine): unknowns, Newton
iterations, Jacobian factorisations, CPU time per nonlinear solve over a 12-position sweep
(60 el. deg) with warm starts and the cached sparsity pattern / symbolic factorisation,
solves per second, the ratio to a naive fresh solve at each position (cold start from
A = 0 and a new pattern + symbolic analysis, i.e. the solver's pattern cache cleared), and
for the Prius the issue 16 figure, its target and the ratio now/target.

The sweep is timed as a flux map meets it: five sweeps along a row of i_q values one map
step apart (``max_phase_current / 7``, a 15-point i_q axis over +-I), after one sweep at
the step before the row. The solver then starts each position from its solution at the
previous current (``across_solves``, :class:`pipeline.em.solver.MagnetostaticSolver`); the
reference measured in the same run is the same row with ``across_solves=False`` (every
solve on its own, the algorithm of the issue 16 "then" figures), and the ratio of the two
is the steadier figure on a shared machine. Then the mean
torque and psi_d at the rated point on ci, fine and a finer reference mesh ("xfine",
built with smaller size factors through geometries.settings.MeshSettings), with the
errors of ci and fine against it and a Richardson estimate of the converged value.

Rated point (documented choice): i_q = 250 A peak for the Prius 2004 (ORNL: 325 A peak at
the 400 N m peak; 250 A = 77 % of it), and the same 77 % of ``max_phase_current`` for the
EESMs with i_f = ``max_field_current``; i_d = 0.

Run: python benchmarks/bench_em_case.py [design ...] [--no-ref]   (one core, ~2-4 min)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geometries.settings import MeshSettings  # noqa: E402
from pipeline.design import load_design  # noqa: E402
from pipeline.em.machine import machine_model, run_case, solve_position  # noqa: E402
from pipeline.em.park import abc_from_dq  # noqa: E402

DESIGNS = ("prius_2004", "gen5_eesm", "zoe_eesm")
#: issue 16 (2026-12-04): s per nonlinear position in a 12-position sweep, (figure then,
#: target), measured with this benchmark on the 2-core machine before the speed work
ISSUE16 = {("prius_2004", "ci"): (0.030, 0.015), ("prius_2004", "fine"): (0.167, 0.08)}
POSITIONS = 12
RATED_FRACTION = 250.0 / 325.0
#: reference mesh: about 2.7x the fine level's unknowns (Prius: 29.8k vs 11.1k)
REFERENCE = MeshSettings(
    level="xfine",
    gap_layers=9,
    gap_aspect=1.0,
    slot_pitch_divisions=10.0,
    growth=0.1,
    curvature_divisions=144,
)


def rated_point(name: str) -> tuple[float, float, float]:
    d = load_design(name)
    if name == "prius_2004":
        return 0.0, 250.0, 0.0
    i_f = d.ratings.max_field_current if d.kind == "eesm" else 0.0
    return 0.0, round(RATED_FRACTION * d.ratings.max_phase_current), i_f


def _row(m, ks, i_d: float, i_qs, i_f: float, across: bool) -> tuple[list, list, list]:
    """CPU time, Newton steps and factorisations per position over sweeps at ``i_qs``."""
    m.solver.across_solves = across
    for pat in m.solver._cache.values():  # nothing kept from an earlier row
        pat.last_a, pat.last_seq, pat.last_j = None, -1, None
    m.solver._chain = None
    t, it, fac = [], [], []
    for n, i_q in enumerate(i_qs):
        a = None
        for k in ks:
            i_abc = abc_from_dq(i_d, i_q, m.theta_el(k))
            t0 = time.process_time()  # CPU: steadier than wall time on a shared machine
            res = solve_position(m, k, i_abc, i_f, a0=a)
            if n:  # the first sweep only starts the row
                t.append(time.process_time() - t0)
                it.append(res.iterations)
                fac.append(res.factorizations)
            a = res.a
    m.solver.across_solves = True
    return t, it, fac


def sweep_timing(name: str, level, i_d: float, i_q: float, i_f: float) -> dict:
    m = machine_model(name, level)
    step = max(1, int(round(np.pi / 3 / POSITIONS / (m.design.pole_pairs * m.interface.pitch))))
    ks = [int(k) for k in m.k0 + step * np.arange(POSITIONS)]
    n_red = m.constraints(ks[0]).n_reduced
    di = m.design.ratings.max_phase_current / 7
    i_qs = [i_q + j * di for j in range(-3, 3)]
    _row(m, ks, i_d, i_qs[:2], i_f, False)  # fills the pattern cache (any later sweep has it)
    ref_t, ref_it, ref_f = _row(m, ks, i_d, i_qs, i_f, False)
    warm_t, warm_it, warm_f = _row(m, ks, i_d, i_qs, i_f, True)
    cold_t, cold_it = [], []
    currents = [abc_from_dq(i_d, i_q, m.theta_el(k)) for k in ks]
    for k, i in zip(ks, currents, strict=True):
        m.solver._cache.clear()  # naive: new pattern and symbolic factorisation
        m._constraints.clear()  # and new constraints
        t0 = time.process_time()
        res = solve_position(m, k, i, i_f, a0=None)
        cold_t.append(time.process_time() - t0)
        cold_it.append(res.iterations)
    return {
        "dofs": m.solver.ndof,
        "unknowns": n_red,
        "backend": m.solver.backend,
        "warm_s": float(np.mean(warm_t)),
        "warm_it": float(np.mean(warm_it)),
        "warm_factor": float(np.mean(warm_f)),
        "ref_s": float(np.mean(ref_t)),
        "ref_it": float(np.mean(ref_it)),
        "ref_factor": float(np.mean(ref_f)),
        "step_A": di,
        "cold_s": float(np.mean(cold_t)),
        "cold_it": float(np.mean(cold_it)),
    }


def main(argv: list[str]) -> None:
    names = [a for a in argv if not a.startswith("--")] or list(DESIGNS)
    with_ref = "--no-ref" not in argv
    print(f"one core (OMP/OPENBLAS threads = {os.environ['OMP_NUM_THREADS']}), "
          f"{POSITIONS} positions over 60 el. deg, Newton tol 1e-8; s/solve over 5 sweeps "
          "along an i_q row (map step), reference = the same row solved without "
          "across_solves in this run")  # fmt: skip
    print(
        f"{'design':11s} {'level':5s} {'unknowns':>8s} {'backend':>8s} {'Newton':>6s} "
        f"{'factor':>6s} {'s/solve':>8s} {'solves/s':>8s} {'ref Newton':>10s} {'ref s':>7s} "
        f"{'now/ref':>7s} {'naive s':>8s} {'speed-up':>8s}  issue 16: then, target, now/target"
    )
    conv = {}
    for name in names:
        i_d, i_q, i_f = rated_point(name)
        for level in ("ci", "fine"):
            t = sweep_timing(name, level, i_d, i_q, i_f)
            ref = ISSUE16.get((name, level))
            vs = f"  {ref[0]:.3f} s, {ref[1]:.3f} s, {t['warm_s'] / ref[1]:.2f}" if ref else ""
            print(
                f"{name:11s} {level:5s} {t['unknowns']:8d} {t['backend']:>8s} "
                f"{t['warm_it']:6.1f} {t['warm_factor']:6.1f} {t['warm_s']:8.4f} "
                f"{1 / t['warm_s']:8.1f} {t['ref_it']:10.1f} {t['ref_s']:7.4f} "
                f"{t['warm_s'] / t['ref_s']:7.2f} {t['cold_s']:8.3f} "
                f"{t['cold_s'] / t['warm_s']:7.2f}x{vs}"
            )
        rows = {}
        for level in ("ci", "fine") + ((REFERENCE,) if with_ref else ()):
            t0 = time.perf_counter()
            r = run_case(name, i_d, i_q, i_f, positions=POSITIONS, level=level)
            s = r.summary()
            rows[r.level] = (r.mean_torque, s["psi_d_Wb"], s["psi_q_Wb"], time.perf_counter() - t0)
        conv[name] = ((i_d, i_q, i_f), rows)
    print("\nmean torque and psi_d at the rated point (12 positions), errors vs the reference")
    for name, ((i_d, i_q, i_f), rows) in conv.items():
        ref_key = "xfine" if "xfine" in rows else "fine"
        t_ref, psi_ref = rows[ref_key][0], rows[ref_key][1]
        t_rich = None
        if ref_key == "xfine":  # Richardson from the three levels (geometric refinement)
            t1, t2, t3 = rows["ci"][0], rows["fine"][0], rows["xfine"][0]
            if (t2 - t3) != 0 and (t1 - t2) / (t2 - t3) > 1:
                t_rich = t3 - (t2 - t3) / ((t1 - t2) / (t2 - t3) - 1)
        print(f"{name} (i_d {i_d:g} A, i_q {i_q:g} A, i_f {i_f:g} A), reference = {ref_key}")
        for lvl, (tq, psd, psq, dt) in rows.items():
            extra = f", vs Richardson {100 * (tq / t_rich - 1):+.3f} %" if t_rich else ""
            print(
                f"  {lvl:5s} T {tq:9.3f} N m ({100 * (tq / t_ref - 1):+.3f} %{extra})  "
                f"psi_d {psd:.5f} Wb ({100 * (psd / psi_ref - 1):+.3f} %)  psi_q {psq:.5f} Wb"
                f"  [case {dt:.1f} s]"
            )
        if t_rich:
            print(f"  Richardson-extrapolated torque {t_rich:.3f} N m")
        tc, tf = rows["ci"][0], rows["fine"][0]
        print(f"  ci vs fine: torque {100 * (tc / tf - 1):+.3f} %, psi_d "
              f"{100 * (rows['ci'][1] / rows['fine'][1] - 1):+.3f} %")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
