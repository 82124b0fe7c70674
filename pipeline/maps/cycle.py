"""Drive-cycle energy from the efficiency maps or from the strategy solved at each sample.

Losses at every sample of the cycle's motor operating points (:mod:`pipeline.drive.cycle`)
from the strategy solved at that point (:func:`pipeline.maps.points.operating_points`), or
(``model=None``) interpolated bilinearly from the maps, nearest valid map point where an
interpolation cell touches an unreachable point. Braking beyond the generating envelope is
clipped to it (friction brakes take the rest); motoring samples beyond the envelope are
counted and reported. If the vehicle's gear ratio would drive the motor above its max speed
on the cycle, the ratio is lowered (:func:`matched_vehicle`).
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from pipeline.drive.cycle import cycle_energy, cycle_operating_points, load_wltc_class3b
from pipeline.drive.gearbox import Gearbox
from pipeline.drive.vehicle import Vehicle
from pipeline.errors import DesignError
from pipeline.maps.drive_unit import DriveUnitMaps, EfficiencyOptions, drive_losses
from pipeline.maps.points import operating_points
from pipeline.maps.protocol import LOSS_KEYS
from pipeline.maps.pwm import PWM_LOSS_KEYS
from pipeline.maps.strategy import StrategyResult

__all__ = ["cycle_results", "matched_vehicle", "map_interpolator"]

log = logging.getLogger(__name__)


def map_interpolator(speed, torque, values):
    """Bilinear in (speed, torque); nearest valid point where a cell touches NaN."""
    # defer: this scipy submodule loads only on this path
    from scipy.interpolate import NearestNDInterpolator, RegularGridInterpolator

    lin = RegularGridInterpolator((speed, torque), values, bounds_error=False, fill_value=np.nan)
    ss, tt = np.meshgrid(speed, torque, indexing="ij")
    ok = np.isfinite(values)
    near = NearestNDInterpolator(
        np.column_stack([ss[ok] / speed[-1], tt[ok] / torque[-1]]), values[ok]
    )

    def f(w, t):
        pts = np.column_stack([np.ravel(w), np.ravel(t)])
        out = lin(pts)
        bad = ~np.isfinite(out)
        if bad.any():
            out[bad] = near(pts[bad, 0] / speed[-1], pts[bad, 1] / torque[-1])
        return out.reshape(np.shape(w))

    return f


def cycle_results(
    strategy: StrategyResult,
    maps: DriveUnitMaps,
    vehicle: Vehicle,
    auxiliary_power: float = 0.0,
    model=None,
    gearbox: Gearbox | None = None,
    options: EfficiencyOptions | None = None,
    pwm: dict | None = None,
    pwm_at=None,
) -> dict:
    """WLTC class 3b energy and losses per component (SI; J, m, W).

    Losses are interpolated from the maps; with ``model`` (and the ``gearbox`` and
    ``options`` of the maps) they are evaluated exactly at every sample instead
    (:func:`pipeline.maps.points.operating_points`; interpolated where a sample is out of
    reach). pwm: PWM loss components over the grid (inverter-fed maps), evaluated at the
    samples by ``pwm_at(i_d, i_q, i_f, v_d, v_q, speed)`` when given with ``model``.
    Bilinear interpolation of the convex loss surfaces overestimates the motor
    losses slightly (about 2 % of the cycle's motor loss on the linear gen5-like model).
    """
    cycle = load_wltc_class3b()
    ops = cycle_operating_points(vehicle, cycle)
    if np.max(ops.omega_motor) > strategy.speed[-1] * (1 + 1e-9):
        raise DesignError(
            "cycle speed",
            float(np.max(ops.omega_motor)),
            f"exceeds the map's max speed {strategy.speed[-1]:.1f} rad/s",
        )
    w = ops.omega_motor
    t_hi = strategy.envelope_at(w)
    t_lo = np.minimum(strategy.envelope_at(w, generating=True, beyond=0.0), 0.0)
    t = np.maximum(ops.torque_motor, t_lo)  # braking beyond the envelope: friction brakes
    out_of_reach = int(np.sum(~(t <= t_hi)))
    friction_braking = int(np.sum(ops.torque_motor < t_lo))
    t_lo_map = np.minimum(strategy.torque_min, 0.0)
    components = {k: strategy.losses[k] for k in LOSS_KEYS}
    components["inverter"] = maps.p_inverter
    components["gearbox"] = maps.p_gearbox
    components.update({k: pwm[k] for k in PWM_LOSS_KEYS} if pwm else {})
    interp = {k: map_interpolator(strategy.speed, strategy.torque, v) for k, v in components.items()}
    per_sample = {k: np.maximum(f(w, t), 0.0) for k, f in interp.items()}
    if model is not None:

        opts = options or EfficiencyOptions()
        gb = gearbox or Gearbox(ratio=vehicle.gear_ratio)
        pts = operating_points(model, w, t, opts.strategy_options())
        inv, gear, _ = drive_losses(
            pts["i_d"],
            pts["i_q"],
            pts["v_d"],
            pts["v_q"],
            w,
            pts["torque"],
            model.dc_link_voltage,
            gb,
            opts,
        )
        exact = {**{k: pts[k] for k in LOSS_KEYS}, "inverter": inv, "gearbox": gear}
        if pwm and pwm_at is not None:
            at = pwm_at(pts["i_d"], pts["i_q"], pts.get("i_f", 0.0), pts["v_d"], pts["v_q"], w)
            exact.update({k: at[k] for k in PWM_LOSS_KEYS})
        for k, v in exact.items():
            per_sample[k] = np.where(np.isfinite(v), np.maximum(v, 0.0), per_sample[k])

    def total(_w, _t):
        return sum(per_sample.values())

    energy = cycle_energy(
        vehicle,
        cycle,
        total,
        auxiliary_power=auxiliary_power,
        regenerative_torque_limit=lambda omega: np.interp(omega, strategy.speed, t_lo_map),
    )
    time = ops.time
    loss_energy = {
        k: float(np.sum(0.5 * (p[1:] + p[:-1]) * np.diff(time))) for k, p in per_sample.items()
    }
    return {
        "energy": energy,
        "loss_energy": loss_energy,
        "omega_motor": w,
        "torque_motor": t,
        "time": time,
        "out_of_reach_samples": out_of_reach,
        "friction_braking_samples": friction_braking,
    }


def matched_vehicle(vehicle: Vehicle, max_speed: float, margin: float = 0.98) -> Vehicle:
    """The vehicle with its gear ratio lowered, if needed, so that the WLTC class 3b peak
    speed drives the motor to at most ``margin`` x its max speed [rad/s] (a drive unit
    built around a slower motor would have a lower ratio); unchanged otherwise."""
    v_peak = float(np.max(load_wltc_class3b().speed))
    ratio = margin * max_speed * vehicle.wheel_radius / v_peak
    if ratio >= vehicle.gear_ratio:
        return vehicle
    log.info("gear ratio %.3g -> %.3g to keep the cycle below max speed", vehicle.gear_ratio, ratio)
    return dataclasses.replace(vehicle, gear_ratio=ratio)
