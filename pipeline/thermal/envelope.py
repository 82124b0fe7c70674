"""Thermal limits: continuous and peak torque envelopes, time to the winding limit, losses.

Everything takes a loss callable ``losses_at(speed [rad/s], torque [N m], temperatures
{winding, field, magnet} [K]) -> {LOSS_KEYS: W}`` that raises :class:`DesignError` for a
point beyond the electromagnetic envelope, so the thermal code does not depend on how the
operating point is chosen. Two sources:

- :func:`strategy_losses_at`: a machine model (:class:`pipeline.maps.protocol.
  MachineMapProtocol`, e.g. the FE :class:`pipeline.maps.model.MachineMap`) and the
  loss-minimising strategy (:func:`pipeline.maps.strategy.operating_strategy`). The currents
  are chosen at the strategy's winding and field temperatures and interpolated over its
  (speed, torque) grid; copper losses follow the actual rho_Cu(T). For a PM FE map the
  magnet temperature acts through the fields: one strategy per solved magnet temperature of
  the map, and at the actual magnet temperature T the losses are interpolated linearly in T
  between the two around it (currents and losses of the same torque at the fields of each;
  first order, as the map's own interpolation, :mod:`pipeline.maps.magnets`). A magnet
  temperature outside the solved ones is a DesignError (in an envelope search: infeasible),
  never the flux of another temperature. The callable records the magnet temperature of its
  last evaluation (``last_magnet_temperature``).
- :func:`representative_losses_at`: a documented analytic estimate (no FE), for tests,
  benchmarks and reports until the FE map exists; it says so wherever it is used.

Envelopes:
- continuous: per speed, the largest torque whose coupled steady state keeps every hot spot
  within :class:`~pipeline.thermal.machine.ThermalLimits` (bisection on torque);
- peak: per speed, the largest torque that keeps every hot spot within its limit for
  ``duration`` (30 s) from the stated start (coolant temperature everywhere, or a state).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping

import numpy as np

from pipeline.constants import ZERO_CELSIUS
from pipeline.derived import brush_loss, field_resistance_dc, mechanical_loss, phase_resistance_dc
from pipeline.errors import ConvergenceError, DesignError
from pipeline.maps.strategy import StrategyOptions, operating_strategy
from pipeline.materials import load_material
from pipeline.thermal.machine import (
    LOSS_KEYS,
    Cooling,
    MachineThermalModel,
    ThermalLimits,
    ThermalState,
)

__all__ = [
    "LossesAt",
    "margin",
    "continuous_torque",
    "continuous_envelope",
    "peak_torque",
    "peak_envelope",
    "time_to_limit",
    "representative_losses_at",
    "strategy_losses_at",
]

log = logging.getLogger(__name__)

LossesAt = Callable[[float, float, Mapping[str, float]], Mapping[str, float]]


def margin(hot_spots: Mapping[str, float], limits: ThermalLimits) -> tuple[float, str]:
    """Smallest (limit - hot spot) [K] over winding, field, magnet, and which one."""
    out = [
        (getattr(limits, k) - hot_spots[k], k)
        for k in ("winding", "field", "magnet")
        if k in hot_spots
    ]
    return min(out)


def _bisect(feasible: Callable[[float], bool], t_max: float, rtol: float) -> float:
    if feasible(t_max):
        return t_max
    lo, hi = 0.0, t_max
    if not feasible(lo):
        return 0.0
    while hi - lo > rtol * t_max:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if feasible(mid) else (lo, mid)
    return lo


def continuous_torque(
    model: MachineThermalModel,
    losses_at: LossesAt,
    speed: float,
    torque_max: float,
    cooling: Cooling | None = None,
    limits: ThermalLimits | None = None,
    rtol: float = 5e-3,
) -> float:
    """Largest torque [N m] in [0, torque_max] at speed [rad/s] whose coupled steady state
    keeps every hot spot within its limit (to ``rtol`` of torque_max)."""
    cooling, limits = cooling or Cooling(), limits or ThermalLimits()

    def feasible(torque: float) -> bool:
        try:
            state = model.coupled(lambda t: losses_at(speed, torque, t), speed, cooling)
        except (DesignError, ConvergenceError):
            return False
        return margin(state.hot_spots, limits)[0] >= 0

    return _bisect(feasible, torque_max, rtol)


def peak_torque(
    model: MachineThermalModel,
    losses_at: LossesAt,
    speed: float,
    torque_max: float,
    cooling: Cooling | None = None,
    limits: ThermalLimits | None = None,
    duration: float = 30.0,
    initial: ThermalState | float | None = None,
    dt: float = 1.0,
    rtol: float = 5e-3,
) -> float:
    """Largest torque [N m] in [0, torque_max] held for ``duration`` [s] from ``initial``
    (default: the coolant inlet temperature everywhere) within every limit."""
    cooling, limits = cooling or Cooling(), limits or ThermalLimits()

    def feasible(torque: float) -> bool:
        try:
            res = model.transient(
                lambda t: losses_at(speed, torque, t),
                speed,
                cooling,
                t_end=duration,
                dt=dt,
                initial=initial,
                limits=limits,
                stop_at_limit=True,
            )
        except DesignError:
            return False
        return math.isinf(res.time_to_limit)

    return _bisect(feasible, torque_max, rtol)


def _envelope(fn, speeds, torque_max, **kw) -> dict:
    speeds = np.asarray(speeds, float)
    t_em = np.array([float(torque_max(w)) for w in speeds])
    t_th = np.array(
        [fn(w, tm, **kw) if tm > 0 else 0.0 for w, tm in zip(speeds, t_em, strict=True)]
    )
    return {"speed": speeds, "torque": t_th, "torque_em": t_em, "power": t_th * speeds}


def continuous_envelope(model, losses_at: LossesAt, speeds, torque_max, **kw) -> dict:
    """Continuous envelope: dict of arrays speed [rad/s], torque [N m] (thermal),
    torque_em [N m] (``torque_max(speed)``, the electromagnetic envelope), power [W]."""
    return _envelope(
        lambda w, tm, **k: continuous_torque(model, losses_at, w, tm, **k), speeds, torque_max, **kw
    )


def peak_envelope(model, losses_at: LossesAt, speeds, torque_max, **kw) -> dict:
    """Peak (``duration`` = 30 s by default) envelope, same keys as
    :func:`continuous_envelope`."""
    return _envelope(
        lambda w, tm, **k: peak_torque(model, losses_at, w, tm, **k), speeds, torque_max, **kw
    )


def time_to_limit(
    model: MachineThermalModel,
    losses: Mapping[str, float] | Callable,
    speed: float,
    cooling: Cooling | None = None,
    limits: ThermalLimits | None = None,
    t_end: float = 600.0,
    dt: float = 1.0,
    initial: ThermalState | float | None = None,
) -> tuple[float, str]:
    """(time [s], part) until the first hot spot reaches its limit under ``losses`` (a dict
    [W] or a loss_fn of the mean temperatures); (inf, "") if not within t_end [s]."""
    cooling, limits = cooling or Cooling(), limits or ThermalLimits()
    res = model.transient(
        losses,
        speed,
        cooling,
        t_end=t_end,
        dt=dt,
        initial=initial,
        limits=limits,
        stop_at_limit=True,
    )
    return res.time_to_limit, res.limiting


# --- loss sources ------------------------------------------------------------------------

#: Flux densities of the representative iron-loss estimate [T] (teeth, yoke, rotor): usual
#: design values of traction machines at rated flux (Pyrhonen et al. 2014, Table 6.2).
REPRESENTATIVE_B = (1.6, 1.4, 0.6)


def _specific_iron_loss(material: str, f: float, b: float) -> float:
    """[W/kg]: the material's Steinmetz + eddy coefficients if given, else its 1.5 T / 50 Hz
    loss split 60 % hysteresis / 40 % eddy (assumed), else 3 W/kg at 1.5 T / 50 Hz."""
    mat = load_material(material)
    if np.isfinite(mat.steinmetz_kh):
        return float(
            mat.steinmetz_kh * f**mat.steinmetz_alpha * b**mat.steinmetz_beta
            + mat.steinmetz_ke * (f * b) ** 2
        )
    p0 = mat.loss_1p5T_50Hz if np.isfinite(mat.loss_1p5T_50Hz) else 3.0
    return p0 * (b / 1.5) ** 2 * (0.6 * f / 50.0 + 0.4 * (f / 50.0) ** 2)


def representative_losses_at(model: MachineThermalModel) -> LossesAt:
    """Analytic loss estimate [W] (NOT the FE map; for tests, benchmarks and reports).

    Stator current i = i_max T / T_peak (q-axis, linear torque constant) scaled by
    Br(20 degC) / Br(T_magnet) for PM; copper 3/2 R_s(T_w) i^2 (DC phase resistance of
    :mod:`pipeline.derived`, end windings included); field current
    i_f = i_f_max (0.1 + 0.7 T / T_peak), loss R_f(T_f) i_f^2, brushes, bearings and windage
    as the machine map has them (:mod:`pipeline.derived`); iron by
    :func:`_specific_iron_loss` at the electrical frequency and :data:`REPRESENTATIVE_B`;
    magnet eddy 5 W (f_e / 400 Hz)^2 (i / i_max)^2 (assumed).
    Beyond T_peak, the peak power or the maximum speed: DesignError.
    """
    d = model.design
    rt, st = d.ratings, d.stator
    ns, L = model.n_sectors, model.length
    pm = d.topology.HAS_MAGNETS
    if not pm:
        i_f_max = rt.max_field_current
    else:
        mag = load_material(d.rotor.magnet_material)
    mass = {
        k: model.area[k] * ns * L * load_material(m).density * sf
        for k, m, sf in (
            ("teeth", st.material, st.stacking_factor),
            ("yoke", st.material, st.stacking_factor),
            ("rotor", d.rotor.material, d.rotor.stacking_factor),
        )
    }

    def losses_at(speed: float, torque: float, temps: Mapping[str, float]) -> dict:
        speed, torque = abs(float(speed)), abs(float(torque))
        if speed > rt.max_speed * (1 + 1e-9):
            raise DesignError("speed", speed, f"beyond the maximum speed {rt.max_speed:.4g} rad/s")
        t_lim = min(rt.peak_torque, rt.peak_power / speed if speed > 0 else math.inf)
        if torque > t_lim * (1 + 1e-9):
            raise DesignError(
                "torque", torque, f"beyond the envelope {t_lim:.4g} N m at this speed"
            )
        tw = temps.get("winding", ZERO_CELSIUS + 20.0)
        i = rt.max_phase_current * torque / rt.peak_torque
        out = dict.fromkeys(LOSS_KEYS, 0.0)
        if pm:
            tm = temps.get("magnet", ZERO_CELSIUS + 20.0) - ZERO_CELSIUS
            i *= mag.remanence / mag.remanence_at(tm)
        f_e = d.pole_pairs * speed / (2 * math.pi)
        out["stator_copper"] = 1.5 * float(phase_resistance_dc(d, tw)) * i**2
        if pm:
            out["magnet"] = 5.0 * (f_e / 400.0) ** 2 * (i / rt.max_phase_current) ** 2
        else:
            i_f = i_f_max * (0.1 + 0.7 * torque / rt.peak_torque)
            t_f = temps.get("field", ZERO_CELSIUS + 20.0)
            out["field_copper"] = float(field_resistance_dc(d, t_f)) * i_f**2
            out["brushes"] = float(brush_loss(d, i_f, speed))
        for key, region, b in zip(
            ("iron_stator_teeth", "iron_stator_yoke", "iron_rotor"),
            ("teeth", "yoke", "rotor"),
            REPRESENTATIVE_B,
            strict=True,
        ):
            f = f_e if region != "rotor" else 0.1 * f_e  # rotor sees slot harmonics only
            out[key] = mass[region] * _specific_iron_loss(
                st.material if region != "rotor" else d.rotor.material, f, b
            )
        out["mechanical"] = float(mechanical_loss(d, speed))
        return out

    return losses_at


class _StrategyPart:
    """One strategy: the model (at one magnet temperature [K], or None: not modelled), its
    result and the linear interpolants of its currents over (speed, torque)."""

    def __init__(self, model, options, magnet_temperature: float | None):
        # defer: this scipy submodule loads only on this path
        from scipy.interpolate import RegularGridInterpolator


        self.model, self.magnet_temperature = model, magnet_temperature
        self.result = res = operating_strategy(model, options)
        self.interp = {
            k: RegularGridInterpolator((res.speed, res.torque), getattr(res, k), bounds_error=False)
            for k in ("i_d", "i_q", "i_f")
        }

    def losses(self, speed: float, torque: float, temps: Mapping[str, float]) -> dict:
        pt = np.array([[speed, torque]])
        cur = [float(self.interp[k](pt)[0]) for k in ("i_d", "i_q", "i_f")]
        if not all(np.isfinite(cur)):
            raise DesignError(
                "operating point",
                (round(speed, 3), round(torque, 3)),
                "beyond the machine's torque-speed envelope",
            )
        temps = dict(temps)
        if self.magnet_temperature is not None:
            temps["magnet"] = self.magnet_temperature
        out = self.model.losses(*cur, speed, temps)
        return {k: float(np.asarray(out[k])) for k in LOSS_KEYS}


class StrategyLosses:
    """``losses_at(speed, torque, temperatures)`` of :func:`strategy_losses_at` (module
    docstring). ``magnet_temperatures`` [K]: the map's solved ones (() when the model has
    none: EESM or an analytic model); ``last_magnet_temperature`` [K]: that of the last call."""

    def __init__(self, parts: list[_StrategyPart]):
        self.parts = parts
        self.magnet_temperatures = tuple(
            p.magnet_temperature for p in parts if p.magnet_temperature is not None
        )
        self.last_magnet_temperature: float | None = None

    def __call__(self, speed: float, torque: float, temps: Mapping[str, float]) -> dict:
        nodes = self.magnet_temperatures
        if not nodes:
            return self.parts[0].losses(speed, torque, temps)
        t = temps.get("magnet")
        lo, hi = nodes[0], nodes[-1]
        if t is None or not (lo - 1e-6 <= t <= hi + 1e-6):
            span = f"{lo - ZERO_CELSIUS:g} degC only"
            if len(nodes) > 1:
                span = f"{lo - ZERO_CELSIUS:g} to {hi - ZERO_CELSIUS:g} degC"
            raise DesignError(
                "magnet temperature",
                None if t is None else round(t - ZERO_CELSIUS, 2),
                f"the flux map is solved at {span}: recompute it with `edrive map DESIGN "
                "--magnet-axis-C ...` covering the coupling's magnet temperatures",
            )
        k = int(np.clip(np.searchsorted(nodes, t, side="right") - 1, 0, max(len(nodes) - 2, 0)))
        w = (
            0.0
            if len(nodes) == 1
            else float(np.clip((t - nodes[k]) / (nodes[k + 1] - nodes[k]), 0, 1))
        )
        lower = self.parts[k].losses(speed, torque, temps)
        if w > 0.0:
            upper = self.parts[k + 1].losses(speed, torque, temps)
            lower = {key: (1.0 - w) * lower[key] + w * upper[key] for key in LOSS_KEYS}
        self.last_magnet_temperature = float(t)
        return lower


def strategy_losses_at(machine_map, options=None) -> tuple[LossesAt, Callable[[float], float]]:
    """(losses_at, torque_max) from a machine model and the operating strategy.

    The strategy (:func:`pipeline.maps.strategy.operating_strategy`) picks the currents on
    its (speed, torque) grid at ``options.temperatures`` (for a PM map that records its
    magnet temperatures: once per solved magnet temperature, the module docstring);
    losses_at (a :class:`StrategyLosses`) interpolates them (linear; NaN beyond the envelope
    or at its ragged edge -> DesignError) and returns ``machine_map.losses`` at the actual
    temperatures. torque_max interpolates the motoring envelope [N m] over speed [rad/s]
    (the smallest over the magnet temperatures).
    """

    options = options or StrategyOptions()
    nodes = _magnet_nodes(machine_map)
    if not nodes:
        parts = [_StrategyPart(machine_map, options, None)]
    else:
        parts = [
            _StrategyPart(
                machine_map.at_magnet_temperature(t),
                dataclasses.replace(options, temperatures={**options.temperatures, "magnet": t}),
                t,
            )
            for t in nodes
        ]

    def torque_max(speed: float) -> float:
        return min(float(p.result.envelope_at(speed, beyond=0.0)) for p in parts)

    return StrategyLosses(parts), torque_max


def _magnet_nodes(machine_map) -> tuple[float, ...]:
    """Solved magnet temperatures [K] of a PM FE map; () for EESMs and analytic models
    (no ``magnet_temperatures``); a PM map that records none: DesignError."""
    nodes = getattr(machine_map, "magnet_temperatures", None)
    if getattr(machine_map, "has_field_winding", False) or nodes is None:
        return ()
    if not nodes:
        raise DesignError(
            "flux map",
            getattr(machine_map, "name", "?"),
            "records no magnet temperature (made before they were recorded): recompute it "
            "with `edrive map`",
        )
    return tuple(nodes)
