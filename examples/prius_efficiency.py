"""Prius 2004: flux and loss map, then motor and drive-unit efficiency maps and the WLTC
energy (what ``edrive map prius_2004`` does), in this process (no Dask cluster).

    python examples/prius_efficiency.py            # 15 x 15 map, 100 x 100 efficiency grid
    EDRIVE_EXAMPLE_SMALL=1 python examples/prius_efficiency.py   # 4 x 3 map (tests)
"""

import os
from pathlib import Path

import pipeline.api as edrive

small = os.environ.get("EDRIVE_EXAMPLE_SMALL") == "1"

prius = edrive.load_design("prius_2004")
fm = edrive.flux_map(
    prius, grid=(4, 3) if small else None, held_out=0 if small else 6, scheduler="synchronous"
)
pictures = fm.plot()  # flux.png, losses.png (over the current plane), as `edrive map`
grid = dict(n_speed=12, n_torque=12, cycle_exact=False) if small else {}
eff = edrive.efficiency_map(fm, **grid)  # also writes efficiency.nc and its pictures
pictures += [Path(p) for p in eff.summary["pictures"]]  # eff.plot() would redraw them

s = eff.summary
print(f"peak_motor_efficiency = {s['peak_motor_efficiency']:.9g}")
print(f"max_torque_Nm = {s['max_torque_Nm']:.9g}")
print(f"wltc_kWh_per_100km = {s['wltc_kWh_per_100km']:.9g}")
print(f"dataset = {s['dataset']}")
print(f"pictures = {len(pictures)}")
