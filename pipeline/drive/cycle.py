r"""Drive cycles and cycle energy.

The WLTC class 3b trace (UN GTR No. 15, Annex 1) is stored at 1 Hz in
``pipeline/drive/data/wltc_class3b.csv`` (km/h at the edge, converted to m/s on load).

Acceleration is the central difference used by GTR No. 15 for the cycle energy demand,
``a_i = (v_{i+1} - v_{i-1}) / (t_{i+1} - t_{i-1})``, one-sided at the ends.

Distance is the trapezoidal integral of speed (equal to ``sum v dt`` for a trace that
starts and ends at standstill, as the GTR checksum assumes).

Energy drawn from the DC link over the cycle, given a loss function ``loss(omega_motor,
torque_motor) -> [W]`` (motor + inverter + gearbox losses evaluated at the motor shaft;
the efficiency-map code provides it)::

    P_dc(t) = T_m omega_m + loss(omega_m, T_m) + P_aux,      E = integral P_dc dt

With ``regenerative_braking=False`` negative motor torque is replaced by zero (friction
brakes absorb it). With regeneration, ``P_dc`` is negative while braking; battery
charge/discharge losses and regeneration limits are not modelled. The energy per 100 km is
``E / distance * 1e5 m`` [J per 100 km] (``kWh_per_100km`` for reports).

Gearbox losses in the loss function are evaluated at the ideal motor torque ``T_wheel / i``;
the error of this first-order treatment is the product of two small loss fractions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from pipeline.drive.vehicle import DATA_DIR, Vehicle, motor_speed, motor_torque, tractive_force
from pipeline.errors import DesignError
from pipeline.io.inputs import read_number_rows

__all__ = [
    "DriveCycle",
    "read_cycle",
    "load_wltc_class3b",
    "cycle_acceleration",
    "cycle_distance",
    "CycleOperatingPoints",
    "cycle_operating_points",
    "CycleEnergy",
    "cycle_energy",
]

LossFunction = Callable[[np.ndarray, np.ndarray], ArrayLike]


@dataclass(frozen=True, eq=False)
class DriveCycle:
    """A speed trace: time [s] (strictly increasing), speed [m/s] (>= 0)."""

    time: np.ndarray
    speed: np.ndarray
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        t = np.asarray(self.time, dtype=float)
        v = np.asarray(self.speed, dtype=float)
        if t.ndim != 1 or t.shape != v.shape or t.size < 2:
            raise DesignError("cycle", t.shape, "time and speed must be 1D, equal, >= 2 points")
        if np.any(np.diff(t) <= 0.0):
            raise DesignError("cycle time", "non-increasing", "must be strictly increasing [s]")
        if np.any(v < 0.0) or not np.all(np.isfinite(v)):
            raise DesignError("cycle speed", float(np.min(v)), "must be finite and >= 0 [m/s]")
        object.__setattr__(self, "time", t)
        object.__setattr__(self, "speed", v)


def read_cycle(path: str | Path, name: str = "") -> DriveCycle:
    """Read a cycle CSV ``time_s,speed_kmh`` with ``#`` comment lines (source header)."""

    path = Path(path)
    rows, comments = read_number_rows(path, "cycle", columns=2, min_rows=2)
    header = [c[1:].strip() for c in comments]
    data = np.array(rows, dtype=float)
    return DriveCycle(
        time=data[:, 0],
        speed=data[:, 1] / 3.6,
        name=name or path.stem,
        source=" ".join(header),
    )


def load_wltc_class3b() -> DriveCycle:
    """The WLTC class 3b trace (UN GTR No. 15), 0-1800 s at 1 Hz."""
    return read_cycle(DATA_DIR / "wltc_class3b.csv", name="WLTC class 3b")


def cycle_acceleration(cycle: DriveCycle) -> np.ndarray:
    """Acceleration by central differences (one-sided at the ends) [m/s^2]."""
    return np.gradient(cycle.speed, cycle.time)


def cycle_distance(cycle: DriveCycle) -> float:
    """Distance driven, trapezoidal rule [m]."""
    dt = np.diff(cycle.time)
    return float(np.sum(0.5 * (cycle.speed[1:] + cycle.speed[:-1]) * dt))


@dataclass(frozen=True, eq=False)
class CycleOperatingPoints:
    """Per-sample quantities over a cycle (arrays over time) [SI].

    time [s], speed [m/s], acceleration [m/s^2], force [N] at the wheels,
    omega_motor [rad/s], torque_motor [N m] (ideal gearbox).
    """

    time: np.ndarray
    speed: np.ndarray
    acceleration: np.ndarray
    force: np.ndarray
    omega_motor: np.ndarray
    torque_motor: np.ndarray


def cycle_operating_points(
    vehicle: Vehicle, cycle: DriveCycle, grade: ArrayLike = 0.0
) -> CycleOperatingPoints:
    """Wheel force and motor speed/torque at every cycle sample; grade [rad]."""
    acc = cycle_acceleration(cycle)
    force = tractive_force(vehicle, cycle.speed, acc, grade)
    return CycleOperatingPoints(
        time=cycle.time,
        speed=cycle.speed,
        acceleration=acc,
        force=force,
        omega_motor=motor_speed(vehicle, cycle.speed),
        torque_motor=motor_torque(vehicle, force),
    )


@dataclass(frozen=True)
class CycleEnergy:
    """Cycle energy results [J], distance [m], energy per 100 km [J per 100 km]."""

    traction_energy: float
    regenerated_energy: float
    loss_energy: float
    auxiliary_energy: float
    dc_energy: float
    distance: float

    @property
    def energy_per_100km(self) -> float:
        """DC-link energy per 100 km [J per 100 km]."""
        return self.dc_energy / self.distance * 1e5

    @property
    def kWh_per_100km(self) -> float:  # noqa: N802 (unit in the name, edge only)
        """DC-link energy per 100 km in [kWh per 100 km] (reporting edge)."""
        return self.energy_per_100km / 3.6e6


def _integrate(power: np.ndarray, time: np.ndarray) -> float:
    return float(np.sum(0.5 * (power[1:] + power[:-1]) * np.diff(time)))


def cycle_energy(
    vehicle: Vehicle,
    cycle: DriveCycle,
    loss_function: LossFunction | None = None,
    regenerative_braking: bool = True,
    auxiliary_power: float = 0.0,
    grade: ArrayLike = 0.0,
    regenerative_torque_limit: Callable[[np.ndarray], ArrayLike] | None = None,
) -> CycleEnergy:
    """DC-link energy over a cycle (see module docstring).

    loss_function(omega_motor [rad/s], torque_motor [N m]) -> loss [W] (vectorised; None:
    lossless); auxiliary_power [W]; grade [rad]; regenerative_torque_limit(omega_motor)
    -> most negative motor torque [N m] (<= 0) the motor can brake with: braking torque
    beyond it goes to the friction brakes. Integrals use the trapezoidal rule.
    """
    ops = cycle_operating_points(vehicle, cycle, grade)
    torque = ops.torque_motor
    if not regenerative_braking:
        torque = np.maximum(torque, 0.0)
    elif regenerative_torque_limit is not None:
        limit = np.minimum(np.asarray(regenerative_torque_limit(ops.omega_motor), float), 0.0)
        torque = np.maximum(torque, limit)
    p_mech = torque * ops.omega_motor
    if loss_function is None:
        p_loss = np.zeros_like(p_mech)
    else:
        p_loss = np.broadcast_to(
            np.asarray(loss_function(ops.omega_motor, torque), dtype=float), p_mech.shape
        )
        if np.any(p_loss < 0.0) or not np.all(np.isfinite(p_loss)):
            raise DesignError("loss_function", "negative or non-finite", "losses must be >= 0")
    p_aux = np.full_like(p_mech, auxiliary_power)
    p_dc = p_mech + p_loss + p_aux
    t = ops.time
    return CycleEnergy(
        traction_energy=_integrate(np.maximum(p_mech, 0.0), t),
        regenerated_energy=-_integrate(np.minimum(p_mech, 0.0), t),
        loss_energy=_integrate(p_loss, t),
        auxiliary_energy=_integrate(p_aux, t),
        dc_energy=_integrate(p_dc, t),
        distance=cycle_distance(cycle),
    )
