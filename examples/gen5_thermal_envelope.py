"""BMW Gen 5 EESM: flux and loss map, then the continuous and 30 s peak torque envelopes
limited by the winding, field and bearing temperatures (``edrive thermal --envelope``).

    python examples/gen5_thermal_envelope.py            # 11 x 11 x 6 map, 8 speeds
    EDRIVE_EXAMPLE_SMALL=1 python examples/gen5_thermal_envelope.py   # 3 x 2 x 2 map, 1 speed
"""

import math
import os

import pipeline.api as edrive

small = os.environ.get("EDRIVE_EXAMPLE_SMALL") == "1"

gen5 = edrive.load_design("gen5_eesm")
fm = edrive.flux_map(
    gen5, grid=(3, 2, 2) if small else None, held_out=0 if small else 6, scheduler="synchronous"
)
env = edrive.thermal_envelope(fm, speeds_rpm=[4000.0] if small else None, coolant_C=65.0)
fm.save()  # results/maps/gen5_eesm-ci/flux.nc, where `edrive thermal` finds it
picture = env.plot()

for n, tc, tp, te in zip(
    env.speed * 30 / math.pi, env.continuous_torque, env.peak_torque, env.em_torque, strict=True
):
    print(f"speed_rpm = {n:.6g}: continuous_Nm = {tc:.6g}, peak_Nm = {tp:.6g}, em_Nm = {te:.6g}")
print(f"picture = {picture}")
