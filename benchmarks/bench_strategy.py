"""Time of the operating strategy + map step on a 100 x 100 (speed, torque) grid.

Models: LinearMachine (PM and EESM, closed-form evaluations) and, when
``pipeline.maps.model.MachineMap`` imports, the interpolated model built from a synthetic
flux/loss map of gen5_eesm size (i_d x i_q x i_f = 17 x 17 x 6 nodes, cubic and linear
interpolation, iron loss coefficients per region). Target: < 30 s per model.

    OMP_NUM_THREADS=1 python3 benchmarks/bench_strategy.py [--n 100] [--json] [--map flux.nc]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, tests/ included

from pipeline.drive.gearbox import Gearbox
from pipeline.maps.efficiency import EfficiencyOptions, drive_unit_maps
from pipeline.maps.strategy import operating_strategy
from tests.linear_machine import GEN5_LIKE, IPM_LIKE, LinearMachine

GEN5 = GEN5_LIKE | dict(mechanical=(0.05, 2e-4, 1e-7))
PM = IPM_LIKE | dict(iron_hysteresis=2.0, iron_eddy=3e-3, psi_ref=0.1)


def synthetic_map(n_dq: int = 17, n_f: int = 6):
    """Flux/loss Dataset over (i_d, i_q, i_f) from the gen5-like linear model with a mild
    saturation factor; iron coefficients scale with |psi|^2 (module docstring)."""
    import xarray as xr

    lm = LinearMachine(**GEN5)
    i_d = np.linspace(-850, 850, n_dq)
    i_q = np.linspace(-850, 850, n_dq)
    i_f = np.linspace(0, 25, n_f)
    d, q, f = np.meshgrid(i_d, i_q, i_f, indexing="ij")
    pd, pq, pf = lm.flux(d, q, f)
    sat = (1 + (pd**2 + pq**2) / 0.16**2) ** -0.15
    pd, pq = pd * sat, pq * sat
    dims = ("i_d", "i_q", "i_f")
    data = {
        "psi_d": (dims, pd),
        "psi_q": (dims, pq),
        "psi_f": (dims, pf),
        "torque": (dims, 1.5 * 3 * (pd * q - pq * d)),
    }
    b2 = (pd**2 + pq**2) / 0.12**2
    for region, share in (
        ("iron_stator_teeth", 0.5),
        ("iron_stator_yoke", 0.35),
        ("iron_rotor", 0.15),
    ):
        data[f"{region}_c_h"] = (dims, share * 1.5 * b2)
        data[f"{region}_c_e"] = (dims, share * 2e-3 * b2)
        data[f"{region}_c_a"] = (dims, share * 1e-2 * b2)
    return xr.Dataset(
        data, coords={"i_d": i_d, "i_q": i_q, "i_f": i_f}, attrs={"design": "gen5_eesm"}
    )


def bench(model, n: int) -> dict:
    opt = EfficiencyOptions(n_speed=n, n_torque=n)
    t0, c0 = time.perf_counter(), time.process_time()
    res = operating_strategy(model, opt.strategy_options())
    t1 = time.perf_counter()
    maps = drive_unit_maps(res, model.dc_link_voltage, Gearbox(ratio=10.0), opt)
    t2, c2 = time.perf_counter(), time.process_time()
    return {
        "strategy_s": t1 - t0,
        "maps_s": t2 - t1,
        "total_s": t2 - t0,
        "cpu_s": c2 - c0,
        "points_valid": int(np.isfinite(res.i_d).sum()),
        "max_torque_Nm": float(np.nanmax(res.torque_max)),
        "max_power_kW": float(np.nanmax(res.torque_max * res.speed)) / 1e3,
        "peak_motor_efficiency": float(np.nanmax(maps.motor_efficiency)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="speed and torque grid size")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="NC",
        help="also time a MachineMap loaded from this flux-map NetCDF",
    )
    args = parser.parse_args()
    models = {"linear_pm": LinearMachine(**PM), "linear_eesm": LinearMachine(**GEN5)}
    try:
        from pipeline.maps.model import MachineMap

        ds = synthetic_map()
        for method in ("linear", "cubic"):
            models[f"machine_map_{method}"] = MachineMap(ds, "gen5_eesm", method=method)
        for path in args.map:
            m = MachineMap.load(path)
            models[f"fe_{m.name}"] = m
    except ImportError as exc:  # pragma: no cover
        print(f"MachineMap unavailable: {exc}")
    out = {}
    for name, model in models.items():
        out[name] = r = bench(model, args.n)
        if not args.json:
            print(
                f"{name:22s} {args.n}x{args.n}: strategy {r['strategy_s']:6.2f} s, "
                f"maps {r['maps_s']:5.2f} s, total {r['total_s']:6.2f} s "
                f"(CPU {r['cpu_s']:6.2f} s) "
                f"(target 30 s: {30.0 / r['total_s']:5.1f}x margin); "
                f"T_max {r['max_torque_Nm']:.0f} N m, P_max {r['max_power_kW']:.0f} kW, "
                f"eta_max {r['peak_motor_efficiency']:.4f}"
            )
    if args.json:
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
