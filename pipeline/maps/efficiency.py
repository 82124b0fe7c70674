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
from pathlib import Path

import numpy as np

from pipeline.constants import ZERO_CELSIUS
from pipeline.drive.cycle import cycle_energy, cycle_operating_points, load_wltc_class3b
from pipeline.drive.gearbox import Gearbox, drag_loss, mesh_loss
from pipeline.drive.inverter import SIC_1200V_450A, InverterParameters, inverter_loss
from pipeline.drive.vehicle import Vehicle, load_vehicle
from pipeline.errors import DesignError
from pipeline.maps.magnets import DEFAULT_MAGNET_TEMPERATURE
from pipeline.maps.protocol import LOSS_KEYS
from pipeline.maps.pwm import (
    DEFAULT_SWITCHING_FREQUENCY,
    PWM_LOSS_KEYS,
    pwm_extra,
    pwm_settings,
    with_fe_paths,
)
from pipeline.maps.strategy import (
    REGIONS,
    StrategyOptions,
    StrategyResult,
    operating_strategy,
)

__all__ = [
    "EfficiencyOptions",
    "DriveUnitMaps",
    "drive_unit_maps",
    "efficiency",
    "efficiency_dataset",
    "cycle_results",
    "matched_vehicle",
    "run_efficiency_stage",
]

log = logging.getLogger(__name__)

#: SPWM's linear range (V_dc/2) over SVPWM's (V_dc/sqrt(3)) [-]
SPWM_LIMIT = math.sqrt(3.0) / 2.0


@dataclass(frozen=True)
class EfficiencyOptions:
    """Settings of the efficiency stage [SI].

    n_speed, n_torque: map grid [-]; modulation_max: fraction of V_dc/sqrt(3) [-] (of
    V_dc/2 for SPWM, whose linear range ends there); switching_frequency [Hz], modulation
    (``svpwm``, ``spwm``, ``dpwm1``), current_waveform (``inverter-fed``: PWM carrier-band
    losses added, :mod:`pipeline.maps.pwm`; ``sinusoidal``): None takes the design's
    ``[inverter]`` table (:func:`pipeline.maps.pwm.pwm_settings`); winding_temperature,
    field_temperature, magnet_temperature,
    junction_temperature, oil_temperature [K]; vehicle: name or TOML path
    (``pipeline/drive/data``); inverter: device parameters; gearbox: None builds the
    default two-stage gearbox with the vehicle's ratio; auxiliary_power [W];
    n_current, n_field: strategy candidates (:class:`StrategyOptions`); cycle_exact: cycle
    losses at every sample from the model (else interpolated from the maps).
    """

    n_speed: int = 100
    n_torque: int = 100
    modulation_max: float = 0.95
    switching_frequency: float | None = None
    modulation: str | None = None
    current_waveform: str | None = None
    winding_temperature: float = ZERO_CELSIUS + 100.0
    field_temperature: float = ZERO_CELSIUS + 100.0
    magnet_temperature: float = DEFAULT_MAGNET_TEMPERATURE
    junction_temperature: float = ZERO_CELSIUS + 125.0
    oil_temperature: float = ZERO_CELSIUS + 60.0
    vehicle: str = "ix3"
    inverter: InverterParameters = SIC_1200V_450A
    gearbox: Gearbox | None = None
    auxiliary_power: float = 0.0
    n_current: int = 61
    n_field: int = 13
    cycle_exact: bool = True

    def __post_init__(self) -> None:
        f_sw = self.switching_frequency
        if f_sw is not None and not f_sw > 0.0:
            raise DesignError("switching_frequency", f_sw, "must be > 0 [Hz]")
        if self.modulation not in (None, "svpwm", "spwm", "dpwm1"):
            raise DesignError("modulation", self.modulation, "must be svpwm, spwm or dpwm1")
        if self.current_waveform not in (None, "inverter-fed", "sinusoidal"):
            raise DesignError(
                "current_waveform", self.current_waveform, "must be inverter-fed or sinusoidal"
            )
        for name in ("winding_temperature", "field_temperature", "junction_temperature"):
            if not getattr(self, name) > 0.0:
                raise DesignError(name, getattr(self, name), "must be > 0 [K]")

    def strategy_options(self) -> StrategyOptions:
        """The matching :class:`StrategyOptions`."""
        return StrategyOptions(
            n_speed=self.n_speed,
            n_torque=self.n_torque,
            modulation_max=self.modulation_max * (SPWM_LIMIT if self.modulation == "spwm" else 1),
            n_current=self.n_current,
            n_field=self.n_field,
            temperatures={
                "winding": self.winding_temperature,
                "field": self.field_temperature,
                "magnet": self.magnet_temperature,
            },
        )


def efficiency(p_in_direction: np.ndarray, p_out_direction: np.ndarray) -> np.ndarray:
    """``out / in`` where both are > 0, else 0 [-] (powers [W], signed along the flow)."""
    p_in = np.asarray(p_in_direction, dtype=float)
    p_out = np.asarray(p_out_direction, dtype=float)
    ok = (p_in > 0.0) & (p_out > 0.0)
    eta = np.where(ok, p_out / np.where(ok, p_in, 1.0), 0.0)
    return np.where(np.isfinite(p_in) & np.isfinite(p_out), eta, np.nan)


def _flow_efficiency(upstream: np.ndarray, downstream: np.ndarray) -> np.ndarray:
    """Efficiency of a stage with signed powers (upstream = electrical side)."""
    motoring = downstream >= 0.0
    return np.where(motoring, efficiency(upstream, downstream), efficiency(-downstream, -upstream))


@dataclass(frozen=True, eq=False)
class DriveUnitMaps:
    """Power flow over the map grid (arrays (n_speed, n_torque)) [W], wheel side, eta [-]."""

    p_mech: np.ndarray
    p_elec: np.ndarray
    p_loss_motor: np.ndarray
    p_inverter: np.ndarray
    p_gearbox: np.ndarray
    p_dc: np.ndarray
    p_wheel: np.ndarray
    motor_efficiency: np.ndarray
    drive_efficiency: np.ndarray
    wheel_speed: np.ndarray  # (n_speed,)
    wheel_torque: np.ndarray
    modulation_index: np.ndarray
    gear_ratio: float
    wheel_torque_envelope: np.ndarray  # (2, n_speed): motoring, generating [N m]


def _drive_losses(i_d, i_q, v_d, v_q, omega, torque, v_dc, gearbox, options):
    """(inverter loss [W], gearbox loss [W], modulation index [-]) at operating points."""
    i_abs = np.hypot(i_d, i_q)
    v_abs = np.hypot(v_d, v_q)
    m = v_abs / (0.5 * v_dc)
    iv = i_abs * v_abs
    cos_phi = np.where(iv > 0, (v_d * i_d + v_q * i_q) / np.where(iv > 0, iv, 1.0), 1.0)
    inv = inverter_loss(
        options.inverter,
        i_abs,
        m,
        np.clip(cos_phi, -1.0, 1.0),
        v_dc,
        options.switching_frequency or DEFAULT_SWITCHING_FREQUENCY,
        options.junction_temperature,
    ).total
    gear = mesh_loss(gearbox, omega, torque) + drag_loss(gearbox, omega, options.oil_temperature)
    return inv, gear * np.where(np.isfinite(torque), 1.0, np.nan), m


def drive_unit_maps(
    strategy: StrategyResult,
    dc_link_voltage: float,
    gearbox: Gearbox,
    options: EfficiencyOptions,
    extra_losses: dict | None = None,
) -> DriveUnitMaps:
    """Motor, inverter and gearbox power flow over the strategy's grid; extra_losses: more
    motor loss components over the grid [W] (the PWM losses of an inverter-fed map)."""
    w = np.broadcast_to(strategy.speed[:, None], strategy.i_d.shape)
    p_mech = strategy.torque_actual * w
    p_loss = strategy.loss_total + sum((extra_losses or {}).values())
    p_elec = p_mech + p_loss
    inv, gear, m = _drive_losses(
        strategy.i_d,
        strategy.i_q,
        strategy.v_d,
        strategy.v_q,
        w,
        strategy.torque_actual,
        dc_link_voltage,
        gearbox,
        options,
    )
    p_dc = p_elec + inv
    p_wheel = p_mech - gear
    w_wheel = strategy.speed / gearbox.ratio
    with np.errstate(invalid="ignore", divide="ignore"):
        t_wheel = np.where(
            w_wheel[:, None] > 0,
            p_wheel / w_wheel[:, None],
            gearbox.ratio * strategy.torque_actual,
        )
    env = np.stack([strategy.torque_max, strategy.torque_min])
    env_loss = mesh_loss(gearbox, strategy.speed, env) + drag_loss(
        gearbox, strategy.speed, options.oil_temperature
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        t_wheel_env = np.where(
            w_wheel > 0, (env * strategy.speed - env_loss) / w_wheel, gearbox.ratio * env
        )
    return DriveUnitMaps(
        wheel_torque_envelope=t_wheel_env,
        p_mech=p_mech,
        p_elec=p_elec,
        p_loss_motor=p_loss,
        p_inverter=inv,
        p_gearbox=gear,
        p_dc=p_dc,
        p_wheel=p_wheel,
        motor_efficiency=_flow_efficiency(p_elec, p_mech),
        drive_efficiency=_flow_efficiency(p_dc, p_wheel),
        wheel_speed=w_wheel,
        wheel_torque=t_wheel,
        modulation_index=m,
        gear_ratio=gearbox.ratio,
    )


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


def _interpolator(speed, torque, values):
    """Bilinear in (speed, torque); nearest valid point where a cell touches NaN."""
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
    interp = {k: _interpolator(strategy.speed, strategy.torque, v) for k, v in components.items()}
    per_sample = {k: np.maximum(f(w, t), 0.0) for k, f in interp.items()}
    if model is not None:
        from pipeline.maps.points import operating_points

        opts = options or EfficiencyOptions()
        gb = gearbox or Gearbox(ratio=vehicle.gear_ratio)
        pts = operating_points(model, w, t, opts.strategy_options())
        inv, gear, _ = _drive_losses(
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


def _at_magnet_temperature(machine_map, options: EfficiencyOptions):
    """The model with the fields of ``options.magnet_temperature``: a PM map that knows its
    magnet temperatures (:class:`pipeline.maps.model.MachineMap`) is read at it or refuses
    (DesignError naming its solved range); analytic models and EESMs as given."""
    if getattr(machine_map, "kind", "pm") != "pm" or not hasattr(
        machine_map, "at_magnet_temperature"
    ):
        return machine_map
    return machine_map.at_magnet_temperature(options.magnet_temperature)


def _temperature_attrs(machine_map, options: EfficiencyOptions) -> dict:
    """Temperatures [K] the efficiency numbers belong to, for the dataset attributes."""
    temps = dict(options.strategy_options().temperatures)
    pm = getattr(machine_map, "kind", "pm") == "pm"
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


def run_efficiency_stage(machine_map, design, out_dir, options=None) -> dict:
    """Strategy, motor and drive-unit maps, envelopes, WLTC energy; Dataset and PNGs.

    machine_map: a :class:`~pipeline.maps.protocol.MachineMapProtocol` model; design: the
    :class:`~pipeline.design.Design` (or None: name from the model, no ratings check);
    out_dir: directory for ``efficiency.nc`` and the PNGs; options:
    :class:`EfficiencyOptions` (the command layer builds them from its flags:
    :mod:`pipeline.commands.efficiency_args`). Returns a summary with unit-suffixed keys and paths.
    """
    from pipeline.io.store import write_dataset
    from pipeline.maps import plots

    if options is None:
        options = EfficiencyOptions()
    machine_map = _at_magnet_temperature(machine_map, options)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
        "package_version": __import__("pipeline").__version__,
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
    ds_path = write_dataset(ds, out / "efficiency.nc")
    pngs = plots.efficiency_figures(ds, cyc, out, title=name)
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
        "dataset": str(ds_path),
        "pictures": [str(p) for p in pngs],
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
    return summary
