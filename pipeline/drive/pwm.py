r"""Carrier-band ripple of a two-level PWM inverter feeding a dq machine [SI].

Modulation (three-phase two-level bridge, DC link ``V_dc``, triangular carrier of frequency
``f_c``, symmetric regular sampling: the references are sampled once per carrier period and
each pole is high during a pulse centred in the period). Phase references normalised to
``V_dc/2``: ``r_k = m cos(theta - 2 pi k/3) + r_0`` with the modulation index
``m = |v_dq| / (V_dc/2)`` and the zero-sequence offset ``r_0`` of the scheme
(D. G. Holmes, T. A. Lipo, *Pulse Width Modulation for Power Converters*, IEEE Press /
Wiley 2003, doi:10.1109/9780470546284, ch. 5-7; A. M. Hava, R. J. Kerkman, T. A. Lipo,
"Simple analytical and graphical methods for carrier-based PWM-VSI drives", IEEE Trans.
Power Electron. 14(1), 49-61, 1999, doi:10.1109/63.737592):

* ``spwm``: ``r_0 = 0`` (sinusoidal PWM; linear up to m = 1);
* ``svpwm``: ``r_0 = -(max r + min r)/2`` (min-max injection, the carrier-based equivalent
  of space-vector PWM with equal zero-vector times; linear up to m = 2/sqrt(3));
* ``dpwm1``: the phase with the largest ``|r|`` clamped to its rail for 60 degrees around its
  peak, ``r_0 = sign(r_k) - r_k`` (Hava et al. 1999; linear up to 2/sqrt(3)). Here
  ``f_c`` is the carrier frequency; each device then switches only 2/3 of the time.

A star-connected machine without neutral sees only the alpha-beta part of the pole voltages,
so ``r_0`` changes the ripple only through the pulse timing.

Ripple. Within carrier period j the pole voltage of phase k minus its sampled reference
integrates to the ripple flux linkage (exact for piecewise-constant voltages, tau = t/T_c)::

    psi_k(tau) = V_dc/2 T_c [ -tau + 2 clip(tau - (1 - d_k)/2, 0, d_k) - r_k tau ],
    d_k = (1 + r_k)/2,

which returns to 0 at the period's end and has zero mean over the period; to it adds the
integral of the sampled (staircase) reference minus the continuous one, a sawtooth that
matters at low carrier ratios (about 9 % of the ripple r.m.s. at f_c / f_1 = 15). At carrier
frequencies the resistance is negligible and the rotor-frame rotation slow, so in dq
``d(psi)/dt = v - v_ref`` and the ripple current follows from the incremental (differential)
inductance matrix ``L_xy = d psi_x / d i_y`` at the operating point::

    Delta i_dq = L_inc^-1 R(delta_v) Delta psi'

with ``Delta psi'`` the ripple flux in the frame of the voltage reference (angle
``delta_v = atan2(v_q, v_d)`` in dq). :func:`ripple_table` computes, once per scheme, the
second-moment tensors ``<Delta psi' Delta psi'^T>`` per carrier band (band k collects the
spectrum around ``k f_c``; the last band takes the rest) over one fundamental period, in
units of ``(V_dc / f_c)^2``, on a grid of m and of carrier ratios ``f_c / f_1`` (the
reference frame turns by ``2 pi f_1 / f_c`` within a carrier period, and the sampled
references step by as much); the mean (the fundamental) is excluded; :func:`ripple_spectrum` scales, rotates and maps
them through ``L_inc^-1`` for any number of operating points at once (a few array
operations per point, no time stepping). The frequencies of band k are taken as ``k f_c``
(sidebands ``k f_c +- n f_1`` lumped; fine for ``f_c >> f_1``).

Phase ripple current r.m.s. (amplitude-invariant dq, no zero sequence):
``I_rip^2 = <|Delta i_dq|^2> / 2``. The verification against a time-domain simulation of the
switched inverter driving the flux-map machine is
:func:`pipeline.verification.pwm_cases.ripple_time_domain`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from pipeline.design import MODULATION_SCHEMES
from pipeline.errors import DesignError

__all__ = [
    "MODULATIONS",
    "LINEAR_LIMIT",
    "N_BANDS",
    "zero_sequence",
    "pole_references",
    "ripple_flux_period",
    "ripple_table",
    "incremental_inductance",
    "RippleSpectrum",
    "ripple_spectrum",
]

#: Modulation schemes (module docstring).
MODULATIONS = MODULATION_SCHEMES

#: Largest modulation index ``|v| / (V_dc/2)`` of the linear range of each scheme [-].
LINEAR_LIMIT = {"spwm": 1.0, "svpwm": 2.0 / math.sqrt(3.0), "dpwm1": 2.0 / math.sqrt(3.0)}

#: Carrier bands resolved (band N_BANDS holds everything above N_BANDS - 1/2 carrier orders).
N_BANDS = 4

#: Carrier ratios f_c / f_1 of the table (integers: whole carrier periods per fundamental
#: period); between them the moments are interpolated linearly in f_1 / f_c, above the last
#: one the last is used (the moments change by < 0.5 % from 36 to 72), below the first one
#: the first (f_c / f_1 < 6 is outside the model's scope).
TABLE_RATIOS = (6, 8, 10, 12, 15, 18, 24, 36, 72)

#: Samples per carrier period of the table (the switching instants are exact, the samples
#: only integrate): against 4096 samples the ripple mean squares differ by < 0.5 % for
#: m >= 0.03 and by 2.7 % at m = 0.01, where the ripple is negligible (tests/test_pwm.py).
TABLE_SAMPLES = 128

#: Modulation-index grid of the table [-] (linear interpolation between nodes).
TABLE_POINTS = 49


def _check_modulation(modulation: str) -> None:
    if modulation not in MODULATIONS:
        raise DesignError("modulation", modulation, f"must be one of {', '.join(MODULATIONS)}")


def zero_sequence(refs: np.ndarray, modulation: str) -> np.ndarray:
    """Zero-sequence offset r_0 [-] of phase references ``refs`` (..., 3) in units of V_dc/2."""
    _check_modulation(modulation)
    refs = np.asarray(refs, dtype=float)
    if modulation == "spwm":
        return np.zeros(refs.shape[:-1])
    if modulation == "svpwm":
        return -0.5 * (refs.max(axis=-1) + refs.min(axis=-1))
    k = np.argmax(np.abs(refs), axis=-1)
    r_k = np.take_along_axis(refs, k[..., None], axis=-1)[..., 0]
    return np.sign(r_k) - r_k


def pole_references(theta: ArrayLike, m: ArrayLike, modulation: str) -> np.ndarray:
    """Pole-voltage references (..., 3) in units of V_dc/2, clipped to [-1, 1] [-].

    theta: angle of the voltage reference in the stationary frame [rad]; m: modulation
    index ``|v| / (V_dc/2)`` [-].
    """
    theta, m = np.broadcast_arrays(np.asarray(theta, float), np.asarray(m, float))
    shifts = np.array([0.0, -2.0 * math.pi / 3.0, 2.0 * math.pi / 3.0])
    refs = m[..., None] * np.cos(theta[..., None] + shifts)
    refs = refs + zero_sequence(refs, modulation)[..., None]
    return np.clip(refs, -1.0, 1.0)


def ripple_flux_period(refs: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Ripple flux linkage of the three poles [units V_dc T_c] (module docstring).

    refs (..., 3): sampled references of one carrier period [-]; tau (n,): times in the
    period over T_c [-]. Returns (..., n, 3).
    """
    r = np.asarray(refs, float)[..., None, :]
    t = np.asarray(tau, float)[:, None]
    d = 0.5 * (1.0 + r)
    on = np.clip(t - 0.5 * (1.0 - d), 0.0, d)
    return 0.5 * (-t + 2.0 * on - r * t)


def _clarke(x: np.ndarray) -> np.ndarray:
    """Amplitude-invariant Clarke transform of (..., 3) -> (..., 2) (zero sequence dropped)."""
    a, b, c = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([(2.0 * a - b - c) / 3.0, (b - c) / math.sqrt(3.0)], axis=-1)


def _band_moments(psi: np.ndarray, n_carriers: int) -> np.ndarray:
    """(..., N_BANDS, 2, 2) second moments of the two components (last axis) of ``psi``
    (..., n_t, 2), split into carrier bands by Parseval over the one-sided spectrum."""
    n_t = psi.shape[-2]
    spec = np.fft.rfft(psi, axis=-2) / n_t
    order = np.arange(spec.shape[-2]) / n_carriers  # carrier orders
    band = np.clip(np.floor(order + 0.5).astype(int), 0, N_BANDS)  # 0 = below f_c/2
    weight = np.full(spec.shape[-2], 2.0)
    weight[0] = 1.0
    if n_t % 2 == 0:
        weight[-1] = 1.0
    cross = weight[:, None, None] * np.real(spec[..., :, :, None] * np.conj(spec[..., :, None, :]))
    out = np.zeros(psi.shape[:-2] + (N_BANDS, 2, 2))
    for k in range(N_BANDS):
        sel = band == k + 1
        if k == 0:  # the small sub-carrier remainder (not the mean) counts with band 1
            sel = sel | ((band == 0) & (np.arange(band.size) > 0))
        out[..., k, :, :] = cross[..., sel, :, :].sum(axis=-3)
    return out


def _table_moments(m: np.ndarray, modulation: str, n_carriers: int, n_samples: int):
    """Band moments (len(m), N_BANDS, 2, 2) of the ripple flux in the reference frame."""
    j = np.arange(n_carriers)  # carrier periods of one fundamental period
    theta_j = 2.0 * math.pi * (j + 0.5) / n_carriers  # sampled at the period centre
    tau = np.arange(n_samples) / n_samples
    refs = pole_references(theta_j[None, :], m[:, None], modulation)  # (n_m, n_c, 3)
    psi = _clarke(ripple_flux_period(refs, tau))  # (n_m, n_c, n_s, 2)
    theta = 2.0 * math.pi * (j[:, None] + tau[None, :]) / n_carriers  # continuous angle
    # plus the staircase of sampled references minus the continuous reference
    step = 0.5 * _clarke(refs)  # (n_m, n_c, 2) [V_dc]
    before = np.cumsum(step, axis=1) - step
    stair = before[:, :, None, :] + tau[None, None, :, None] * step[:, :, None, :]
    arc = (np.exp(1j * theta) - 1.0) / (1j * 2.0 * math.pi / n_carriers)
    cont = 0.5 * m[:, None, None] * arc[None]
    psi = psi + stair - np.stack([cont.real, cont.imag], axis=-1)
    c, s = np.cos(theta), np.sin(theta)
    x, y = psi[..., 0], psi[..., 1]
    rot = np.stack([c * x + s * y, -s * x + c * y], axis=-1)  # R(-theta) psi
    return _band_moments(rot.reshape(m.size, n_carriers * n_samples, 2), n_carriers)


@lru_cache(maxsize=8)
def ripple_table(modulation: str, n_samples: int = TABLE_SAMPLES) -> tuple:
    """(f_1/f_c grid [-], m grid [-], band moments (n_x, n_m, N_BANDS, 2, 2) [units
    (V_dc/f_c)^2]) of ``modulation`` for the carrier ratios :data:`TABLE_RATIOS` (ascending
    f_1/f_c) and m from 0 to the scheme's linear limit (module docstring); cached."""
    _check_modulation(modulation)
    m = np.linspace(0.0, LINEAR_LIMIT[modulation], TABLE_POINTS)
    ratios = sorted(TABLE_RATIOS, reverse=True)
    x = np.array([1.0 / r for r in ratios])
    out = np.stack([_table_moments(m, modulation, r, n_samples) for r in ratios])
    for arr in (x, m, out):
        arr.setflags(write=False)
    return x, m, out


def _bilinear(x_grid, m_grid, table, x, m):
    """Table (n_x, n_m, ...) interpolated at points x, m (same shape; clipped to the grid)."""
    x = np.clip(x, x_grid[0], x_grid[-1])
    m = np.clip(m, m_grid[0], m_grid[-1])
    ix = np.clip(np.searchsorted(x_grid, x, side="right") - 1, 0, x_grid.size - 2)
    im = np.clip(np.searchsorted(m_grid, m, side="right") - 1, 0, m_grid.size - 2)
    ux = (x - x_grid[ix]) / (x_grid[ix + 1] - x_grid[ix])
    um = (m - m_grid[im]) / (m_grid[im + 1] - m_grid[im])
    extra = (None,) * (table.ndim - 2)
    ux, um = ux[(...,) + extra], um[(...,) + extra]
    return (
        (1 - ux) * (1 - um) * table[ix, im]
        + ux * (1 - um) * table[ix + 1, im]
        + (1 - ux) * um * table[ix, im + 1]
        + ux * um * table[ix + 1, im + 1]
    )


def incremental_inductance(
    model, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0, step: float | None = None
) -> np.ndarray:
    """Incremental inductances ``[[dpsi_d/di_d, dpsi_d/di_q], [dpsi_q/di_d, dpsi_q/di_q]]``
    (..., 2, 2) [H] of a machine model at (i_d, i_q, i_f) [A].

    Central differences of ``model.flux`` with ``step`` [A] (default 1 % of ``model.i_max``),
    one-sided where a neighbour falls outside the model's domain (evaluation points are
    clipped into the current ranges). One vectorised ``flux`` call for all points.
    """
    i_d, i_q, i_f = np.broadcast_arrays(*(np.asarray(x, float) for x in (i_d, i_q, i_f)))
    h = 0.01 * model.i_max if step is None else float(step)
    lo_d, hi_d = model.i_d_range
    lo_q, hi_q = model.i_q_range
    dd = np.stack([np.clip(i_d + h, lo_d, hi_d), np.clip(i_d - h, lo_d, hi_d), i_d, i_d])
    qq = np.stack([i_q, i_q, np.clip(i_q + h, lo_q, hi_q), np.clip(i_q - h, lo_q, hi_q)])
    psi_d, psi_q, _ = model.flux(dd, qq, np.broadcast_to(i_f, dd.shape))
    out = np.empty(i_d.shape + (2, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        span_d = dd[0] - dd[1]
        span_q = qq[2] - qq[3]
        out[..., 0, 0] = (psi_d[0] - psi_d[1]) / span_d
        out[..., 1, 0] = (psi_q[0] - psi_q[1]) / span_d
        out[..., 0, 1] = (psi_d[2] - psi_d[3]) / span_q
        out[..., 1, 1] = (psi_q[2] - psi_q[3]) / span_q
    return out


@dataclass(frozen=True, eq=False)
class RippleSpectrum:
    """Carrier-band ripple at operating points; arrays (..., N_BANDS) unless noted [SI].

    frequency (N_BANDS,) [Hz]: band centres k f_c; psi_ms: mean square of the ripple flux
    vector ``<|Delta psi_dq|^2>`` [Wb^2]; psi_d_ms: of its d component [Wb^2]; gap_psi_ms, gap_psi_d_ms: of the part that crosses
    the airgap ``Delta psi - L_sigma Delta i`` and of its d component [Wb^2]; current_ms:
    ``<|Delta i_dq|^2>`` [A^2]; modulation_index (...) [-] as used (clipped to the linear
    range).
    """

    frequency: np.ndarray
    psi_ms: np.ndarray
    psi_d_ms: np.ndarray
    gap_psi_ms: np.ndarray
    gap_psi_d_ms: np.ndarray
    current_ms: np.ndarray
    modulation_index: np.ndarray

    @property
    def phase_current_rms(self) -> np.ndarray:
        """Ripple r.m.s. of a phase current, all bands ``sqrt(sum <|Delta i|^2> / 2)`` [A]."""
        return np.sqrt(0.5 * np.sum(self.current_ms, axis=-1))


def ripple_spectrum(
    l_inc: ArrayLike,
    v_d: ArrayLike,
    v_q: ArrayLike,
    dc_link_voltage: float,
    carrier_frequency: float,
    modulation: str = "svpwm",
    fundamental_frequency: ArrayLike = 0.0,
    leakage_inductance: float = 0.0,
) -> RippleSpectrum:
    """Carrier-band ripple flux and current at operating points (module docstring).

    l_inc (..., 2, 2) [H] (:func:`incremental_inductance`); v_d, v_q [V] peak phase
    (amplitude-invariant) fundamental voltages; dc_link_voltage [V]; carrier_frequency
    [Hz]; modulation: one of :data:`MODULATIONS`; fundamental_frequency: electrical
    frequency [Hz] (selects the carrier ratio of the table; 0: the largest ratio);
    leakage_inductance L_sigma [H]: the share of ``L_inc`` whose flux does not cross the
    airgap (slot and end-winding leakage), for ``gap_psi_*``. NaN where the inputs are NaN.
    """
    if not dc_link_voltage > 0 or not carrier_frequency > 0:
        raise DesignError(
            "dc_link_voltage/carrier_frequency",
            (dc_link_voltage, carrier_frequency),
            "must be > 0 [V], [Hz]",
        )
    x_grid, m_grid, table = ripple_table(modulation)
    v_d, v_q, f_1 = np.broadcast_arrays(
        np.asarray(v_d, float),
        np.asarray(v_q, float),
        np.abs(np.asarray(fundamental_frequency, float)),
    )
    m = np.clip(np.hypot(v_d, v_q) / (0.5 * dc_link_voltage), 0.0, m_grid[-1])
    ok = np.isfinite(m) & np.isfinite(f_1)
    moments = _bilinear(
        x_grid, m_grid, table, np.where(ok, f_1 / carrier_frequency, 0.0), np.where(ok, m, 0.0)
    )
    moments = moments * (dc_link_voltage / carrier_frequency) ** 2
    delta = np.arctan2(v_q, v_d)
    c, s = np.cos(delta), np.sin(delta)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)[..., None, :, :]
    psi_cov = rot @ moments @ np.swapaxes(rot, -1, -2)  # (..., N_BANDS, 2, 2) in dq
    l_inv = np.linalg.inv(np.where(np.isfinite(l_inc), l_inc, np.eye(2)))[..., None, :, :]
    i_cov = l_inv @ psi_cov @ np.swapaxes(l_inv, -1, -2)
    gap = np.eye(2) - leakage_inductance * l_inv  # Delta psi_gap = (1 - L_sigma L^-1) Delta psi
    gap_cov = gap @ psi_cov @ np.swapaxes(gap, -1, -2)
    bad = ~(np.isfinite(m) & np.all(np.isfinite(l_inc), axis=(-2, -1)))[..., None]
    nan = np.where(bad, np.nan, 1.0)
    return RippleSpectrum(
        frequency=carrier_frequency * np.arange(1, N_BANDS + 1),
        psi_ms=np.trace(psi_cov, axis1=-2, axis2=-1) * nan,
        psi_d_ms=psi_cov[..., 0, 0] * nan,
        gap_psi_ms=np.trace(gap_cov, axis1=-2, axis2=-1) * nan,
        gap_psi_d_ms=gap_cov[..., 0, 0] * nan,
        current_ms=np.trace(i_cov, axis1=-2, axis2=-1) * nan,
        modulation_index=np.where(bad[..., 0], np.nan, m),
    )
