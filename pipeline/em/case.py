"""Results of one operating point over rotor positions (:class:`CaseResult`): mean torque,
ripple, dq torque, flux linkages, steady voltages, back-EMF over a period, summary and
Dataset. :func:`pipeline.em.machine.run_case` makes them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pipeline.em.park import dq_torque
from pipeline.post.backemf import back_emf, full_period
from pipeline.version import __version__

__all__ = ["CaseResult"]


@dataclass(frozen=True, eq=False)
class CaseResult:
    """Per-position results of one operating point (arrays over n positions).

    rotor_angle [rad] mechanical rotation from the mesh position; theta_el [rad];
    torque [N m] (Arkkio, whole machine); psi_abc (3, n) [Wb]; psi_d, psi_q, psi_f [Wb];
    i_abc (3, n) [A]; iterations [-] Newton steps; solve_time [s]; currents i_d, i_q
    (peak, amplitude-invariant) and i_f [A]; speed_rpm [rpm] (optional, for voltages).
    L_ew [H]: analytic end-winding leakage inductance per phase, already included in
    psi_abc (psi_abc = psi_2D + L_ew i_abc), hence in psi_d and psi_q.
    """

    design: str
    level: str
    mesh_key: str
    design_hash: str
    i_d: float
    i_q: float
    i_f: float
    pole_pairs: int
    rotor_angle: np.ndarray
    theta_el: np.ndarray
    torque: np.ndarray
    psi_abc: np.ndarray
    psi_d: np.ndarray
    psi_q: np.ndarray
    psi_f: np.ndarray
    i_abc: np.ndarray
    iterations: np.ndarray
    solve_time: np.ndarray
    speed_rpm: float | None = None
    extras: dict = field(default_factory=dict)
    L_ew: float = 0.0

    @property
    def mean_torque(self) -> float:
        """Mean Arkkio torque [N m]."""
        return float(np.mean(self.torque))

    @property
    def ripple(self) -> float:
        """Peak-to-peak torque over the mean [-] (nan at zero mean torque)."""
        m = self.mean_torque
        return float(np.ptp(self.torque) / abs(m)) if m != 0 else math.nan

    @property
    def dq_torque(self) -> np.ndarray:
        """3/2 p (psi_d i_q - psi_q i_d) per position [N m]."""
        return dq_torque(self.psi_d, self.psi_q, self.i_d, self.i_q, self.pole_pairs)

    def voltages_dq(self) -> tuple[float, float]:
        """Steady-state (v_d, v_q) = (-omega_el psi_q, omega_el psi_d) [V], resistance neglected."""
        if self.speed_rpm is None:
            return math.nan, math.nan
        omega_el = self.pole_pairs * self.speed_rpm * 2 * math.pi / 60.0
        return -omega_el * float(np.mean(self.psi_q)), omega_el * float(np.mean(self.psi_d))

    def back_emf(self, speed_rpm: float | None = None):
        """Phase-A and line A-B EMF over one electrical period (:mod:`pipeline.post.backemf`)
        at ``speed_rpm`` (default: the case's speed); None without a speed or when the
        positions do not tile pi/3 el. in equal steps (e.g. a custom ``span_el``)."""
        speed = self.speed_rpm if speed_rpm is None else speed_rpm
        if speed is None or self.torque.size < 1:
            return None
        n = self.theta_el.size
        span = (self.theta_el[-1] - self.theta_el[0]) * n / max(n - 1, 1) if n > 1 else None
        if span is None or not math.isclose(span, math.pi / 3, rel_tol=1e-6):
            return None
        theta, psi_a = full_period(self.psi_abc, self.theta_el)
        return back_emf(theta, psi_a, speed, self.pole_pairs)

    def summary(self) -> dict:
        """Scalar summary with unit-suffixed keys (SI)."""
        v_d, v_q = self.voltages_dq()
        emf = self.back_emf()
        nan = math.nan
        return {
            "design": self.design,
            "level": self.level,
            "i_d_A": self.i_d,
            "i_q_A": self.i_q,
            "i_f_A": self.i_f,
            "positions": int(self.torque.size),
            "torque_mean_Nm": self.mean_torque,
            "torque_ripple": self.ripple,
            "torque_peak_to_peak_Nm": float(np.ptp(self.torque)),
            "torque_dq_mean_Nm": float(np.mean(self.dq_torque)),
            "psi_d_Wb": float(np.mean(self.psi_d)),
            "psi_q_Wb": float(np.mean(self.psi_q)),
            "psi_f_Wb": float(np.mean(self.psi_f)),
            "L_ew_H": self.L_ew,
            "newton_iterations_mean": float(np.mean(self.iterations)),
            "newton_iterations_max": int(np.max(self.iterations)),
            "solve_time_per_position_s": float(np.mean(self.solve_time)),
            "speed_rpm": self.speed_rpm,
            "v_d_V": v_d,
            "v_q_V": v_q,
            "emf_phase_fundamental_peak_V": emf.phase_fundamental if emf else nan,
            "emf_phase_rms_V": emf.phase_rms if emf else nan,
            "emf_line_rms_V": emf.line_rms if emf else nan,
            "emf_line_fundamental_rms_V": emf.line_fundamental_rms if emf else nan,
            "emf_thd_phase": emf.thd_phase if emf else nan,
            "emf_thd_line": emf.thd_line if emf else nan,
        }

    def to_dataset(self):
        """xarray Dataset over ``rotor_angle`` (and ``phase``), units on every variable."""
        # defer: xarray loads only where datasets are read or written
        import xarray as xr


        def var(dims, data, units, long_name):
            return (dims, np.asarray(data), {"units": units, "long_name": long_name})

        ra = ("rotor_angle",)
        ds = xr.Dataset(
            {
                "theta_el": var(ra, self.theta_el, "rad", "electrical angle of the d-axis"),
                "torque": var(ra, self.torque, "N m", "electromagnetic torque (Arkkio)"),
                "torque_dq": var(ra, self.dq_torque, "N m", "3/2 p (psi_d i_q - psi_q i_d)"),
                "psi_abc": var(("phase",) + ra, self.psi_abc, "Wb", "phase flux linkage"),
                "i_abc": var(("phase",) + ra, self.i_abc, "A", "phase current"),
                "psi_d": var(ra, self.psi_d, "Wb", "d-axis flux linkage (peak)"),
                "psi_q": var(ra, self.psi_q, "Wb", "q-axis flux linkage (peak)"),
                "psi_f": var(ra, self.psi_f, "Wb", "field winding flux linkage"),
                "newton_iterations": var(ra, self.iterations, "1", "Newton iterations"),
                "solve_time": var(ra, self.solve_time, "s", "wall time of the solve"),
            },
            coords={
                "rotor_angle": (
                    "rotor_angle",
                    self.rotor_angle,
                    {"units": "rad", "long_name": "mechanical rotor rotation from the mesh"},
                ),
                "phase": ("phase", ["A", "B", "C"], {"long_name": "stator phase"}),
            },
        )
        emf = self.back_emf()
        if emf is not None:
            th = ("theta_period",)
            ds = ds.assign_coords(
                theta_period=(th, emf.theta, {"units": "rad", "long_name": "electrical angle"}),
                harmonic=(("harmonic",), emf.orders, {"long_name": "harmonic order"}),
            )
            ds["psi_a_period"] = var(th, emf.psi_a, "Wb", "phase A flux linkage, one period")
            ds["emf_phase"] = var(th, emf.e_phase, "V", "phase A back-EMF d psi_a/dt")
            ds["emf_line"] = var(th, emf.e_line, "V", "line A-B back-EMF")
            ds["emf_phase_harmonics"] = var(
                ("harmonic",), emf.phase_harmonics, "V", "phase EMF amplitude (peak) per order"
            )
            ds["emf_line_harmonics"] = var(
                ("harmonic",), emf.line_harmonics, "V", "line EMF amplitude (peak) per order"
            )
        ds.attrs.update(
            {
                "design": self.design,
                "design_hash": self.design_hash,
                "mesh_key": self.mesh_key,
                "mesh_level": self.level,
                "i_d_A": self.i_d,
                "i_q_A": self.i_q,
                "i_f_A": self.i_f,
                "L_ew_H": self.L_ew,
                "speed_rpm": float("nan") if self.speed_rpm is None else self.speed_rpm,
                "package_version": __version__,
                "workflow": "edrive case",
            }
        )
        return ds
