"""Golden quantities of the later stages at one continuous operating point: loss
components, electromagnetic efficiency and hot-spot temperatures.

The point (stored in the golden file as ``loss_point``): currents of about a third of the
ratings (PM: (i_d, i_q) = (-0.15, 0.35) I_max; EESM: (0, 0.35 I_max) at 0.7 I_f,max),
speed a quarter of the maximum (rounded to 500 rpm), windings at 100 degC for the copper
resistance, coolant 65 degC at 10 l/min. One FE case over half an electrical period
(``LOSS_POSITIONS`` positions, the resolution :mod:`pipeline.maps.losses` asks for to
resolve the slot harmonics seen by the rotor) gives:

- ``continuous.torque_mean``, ``psi_d``, ``psi_q`` (and ``psi_f``) of that point;
- ``continuous.loss_<component>`` [W]: iron per region (harmonic Bertotti coefficients of
  :func:`pipeline.maps.losses.point_losses` at f = p n / 60), magnet eddy currents, stator
  copper ``3/2 R_dc(T) (i_d^2 + i_q^2)`` and field copper ``R_f(T) i_f^2``
  (:func:`pipeline.derived.phase_resistance_dc`, ``field_resistance_dc``; DC: no AC
  factor, no brushes, no mechanical losses);
- ``continuous.efficiency_em`` [-]: T omega / (T omega + the losses above);
- ``continuous.hot_spot_<part>`` [K]: steady hot spots of
  :class:`pipeline.thermal.machine.MachineThermalModel` with those losses (fixed, not
  coupled), so a thermal-model change shows up apart from a loss-model change.

A stage whose code is missing contributes nothing (its quantities are then not in a new
golden file); a stage that raises is logged and its quantities are missing, which fails
the comparison with the stored golden values.
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from geometries.settings import MeshSettings
from pipeline.constants import ZERO_CELSIUS
from pipeline.derived import field_resistance_dc, phase_resistance_dc
from pipeline.design import Design
from pipeline.em.machine import run_case
from pipeline.maps.losses import losses_at_frequency, point_losses
from pipeline.mesh import get_mesh
from pipeline.thermal.machine import Cooling, MachineThermalModel

__all__ = ["EXTRA_UNITS", "EXTRA_PREFIX", "LOSS_POSITIONS", "loss_point", "extra_quantities"]

log = logging.getLogger(__name__)

#: unit of each extra quantity family (the part of the name after the point)
EXTRA_UNITS: dict[str, str] = {"loss": "W", "efficiency_em": "1", "hot_spot": "K"}
#: name prefix of every extra quantity
EXTRA_PREFIX = "continuous."
#: rotor positions over half an electrical period (pipeline.maps.losses: 36 resolve the
#: rotor-side slot harmonics of all three reference designs)
LOSS_POSITIONS = 36
WINDING_TEMPERATURE_C = 100.0


def loss_point(design: Design) -> dict:
    """The continuous point of ``design`` (currents [A], speed [rpm], temperatures [degC])."""
    r = design.ratings
    i_max = r.max_phase_current

    def rnd(x, step=5.0):
        return float(step * round(x / step))

    speed = rnd(0.25 * r.max_speed * 60 / (2 * math.pi), 500.0)
    if design.topology.HAS_FIELD_WINDING:
        i_d, i_q, i_f = 0.0, rnd(0.35 * i_max), rnd(0.7 * r.max_field_current, 1.0)
    else:
        i_d, i_q, i_f = rnd(-0.15 * i_max), rnd(0.35 * i_max), 0.0
    return {
        "name": "continuous",
        "i_d": i_d,
        "i_q": i_q,
        "i_f": i_f,
        "speed_rpm": speed,
        "positions": LOSS_POSITIONS,
        "winding_temperature_C": WINDING_TEMPERATURE_C,
        "coolant_C": 65.0,
        "flow_lpm": 10.0,
    }


def extra_quantities(design: Design, level="ci", sector: bool = True, point=None) -> dict:
    """Loss, efficiency and hot-spot quantities at :func:`loss_point` (module docstring)."""


    pt = point or loss_point(design)
    if isinstance(level, MeshSettings):
        level = dataclasses.replace(level, sector=sector)
    out: dict[str, float] = {}
    p = EXTRA_PREFIX
    res = run_case(
        design, pt["i_d"], pt["i_q"], pt["i_f"], positions=int(pt["positions"]),
        span_el=math.pi, level=level, sector=sector, keep_fields=True,
    )  # fmt: skip
    if isinstance(level, MeshSettings):  # point_losses finds the magnets' mesh by level
        res = dataclasses.replace(res, level=level)
    coeff = {k: v[0] for k, v in point_losses(res, design).items()}
    out[p + "torque_mean"] = res.mean_torque
    out[p + "psi_d"] = float(np.mean(res.psi_d))
    out[p + "psi_q"] = float(np.mean(res.psi_q))
    if design.topology.HAS_FIELD_WINDING:
        out[p + "psi_f"] = float(np.mean(res.psi_f))
    omega_mech = pt["speed_rpm"] * 2 * math.pi / 60
    f = design.pole_pairs * pt["speed_rpm"] / 60
    t_w = ZERO_CELSIUS + pt["winding_temperature_C"]
    losses = losses_at_frequency(coeff, f)
    losses["stator_copper"] = float(
        1.5 * phase_resistance_dc(design, t_w) * (pt["i_d"] ** 2 + pt["i_q"] ** 2)
    )
    losses["field_copper"] = float(field_resistance_dc(design, t_w) * pt["i_f"] ** 2)
    for key, value in losses.items():
        if key in ("magnet", "field_copper") and value == 0.0:
            continue  # a component the design does not have
        out[p + f"loss_{key}"] = float(value)
    power = res.mean_torque * omega_mech
    out[p + "efficiency_em"] = power / (power + sum(losses.values()))

    model = MachineThermalModel(design, get_mesh(design, level, sector=True))
    cooling = Cooling(ZERO_CELSIUS + pt["coolant_C"], pt["flow_lpm"] / 60e3)
    full = {k: 0.0 for k in ("brushes", "mechanical")} | losses
    state = model.steady(full, omega_mech, cooling)
    for key, value in sorted(state.hot_spots.items()):
        out[p + f"hot_spot_{key}"] = float(value)
    return out
