"""Calibrate the Prius 2004 magnet remanence to an open-circuit back-EMF measurement
(``edrive calibrate``); the data file is examples/data/prius_emf_example.toml.

    python examples/calibration.py
    EDRIVE_EXAMPLE_SMALL=1 python examples/calibration.py   # at most 6 evaluations (tests)
"""

import os
from pathlib import Path

import pipeline.api as edrive

small = os.environ.get("EDRIVE_EXAMPLE_SMALL") == "1"
data = Path(__file__).parent / "data" / "prius_emf_example.toml"

fit = edrive.calibrate(
    "prius_2004", data, scheduler="synchronous", max_evaluations=6 if small else 30
)
picture = fit.plot()

r = fit.result
print(f"remanence_start_T = {r.start[0]:.9g}")
print(f"remanence_fitted_T = {r.fitted[0]:.9g} +- {r.uncertainty[0]:.3g}")
print(f"emf_before_V = {r.before['emf_1000rpm']:.9g}")
print(f"emf_after_V = {r.after['emf_1000rpm']:.9g}")
print(f"picture = {picture}")
