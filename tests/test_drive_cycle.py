"""Vehicle model and WLTC class 3b cycle vs the published checksums and hand computation."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.drive.cycle import (
    DriveCycle,
    cycle_acceleration,
    cycle_distance,
    cycle_energy,
    cycle_operating_points,
    load_wltc_class3b,
)
from pipeline.drive.vehicle import (
    STANDARD_GRAVITY,
    Vehicle,
    load_vehicle,
    motor_speed,
    motor_torque,
    tractive_force,
)
from pipeline.errors import DesignError

SIMPLE = Vehicle(mass=2000.0, f0=150.0, f1=2.0, f2=0.4, wheel_radius=0.35, gear_ratio=10.0)


def test_wltc_class3b_checksums():
    cycle = load_wltc_class3b()
    # UN GTR No. 15: sum of the 1 Hz speeds 83758.6 km/h (published checksum, exact to
    # the trace's 0.1 km/h resolution)
    assert_allclose(np.sum(cycle.speed) * 3.6, 83758.6, rtol=1e-12)
    # distance 23.27 km (published, rounded to 10 m): 83758.6/3.6 = 23266.3 m
    assert abs(cycle_distance(cycle) - 23270.0) <= 5.0
    assert_allclose(cycle.speed.max() * 3.6, 131.3, rtol=1e-12)  # published max speed
    assert cycle.time[0] == 0.0 and cycle.time[-1] == 1800.0


def test_constant_speed_road_load_energy():
    # 100 km/h for 1000 s: F = 150 + 2*27.7778 + 0.4*771.605 = 514.1975 N,
    # E = F * 27777.8 m = 1.4283265e7 J; per 100 km: F * 1e5 m = 5.141975e7 J
    v = 100 / 3.6
    cycle = DriveCycle(time=np.arange(0.0, 1001.0), speed=np.full(1001, v))
    energy = cycle_energy(SIMPLE, cycle)
    assert_allclose(energy.distance, 27777.78, rtol=1e-6)
    assert_allclose(energy.dc_energy, 1.4283265e7, rtol=1e-6)
    assert_allclose(energy.energy_per_100km, 5.141975e7, rtol=1e-6)
    assert_allclose(energy.kWh_per_100km, 5.141975e7 / 3.6e6, rtol=1e-6)


def test_operating_points_hand_computed():
    # 36 km/h, 1 m/s^2, 2 % grade (atan 0.02):
    # F = 150 + 2*10 + 0.4*100 + 1.0*2000*1 + 2000*9.80665*sin(atan 0.02) = 2602.13 N
    grade = math.atan(0.02)
    force = tractive_force(SIMPLE, 10.0, 1.0, grade)
    expected = 150 + 20 + 40 + 2000 + 2000 * STANDARD_GRAVITY * 0.02 / math.sqrt(1.0004)
    assert_allclose(force, expected, rtol=1e-12)
    assert_allclose(motor_speed(SIMPLE, 10.0), 10 / 0.35 * 10, rtol=1e-14)  # 285.714 rad/s
    assert_allclose(motor_torque(SIMPLE, force), expected * 0.35 / 10, rtol=1e-12)
    assert tractive_force(SIMPLE, 0.0, 0.0) == 0.0  # no rolling resistance at standstill


def test_acceleration_central_difference():
    # linear ramp 0..20 m/s in 10 s: a = 2 m/s^2 everywhere (exact for central/one-sided)
    cycle = DriveCycle(time=np.arange(11.0), speed=np.linspace(0, 20, 11))
    assert_allclose(cycle_acceleration(cycle), 2.0, rtol=1e-12)


def test_loss_function_bookkeeping():
    # loss = 10 % of |P_mech|: E_dc = 1.1 E_traction - 0.9 E_regen exactly (linear in P)
    cycle = load_wltc_class3b()
    vehicle = load_vehicle("ix3")
    base = cycle_energy(vehicle, cycle)
    lossy = cycle_energy(vehicle, cycle, lambda w, t: 0.1 * np.abs(w * t))
    expected = 1.1 * base.traction_energy - 0.9 * base.regenerated_energy
    assert_allclose(lossy.dc_energy, expected, rtol=1e-12)
    no_regen = cycle_energy(vehicle, cycle, regenerative_braking=False, auxiliary_power=300.0)
    assert_allclose(no_regen.dc_energy, base.traction_energy + 300.0 * 1800.0, rtol=1e-12)


def test_regenerative_torque_limit_hand_computed():
    # constant deceleration 1 m/s^2 from 20 m/s on a vehicle without road load: braking
    # force m a = 2000 N, motor torque -2000 * 0.35 / 10 = -70 N m; a -35 N m limit halves
    # the recovered energy (the friction brakes take the rest), a 0 limit removes it
    v = Vehicle(mass=2000.0, f0=0.0, f1=0.0, f2=0.0, wheel_radius=0.35, gear_ratio=10.0)
    t = np.linspace(0.0, 20.0, 2001)
    cycle = DriveCycle(time=t, speed=20.0 - t)
    full = cycle_energy(v, cycle)
    half = cycle_energy(v, cycle, regenerative_torque_limit=lambda w: np.full_like(w, -35.0))
    none = cycle_energy(v, cycle, regenerative_torque_limit=lambda w: 0.0 * w)
    # kinetic energy 0.5 m v^2 = 400 kJ; trapezoid on a linear ramp: exact but for the
    # one-sided gradient at the two end samples (dt = 0.01 s): rtol 1e-3
    assert_allclose(full.regenerated_energy, 0.5 * 2000.0 * 20.0**2, rtol=1e-3)
    assert_allclose(half.regenerated_energy, 0.5 * full.regenerated_energy, rtol=1e-12)
    assert none.regenerated_energy == 0.0


def test_ix3_data_file_has_sources_and_hand_road_load():
    vehicle = load_vehicle("ix3")
    # f0 = 0.0085 * 2260 * 9.80665 = 188.3857 N; f2 = 0.5 * 1.189 * 0.29 * 2.60 = 0.448253
    assert_allclose(vehicle.f0, 188.3857, rtol=1e-6)
    assert_allclose(vehicle.f2, 0.448253, rtol=1e-6)
    for key in ("mass", "drag_coefficient", "frontal_area", "wheel_radius", "gear_ratio"):
        assert f"{key}:" in vehicle.source
    ops = cycle_operating_points(vehicle, load_wltc_class3b())
    # 131.3 km/h at r = 0.355 m and i = 10: 1027.4 rad/s (9811 rpm)
    assert_allclose(ops.omega_motor.max(), 131.3 / 3.6 / 0.355 * 10, rtol=1e-12)


def test_validation():
    with pytest.raises(DesignError):
        Vehicle(mass=-1.0, f0=0, f1=0, f2=0, wheel_radius=0.3, gear_ratio=9)
    with pytest.raises(DesignError):
        DriveCycle(time=np.array([0.0, 0.0]), speed=np.array([0.0, 1.0]))
