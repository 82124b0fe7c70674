"""Back-EMF from phase flux linkages over one sixth of the electrical period.

Symmetry (balanced three-phase machine, this project's conventions): with theta_el the
d-axis angle from phase A's axis and phase B lagging A by 2 pi/3 (:mod:`pipeline.em.park`:
x_b(theta) = x_a(theta - 2 pi/3), x_c(theta) = x_a(theta + 2 pi/3)), and the half-wave
symmetry of a machine whose field is anti-periodic over a pole pitch
(psi_a(theta + pi) = -psi_a(theta)), one period of phase A follows from the three phases
over 0 <= theta - theta_0 < pi/3:

    psi_a(theta + pi/3)   = -psi_b(theta)      psi_a(theta + 4 pi/3) =  psi_b(theta)
    psi_a(theta + 2 pi/3) =  psi_c(theta)      psi_a(theta + 5 pi/3) = -psi_c(theta)
    psi_a(theta + pi)     = -psi_a(theta)

It holds on load too, as long as the currents are a balanced set rotating with the rotor
(every phase sees the same field, shifted). Checked against a full-period solve in
tests/test_em_post.py.

Back-EMF (motor convention, e = d psi / dt) at electrical speed omega_el = p n 2 pi / 60:
e_a = omega_el d psi_a / d theta, differentiated spectrally (exact for the sampled
harmonics); line-to-line e_ab = e_a - e_b with e_b(theta) = e_a(theta - 2 pi/3).
Harmonic amplitudes are peak values per order h (h = 1 the fundamental).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.errors import DesignError

__all__ = ["BackEMF", "full_period", "back_emf"]

# sign and phase index of psi_a(theta + k pi/3) in terms of the phases at theta, k = 0..5
_SIXTHS = ((1, 0), (-1, 1), (1, 2), (-1, 0), (1, 1), (-1, 2))


def full_period(psi_abc: np.ndarray, theta_el: np.ndarray, rtol: float = 1e-6):
    """(theta [rad], psi_a [Wb]) over one electrical period from psi_abc (3, n) sampled at n
    equally spaced theta_el covering exactly pi/3 (theta_0 + j pi/(3 n)).

    Raises DesignError when the samples do not tile the sixth of the period.
    """
    psi = np.asarray(psi_abc, float)
    th = np.asarray(theta_el, float)
    n = th.size
    if psi.shape != (3, n) or n < 1:
        raise DesignError("psi_abc", psi.shape, f"shape (3, {n}) matching theta_el")
    step = math.pi / (3 * n)
    if not np.allclose(np.diff(th), step, rtol=rtol, atol=1e-12):
        raise DesignError(
            "theta_el", np.diff(th)[:3], f"equal steps of pi/(3 n) = {step:.6g} rad (n = {n})"
        )
    theta = th[0] + step * np.arange(6 * n)
    out = np.concatenate([sign * psi[ph] for sign, ph in _SIXTHS])
    return theta, out


@dataclass(frozen=True)
class BackEMF:
    """Back-EMF of phase A and line A-B over one electrical period.

    theta [rad] el.; e_phase, e_line [V] waveforms; orders [-] harmonic orders 1..N/2;
    phase_harmonics, line_harmonics [V] peak amplitude per order; speed_rpm [rpm].
    """

    speed_rpm: float
    theta: np.ndarray
    psi_a: np.ndarray
    e_phase: np.ndarray
    e_line: np.ndarray
    orders: np.ndarray
    phase_harmonics: np.ndarray
    line_harmonics: np.ndarray

    @property
    def phase_fundamental(self) -> float:
        """Peak fundamental phase EMF [V]."""
        return float(self.phase_harmonics[0])

    @property
    def phase_rms(self) -> float:
        return float(np.sqrt(np.mean(self.e_phase**2)))

    @property
    def line_rms(self) -> float:
        """Line-to-line rms, all harmonics [V]."""
        return float(np.sqrt(np.mean(self.e_line**2)))

    @property
    def line_fundamental_rms(self) -> float:
        return float(self.line_harmonics[0] / math.sqrt(2))

    @property
    def thd_phase(self) -> float:
        """sqrt(sum_{h>1} E_h^2) / E_1 of the phase EMF [-]."""
        return float(np.sqrt(np.sum(self.phase_harmonics[1:] ** 2)) / self.phase_harmonics[0])

    @property
    def thd_line(self) -> float:
        return float(np.sqrt(np.sum(self.line_harmonics[1:] ** 2)) / self.line_harmonics[0])

    @property
    def psi_fundamental(self) -> float:
        """Peak fundamental of the phase flux linkage [Wb] (E_1 / omega_el)."""
        w = 2 * math.pi * self.speed_rpm / 60.0
        return math.nan if w == 0 else self.phase_fundamental / (w * self.pole_pairs)

    pole_pairs: int = 1


def _amplitudes(x: np.ndarray) -> np.ndarray:
    """Peak amplitude per order 1..N/2 of a periodic sample set."""
    n = x.size
    c = np.abs(np.fft.rfft(x)) * 2.0 / n
    if n % 2 == 0:
        c[-1] /= 2.0
    return c[1:]


def back_emf(theta: np.ndarray, psi_a: np.ndarray, speed_rpm: float, pole_pairs: int) -> BackEMF:
    """Back-EMF of one full, equally sampled electrical period of psi_a [Wb] at speed_rpm."""
    if not (math.isfinite(speed_rpm) and speed_rpm >= 0):
        raise DesignError("speed_rpm", speed_rpm, ">= 0 [rpm]")
    psi = np.asarray(psi_a, float)
    n = psi.size
    if n % 3:
        raise DesignError("psi_a", n, "a sample count divisible by 3 (line-to-line shift)")
    omega_el = pole_pairs * speed_rpm * 2 * math.pi / 60.0
    k = np.fft.rfftfreq(n, 1.0 / n)  # harmonic order per bin
    spec = np.fft.rfft(psi) * 1j * k
    if n % 2 == 0:
        spec[-1] = 0.0  # the Nyquist bin has no defined derivative
    e_a = omega_el * np.fft.irfft(spec, n)
    e_b = np.roll(e_a, n // 3)  # e_b(theta_j) = e_a(theta_j - 2 pi/3)
    e_ab = e_a - e_b
    return BackEMF(
        speed_rpm=float(speed_rpm),
        theta=np.asarray(theta, float),
        psi_a=psi,
        e_phase=e_a,
        e_line=e_ab,
        orders=np.arange(1, k.size),
        phase_harmonics=_amplitudes(e_a),
        line_harmonics=_amplitudes(e_ab),
        pole_pairs=int(pole_pairs),
    )
