r"""Model predictions of the measurement kinds of :mod:`pipeline.calibration.data`.

Each FE observable is one task (``calibration_observable``, registered with the sweep
layer, cached by content hash like every other task):

* ``back_emf``: one open-circuit case (12 positions over pi/3; the sixth-period symmetry
  gives the whole waveform, :mod:`pipeline.post.backemf`) at the reference speed
  :data:`EMF_REFERENCE_RPM`; an open-circuit EMF is ``omega`` times a speed-independent
  flux waveform, so ``E(n) = E(n_0) n / n_0`` (line-to-line rms, all harmonics);
* ``locked_rotor``: the rotor at rest, phase currents ``I (a, b, c)`` of the connection
  (:data:`~pipeline.calibration.data.CONNECTIONS`), the instantaneous Arkkio torque at
  rotor positions where the current angle from the d-axis is ``gamma`` (positions are whole
  sliding-interface pitches, so ``gamma`` is the nearest reachable angle). ``peak``: a scan
  of ``gamma`` over [:data:`PEAK_SCAN_EL_DEG`] in steps of :data:`PEAK_STEP_EL_DEG`, the
  largest value refined by the parabola through it and its neighbours; the measured peak
  is the largest of readings 8 el. deg apart, so both are the top of the same curve;
* ``no_load_loss``: the open-circuit iron and magnet loss coefficients
  (:func:`pipeline.maps.losses.point_losses`, the flux map's sampling) evaluated at the
  speed's frequency, plus bearings and windage (:func:`pipeline.derived.mechanical_data`).

``phase_resistance`` (:func:`pipeline.derived.phase_resistance_dc`) and
``stator_lamination_mass`` (closed-form core area x stack length x stacking factor x density)
need no field solution.

Current angle: with the amplitude-invariant Park transform at the rotor's electrical angle
``theta`` (d-axis from phase A's axis), a DC current vector at angle ``alpha`` in the
stator frame has ``gamma = alpha - theta``; ``gamma`` in (0, pi) gives motoring torque
(``i_q > 0``).
"""

from __future__ import annotations

import json
import math

import numpy as np

from geometries.areas import analytic_areas
from pipeline.calibration.data import CONNECTIONS, ROOM_TEMPERATURE_C
from pipeline.constants import ZERO_CELSIUS
from pipeline.derived import mechanical_loss, phase_resistance_dc
from pipeline.em.machine import machine_model, run_case, solve_position
from pipeline.maps.flux import loss_sampling
from pipeline.maps.losses import losses_at_frequency, point_losses
from pipeline.materials import load_material
from pipeline.post.torque import arkkio_torque
from pipeline.workflow import register_task

__all__ = [
    "EMF_REFERENCE_RPM",
    "PEAK_SCAN_EL_DEG",
    "PEAK_STEP_EL_DEG",
    "locked_rotor_torque",
    "observable_task",
    "observable_op",
    "prediction",
    "evaluate_rows",
]

#: speed [rpm] at which the open-circuit case is solved (its EMF scales with speed)
EMF_REFERENCE_RPM = 1000.0
#: current angles [el. deg] scanned for the peak locked-rotor torque: the torque of a
#: V-magnet IPM peaks between 90 deg (magnet torque alone) and 150 deg (reluctance torque
#: at high current); the scan ends at 180 deg where the torque is zero
PEAK_SCAN_EL_DEG = (70.0, 175.0)
#: scan step [el. deg]: 5 deg puts three samples on a peak whose curvature is set by the
#: 30 el. deg slot pitch of the torque ripple (48 slots, 8 poles)
PEAK_STEP_EL_DEG = 5.0


def _pitch_counts(m, alpha: float, gammas_el: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pitch counts k whose current angle is nearest ``gammas_el`` [rad]; their exact gamma."""
    p = m.design.pole_pairs
    step = p * m.interface.pitch
    theta0 = m.theta_el(m.k0)
    ks = m.k0 + np.round((alpha - gammas_el - theta0) / step).astype(int)
    actual = np.array([alpha - m.theta_el(int(k)) for k in ks])
    return ks, (actual + math.pi) % (2 * math.pi) - math.pi


def locked_rotor_torque(
    design, level: str, current_dc: float, connection: str, gammas_el: np.ndarray,
    magnet_temperature_C: float = ROOM_TEMPERATURE_C, tol: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Instantaneous torque [N m] at rest with DC ``current_dc`` [A] through ``connection``
    at current angles ``gammas_el`` [rad el.]; returns (gamma actually solved [rad], torque)."""

    m = machine_model(design, level, magnet_temperature_C)
    _, pattern = CONNECTIONS[connection]
    i_abc = current_dc * np.asarray(pattern, float)
    i_alpha = (2.0 / 3.0) * (i_abc[0] - 0.5 * i_abc[1] - 0.5 * i_abc[2])
    i_beta = (2.0 / 3.0) * (math.sqrt(3.0) / 2.0) * (i_abc[1] - i_abc[2])
    alpha = math.atan2(i_beta, i_alpha)
    ks, gam = _pitch_counts(m, alpha, np.asarray(gammas_el, float))
    basis, L = m.solver.basis, m.design.stack_length
    torque = np.zeros(ks.size)
    a_prev = None
    for j, k in enumerate(ks):
        res = solve_position(m, int(k), i_abc, 0.0, a0=a_prev, tol=tol)
        a_prev = res.a
        t = arkkio_torque(basis, res.a, m.band, m.radii["sliding"], m.radii["band_outer"], L)
        torque[j] = m.n_sectors * t
    return gam, torque


def _parabola_peak(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Vertex (x, y) of the parabola through the largest sample and its neighbours."""
    i = int(np.argmax(y))
    if i == 0 or i == y.size - 1:
        return float(x[i]), float(y[i])
    c = np.polyfit(x[i - 1 : i + 2], y[i - 1 : i + 2], 2)
    if c[0] >= 0:
        return float(x[i]), float(y[i])
    xv = -c[1] / (2 * c[0])
    return float(xv), float(np.polyval(c, xv))


def _sampled_peak(x: np.ndarray, y: np.ndarray, step: float) -> tuple[float, float]:
    """Largest value of the curve (x [deg], y) sampled at multiples of ``step`` [deg] inside
    the scanned range (cubic spline through the solved positions)."""
    # defer: this scipy submodule loads only on this path
    from scipy.interpolate import CubicSpline

    o = np.argsort(x)
    spline = CubicSpline(x[o], y[o])
    at = np.arange(math.ceil(x.min() / step) * step, x.max() + 1e-9, step)
    values = spline(at)
    i = int(np.argmax(values))
    return float(at[i]), float(values[i])


def observable_op(m) -> dict:
    """The task's operating point of measurement ``m`` (None for analytic kinds)."""
    temp = float(m.condition("magnet_temperature_C", ROOM_TEMPERATURE_C))
    if m.kind == "back_emf":
        return {"observable": "back_emf", "magnet_temperature_C": temp}
    if m.kind == "no_load_loss":
        return {"observable": "no_load_loss", "magnet_temperature_C": temp}
    if m.kind == "locked_rotor_torque":
        op = {
            "observable": "locked_rotor",
            "current_dc_A": float(m.condition("current_dc_A")),
            "connection": m.condition("connection"),
            "magnet_temperature_C": temp,
        }
        if m.condition("position") == "peak":
            op["position"] = "peak"
            if m.condition("position_step_el_deg") is not None:
                op["position_step_el_deg"] = float(m.condition("position_step_el_deg"))
        else:
            op["position_el_deg"] = float(m.condition("position_el_deg"))
        return op
    return None


@register_task("calibration_observable")
def observable_task(design, level: str, op: dict) -> dict:
    """One FE observable of ``op["observable"]`` (module docstring) as sweep-task values."""

    kind = op["observable"]
    temp = float(op.get("magnet_temperature_C", ROOM_TEMPERATURE_C))
    if kind == "back_emf":
        res = run_case(design, 0.0, 0.0, positions=12, level=level,
                       speed_rpm=EMF_REFERENCE_RPM, magnet_temperature_C=temp)  # fmt: skip
        emf = res.back_emf()
        return {
            "line_rms": [float(emf.line_rms), "V", f"line-to-line rms at {EMF_REFERENCE_RPM:g} rpm"],
            "line_fundamental_rms": [float(emf.line_fundamental_rms), "V", "its fundamental"],
            "psi_fundamental": [float(emf.psi_fundamental), "Wb", "peak phase PM flux, fundamental"],
        }
    if kind == "locked_rotor":
        if op.get("position") == "peak":
            lo, hi = PEAK_SCAN_EL_DEG
            grid = np.radians(np.arange(lo, hi + 1e-9, PEAK_STEP_EL_DEG))
        else:
            grid = np.radians([float(op["position_el_deg"])])
        gam, t = locked_rotor_torque(design, level, float(op["current_dc_A"]), op["connection"],
                                     grid, temp)  # fmt: skip
        if "position_step_el_deg" in op:  # the measured peak: the largest reading on a grid
            g_peak, t_peak = _sampled_peak(np.degrees(gam), t, float(op["position_step_el_deg"]))
        else:
            g_peak, t_peak = _parabola_peak(np.degrees(gam), t)
        return {
            "torque": [float(t_peak), "N m", "locked-rotor torque (peak over gamma, or at gamma)"],
            "gamma_el_deg": [float(g_peak), "deg", "current angle from the d-axis"],
        }
    if kind == "no_load_loss":

        positions, span = loss_sampling(design)
        res = run_case(design, 0.0, 0.0, positions=positions, span_el=span, level=level,
                       magnet_temperature_C=temp, keep_fields=True)  # fmt: skip
        return {k: [float(v), str(u), str(n)] for k, (v, u, n) in point_losses(res, design).items()}
    raise ValueError(f"observable = {kind!r}: unknown")


def prediction(measurement, design, values: dict | None) -> float:
    """The model's value of ``measurement`` from its task's ``values`` (None: analytic)."""
    kind = measurement.kind
    if kind == "phase_resistance":

        return float(phase_resistance_dc(design, ZERO_CELSIUS + measurement.condition("temperature_C")))
    if kind == "stator_lamination_mass":

        st = design.stator
        area = analytic_areas(design, 1)["stator_core"]  # whole machine [m^2]
        return float(area * st.stack_length * st.stacking_factor * load_material(st.material).density)
    if values is None:
        return math.nan
    if kind == "back_emf":
        return values["line_rms"][0] * measurement.condition("speed_rpm") / EMF_REFERENCE_RPM
    if kind == "locked_rotor_torque":
        return values["torque"][0]
    if kind == "no_load_loss":
        return _no_load_loss(design, values, measurement.condition("speed_rpm"))
    raise ValueError(kind)


def _no_load_loss(design, values: dict, speed_rpm: float) -> float:
    """Iron + magnet (FE coefficients at f = p n / 60) + bearings + windage [W]."""

    coeffs = {k: v[0] for k, v in values.items()}
    at_f = losses_at_frequency(coeffs, design.pole_pairs * speed_rpm / 60.0)
    em = float(sum(np.asarray(v, float) for v in at_f.values()))
    return em + float(mechanical_loss(design, speed_rpm * 2 * math.pi / 60))


def evaluate_rows(design, level: str, rows) -> dict[str, float]:
    """{name: model value} of measurement ``rows`` solved serially in this process (each
    distinct FE observable once); :class:`pipeline.calibration.fit.Evaluator` is the Dask
    version."""

    done: dict[str, dict] = {}
    out = {}
    for m in rows:
        op = observable_op(m)
        values = None
        if op is not None:
            key = json.dumps(op, sort_keys=True)
            if key not in done:
                done[key] = observable_task(design, level, op)
            values = done[key]
        out[m.name] = prediction(m, design, values)
    return out
