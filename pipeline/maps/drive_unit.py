"""Drive-unit power flow at the strategy's operating points: options, inverter and gearbox
losses, motor and drive-unit efficiency maps (the power flow is described in
:mod:`pipeline.maps.efficiency`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.constants import ZERO_CELSIUS
from pipeline.drive.gearbox import Gearbox, drag_loss, mesh_loss
from pipeline.drive.inverter import SIC_1200V_450A, InverterParameters, inverter_loss
from pipeline.errors import DesignError
from pipeline.maps.magnets import DEFAULT_MAGNET_TEMPERATURE
from pipeline.maps.pwm import DEFAULT_SWITCHING_FREQUENCY
from pipeline.maps.strategy import StrategyOptions, StrategyResult

#: SPWM's linear range (V_dc/2) over SVPWM's (V_dc/sqrt(3)) [-]
SPWM_LIMIT = math.sqrt(3.0) / 2.0

__all__ = ["EfficiencyOptions", "efficiency", "DriveUnitMaps", "drive_losses", "drive_unit_maps"]

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


def drive_losses(i_d, i_q, v_d, v_q, omega, torque, v_dc, gearbox, options):
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
    inv, gear, m = drive_losses(
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
