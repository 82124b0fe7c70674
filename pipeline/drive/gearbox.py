r"""Single-ratio reduction gearbox loss model [W].

Loss = load-dependent gear-mesh loss + load-independent (no-load) drag.

Mesh loss, ``n`` stages of efficiency ``eta`` each (helical gear pairs 0.98-0.99)::

    P_mesh = (1 - eta^n) |T omega|        (T, omega at the motor shaft)

The same fraction is applied in traction and in regeneration.

Drag: Palmgren's no-load bearing torque as given in ISO/TR 14179-2:2001 (A. Palmgren,
*Ball and roller bearing engineering*, 3rd ed., SKF Industries 1959)::

    M_0 = 1e-7 f_0 (nu n)^(2/3) d_m^3        [N mm]  for nu n >= 2000
    M_0 = 160e-7 f_0 d_m^3                   [N mm]  for nu n <  2000

with nu the oil kinematic viscosity in [mm^2/s], n the shaft speed in [rpm], d_m the
bearing mean diameter in [mm] and f_0 the bearing-type / lubrication factor (about 2 for
deep-groove ball bearings in an oil bath or splash). Those non-SI units are confined to
:func:`palmgren_no_load_torque`; its inputs and output are SI. Gear churning is lumped
into f_0 (an assumption: the drag scales like bearing drag with (nu n)^(2/3)).

Oil viscosity versus temperature, Walther's equation (ASTM D341)::

    log10(log10(nu + 0.7)) = A - B log10(T)        nu in [mm^2/s], T in [K]

with A, B fixed by the viscosities at 40 degC and 100 degC, or Vogel's equation
``nu = a exp(b / (T - c))`` (H. Vogel, Phys. Z. 22, 645-646, 1921).

Shafts: ``n_stages + 1`` shafts, stage ratio ``ratio^(1/n_stages)`` each (assumed equal
split); two bearings per shaft.

The example :data:`SINGLE_SPEED_EV` is an *assumed, typical* EV reduction gearbox: two
stages, eta = 0.985 per stage, d_m 60/80/100 mm, a low-viscosity transmission fluid with
26 mm^2/s at 40 degC and 5.7 mm^2/s at 100 degC (typical of ATF-type EV fluids).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError

__all__ = [
    "walther_coefficients",
    "walther_viscosity",
    "vogel_viscosity",
    "palmgren_no_load_torque",
    "Gearbox",
    "SINGLE_SPEED_EV",
    "mesh_loss",
    "drag_loss",
    "gearbox_loss",
]

_T40 = ZERO_CELSIUS + 40.0
_T100 = ZERO_CELSIUS + 100.0


def walther_coefficients(nu_40: float, nu_100: float) -> tuple[float, float]:
    """Walther A, B from kinematic viscosities at 40 and 100 degC [m^2/s] -> (A, B) [-]."""
    if not nu_40 > nu_100 > 0.0:
        raise DesignError("nu_40, nu_100", (nu_40, nu_100), "need nu_40 > nu_100 > 0 [m^2/s]")
    w40 = math.log10(math.log10(nu_40 * 1e6 + 0.7))
    w100 = math.log10(math.log10(nu_100 * 1e6 + 0.7))
    b = (w40 - w100) / (math.log10(_T100) - math.log10(_T40))
    a = w40 + b * math.log10(_T40)
    return a, b


def walther_viscosity(temperature: ArrayLike, nu_40: float, nu_100: float) -> np.ndarray:
    """Kinematic viscosity by Walther's equation (ASTM D341) [m^2/s].

    temperature [K]; nu_40, nu_100 kinematic viscosities at 40 and 100 degC [m^2/s].
    """
    a, b = walther_coefficients(nu_40, nu_100)
    t = np.asarray(temperature, dtype=float)
    return (10.0 ** (10.0 ** (a - b * np.log10(t))) - 0.7) * 1e-6


def vogel_viscosity(temperature: ArrayLike, a: float, b: float, c: float) -> np.ndarray:
    """Vogel viscosity ``a exp(b / (T - c))``; temperature, b, c [K]; a in the output unit."""
    return a * np.exp(b / (np.asarray(temperature, dtype=float) - c))


def palmgren_no_load_torque(
    kinematic_viscosity: ArrayLike, omega: ArrayLike, mean_diameter: float, f_0: float = 2.0
) -> np.ndarray:
    """Palmgren / ISO/TR 14179-2 no-load bearing torque [N m].

    kinematic_viscosity [m^2/s], omega shaft speed [rad/s], mean_diameter d_m [m],
    f_0 bearing factor [-].
    """
    nu_cst = np.asarray(kinematic_viscosity, dtype=float) * 1e6
    n_rpm = np.abs(np.asarray(omega, dtype=float)) * 60.0 / (2.0 * np.pi)
    d_mm = mean_diameter * 1e3
    nun = nu_cst * n_rpm
    m_nmm = np.where(
        nun >= 2000.0, 1e-7 * f_0 * nun ** (2.0 / 3.0) * d_mm**3, 160e-7 * f_0 * d_mm**3
    )
    return m_nmm * 1e-3


@dataclass(frozen=True)
class Gearbox:
    """Reduction gearbox parameters.

    ratio: total reduction motor speed / wheel speed [-]; n_stages [-];
    mesh_efficiency per stage [-]; bearing_mean_diameters: d_m per shaft, input first,
    ``n_stages + 1`` entries [m]; palmgren_f0 [-]; nu_40, nu_100 oil kinematic viscosity at
    40 and 100 degC [m^2/s]; source: provenance of the numbers.
    """

    ratio: float
    n_stages: int = 2
    mesh_efficiency: float = 0.985
    bearing_mean_diameters: tuple[float, ...] = (0.06, 0.08, 0.10)
    palmgren_f0: float = 2.0
    nu_40: float = 26e-6
    nu_100: float = 5.7e-6
    source: str = ""

    def __post_init__(self) -> None:
        if not self.ratio > 0.0:
            raise DesignError("ratio", self.ratio, "must be > 0")
        if self.n_stages < 1:
            raise DesignError("n_stages", self.n_stages, "must be >= 1")
        if not 0.0 < self.mesh_efficiency <= 1.0:
            raise DesignError("mesh_efficiency", self.mesh_efficiency, "must be in (0, 1]")
        if len(self.bearing_mean_diameters) != self.n_stages + 1:
            raise DesignError(
                "bearing_mean_diameters",
                self.bearing_mean_diameters,
                f"needs n_stages + 1 = {self.n_stages + 1} entries [m]",
            )
        if any(d <= 0.0 for d in self.bearing_mean_diameters):
            raise DesignError("bearing_mean_diameters", self.bearing_mean_diameters, "> 0 [m]")
        walther_coefficients(self.nu_40, self.nu_100)

    def shaft_speed_fractions(self) -> np.ndarray:
        """Shaft speeds relative to the motor shaft, input first [-]."""
        stage = self.ratio ** (1.0 / self.n_stages)
        return stage ** -np.arange(self.n_stages + 1, dtype=float)


#: Assumed, typical two-stage EV reduction gearbox (see module docstring); ratio 10.0.
SINGLE_SPEED_EV = Gearbox(
    ratio=10.0, source="typical, assumed EV two-stage reduction (module docstring)"
)


def mesh_loss(gearbox: Gearbox, omega_motor: ArrayLike, torque_motor: ArrayLike) -> np.ndarray:
    """Load-dependent mesh loss ``(1 - eta^n) |T omega|`` [W]; omega [rad/s], T [N m]."""
    power = np.abs(np.asarray(omega_motor, dtype=float) * np.asarray(torque_motor, dtype=float))
    return (1.0 - gearbox.mesh_efficiency**gearbox.n_stages) * power


def drag_loss(gearbox: Gearbox, omega_motor: ArrayLike, oil_temperature: ArrayLike) -> np.ndarray:
    """No-load drag loss: 2 bearings per shaft, Palmgren torque x shaft speed [W].

    omega_motor [rad/s], oil_temperature [K].
    """
    omega = np.abs(np.asarray(omega_motor, dtype=float))
    nu = walther_viscosity(oil_temperature, gearbox.nu_40, gearbox.nu_100)
    total = np.zeros(np.broadcast(omega, nu).shape)
    fractions = gearbox.shaft_speed_fractions()
    for frac, d_m in zip(fractions, gearbox.bearing_mean_diameters, strict=True):
        w = omega * frac
        total = total + 2.0 * palmgren_no_load_torque(nu, w, d_m, gearbox.palmgren_f0) * w
    return total


def gearbox_loss(
    gearbox: Gearbox,
    omega_motor: ArrayLike,
    torque_motor: ArrayLike,
    oil_temperature: ArrayLike = ZERO_CELSIUS + 60.0,
) -> np.ndarray:
    """Total gearbox loss, mesh + drag [W]; omega_motor [rad/s], torque_motor [N m], T [K]."""
    return mesh_loss(gearbox, omega_motor, torque_motor) + drag_loss(
        gearbox, omega_motor, oil_temperature
    )
