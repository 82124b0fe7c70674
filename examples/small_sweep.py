"""An operating-point sweep of the Prius 2004 on a given scheduler (``edrive sweep``).

    python examples/small_sweep.py                      # in this process ("synchronous")
    python examples/small_sweep.py tcp://host:8786      # on an existing Dask scheduler
    EDRIVE_EXAMPLE_SMALL=1 python examples/small_sweep.py   # 2 points, 4 positions (tests)

The scheduler can also be ``local`` (a LocalCluster of this machine's cores).
"""

import os
import sys

import pipeline.api as edrive
from pipeline.workflow import make_workflow

small = os.environ.get("EDRIVE_EXAMPLE_SMALL") == "1"
scheduler = sys.argv[1] if len(sys.argv) > 1 else "synchronous"

i_q = [50.0, 150.0] if small else [50.0, 100.0, 150.0, 200.0, 250.0, 300.0]
points = [{"i_d_A": 0.0, "i_q_A": q, "positions": 4 if small else 12} for q in i_q]
wf = make_workflow(
    "example_sweep", edrive.load_design("prius_2004"), "ci", "case", points, dims=["i_q_A"]
)
result = edrive.sweep(wf, scheduler=None if scheduler == "local" else scheduler)

ds = result.to_dataset()
for q, t in zip(ds["i_q_A"].values, ds["torque"].values, strict=True):
    print(f"i_q_A = {q:g}: torque_Nm = {t:.9g}")
print(f"picture = {result.plot('torque')}")
