"""One operating point of the Prius 2004 motor: torque, flux linkages, back-EMF and a
field picture (what ``edrive case`` does).

    python examples/single_case.py            # 24 rotor positions
    EDRIVE_EXAMPLE_SMALL=1 python examples/single_case.py   # 4 positions (tests)
"""

import os

import pipeline.api as edrive

small = os.environ.get("EDRIVE_EXAMPLE_SMALL") == "1"

prius = edrive.load_design("prius_2004")
case = edrive.run_case(prius, i_d=-100.0, i_q=200.0, speed_rpm=3000.0, positions=4 if small else 24)
picture = case.plot()

s = case.summary()
print(f"torque_Nm = {case.torque:.9g}")
print(f"psi_d_Wb = {s['psi_d_Wb']:.9g}")
print(f"psi_q_Wb = {s['psi_q_Wb']:.9g}")
print(f"picture = {picture}")
