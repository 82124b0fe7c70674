r"""Longitudinal vehicle model: road load, wheel and motor operating points.

Tractive force at the wheels (SAE J2263-style coast-down polynomial plus inertia and
grade)::

    F = f0 + f1 v + f2 v^2 + k_m m a + m g sin(theta)      (v > 0; f-terms vanish at v = 0)

f0 [N], f1 [N s/m], f2 [N s^2/m^2]; k_m the rotating-mass factor [-] (equivalent inertia of
wheels and drivetrain); m [kg]; a [m/s^2]; theta road grade [rad]. From physical
parameters: ``f0 = c_rr m g``, ``f1 = 0``, ``f2 = rho c_d A / 2``.

Wheel and motor quantities (single-ratio gearbox of ratio ``i``, ideal: gearbox losses are
accounted for in the loss function used by :mod:`pipeline.drive.cycle`)::

    omega_wheel = v / r_w,  T_wheel = F r_w,  omega_motor = i omega_wheel,
    T_motor = T_wheel / i

Reference vehicles are TOML files in ``pipeline/drive/data/`` with a value, unit and
source per entry (:func:`load_vehicle`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from pipeline.errors import DesignError
from pipeline.io.inputs import check_number, read_toml

__all__ = [
    "STANDARD_GRAVITY",
    "DATA_DIR",
    "Vehicle",
    "load_vehicle",
    "road_load_force",
    "tractive_force",
    "wheel_speed",
    "wheel_torque",
    "motor_speed",
    "motor_torque",
]

#: Standard acceleration of gravity [m/s^2] (CGPM 1901, exact).
STANDARD_GRAVITY = 9.80665

#: Directory of vehicle and cycle data files.
DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Vehicle:
    """Vehicle parameters for drive-cycle energy [SI].

    mass [kg]; f0 [N], f1 [N s/m], f2 [N s^2/m^2] road-load coefficients;
    wheel_radius [m]; gear_ratio motor/wheel speed [-]; rotating_mass_factor [-];
    name and source for provenance.
    """

    mass: float
    f0: float
    f1: float
    f2: float
    wheel_radius: float
    gear_ratio: float
    rotating_mass_factor: float = 1.0
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        for field in ("mass", "wheel_radius", "gear_ratio"):
            value = getattr(self, field)
            if not (value > 0.0 and math.isfinite(value)):
                raise DesignError(field, value, "must be > 0")
        for field in ("f0", "f1", "f2"):
            value = getattr(self, field)
            if not (value >= 0.0 and math.isfinite(value)):
                raise DesignError(field, value, "road-load coefficient must be >= 0")
        if not self.rotating_mass_factor >= 1.0:
            raise DesignError("rotating_mass_factor", self.rotating_mass_factor, "must be >= 1")

    @classmethod
    def from_physical(
        cls,
        mass: float,
        rolling_resistance_coefficient: float,
        drag_coefficient: float,
        frontal_area: float,
        wheel_radius: float,
        gear_ratio: float,
        air_density: float = 1.189,
        rotating_mass_factor: float = 1.0,
        name: str = "",
        source: str = "",
    ) -> Vehicle:
        """Build from c_rr [-], c_d [-], frontal area [m^2], air density [kg/m^3]."""
        if rolling_resistance_coefficient < 0.0 or drag_coefficient < 0.0 or frontal_area < 0.0:
            raise DesignError(
                "c_rr, c_d, A",
                (rolling_resistance_coefficient, drag_coefficient, frontal_area),
                "must be >= 0",
            )
        return cls(
            mass=mass,
            f0=rolling_resistance_coefficient * mass * STANDARD_GRAVITY,
            f1=0.0,
            f2=0.5 * air_density * drag_coefficient * frontal_area,
            wheel_radius=wheel_radius,
            gear_ratio=gear_ratio,
            rotating_mass_factor=rotating_mass_factor,
            name=name,
            source=source,
        )


def load_vehicle(name_or_path: str | Path) -> Vehicle:
    """Load a vehicle TOML (name in :data:`DATA_DIR`, e.g. ``"ix3"``, or a path)."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = DATA_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in DATA_DIR.glob("*.toml")))
            raise DesignError("vehicle", str(name_or_path), f"unknown vehicle; known: {known}")

    data = read_toml(path, "vehicle")  # missing, unreadable, not UTF-8, syntax: one line

    def value(key: str) -> float:
        entry = data.get(key)
        if not isinstance(entry, dict) or "value" not in entry:
            raise DesignError(key, None, f"missing in {path.name} (needs a value and source)")
        return float(check_number(f"vehicle.{key}", entry["value"]))

    sources = "; ".join(f"{k}: {v['source']}" for k, v in data.items() if isinstance(v, dict))
    return Vehicle.from_physical(
        mass=value("mass"),
        rolling_resistance_coefficient=value("rolling_resistance_coefficient"),
        drag_coefficient=value("drag_coefficient"),
        frontal_area=value("frontal_area"),
        wheel_radius=value("wheel_radius"),
        gear_ratio=value("gear_ratio"),
        air_density=value("air_density"),
        rotating_mass_factor=value("rotating_mass_factor"),
        name=str(data.get("name", path.stem)),
        source=sources,
    )


def road_load_force(vehicle: Vehicle, speed: ArrayLike) -> np.ndarray:
    """Road-load force ``f0 + f1 v + f2 v^2`` for v > 0, 0 at standstill [N]; speed [m/s]."""
    v = np.asarray(speed, dtype=float)
    force = vehicle.f0 + vehicle.f1 * np.abs(v) + vehicle.f2 * v**2
    return np.where(v > 0.0, force, 0.0)


def tractive_force(
    vehicle: Vehicle, speed: ArrayLike, acceleration: ArrayLike, grade: ArrayLike = 0.0
) -> np.ndarray:
    """Force at the wheels ``road load + k_m m a + m g sin(theta)`` [N].

    speed [m/s], acceleration [m/s^2], grade theta [rad].
    """
    inertia = vehicle.rotating_mass_factor * vehicle.mass * np.asarray(acceleration, dtype=float)
    slope = vehicle.mass * STANDARD_GRAVITY * np.sin(np.asarray(grade, dtype=float))
    return road_load_force(vehicle, speed) + inertia + slope


def wheel_speed(vehicle: Vehicle, speed: ArrayLike) -> np.ndarray:
    """Wheel angular speed ``v / r_w`` [rad/s]; speed [m/s]."""
    return np.asarray(speed, dtype=float) / vehicle.wheel_radius


def wheel_torque(vehicle: Vehicle, force: ArrayLike) -> np.ndarray:
    """Total wheel torque ``F r_w`` [N m]; force [N]."""
    return np.asarray(force, dtype=float) * vehicle.wheel_radius


def motor_speed(vehicle: Vehicle, speed: ArrayLike) -> np.ndarray:
    """Motor speed ``i v / r_w`` [rad/s]; speed [m/s]."""
    return wheel_speed(vehicle, speed) * vehicle.gear_ratio


def motor_torque(vehicle: Vehicle, force: ArrayLike) -> np.ndarray:
    """Motor shaft torque for an ideal gearbox ``F r_w / i`` [N m]; force [N]."""
    return wheel_torque(vehicle, force) / vehicle.gear_ratio
