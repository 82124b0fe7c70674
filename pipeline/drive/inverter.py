r"""Three-phase two-level voltage-source inverter loss model [W].

Sinusoidal PWM with modulation index ``m = V_phase,peak / (V_dc / 2)`` (0 <= m <= 1 in the
linear range; 2/sqrt(3) with third-harmonic injection is accepted too), phase-current
peak ``I`` and displacement factor ``cos(phi)``.

Conduction (F. Casanellas, "Losses in PWM inverters using IGBTs", IEE Proc. Electr. Power
Appl. 141, 235-239, 1994, doi:10.1049/ip-epa:19941173), per switch and per diode of one
leg, device modelled as ``v = V_0 + r i``::

    P_T = V_T0 I (1/(2 pi) + m cos(phi)/8) + r_T I^2 (1/8 + m cos(phi)/(3 pi))
    P_D = V_D0 I (1/(2 pi) - m cos(phi)/8) + r_D I^2 (1/8 - m cos(phi)/(3 pi))

A MOSFET has ``V_T0 = 0`` and ``r_T = R_ds,on(T_j)``. With synchronous rectification (SiC
MOSFETs conduct in reverse through the channel outside the dead time) the "diode" interval
also uses ``R_ds,on``, so the switch-position conduction loss is ``R_ds,on I^2 / 4``
independent of m and cos(phi); dead-time conduction of the body diode is neglected.

Switching: energies scale linearly with current and DC voltage from the datasheet
reference point (``E(i, V) = E_ref (i / I_ref) (V / V_ref)``). Averaged over the half
period a device switches::

    P_sw = f_sw / pi (E_on + E_off + E_rr)_ref (I / I_ref) (V_dc / V_ref)

(the mean of ``|I sin|`` over a period is ``2 I / pi``, and each device switches during one
half period). Total inverter loss = 6 x (P_T + P_D + P_sw) for three legs.

R_ds,on(T) = R_ds,on,25 (1 + k_T (T_j - 298.15 K)) (linear fit of the datasheet curve).

The example :data:`SIC_1200V_450A` is a *typical, assumed* parameter set of a 1200 V,
~450 A SiC MOSFET half-bridge module (values of the order published for modules of that
class, e.g. Wolfspeed CAB450M12XM3 / Infineon FF6MR12 families); it is not copied from a
specific datasheet and should be replaced by real datasheet values for a given design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError

__all__ = [
    "InverterParameters",
    "InverterLosses",
    "SIC_1200V_450A",
    "modulation_index",
    "casanellas_conduction",
    "switching_loss",
    "inverter_loss",
]

_T_REF = ZERO_CELSIUS + 25.0


@dataclass(frozen=True)
class InverterParameters:
    """Device parameters of one switch position (switch + antiparallel diode / channel).

    r_ds_on_25: on-resistance at 25 degC [ohm]; r_ds_on_tc: its linear temperature
    coefficient [1/K]; v_t0: switch threshold voltage [V] (0 for MOSFET);
    v_d0 [V], r_d [ohm]: diode (body diode) model; e_on_ref, e_off_ref, e_rr_ref: switching
    energies [J] at v_ref [V], i_ref [A]; synchronous_rectification: reverse conduction
    through the channel; source: where the numbers come from.
    """

    r_ds_on_25: float
    r_ds_on_tc: float
    e_on_ref: float
    e_off_ref: float
    v_ref: float
    i_ref: float
    e_rr_ref: float = 0.0
    v_t0: float = 0.0
    v_d0: float = 0.0
    r_d: float = 0.0
    synchronous_rectification: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        positive = {"r_ds_on_25": self.r_ds_on_25, "v_ref": self.v_ref, "i_ref": self.i_ref}
        for name, value in positive.items():
            if not (value > 0.0 and math.isfinite(value)):
                raise DesignError(name, value, "must be > 0")
        non_negative = {
            "e_on_ref": self.e_on_ref,
            "e_off_ref": self.e_off_ref,
            "e_rr_ref": self.e_rr_ref,
            "v_t0": self.v_t0,
            "v_d0": self.v_d0,
            "r_d": self.r_d,
        }
        for name, value in non_negative.items():
            if not (value >= 0.0 and math.isfinite(value)):
                raise DesignError(name, value, "must be >= 0")

    def r_ds_on(self, junction_temperature: ArrayLike) -> np.ndarray:
        """On-resistance at junction temperature [K] -> [ohm]."""
        t = np.asarray(junction_temperature, dtype=float)
        return self.r_ds_on_25 * (1.0 + self.r_ds_on_tc * (t - _T_REF))


#: Typical, assumed 1200 V / 450 A SiC MOSFET half-bridge (see module docstring).
SIC_1200V_450A = InverterParameters(
    r_ds_on_25=2.6e-3,
    r_ds_on_tc=0.0045,  # ~1.6x from 25 to 175 degC, typical of planar SiC MOSFETs
    e_on_ref=11e-3,
    e_off_ref=8e-3,
    e_rr_ref=0.5e-3,
    v_ref=600.0,
    i_ref=450.0,
    v_d0=2.8,
    r_d=3.5e-3,
    synchronous_rectification=True,
    source="typical, assumed: 1200 V ~450 A SiC half-bridge class; not a specific datasheet",
)


def modulation_index(v_phase_peak: ArrayLike, v_dc: float) -> np.ndarray:
    """Modulation index ``m = V_phase,peak / (V_dc/2)`` [-]; voltages [V]."""
    return np.asarray(v_phase_peak, dtype=float) / (0.5 * v_dc)


def casanellas_conduction(
    i_peak: ArrayLike,
    m: ArrayLike,
    cos_phi: ArrayLike,
    v_0: float,
    r: ArrayLike,
    device: str = "switch",
) -> np.ndarray:
    """Conduction loss of one switch or one diode of a leg (Casanellas 1994) [W].

    i_peak: phase-current peak [A]; m modulation index [-]; cos_phi [-]; v_0 threshold
    voltage [V]; r slope resistance [ohm]; device "switch" or "diode".
    """
    sign = {"switch": 1.0, "diode": -1.0}.get(device)
    if sign is None:
        raise DesignError("device", device, "must be 'switch' or 'diode'")
    i = np.abs(np.asarray(i_peak, dtype=float))
    mc = np.asarray(m, dtype=float) * np.asarray(cos_phi, dtype=float)
    return v_0 * i * (1.0 / (2.0 * np.pi) + sign * mc / 8.0) + np.asarray(r) * i**2 * (
        1.0 / 8.0 + sign * mc / (3.0 * np.pi)
    )


def switching_loss(
    i_peak: ArrayLike, v_dc: ArrayLike, f_sw: float, params: InverterParameters
) -> np.ndarray:
    """Switching loss of one switch position ``f_sw/pi E_ref (I/I_ref)(V/V_ref)`` [W].

    i_peak [A], v_dc [V], f_sw switching frequency [Hz].
    """
    e_ref = params.e_on_ref + params.e_off_ref + params.e_rr_ref
    i = np.abs(np.asarray(i_peak, dtype=float))
    v = np.asarray(v_dc, dtype=float)
    return f_sw / np.pi * e_ref * (i / params.i_ref) * (v / params.v_ref)


@dataclass(frozen=True, eq=False)
class InverterLosses:
    """Inverter loss components for the three legs [W]."""

    switch_conduction: np.ndarray
    diode_conduction: np.ndarray
    switching: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """Total inverter loss [W]."""
        return self.switch_conduction + self.diode_conduction + self.switching


def inverter_loss(
    params: InverterParameters,
    i_peak: ArrayLike,
    m: ArrayLike,
    cos_phi: ArrayLike,
    v_dc: ArrayLike,
    f_sw: float,
    junction_temperature: ArrayLike = ZERO_CELSIUS + 125.0,
) -> InverterLosses:
    """Losses of a three-phase two-level inverter (6 switch positions) [W].

    params: device parameters; i_peak phase-current peak [A] (with the dq convention
    ``sqrt(i_d^2 + i_q^2)``); m modulation index [-]; cos_phi displacement factor [-];
    v_dc DC-link voltage [V]; f_sw [Hz]; junction_temperature [K].
    """
    r_on = params.r_ds_on(junction_temperature)
    p_t = casanellas_conduction(i_peak, m, cos_phi, params.v_t0, r_on, "switch")
    if params.synchronous_rectification:
        p_d = casanellas_conduction(i_peak, m, cos_phi, 0.0, r_on, "diode")
    else:
        p_d = casanellas_conduction(i_peak, m, cos_phi, params.v_d0, params.r_d, "diode")
    p_sw = switching_loss(i_peak, v_dc, f_sw, params)
    return InverterLosses(
        switch_conduction=6.0 * p_t, diode_conduction=6.0 * p_d, switching=6.0 * p_sw
    )
