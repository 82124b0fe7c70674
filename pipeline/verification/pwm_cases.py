r"""Verification of the PWM ripple model: a time-domain simulation of the switched inverter
driving the flux-map machine, and closed-form checks of the ripple-loss models.

Time domain (:func:`ripple_time_domain`). A two-level bridge with a triangular carrier of
frequency ``f_c`` and symmetric regular sampling (the dq voltage reference is turned into
pole references once per carrier period, at the angle of the period's centre, by
:func:`pipeline.drive.pwm.pole_references`). The six switching edges of each carrier period
cut it into at most seven intervals of constant pole voltages; the alpha-beta voltage of each
interval (zero sequence dropped: star point isolated) drives the machine in its rotor frame

    d psi_dq/dt = v_dq - R i_dq - omega_el J psi_dq,     J psi = (-psi_q, psi_d),
    v_dq(t) = R(-theta(t)) v_alpha_beta,   theta(t) = omega_el t,

with the nonlinear ``psi(i)`` of the machine model: the state is ``i_dq`` and
``di/dt = L_inc(i)^-1 (v_dq - R i - omega J psi(i))`` with ``L_inc`` the incremental
inductance at the *instantaneous* current (central differences, one vectorised call of
``model.flux`` per stage); classical Runge-Kutta, ``substeps`` steps per interval. The
reference is the steady-state voltage of the operating point
``v = R i + omega J psi(i)``; the simulation starts at the operating point at the start of a
carrier period (where the ripple flux is zero) and covers one fundamental period, an integer
number of carrier periods (``f_c / f_1`` must be an integer).

Ripple r.m.s. of a phase current = sqrt(total^2 - fundamental^2) =
``sqrt(<|i_dq - <i_dq>|^2> / 2)`` (the fundamental is the dq mean; the current is
integrated as piecewise linear between the substep nodes, exact for straight segments).
The spectral model (:func:`pipeline.drive.pwm.ripple_spectrum`) neglects R, the rotation
EMF of the ripple flux and the change of ``L_inc`` along the ripple, and interpolates its
tables between carrier ratios; the comparison bounds those together. Measured (f_c = 5 kHz,
SVPWM): 0.1 / 0.4 / 0.6 % at the three points of tests/test_pwm.py on the saturating test map,
0.06 / 0.9 / 0.3 % on the Prius ci finite-element map at 1500 rpm 30 N m, 3000 rpm 150 N m
and 5000 rpm 60 N m (the strategy's currents).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.design import load_design
from pipeline.drive.pwm import (
    LINEAR_LIMIT,
    incremental_inductance,
    pole_references,
    ripple_spectrum,
)
from pipeline.errors import DesignError
from pipeline.maps.magnets import DEFAULT_MAGNET_TEMPERATURE
from pipeline.maps.model import MachineMap
from pipeline.maps.points import operating_points
from pipeline.maps.strategy import StrategyOptions

__all__ = [
    "TimeDomainRipple",
    "ripple_time_domain",
    "ripple_comparison",
    "SATURATING",
    "saturating_flux",
    "saturating_map",
    "PRIUS_CHECK_POINTS",
    "ripple_check_at_strategy_points",
]


@dataclass(frozen=True)
class TimeDomainRipple:
    """Result of :func:`ripple_time_domain` [SI]: fundamental (dq mean) currents [A],
    phase fundamental and ripple r.m.s. [A], total phase r.m.s. [A], steps [-]."""

    i_d_mean: float
    i_q_mean: float
    fundamental_rms: float
    ripple_rms: float
    total_rms: float
    n_steps: int


def _clarke_states(refs: np.ndarray, tau: float) -> np.ndarray:
    """alpha-beta pole voltage [units V_dc/2] at time ``tau`` in the carrier period."""
    d = 0.5 * (1.0 + refs)
    s = np.where(np.abs(tau - 0.5) < 0.5 * d, 1.0, -1.0)
    return np.array([(2 * s[0] - s[1] - s[2]) / 3.0, (s[1] - s[2]) / math.sqrt(3.0)])


def ripple_time_domain(
    model,
    i_d: float,
    i_q: float,
    speed: float,
    carrier_frequency: float,
    modulation: str = "svpwm",
    dc_link_voltage: float | None = None,
    temperature: float = 293.15,
    substeps: int = 2,
    i_f: float = 0.0,
) -> TimeDomainRipple:
    """Switched-inverter simulation at one operating point (module docstring).

    model: a machine model (``flux``, ``phase_resistance``, ``pole_pairs``, ``i_max``,
    ranges); i_d, i_q, i_f [A]; speed mechanical [rad/s]; carrier_frequency [Hz] (an integer
    multiple of the electrical frequency); dc_link_voltage [V] (default the model's);
    temperature of the winding [K].
    """
    v_dc = model.dc_link_voltage if dc_link_voltage is None else float(dc_link_voltage)
    w = model.pole_pairs * speed
    ratio = carrier_frequency * 2.0 * math.pi / w
    n_c = int(round(ratio))
    if abs(ratio - n_c) > 1e-6 * ratio or n_c < 6:
        raise DesignError("carrier ratio", ratio, "f_c / f_1 must be an integer >= 6")
    r_s = float(model.phase_resistance(temperature))
    psi_d, psi_q, _ = (float(x) for x in model.flux(i_d, i_q, i_f))
    v_ref = np.array([r_s * i_d - w * psi_q, r_s * i_q + w * psi_d])
    m = np.hypot(*v_ref) / (0.5 * v_dc)
    if not m <= LINEAR_LIMIT[modulation]:
        raise DesignError("modulation index", m, f"beyond the linear range of {modulation}")
    t_c = 1.0 / carrier_frequency

    def rhs(t, i, v_ab):
        th = w * t
        c, s = math.cos(th), math.sin(th)
        v = np.array([c * v_ab[0] + s * v_ab[1], -s * v_ab[0] + c * v_ab[1]])
        l_inc = incremental_inductance(model, i[0], i[1], i_f)
        p_d, p_q, _ = model.flux(i[0], i[1], i_f)
        emf = np.array([-w * float(p_q), w * float(p_d)])
        return np.linalg.solve(l_inc, v - r_s * i - emf)

    i = np.array([i_d, i_q], dtype=float)
    nodes_t, nodes_i = [0.0], [i.copy()]
    delta_v = math.atan2(v_ref[1], v_ref[0])
    for j in range(n_c):
        t0 = j * t_c
        theta_ref = w * (t0 + 0.5 * t_c) + delta_v  # stationary angle of the reference
        refs = pole_references(theta_ref, m, modulation)
        d = 0.5 * (1.0 + refs)
        edges = np.sort(np.concatenate([[0.0, 1.0], 0.5 * (1 - d), 0.5 * (1 + d)]))
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            if b - a < 1e-12:
                continue
            v_ab = 0.5 * v_dc * _clarke_states(refs, 0.5 * (a + b))
            h = (b - a) * t_c / substeps
            for k in range(substeps):
                t = t0 + a * t_c + k * h
                k1 = rhs(t, i, v_ab)
                k2 = rhs(t + h / 2, i + h / 2 * k1, v_ab)
                k3 = rhs(t + h / 2, i + h / 2 * k2, v_ab)
                k4 = rhs(t + h, i + h * k3, v_ab)
                i = i + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
                nodes_t.append(t + h)
                nodes_i.append(i.copy())
    t = np.asarray(nodes_t)
    x = np.asarray(nodes_i)
    dt = np.diff(t)
    period = t[-1] - t[0]
    mean = np.sum(0.5 * (x[1:] + x[:-1]) * dt[:, None], axis=0) / period
    y = x - mean
    ms = np.sum((y[1:] ** 2 + y[1:] * y[:-1] + y[:-1] ** 2).sum(axis=1) * dt) / (3 * period)
    fundamental = float(np.hypot(*mean) / math.sqrt(2.0))
    ripple = float(math.sqrt(ms / 2.0))
    return TimeDomainRipple(
        i_d_mean=float(mean[0]),
        i_q_mean=float(mean[1]),
        fundamental_rms=fundamental,
        ripple_rms=ripple,
        total_rms=math.hypot(fundamental, ripple),
        n_steps=len(t) - 1,
    )


def ripple_comparison(
    model,
    points,
    carrier_frequency: float,
    modulation: str = "svpwm",
    temperature: float = 293.15,
    substeps: int = 2,
) -> list[dict]:
    """Spectral vs time-domain ripple at ``points`` [(i_d [A], i_q [A], speed [rad/s])]:
    per point the two phase ripple r.m.s. values [A] and their relative difference [-]."""
    out = []
    for i_d, i_q, speed in points:
        sim = ripple_time_domain(
            model,
            i_d,
            i_q,
            speed,
            carrier_frequency,
            modulation,
            temperature=temperature,
            substeps=substeps,
        )
        w = model.pole_pairs * speed
        psi_d, psi_q, _ = model.flux(i_d, i_q, 0.0)
        r_s = float(model.phase_resistance(temperature))
        v_d, v_q = r_s * i_d - w * float(psi_q), r_s * i_q + w * float(psi_d)
        spec = ripple_spectrum(
            incremental_inductance(model, i_d, i_q),
            v_d,
            v_q,
            model.dc_link_voltage,
            carrier_frequency,
            modulation,
            fundamental_frequency=w / (2.0 * math.pi),
        )
        model_rms = float(spec.phase_current_rms)
        out.append(
            {
                "i_d_A": i_d,
                "i_q_A": i_q,
                "speed_rpm": speed * 30.0 / math.pi,
                "modulation_index": float(spec.modulation_index),
                "ripple_rms_model_A": model_rms,
                "ripple_rms_time_domain_A": sim.ripple_rms,
                "fundamental_rms_A": sim.fundamental_rms,
                "relative_difference": model_rms / sim.ripple_rms - 1.0,
            }
        )
    return out


#: Co-energy parameters of :func:`saturating_map` (Prius-like magnitudes, measured on the
#: Prius ci flux map: L_dd 1.1-1.7 mH, L_qq 2.8-4.7 mH): psi_m [Wb], L_d, L_q [H],
#: saturation current of the q axis [A], cross-saturation coefficient [H/A].
SATURATING = {"psi_m": 0.17, "l_d": 1.4e-3, "l_q": 4.5e-3, "i_sat": 150.0, "cross": -2e-6}


def saturating_flux(i_d, i_q, psi_m, l_d, l_q, i_sat, cross):
    """Flux linkages (psi_d, psi_q) [Wb] of the co-energy
    ``W = psi_m i_d + L_d i_d^2/2 + L_q i_s^2 ln cosh(i_q/i_s) + c i_d i_q^2/2``
    (so that ``dpsi_d/di_q = dpsi_q/di_d``): ``psi_d = psi_m + L_d i_d + c i_q^2/2``,
    ``psi_q = L_q i_s tanh(i_q/i_s) + c i_d i_q``."""
    i_d, i_q = np.asarray(i_d, float), np.asarray(i_q, float)
    psi_d = psi_m + l_d * i_d + 0.5 * cross * i_q**2
    psi_q = l_q * i_sat * np.tanh(i_q / i_sat) + cross * i_d * i_q
    return psi_d, psi_q


def saturating_map(design: str = "prius_2004", n: int = 15):
    """A flux-map machine (:class:`pipeline.maps.model.MachineMap`, cubic interpolation)
    tabulated from :func:`saturating_flux` with :data:`SATURATING` on an n x n grid over the
    design's current range (i_d in [-I_max, 25 A], i_q in [-I_max, I_max]); no loss
    coefficients (iron and magnet map losses zero); labelled with the efficiency stage's
    default magnet temperature (the co-energy has no temperature). For tests without a
    finite-element map."""
    # defer: xarray loads only where datasets are read or written
    import xarray as xr


    d = load_design(design)
    i_max = d.ratings.max_phase_current
    i_d = np.linspace(-i_max, 25.0, n)
    i_q = np.linspace(-i_max, i_max, n)
    dd, qq = np.meshgrid(i_d, i_q, indexing="ij")
    psi_d, psi_q = saturating_flux(dd, qq, **SATURATING)
    torque = 1.5 * d.pole_pairs * (psi_d * qq - psi_q * dd)
    dims = ("i_d", "i_q")
    ds = xr.Dataset(
        {
            "psi_d": (dims, psi_d, {"units": "Wb"}),
            "psi_q": (dims, psi_q, {"units": "Wb"}),
            "torque": (dims, torque, {"units": "N m"}),
        },
        coords={
            "i_d": ("i_d", i_d, {"units": "A"}),
            "i_q": ("i_q", i_q, {"units": "A"}),
            "magnet_temperature": ((), DEFAULT_MAGNET_TEMPERATURE, {"units": "K"}),
        },
        attrs={"design": design},
    )
    return MachineMap.from_dataset(ds, d)


#: (speed [rpm], torque [N m]) of :func:`ripple_check_at_strategy_points`: low load, mid
#: load, field weakening of the Prius (f_c / f_1 = 50, 25, 15 at 5 kHz).
PRIUS_CHECK_POINTS = ((1500.0, 30.0), (3000.0, 150.0), (5000.0, 60.0))


def ripple_check_at_strategy_points(
    model, points=PRIUS_CHECK_POINTS, carrier_frequency: float = 5e3, modulation: str = "svpwm"
) -> list[dict]:
    """:func:`ripple_comparison` at the loss-minimising currents of (speed [rpm], torque
    [N m]) points (:func:`pipeline.maps.points.operating_points`, default strategy options).
    E.g. the Prius ci map: ``ripple_check_at_strategy_points(MachineMap.load(
    "results/maps/prius_2004-ci/flux.nc"))``."""

    w = np.array([p[0] for p in points]) * math.pi / 30.0
    t = np.array([p[1] for p in points])
    op = operating_points(model, w, t, StrategyOptions())
    pts = [(float(a), float(b), float(c)) for a, b, c in zip(op["i_d"], op["i_q"], w, strict=True)]
    return ripple_comparison(model, pts, carrier_frequency, modulation, substeps=1)
