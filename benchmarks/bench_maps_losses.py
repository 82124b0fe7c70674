"""Loss map of the Prius: interpolation error (cubic vs linear) and spin loss vs ORNL.

1. A small prius_2004 ``ci`` map over (i_d, i_q) built here with ``run_case(...,
   keep_fields=True)`` and :func:`pipeline.maps.losses.point_losses` (positions over half an
   electrical period), wrapped in :class:`pipeline.maps.model.MachineMap` with cubic and
   linear interpolation; held-out points between the nodes are solved directly and the
   errors of torque, psi_d, psi_q and the stator iron loss at 3000 rpm are printed.
2. Open circuit: iron per region, magnet and mechanical loss vs speed against the measured
   spin loss of the unpowered MG2 rotor (ORNL/TM-2004/247 Table 3.7, copied in
   ``pipeline/drive/data/ornl_prius_2004_loss_breakdown_25C.csv``).
3. Wall time of point_losses per map point, MachineMap evaluation rate.

Run: python benchmarks/bench_maps_losses.py [n_grid] [positions]   (one core, ~1-2 min)
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, tests/ included

from pipeline.design import load_design  # noqa: E402
from pipeline.em.machine import run_case  # noqa: E402
from pipeline.maps.losses import iron_fit_report, point_losses  # noqa: E402
from pipeline.maps.model import MachineMap  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REGIONS = ("iron_stator_teeth", "iron_stator_yoke", "iron_rotor")


def solve(design, i_d, i_q, positions):
    res = run_case(design, i_d, i_q, positions=positions, span_el=math.pi, keep_fields=True)
    t0 = time.perf_counter()
    values = point_losses(res, design)
    dt = time.perf_counter() - t0
    values["torque"] = (res.mean_torque, "N m", "mean torque")
    values["psi_d"] = (float(np.mean(res.psi_d)), "Wb", "psi_d")
    values["psi_q"] = (float(np.mean(res.psi_q)), "Wb", "psi_q")
    values["torque_ripple"] = (res.ripple, "1", "ripple")
    return values, dt, float(np.sum(res.solve_time))


def build_map(design, n, positions):
    i_max = design.ratings.max_phase_current
    i_d = np.linspace(-i_max, 0.0, n)
    i_q = np.linspace(0.0, i_max, n)
    data, t_pl, t_fe = {}, [], []
    for a, d in enumerate(i_d):
        for b, q in enumerate(i_q):
            v, dt, fe = solve(design, d, q, positions)
            t_pl.append(dt)
            t_fe.append(fe)
            for name, (value, units, long_name) in v.items():
                if name not in data:
                    data[name] = (np.full((n, n), np.nan), units, long_name)
                data[name][0][a, b] = value
    ds = xr.Dataset(
        {k: (("i_d", "i_q"), v, {"units": u, "long_name": ln}) for k, (v, u, ln) in data.items()},
        coords={"i_d": i_d, "i_q": i_q},
        attrs={"design": design.name},
    )
    return ds, float(np.mean(t_pl)), float(np.mean(t_fe))


def iron(model, i_d, i_q, speed):
    loss = model.losses(i_d, i_q, 0.0, speed)
    return sum(loss[k] for k in REGIONS)


def main(n=6, positions=24):
    design = load_design("prius_2004")
    rep = iron_fit_report(design)["stator"]
    print(
        f"steel {rep['material']} ({rep['loss_table']}): Bertotti rms/max relative error "
        f"{rep['bertotti']['rms_relative_error']:.3f}/{rep['bertotti']['max_relative_error']:.3f}"
        f" (alpha {rep['bertotti']['alpha']:.3f}); Steinmetz "
        f"{rep['steinmetz']['rms_relative_error']:.3f}/{rep['steinmetz']['max_relative_error']:.3f}"
    )
    cache = ROOT / "results/bench_maps_losses" / f"prius_ci_{n}x{n}_{positions}.nc"
    if cache.exists():
        ds = MachineMap.load(cache, design).dataset
        print(f"map {n}x{n} x {positions} positions over pi: reused {cache}")
    else:
        t0 = time.perf_counter()
        ds, t_pl, t_fe = build_map(design, n, positions)
        print(
            f"map {n}x{n} x {positions} positions over pi: {time.perf_counter() - t0:.1f} s; "
            f"FE {t_fe:.2f} s and point_losses {t_pl * 1e3:.0f} ms per point"
        )
        MachineMap.from_dataset(ds, design).save(cache)
    maps = {
        m: MachineMap.from_dataset(ds, design, method=m, loss_method=m) for m in ("cubic", "linear")
    }
    i_max = design.ratings.max_phase_current
    h = i_max / (n - 1)
    rng = np.random.default_rng(5)
    held = [
        (-(a + 0.5) * h + rng.uniform(-0.2, 0.2) * h, (b + 0.5) * h + rng.uniform(-0.2, 0.2) * h)
        for a, b in rng.integers(0, n - 1, size=(8, 2))
    ]
    speed = 3000 * 2 * math.pi / 60
    t_max = float(np.nanmax(np.abs(ds["torque"])))
    f = design.pole_pairs * speed / (2 * math.pi)
    psi_max = float(np.nanmax(np.hypot(ds["psi_d"], ds["psi_q"])))
    err = {m: {"torque": [], "psi": [], "iron": []} for m in maps}
    print("held-out point (i_d, i_q) [A]: direct torque [N m], psi_d, psi_q [Wb], iron [W]")
    print("   and interpolation errors cubic / linear")
    for i_d, i_q in held:
        v, _, _ = solve(design, i_d, i_q, positions)
        direct_iron = sum(
            v[f"{k}_c_h"][0] * f + v[f"{k}_c_e"][0] * f**2 + v[f"{k}_c_a"][0] * f**1.5
            for k in REGIONS
        )
        line = []
        for m, model in maps.items():
            pd, pq, _ = model.flux(i_d, i_q)
            e_t = abs(model.torque(i_d, i_q) - v["torque"][0]) / t_max
            e_p = math.hypot(pd - v["psi_d"][0], pq - v["psi_q"][0]) / psi_max
            e_i = abs(iron(model, i_d, i_q, speed) / direct_iron - 1)
            for key, e in (("torque", e_t), ("psi", e_p), ("iron", e_i)):
                err[m][key].append(float(e))
            line.append(f"T {100 * e_t:.2f} % psi {100 * e_p:.2f} % iron {100 * e_i:.2f} %")
        print(
            f"  ({i_d:7.1f}, {i_q:6.1f}): {v['torque'][0]:6.1f} {v['psi_d'][0]:7.4f} "
            f"{v['psi_q'][0]:7.4f} {direct_iron:6.1f} | " + " / ".join(line)
        )
    print(f"held-out ({len(held)} points between nodes): max error")
    for m in maps:
        e = {k: 100 * float(np.max(v)) for k, v in err[m].items()}
        print(
            f"  {m:6s}: torque {e['torque']:.2f} % of max |T| ({t_max:.0f} N m), "
            f"psi_dq {e['psi']:.2f} % of max |psi_dq| ({psi_max:.3f} Wb), "
            f"stator+rotor iron at 3000 rpm {e['iron']:.2f} %"
        )

    print("open circuit (direct solve, i = 0) vs ORNL measured spin loss of the unpowered rotor:")
    oc, _, _ = solve(design, 0.0, 0.0, positions)
    text = (ROOT / "pipeline/drive/data/ornl_prius_2004_loss_breakdown_25C.csv").read_text()
    rows = [r.split(",") for r in text.splitlines() if r and not r.startswith(("#", "speed"))]
    table = np.array(rows, dtype=float)
    model = maps["cubic"]
    print("  rpm   teeth   yoke  rotor magnet   mech  total | ORNL   ratio   (MSE iron)")
    for rpm, measured in zip(table[:, 0], table[:, 2], strict=True):
        w = rpm * 2 * math.pi / 60
        fe = design.pole_pairs * w / (2 * math.pi)
        parts = [
            oc[f"{k}_c_h"][0] * fe + oc[f"{k}_c_e"][0] * fe**2 + oc[f"{k}_c_a"][0] * fe**1.5
            for k in REGIONS
        ]
        parts += [oc["magnet_c_e"][0] * fe**2, float(model.mechanical_loss(w))]
        mse = sum(
            oc[f"{k}_k_mse"][0]
            * fe ** oc["iron_rotor_mse_alpha" if k == "iron_rotor" else "iron_stator_mse_alpha"][0]
            for k in REGIONS
        )
        total = sum(parts)
        print(
            f"  {rpm:4.0f} "
            + " ".join(f"{x:6.1f}" for x in parts)
            + f" {total:6.1f} | {measured:5.1f}  {total / measured:5.2f}   ({mse:6.1f})"
        )

    pts = np.random.default_rng(1).uniform([-i_max, 0], [0, i_max], size=(100_000, 2))
    t0 = time.perf_counter()
    model.losses(pts[:, 0], pts[:, 1], 0.0, speed)
    model.torque(pts[:, 0], pts[:, 1])
    dt = time.perf_counter() - t0
    print(f"MachineMap: losses + torque at 1e5 points in {dt:.2f} s ({1e5 / dt:.0f} points/s)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
