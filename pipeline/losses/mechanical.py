r"""Mechanical losses: bearing friction, rotor windage, and a fitted polynomial model [W].

Bearing friction (SKF simplified model, constant friction coefficient; SKF *Rolling
bearings* catalogue, "Estimating the frictional moment", Table 1)::

    M = 0.5 mu P d,   P_bearing = M omega

M [N m], mu [-] (0.0015 deep groove ball, 0.0011 cylindrical roller with cage), P the
equivalent dynamic bearing load [N], d the bore diameter [m]. Valid for moderate loads
and speeds with good lubrication; it ignores the speed- and viscosity-dependent drag that
dominates at light load (see :mod:`pipeline.drive.gearbox` for Palmgren's no-load term).

Windage of a smooth cylindrical rotor in a concentric stator (Couette flow; the form used
by J. Saari, *Thermal analysis of high-speed induction machines*, Acta Polytechnica
Scandinavica El 90, 1998, and by J. E. Vrancik, NASA TN D-4849, 1968)::

    P_w = k C_f pi rho omega^3 r^4 L

k roughness factor (1 smooth, 2.5 slotted / axially grooved), rho fluid density
[kg/m^3], r rotor radius [m], L length [m]. The skin-friction (torque) coefficient follows
Bilgen & Boulos (E. Bilgen, R. Boulos, "Functional dependence of torque coefficient of
coaxial cylinders on gap width and Reynolds numbers", J. Fluids Eng. 95(1), 122-126,
1973, doi:10.1115/1.3446944) with the Couette Reynolds number ``Re = rho omega r delta / mu``
(delta radial gap [m], mu dynamic viscosity [Pa s])::

    Re < 64:           C_f = 10   (delta/r)^0.3 / Re
    64 < Re < 5e2:     C_f = 2    (delta/r)^0.3 / Re^0.6
    5e2 < Re < 1e4:    C_f = 1.03 (delta/r)^0.3 / Re^0.5
    Re > 1e4:          C_f = 0.065 (delta/r)^0.3 / Re^0.2

For laminar Couette flow in a narrow gap the exact result is ``C_f = 2 / Re``
(torque ``2 pi mu omega r^3 L / delta``); the laminar branch of the correlation is
``5 (delta/r)^0.3`` times that: 1.02 at delta/r = 0.005, 1.26 at 0.01. End-face (disc)
windage is not included.

Fitted model per design: ``P(n) = a n + b n^2 + c n^3`` with n the speed [rad/s], fitted by
non-negative least squares to measured losses (:func:`fit_mechanical_loss`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import nnls

from pipeline.errors import DesignError

__all__ = [
    "MU_DEEP_GROOVE_BALL",
    "MU_CYLINDRICAL_ROLLER",
    "AIR_DENSITY_20C",
    "AIR_VISCOSITY_20C",
    "bearing_friction_torque",
    "bearing_friction_loss",
    "couette_reynolds",
    "bilgen_boulos_friction_coefficient",
    "windage_loss",
    "MechanicalLossCoefficients",
    "mechanical_loss",
    "fit_mechanical_loss",
]

#: SKF constant friction coefficient, deep groove ball bearings [-] (SKF catalogue, Table 1).
MU_DEEP_GROOVE_BALL = 0.0015
#: SKF constant friction coefficient, cylindrical roller bearings with cage, Fa ~ 0 [-].
MU_CYLINDRICAL_ROLLER = 0.0011
#: Dry air density at 20 degC, 101.325 kPa [kg/m^3] (ideal gas, R_air = 287.05 J/(kg K)).
AIR_DENSITY_20C = 1.204
#: Dynamic viscosity of air at 20 degC [Pa s] (Sutherland's law, 1.81e-5).
AIR_VISCOSITY_20C = 1.81e-5


def bearing_friction_torque(load: ArrayLike, bore_diameter: float, mu: float) -> np.ndarray:
    """SKF simplified bearing friction torque ``0.5 mu P d`` [N m].

    load P [N], bore_diameter d [m], mu [-].
    """
    return 0.5 * mu * np.abs(np.asarray(load, dtype=float)) * bore_diameter


def bearing_friction_loss(
    omega_mech: ArrayLike, load: ArrayLike, bore_diameter: float, mu: float = MU_DEEP_GROOVE_BALL
) -> np.ndarray:
    """Bearing friction loss ``0.5 mu P d |omega|`` [W]; omega_mech [rad/s], load [N], d [m]."""
    omega = np.abs(np.asarray(omega_mech, dtype=float))
    return bearing_friction_torque(load, bore_diameter, mu) * omega


def couette_reynolds(
    omega_mech: ArrayLike,
    radius: float,
    gap: float,
    density: float = AIR_DENSITY_20C,
    viscosity: float = AIR_VISCOSITY_20C,
) -> np.ndarray:
    """Couette Reynolds number ``rho omega r delta / mu`` [-]; omega [rad/s], r, delta [m]."""
    return density * np.abs(np.asarray(omega_mech, dtype=float)) * radius * gap / viscosity


def bilgen_boulos_friction_coefficient(reynolds: ArrayLike, gap_ratio: float) -> np.ndarray:
    """Skin-friction coefficient of a rotating inner cylinder (Bilgen & Boulos 1973) [-].

    reynolds: Couette Reynolds number [-]; gap_ratio delta / r [-]. Zero at Re = 0.
    """
    re = np.asarray(reynolds, dtype=float)
    g = gap_ratio**0.3
    with np.errstate(divide="ignore"):
        cf = np.select(
            [re < 64.0, re < 5e2, re < 1e4],
            [10.0 * g / re, 2.0 * g / re**0.6, 1.03 * g / re**0.5],
            default=0.065 * g / re**0.2,
        )
    return np.where(re > 0.0, cf, 0.0)


def windage_loss(
    omega_mech: ArrayLike,
    radius: float,
    length: float,
    gap: float,
    density: float = AIR_DENSITY_20C,
    viscosity: float = AIR_VISCOSITY_20C,
    roughness: float = 1.0,
) -> np.ndarray:
    """Rotor surface windage ``k C_f pi rho omega^3 r^4 L`` [W].

    omega_mech [rad/s]; rotor radius r, active length L, radial gap delta [m];
    fluid density [kg/m^3] and dynamic viscosity [Pa s]; roughness k [-].
    """
    if radius <= 0.0 or length <= 0.0 or gap <= 0.0:
        raise DesignError("windage geometry", (radius, length, gap), "r, L, gap must be > 0 [m]")
    omega = np.abs(np.asarray(omega_mech, dtype=float))
    re = couette_reynolds(omega, radius, gap, density, viscosity)
    cf = bilgen_boulos_friction_coefficient(re, gap / radius)
    return roughness * cf * math.pi * density * omega**3 * radius**4 * length


@dataclass(frozen=True)
class MechanicalLossCoefficients:
    """``P = a w + b w^2 + c w^3`` with w the mechanical speed [rad/s].

    a [W s], b [W s^2], c [W s^3]; all >= 0.
    """

    a: float = 0.0
    b: float = 0.0
    c: float = 0.0

    def __post_init__(self) -> None:
        for name in ("a", "b", "c"):
            value = getattr(self, name)
            if not (value >= 0.0 and math.isfinite(value)):
                raise DesignError(name, value, "mechanical loss coefficient must be >= 0")


def mechanical_loss(omega_mech: ArrayLike, coeffs: MechanicalLossCoefficients) -> np.ndarray:
    """Fitted mechanical loss ``a w + b w^2 + c w^3`` [W]; omega_mech w [rad/s]."""
    w = np.abs(np.asarray(omega_mech, dtype=float))
    return coeffs.a * w + coeffs.b * w**2 + coeffs.c * w**3


def fit_mechanical_loss(
    omega_mech: ArrayLike, loss: ArrayLike, relative: bool = True
) -> MechanicalLossCoefficients:
    """Non-negative least-squares fit of ``a w + b w^2 + c w^3`` to measured losses.

    omega_mech [rad/s], loss [W]. ``relative=True`` minimises relative errors (each point
    weighted by 1/loss), so that low-speed points count as much as high-speed ones.
    """
    w = np.asarray(omega_mech, dtype=float).ravel()
    p = np.asarray(loss, dtype=float).ravel()
    if w.shape != p.shape or w.size < 3:
        raise DesignError("mechanical loss data", w.size, "needs >= 3 points of equal length")
    basis = np.column_stack([w, w**2, w**3])
    weight = 1.0 / p if relative else np.ones_like(p)
    coef, _ = nnls(basis * weight[:, None], p * weight)
    return MechanicalLossCoefficients(a=float(coef[0]), b=float(coef[1]), c=float(coef[2]))
