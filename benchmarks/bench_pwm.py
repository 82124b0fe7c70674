"""Extra cost of the PWM (inverter-fed) losses in an efficiency map.

Times, on one machine model, (a) the sinusoidal efficiency computation (loss-minimising
strategy on the n x n (speed, torque) grid, drive-unit maps, WLTC losses solved at every
sample; no pictures, no files) and (b) what the inverter-fed map adds: the ripple tables
(built once per process and scheme; reported separately), the incremental inductances,
ripple spectra and PWM losses on the grid and at the cycle samples, and for a
finite-element map the three magnetostatic solves of the flux paths (mesh cached). The issue's target:
(b) below 10 % of the map's time; the map also includes the finite-element flux stage
(``--flux-seconds``, default 84 s: the Prius ci flux and loss map on 2 cores, README), so
both ratios are printed: against the efficiency computation alone and against the map.

    OMP_NUM_THREADS=1 python benchmarks/bench_pwm.py [--map results/maps/prius_2004-ci/flux.nc]
        [--n 100] [--flux-seconds 84] [--json]

Without a flux map file it uses the synthetic saturating Prius-like map of
:func:`pipeline.verification.pwm_cases.saturating_map`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, tests/ included

from pipeline.drive.cycle import cycle_operating_points, load_wltc_class3b
from pipeline.drive.gearbox import Gearbox
from pipeline.drive.pwm import ripple_table
from pipeline.drive.vehicle import load_vehicle
from pipeline.maps.efficiency import (
    EfficiencyOptions,
    cycle_results,
    drive_unit_maps,
    matched_vehicle,
)
from pipeline.maps.points import operating_points
from pipeline.maps.pwm import pwm_extra, pwm_settings, with_fe_paths
from pipeline.maps.strategy import operating_strategy


def _model(path: str | None):
    if path and Path(path).exists():
        from pipeline.maps.model import MachineMap

        return MachineMap.load(path), path
    from pipeline.verification.pwm_cases import saturating_map

    return saturating_map(), "synthetic saturating Prius-like map"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--map", default="results/maps/prius_2004-ci/flux.nc")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--flux-seconds", type=float, default=84.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    model, source = _model(args.map)
    design = model.design
    settings = pwm_settings(design)
    opt = EfficiencyOptions(n_speed=args.n, n_torque=args.n, current_waveform="sinusoidal")
    vehicle = matched_vehicle(load_vehicle(opt.vehicle), model.max_speed)
    gearbox = Gearbox(ratio=vehicle.gear_ratio)

    t0 = time.perf_counter()
    strategy = operating_strategy(model, opt.strategy_options())
    maps = drive_unit_maps(strategy, model.dc_link_voltage, gearbox, opt)
    cycle_results(strategy, maps, vehicle, model=model, gearbox=gearbox, options=opt)
    t_sin = time.perf_counter() - t0

    t0 = time.perf_counter()
    ripple_table.cache_clear()
    ripple_table(settings.modulation)
    t_table = time.perf_counter() - t0

    ops = cycle_operating_points(vehicle, load_wltc_class3b())
    pts = operating_points(model, ops.omega_motor, ops.torque_motor, opt.strategy_options())
    t0 = time.perf_counter()
    settings = with_fe_paths(settings, design, model, opt.magnet_temperature)
    t_paths = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = strategy
    grid = pwm_extra(
        model,
        design,
        s.i_d,
        s.i_q,
        s.i_f,
        s.v_d,
        s.v_q,
        s.speed[:, None],
        settings,
        opt.winding_temperature,
    )
    pwm_extra(
        model,
        design,
        pts["i_d"],
        pts["i_q"],
        pts["i_f"],
        pts["v_d"],
        pts["v_q"],
        ops.omega_motor,
        settings,
        opt.winding_temperature,
    )
    t_pwm = time.perf_counter() - t0
    extra = t_pwm + t_table + t_paths
    out = {
        "model": source,
        "grid": f"{args.n} x {args.n}",
        "cycle_samples": int(ops.omega_motor.size),
        "sinusoidal_efficiency_s": t_sin,
        "pwm_tables_s": t_table,
        "fe_flux_paths_s": t_paths,
        "pwm_losses_s": t_pwm,
        "share_of_efficiency_computation": extra / t_sin,
        "share_of_map_with_flux_stage": extra / (t_sin + args.flux_seconds),
        "pwm_loss_W_max_on_grid": {
            k: float(np.nanmax(v)) for k, v in grid.items() if k.startswith("pwm_")
        },
    }
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for k, v in out.items():
            print(f"{k:34s} {v:.4g}" if isinstance(v, float) else f"{k:34s} {v}")
    return out


if __name__ == "__main__":
    main()
