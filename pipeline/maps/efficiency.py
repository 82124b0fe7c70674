r"""Motor and drive-unit efficiency maps, envelopes and drive-cycle energy.

Power flow at every (speed, torque) point of the strategy (signed: motoring > 0)::

    P_mech  = T omega                                   shaft
    P_elec  = P_mech + sum(motor losses)                terminals incl. the field supply
    P_dc    = P_elec + P_inverter                       DC link (battery side)
    P_wheel = P_mech - P_gearbox                        wheel (gear ratio i)

Efficiency: ``P_out / P_in`` with the direction of the power flow (motoring: P_mech /
P_elec; generating: P_elec / P_mech); 0 where no useful power flows (standstill, or the
losses exceed the shaft power). Wheel speed ``omega / i``, wheel torque ``P_wheel /
omega_wheel`` (``i T`` at standstill).

Inverter: :func:`pipeline.drive.inverter.inverter_loss` with the phase-current peak
``|i_dq|``, modulation index ``|v_dq| / (V_dc/2)`` and displacement factor
``v.i / (|v||i|)``. The field supply (a DC chopper) is not modelled: its output power is
in the motor's field-copper and brush losses. Gearbox: :func:`gearbox_loss` (mesh + drag).

Drive cycle: losses at every sample of the cycle's motor operating points
(``pipeline.drive.cycle``) from the strategy solved at that point
(:func:`pipeline.maps.points.operating_points`), or (``cycle_exact=False``) interpolated
bilinearly from the maps, nearest valid map point where an interpolation cell touches an
unreachable point. Braking beyond the generating envelope is clipped to it (friction
brakes take the rest); motoring samples beyond the envelope are counted and reported (the
vehicle could not follow the trace there). If the vehicle's gear ratio would drive the motor
above its max speed on the cycle, the ratio is lowered (:func:`matched_vehicle`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass

import numpy as np

from pipeline.drive.gearbox import Gearbox
from pipeline.drive.vehicle import load_vehicle
from pipeline.maps.cycle import cycle_results, matched_vehicle
from pipeline.maps.drive_unit import (
    DriveUnitMaps,
    EfficiencyOptions,
    drive_unit_maps,
    efficiency,
)
from pipeline.maps.protocol import LOSS_KEYS
from pipeline.maps.pwm import (
    PWM_LOSS_KEYS,
    pwm_extra,
    pwm_settings,
    with_fe_paths,
)
from pipeline.maps.strategy import (
    REGIONS,
    StrategyResult,
    operating_strategy,
)
from pipeline.version import __version__

__all__ = [
    "EfficiencyOptions",
    "DriveUnitMaps",
    "drive_unit_maps",
    "efficiency",
    "efficiency_dataset",
    "cycle_results",
    "matched_vehicle",
    "EfficiencyResult",
    "compute_efficiency",
]

log = logging.getLogger(__name__)



_UNITS = {
    "i_d": ("A", "d-axis current (peak, amplitude-invariant)"),
    "i_q": ("A", "q-axis current (peak, amplitude-invariant)"),
    "i_f": ("A", "field current"),
    "psi_d": ("Wb", "d-axis flux linkage"),
    "psi_q": ("Wb", "q-axis flux linkage"),
    "v_d": ("V", "d-axis voltage (peak phase)"),
    "v_q": ("V", "q-axis voltage (peak phase)"),
    "u_f": ("V", "field voltage R_f i_f"),
    "torque_actual": ("N m", "electromagnetic torque at the operating point"),
    "region": ("1", "0 out of reach, 1 MTPA, 2 field weakening, 3 MTPV"),
    "p_mech": ("W", "shaft power"),
    "p_elec": ("W", "motor electrical input power (stator and field)"),
    "p_loss_motor": ("W", "total motor loss"),
    "p_inverter": ("W", "inverter loss"),
    "p_gearbox": ("W", "gearbox loss"),
    "p_dc": ("W", "DC-link power"),
    "p_wheel": ("W", "wheel power"),
    "motor_efficiency": ("1", "motor efficiency"),
    "drive_efficiency": ("1", "drive-unit efficiency (DC link to wheel)"),
    "wheel_torque": ("N m", "wheel torque"),
    "modulation_index": ("1", "modulation index V_peak / (V_dc/2)"),
    "phase_current_fundamental_rms": ("A", "phase current r.m.s., fundamental"),
    "phase_current_rms": ("A", "phase current r.m.s., total (fundamental and PWM ripple)"),
}


def efficiency_dataset(
    strategy: StrategyResult, maps: DriveUnitMaps, attrs: dict, pwm: dict | None = None
):
    """xarray Dataset of the maps, envelopes and regions, with units and long names; pwm:
    PWM loss components and ``phase_current_ripple_rms`` over the grid
    (:func:`pipeline.maps.pwm.pwm_extra`) of an inverter-fed map."""
    # defer: xarray loads only where datasets are read or written
    import xarray as xr

    dims = ("speed", "torque")
    data = {}
    for name in ("i_d", "i_q", "i_f", "psi_d", "psi_q", "v_d", "v_q", "u_f", "torque_actual"):
        data[name] = (dims, np.asarray(getattr(strategy, name), dtype=float))
    data["region"] = (dims, strategy.region)
    for key in LOSS_KEYS + (PWM_LOSS_KEYS if pwm else ()):
        value = pwm[key] if key in PWM_LOSS_KEYS else strategy.losses[key]
        data[f"loss_{key}"] = (dims, np.asarray(value, dtype=float))
    i_1 = np.hypot(strategy.i_d, strategy.i_q) / math.sqrt(2.0)
    data["phase_current_fundamental_rms"] = (dims, i_1)
    ripple = pwm["phase_current_ripple_rms"] if pwm else 0.0
    data["phase_current_rms"] = (dims, np.hypot(i_1, ripple))
    for f in dataclasses.fields(maps):
        value = getattr(maps, f.name)
        if isinstance(value, np.ndarray) and value.ndim == 2:
            data[f.name] = (dims, value)
    data["wheel_speed"] = (("speed",), maps.wheel_speed)
    quad = ("quadrant",)
    data["torque_envelope"] = (
        quad + ("speed",),
        np.stack([strategy.torque_max, strategy.torque_min]),
    )
    data["power_envelope"] = (
        data["torque_envelope"][0],
        data["torque_envelope"][1] * strategy.speed,
    )
    data["envelope_region"] = (quad + ("speed",), strategy.envelope_region)
    data["wheel_torque_envelope"] = (quad + ("speed",), maps.wheel_torque_envelope)
    for key, value in strategy.envelope_currents.items():
        data[f"envelope_{key}"] = (quad + ("speed",), value)
    coords = {
        "speed": ("speed", strategy.speed, {"units": "rad/s", "long_name": "mechanical speed"}),
        "torque": ("torque", strategy.torque, {"units": "N m", "long_name": "torque"}),
        "speed_rpm": ("speed", strategy.speed * 30.0 / np.pi, {"units": "rpm"}),
        "quadrant": ("quadrant", ["motoring", "generating"]),
    }
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    more = {
        "wheel_speed": ("rad/s", "wheel speed"),
        "torque_envelope": ("N m", "torque envelope (max motoring, min generating)"),
        "power_envelope": ("W", "mechanical power envelope"),
        "envelope_region": ("1", "1 current-limited (MTPA), 2 both limits (FW), 3 MTPV"),
        "wheel_torque_envelope": ("N m", "wheel torque envelope (gearbox losses included)"),
        "envelope_i_d": ("A", "d-axis current on the envelope"),
        "envelope_i_q": ("A", "q-axis current on the envelope"),
        "envelope_i_f": ("A", "field current on the envelope"),
    }
    for name in ds.data_vars:
        if name.startswith("loss_"):
            unit, long = "W", f"{name[5:].replace('_', ' ')} loss"
        else:
            unit, long = {**_UNITS, **more}.get(name, ("1", name))
        ds[name].attrs.update(units=unit, long_name=long)
    ds.attrs["regions"] = "; ".join(f"{k} {v}" for k, v in REGIONS.items())
    return ds



def _at_magnet_temperature(machine_map, options: EfficiencyOptions):
    """The model with the fields of ``options.magnet_temperature``: a PM map that knows its
    magnet temperatures (:class:`pipeline.maps.model.MachineMap`) is read at it or refuses
    (DesignError naming its solved range); analytic models and EESMs as given."""
    if getattr(machine_map, "has_field_winding", False) or not hasattr(
        machine_map, "at_magnet_temperature"
    ):
        return machine_map
    return machine_map.at_magnet_temperature(options.magnet_temperature)


def _temperature_attrs(machine_map, options: EfficiencyOptions) -> dict:
    """Temperatures [K] the efficiency numbers belong to, for the dataset attributes."""
    temps = dict(options.strategy_options().temperatures)
    pm = not getattr(machine_map, "has_field_winding", False)
    temps.pop("field" if pm else "magnet", None)
    solved = getattr(machine_map, "magnet_temperature", None)
    out = {"temperatures_K": json.dumps(temps)}
    if pm:
        out["magnet_temperature_K"] = options.magnet_temperature
        if solved is None:
            how = f"not modelled by {type(machine_map).__name__} (analytic flux linkage)"
        else:
            how = machine_map.dataset.attrs.get("magnet_temperature_interpolated", "solved")
            how = f"{solved:.2f} K ({how})"
        out["magnet_temperature_of_flux"] = how
    return out


@dataclass(frozen=True)
class EfficiencyResult:
    """Result of the efficiency stage (:func:`compute_efficiency`).

    ``strategy``: the loss-minimising currents (:class:`~pipeline.maps.strategy.StrategyResult`);
    ``maps``: motor and drive-unit maps (:class:`DriveUnitMaps`); ``cycle``: the WLTC results
    (:func:`cycle_results`); ``dataset``: everything as an xarray Dataset with the
    temperatures it belongs to in its attributes; ``summary``: headline numbers with
    unit-suffixed keys (no paths: writing is :func:`pipeline.reports.efficiency.write_efficiency`).
    """

    strategy: StrategyResult
    maps: DriveUnitMaps
    cycle: dict
    dataset: object
    summary: dict
    title: str = ""

    def to_dataset(self):
        """The efficiency Dataset (``efficiency.nc``)."""
        return self.dataset


def compute_efficiency(machine_map, design=None, options=None) -> EfficiencyResult:
    """Strategy, motor and drive-unit maps, envelopes and WLTC energy of a machine map.

    machine_map: a :class:`~pipeline.maps.protocol.MachineMapProtocol` model; design: the
    :class:`~pipeline.design.Design` (or None: name from the model, no ratings check);
    options: :class:`EfficiencyOptions` (the command layer builds them from its flags:
    :mod:`pipeline.commands.efficiency_args`). Writes nothing.
    """
    if options is None:
        options = EfficiencyOptions()
    machine_map = _at_magnet_temperature(machine_map, options)
    vehicle = matched_vehicle(load_vehicle(options.vehicle), machine_map.max_speed)
    gearbox = options.gearbox or Gearbox(
        ratio=vehicle.gear_ratio, source="default two-stage gearbox, vehicle ratio"
    )
    settings = pwm_settings(
        design, options.switching_frequency, options.modulation, options.current_waveform
    )
    options = dataclasses.replace(
        options,
        switching_frequency=settings.switching_frequency,
        modulation=settings.modulation,
        current_waveform=settings.current_waveform,
    )
    strategy = operating_strategy(machine_map, options.strategy_options())
    v_dc = machine_map.dc_link_voltage
    pwm = pwm_at = None
    if settings.current_waveform == "inverter-fed":  # added after the strategy (maps.pwm)
        settings = with_fe_paths(settings, design, machine_map, options.magnet_temperature)

        def pwm_at(*point):  # (i_d, i_q, i_f, v_d, v_q, speed)
            return pwm_extra(machine_map, design, *point, settings, options.winding_temperature)

        s = strategy
        pwm = pwm_at(s.i_d, s.i_q, s.i_f, s.v_d, s.v_q, s.speed[:, None])
    extra = {k: pwm[k] for k in PWM_LOSS_KEYS} if pwm else None
    maps = drive_unit_maps(strategy, v_dc, gearbox, options, extra)
    cyc = cycle_results(
        strategy,
        maps,
        vehicle,
        options.auxiliary_power,
        model=machine_map if options.cycle_exact else None,
        gearbox=gearbox,
        options=options,
        pwm=pwm,
        pwm_at=pwm_at,
    )
    name = getattr(design, "name", None) or machine_map.name
    attrs = {
        "design": name,
        "design_hash": design.content_hash() if hasattr(design, "content_hash") else "",
        "machine_model": type(machine_map).__name__,
        "package_version": __version__,
        "strategy": "loss-minimising, pipeline.maps.strategy",
        **_temperature_attrs(machine_map, options),
        "oil_temperature_K": options.oil_temperature,
        "junction_temperature_K": options.junction_temperature,
        "dc_link_voltage_V": v_dc,
        "voltage_limit_V": strategy.v_max,
        "modulation_max": options.modulation_max,
        "switching_frequency_Hz": options.switching_frequency,
        "modulation": options.modulation,
        "current_waveform": options.current_waveform,
        "inverter_settings_source": settings.source,
        "inverter": options.inverter.source,
        "gear_ratio": gearbox.ratio,
        "vehicle": vehicle.name,
        "wltc_kWh_per_100km": cyc["energy"].kWh_per_100km,
    }
    flux_attrs = getattr(getattr(machine_map, "dataset", None), "attrs", {}) or {}
    for key in ("design_hash", "mesh_hash", "level", "package_version"):
        if key in flux_attrs:
            attrs[f"flux_map_{key}"] = str(flux_attrs[key])
    ds = efficiency_dataset(strategy, maps, attrs, pwm)
    energy = cyc["energy"]
    p_env = strategy.torque_max * strategy.speed
    summary = {
        "design": name,
        "current_waveform": options.current_waveform,
        "peak_motor_efficiency": float(np.nanmax(maps.motor_efficiency)),
        "peak_drive_efficiency": float(np.nanmax(maps.drive_efficiency)),
        "max_torque_Nm": float(np.nanmax(strategy.torque_max)),
        "max_generating_torque_Nm": float(np.nanmin(strategy.torque_min)),
        "max_power_kW": float(np.nanmax(p_env)) / 1e3,
        "max_speed_rpm": float(strategy.speed[-1] * 30.0 / np.pi),
        "power_at_max_speed_kW": float(p_env[-1]) / 1e3,
        "voltage_limit_V": strategy.v_max,
        "wltc_kWh_per_100km": energy.kWh_per_100km,
        "wltc_loss_kWh": {k: v / 3.6e6 for k, v in cyc["loss_energy"].items()},
        "wltc_out_of_reach_samples": cyc["out_of_reach_samples"],
        "wltc_friction_braking_samples": cyc["friction_braking_samples"],
        "gear_ratio": gearbox.ratio,
    }
    if design is not None and hasattr(design, "ratings"):
        r = design.ratings
        summary["meets_peak_torque"] = summary["max_torque_Nm"] >= r.peak_torque * (1 - 1e-6)
        summary["meets_peak_power"] = summary["max_power_kW"] * 1e3 >= r.peak_power * (1 - 1e-6)
        at_rated = np.flatnonzero(p_env >= r.peak_power * (1 - 1e-6))
        summary["rated_power_speed_range_rpm"] = (
            [
                float(strategy.speed[at_rated[0]] * 30 / np.pi),
                float(strategy.speed[at_rated[-1]] * 30 / np.pi),
            ]
            if at_rated.size
            else []
        )
    return EfficiencyResult(strategy, maps, cyc, ds, summary, title=name)
