r"""Iron (core) loss models for laminated electrical steel [W/kg].

All functions are pure: arrays in, arrays out, SI units. Specific losses are per unit
mass [W/kg]; multiply by the element mass (density x volume x stacking factor) to get [W].

Models
------
Bertotti (loss separation), sinusoidal flux density of peak ``B`` at frequency ``f``::

    p = k_h f B^alpha + k_e (f B)^2 + k_a (f B)^1.5

with hysteresis, classical eddy-current and excess coefficients ``k_h`` [W/(kg Hz T^alpha)],
``k_e`` [W/(kg Hz^2 T^2)], ``k_a`` [W/(kg (Hz T)^1.5)].
G. Bertotti, "General properties of power losses in soft ferromagnetic materials",
IEEE Trans. Magn. 24(1), 621-630, 1988, doi:10.1109/20.43994.
The classical eddy coefficient of a lamination of thickness ``d``, resistivity ``rho_e`` and
density ``rho_m`` is ``k_e = pi^2 d^2 / (6 rho_e rho_m)`` (same reference).

Steinmetz: ``p = k f^alpha B^beta`` (C. P. Steinmetz, Trans. AIEE 9, 1892).

Modified Steinmetz equation (MSE) for an arbitrary periodic waveform B(t) of period T
(J. Reinert, A. Brockmeyer, R. W. De Doncker, "Calculation of losses in ferro- and
ferrimagnetic materials based on the modified Steinmetz equation", IEEE Trans. Ind. Appl.
37(4), 1055-1061, 2001, doi:10.1109/28.936396)::

    f_eq = 2 / (dB^2 pi^2) * integral_0^T (dB/dt)^2 dt,    dB = B_max - B_min
    p    = k f_eq^(alpha - 1) (dB/2)^beta / T

For a sinusoid f_eq = f and the MSE reduces to Steinmetz.

Improved generalised Steinmetz equation (iGSE; K. Venkatachalam, C. R. Sullivan,
T. Abdallah, H. Tacca, "Accurate prediction of ferrite core loss with nonsinusoidal
waveforms using only Steinmetz parameters", IEEE COMPEL 2002, 36-41,
doi:10.1109/CIPE.2002.1196712)::

    p = 1/T integral_0^T k_i |dB/dt|^alpha dB^(beta - alpha) dt,
    k_i = k / ((2 pi)^(alpha - 1) integral_0^(2 pi) |cos t|^alpha 2^(beta - alpha) dt)

Harmonic Bertotti for a 2D field waveform (per element): the samples ``bx[..., k]``,
``by[..., k]`` cover one electrical period uniformly (endpoint excluded). With the
one-sided Fourier amplitudes ``B_n = sqrt(Bx_n^2 + By_n^2)`` of harmonic ``n``
(frequency ``f_n = n f_1``)::

    p(f_1) = sum_n k_h f_n B_n^alpha + k_e (f_n B_n)^2 + k_a (f_n B_n)^1.5
           = c_h f_1 + c_e f_1^2 + c_a f_1^1.5,
    c_h = k_h sum n B_n^alpha,  c_e = k_e sum n^2 B_n^2,  c_a = k_a sum n^1.5 B_n^1.5.

The coefficients ``c_h, c_e, c_a`` depend only on the waveform *shape* versus rotor angle,
so a loss map computed from magnetostatic solves at a set of rotor angles can be evaluated
at any speed without new solves (``FrequencyScaledLoss.at``). Summing hysteresis over
harmonics ignores minor-loop and DC-bias effects; it is the usual engineering approximation
(e.g. the FEMM/SyR-e post-processing) and tends to over-estimate hysteresis loss for
waveforms with large harmonics.

Assumptions: loss tables are Epstein-type data under sinusoidal B; manufacturing
degradation (cutting, pressing) is not included (apply a build factor outside).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar, nnls

from pipeline.errors import DesignError
from pipeline.io.inputs import read_number_rows

__all__ = [
    "bertotti",
    "steinmetz",
    "classical_eddy_coefficient",
    "mse_equivalent_frequency",
    "modified_steinmetz",
    "igse",
    "harmonic_amplitudes",
    "bertotti_harmonic",
    "bertotti_frequency_coefficients",
    "FrequencyScaledLoss",
    "BertottiFit",
    "fit_bertotti",
    "SteinmetzFit",
    "fit_steinmetz",
    "LOSS_DATA_DIR",
    "read_loss_table",
]

logger = logging.getLogger(__name__)

#: Directory of the copied loss tables (``<name>.csv`` with a source header).
LOSS_DATA_DIR = Path(__file__).resolve().parents[2] / "geometries/reference/materials/loss_data"


def bertotti(
    b_peak: ArrayLike,
    frequency: ArrayLike,
    k_h: float,
    k_e: float,
    k_a: float,
    alpha: float = 2.0,
) -> np.ndarray:
    """Bertotti three-term specific iron loss under sinusoidal flux density [W/kg].

    ``p = k_h f B^alpha + k_e (f B)^2 + k_a (f B)^1.5`` (Bertotti 1988,
    doi:10.1109/20.43994).

    Parameters
    ----------
    b_peak : peak flux density [T]
    frequency : frequency [Hz]
    k_h : hysteresis coefficient [W/(kg Hz T^alpha)]
    k_e : classical eddy-current coefficient [W/(kg Hz^2 T^2)]
    k_a : excess (anomalous) coefficient [W/(kg (Hz T)^1.5)]
    alpha : hysteresis exponent [-]
    """
    b = np.abs(np.asarray(b_peak, dtype=float))
    f = np.asarray(frequency, dtype=float)
    return k_h * f * b**alpha + k_e * (f * b) ** 2 + k_a * (f * b) ** 1.5


def steinmetz(
    b_peak: ArrayLike, frequency: ArrayLike, k: float, alpha: float, beta: float
) -> np.ndarray:
    """Steinmetz specific loss ``p = k f^alpha B^beta`` [W/kg].

    b_peak [T], frequency [Hz], k [W/(kg Hz^alpha T^beta)].
    """
    b = np.abs(np.asarray(b_peak, dtype=float))
    return k * np.asarray(frequency, dtype=float) ** alpha * b**beta


def classical_eddy_coefficient(thickness: float, resistivity: float, density: float) -> float:
    """Classical eddy-current coefficient of a lamination ``pi^2 d^2 / (6 rho_e rho_m)``.

    thickness d [m], resistivity rho_e [ohm m], density rho_m [kg/m^3];
    returns k_e [W/(kg Hz^2 T^2)] (Bertotti 1988, doi:10.1109/20.43994).
    """
    return math.pi**2 * thickness**2 / (6.0 * resistivity * density)


def _periodic_derivative(b: np.ndarray, period: float) -> np.ndarray:
    """Spectral time derivative of uniformly sampled periodic samples (last axis) [T/s]."""
    n = b.shape[-1]
    spectrum = np.fft.rfft(b, axis=-1)
    k = np.arange(spectrum.shape[-1])
    omega = 2.0 * np.pi * k / period
    deriv = 1j * omega * spectrum
    if n % 2 == 0:
        deriv[..., -1] = 0.0  # Nyquist term has no well-defined derivative
    return np.fft.irfft(deriv, n=n, axis=-1)


def mse_equivalent_frequency(b: ArrayLike, period: float) -> np.ndarray:
    """Equivalent frequency of the modified Steinmetz equation [Hz].

    ``f_eq = 2/(dB^2 pi^2) integral_0^T (dB/dt)^2 dt`` with ``dB = max B - min B``
    (Reinert et al. 2001, doi:10.1109/28.936396).

    Parameters
    ----------
    b : flux density samples over one period, uniform in time, endpoint excluded,
        along the last axis [T]
    period : waveform period T [s]
    """
    b = np.asarray(b, dtype=float)
    db_dt = _periodic_derivative(b, period)
    integral = np.mean(db_dt**2, axis=-1) * period
    delta_b = np.ptp(b, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_eq = 2.0 * integral / (delta_b**2 * np.pi**2)
    return np.where(delta_b > 0.0, f_eq, 0.0)


def modified_steinmetz(
    b: ArrayLike, period: float, k: float, alpha: float, beta: float
) -> np.ndarray:
    """Modified Steinmetz equation (MSE) specific loss of a periodic waveform [W/kg].

    ``p = k f_eq^(alpha-1) (dB/2)^beta / T`` (Reinert et al. 2001,
    doi:10.1109/28.936396). b [T] samples over one period (last axis), period [s],
    Steinmetz parameters as in :func:`steinmetz`.
    """
    b = np.asarray(b, dtype=float)
    f_eq = mse_equivalent_frequency(b, period)
    b_half = 0.5 * np.ptp(b, axis=-1)
    return k * f_eq ** (alpha - 1.0) * b_half**beta / period


def igse(b: ArrayLike, period: float, k: float, alpha: float, beta: float) -> np.ndarray:
    """Improved generalised Steinmetz equation (iGSE) specific loss [W/kg].

    ``p = 1/T int k_i |dB/dt|^alpha dB^(beta-alpha) dt`` with ``dB`` the peak-to-peak
    flux density of the (single major loop) waveform (Venkatachalam et al. 2002,
    doi:10.1109/CIPE.2002.1196712). b [T] samples over one period (last axis), period [s].
    """
    b = np.asarray(b, dtype=float)
    # int_0^{2 pi} |cos t|^alpha dt = 2 sqrt(pi) Gamma((alpha+1)/2) / Gamma(alpha/2 + 1)
    cos_integral = 2.0 * math.sqrt(math.pi) * math.gamma(0.5 * (alpha + 1.0))
    integral = cos_integral / math.gamma(0.5 * alpha + 1.0) * 2.0 ** (beta - alpha)
    k_i = k / ((2.0 * np.pi) ** (alpha - 1.0) * integral)
    db_dt = _periodic_derivative(b, period)
    delta_b = np.ptp(b, axis=-1)
    return k_i * np.mean(np.abs(db_dt) ** alpha, axis=-1) * delta_b ** (beta - alpha)


def harmonic_amplitudes(b: ArrayLike) -> np.ndarray:
    """One-sided peak amplitudes of the harmonics of uniformly sampled periodic data [T].

    b : samples over one period along the last axis (endpoint excluded).
    Returns an array whose last axis is the harmonic order n = 0, 1, ..., N//2; entry n is
    the peak value of the n-th harmonic (entry 0 is the mean).
    """
    b = np.asarray(b, dtype=float)
    n = b.shape[-1]
    amp = np.abs(np.fft.rfft(b, axis=-1)) * (2.0 / n)
    amp[..., 0] *= 0.5
    if n % 2 == 0:
        amp[..., -1] *= 0.5
    return amp


@dataclass(frozen=True, eq=False)
class FrequencyScaledLoss:
    """Per-element loss coefficients ``p(f) = c_h f + c_e f^2 + c_a f^1.5`` [W/kg].

    c_h [W/(kg Hz)], c_e [W/(kg Hz^2)], c_a [W/(kg Hz^1.5)]; ``f`` is the fundamental
    electrical frequency [Hz]. Arrays have the element shape of the input waveform.
    """

    c_h: np.ndarray
    c_e: np.ndarray
    c_a: np.ndarray

    def at(self, frequency: ArrayLike) -> np.ndarray:
        """Specific loss at fundamental frequency ``frequency`` [Hz] -> [W/kg].

        A scalar frequency gives the element shape; an array of frequencies is broadcast
        as a new leading axis.
        """
        f = np.asarray(frequency, dtype=float)
        f = f.reshape(f.shape + (1,) * np.ndim(self.c_h))
        return self.c_h * f + self.c_e * f**2 + self.c_a * f**1.5

    def hysteresis(self, frequency: ArrayLike) -> np.ndarray:
        """Hysteresis part ``c_h f`` [W/kg]."""
        return self.c_h * np.asarray(frequency, dtype=float)

    def eddy(self, frequency: ArrayLike) -> np.ndarray:
        """Classical eddy part ``c_e f^2`` [W/kg]."""
        return self.c_e * np.asarray(frequency, dtype=float) ** 2

    def excess(self, frequency: ArrayLike) -> np.ndarray:
        """Excess part ``c_a f^1.5`` [W/kg]."""
        return self.c_a * np.asarray(frequency, dtype=float) ** 1.5


def bertotti_frequency_coefficients(
    bx: ArrayLike,
    by: ArrayLike,
    k_h: float,
    k_e: float,
    k_a: float,
    alpha: float = 2.0,
    max_harmonic: int | None = None,
) -> FrequencyScaledLoss:
    """Harmonic Bertotti loss as frequency-scaling coefficients (see module docstring).

    Parameters
    ----------
    bx, by : flux density components [T], samples over one electrical period along the
        last axis (uniform in rotor angle, endpoint excluded), any leading element shape
    k_h, k_e, k_a, alpha : Bertotti coefficients as in :func:`bertotti`
    max_harmonic : highest harmonic order kept (default: all up to Nyquist - 1)

    Returns
    -------
    FrequencyScaledLoss with ``p(f_1) = c_h f_1 + c_e f_1^2 + c_a f_1^1.5`` [W/kg].
    """
    ax = harmonic_amplitudes(bx)
    ay = harmonic_amplitudes(by)
    amp = np.sqrt(ax**2 + ay**2)[..., 1:]  # drop the DC part: no loss from a static field
    n_samples = np.shape(bx)[-1]
    if n_samples % 2 == 0:
        amp = amp[..., :-1]  # the Nyquist bin is aliased; do not use it
    if max_harmonic is not None:
        amp = amp[..., :max_harmonic]
    order = np.arange(1, amp.shape[-1] + 1, dtype=float)
    c_h = k_h * np.sum(order * amp**alpha, axis=-1)
    c_e = k_e * np.sum(order**2 * amp**2, axis=-1)
    c_a = k_a * np.sum(order**1.5 * amp**1.5, axis=-1)
    return FrequencyScaledLoss(c_h=c_h, c_e=c_e, c_a=c_a)


def bertotti_harmonic(
    bx: ArrayLike,
    by: ArrayLike,
    frequency: float,
    k_h: float,
    k_e: float,
    k_a: float,
    alpha: float = 2.0,
    max_harmonic: int | None = None,
) -> np.ndarray:
    """Harmonic Bertotti specific loss of a 2D field waveform per element [W/kg].

    bx, by [T] over one electrical period (last axis), frequency = fundamental [Hz].
    Equivalent to ``bertotti_frequency_coefficients(...).at(frequency)``.
    """
    coeffs = bertotti_frequency_coefficients(bx, by, k_h, k_e, k_a, alpha, max_harmonic)
    return coeffs.at(frequency)


@dataclass(frozen=True)
class BertottiFit:
    """Result of :func:`fit_bertotti`.

    k_h [W/(kg Hz T^alpha)], k_e [W/(kg Hz^2 T^2)], k_a [W/(kg (Hz T)^1.5)], alpha [-];
    r_squared [-] (on the losses), max_relative_error and rms_relative_error [-].
    """

    k_h: float
    k_e: float
    k_a: float
    alpha: float
    r_squared: float
    max_relative_error: float
    rms_relative_error: float

    def __call__(self, b_peak: ArrayLike, frequency: ArrayLike) -> np.ndarray:
        """Fitted specific loss [W/kg] at b_peak [T], frequency [Hz]."""
        return bertotti(b_peak, frequency, self.k_h, self.k_e, self.k_a, self.alpha)


def _bertotti_lstsq(f, b, p, alpha):
    basis = np.column_stack([f * b**alpha, (f * b) ** 2, (f * b) ** 1.5])
    coef, _ = nnls(basis / p[:, None], np.ones_like(p))  # minimise relative error
    model = basis @ coef
    return coef, model


def fit_bertotti(
    frequency: ArrayLike,
    b_peak: ArrayLike,
    loss_W_per_kg: ArrayLike,
    alpha: float | None = 2.0,
) -> BertottiFit:
    """Least-squares fit of the Bertotti coefficients to a loss table.

    Minimises the sum of squared *relative* errors (the table spans four decades, a plain
    least squares would ignore the low-loss points), with non-negative coefficients
    (``scipy.optimize.nnls``). With ``alpha=None`` the hysteresis exponent is also fitted
    in [1.2, 2.5] by a bounded scalar search.

    Parameters
    ----------
    frequency : [Hz]; b_peak : [T]; loss_W_per_kg : measured specific loss [W/kg]
    alpha : fixed hysteresis exponent [-] or None to fit it
    """
    f = np.asarray(frequency, dtype=float).ravel()
    b = np.asarray(b_peak, dtype=float).ravel()
    p = np.asarray(loss_W_per_kg, dtype=float).ravel()
    if not (f.shape == b.shape == p.shape) or f.size < 3:
        raise DesignError("loss table", f.size, "needs >= 3 points of equal length")
    if np.any(p <= 0.0) or np.any(f <= 0.0) or np.any(b <= 0.0):
        raise DesignError("loss table", "non-positive entry", "f, B and p must be > 0")
    if alpha is None:

        def objective(a):
            _, model = _bertotti_lstsq(f, b, p, a)
            return float(np.sum((model / p - 1.0) ** 2))

        alpha = float(minimize_scalar(objective, bounds=(1.2, 2.5), method="bounded").x)
    coef, model = _bertotti_lstsq(f, b, p, alpha)
    rel = model / p - 1.0
    r2 = 1.0 - np.sum((model - p) ** 2) / np.sum((p - p.mean()) ** 2)
    fit = BertottiFit(
        k_h=float(coef[0]),
        k_e=float(coef[1]),
        k_a=float(coef[2]),
        alpha=float(alpha),
        r_squared=float(r2),
        max_relative_error=float(np.max(np.abs(rel))),
        rms_relative_error=float(np.sqrt(np.mean(rel**2))),
    )
    logger.debug("Bertotti fit: %s", fit)
    return fit


@dataclass(frozen=True)
class SteinmetzFit:
    """Result of :func:`fit_steinmetz`: k [W/(kg Hz^alpha T^beta)], alpha, beta [-]."""

    k: float
    alpha: float
    beta: float
    r_squared: float
    max_relative_error: float

    def __call__(self, b_peak: ArrayLike, frequency: ArrayLike) -> np.ndarray:
        """Fitted specific loss [W/kg]."""
        return steinmetz(b_peak, frequency, self.k, self.alpha, self.beta)


def fit_steinmetz(
    frequency: ArrayLike, b_peak: ArrayLike, loss_W_per_kg: ArrayLike
) -> SteinmetzFit:
    """Log-linear least-squares Steinmetz fit ``ln p = ln k + alpha ln f + beta ln B``."""
    f = np.asarray(frequency, dtype=float).ravel()
    b = np.asarray(b_peak, dtype=float).ravel()
    p = np.asarray(loss_W_per_kg, dtype=float).ravel()
    basis = np.column_stack([np.ones_like(f), np.log(f), np.log(b)])
    coef, *_ = np.linalg.lstsq(basis, np.log(p), rcond=None)
    model = np.exp(basis @ coef)
    r2 = 1.0 - np.sum((model - p) ** 2) / np.sum((p - p.mean()) ** 2)
    return SteinmetzFit(
        k=float(np.exp(coef[0])),
        alpha=float(coef[1]),
        beta=float(coef[2]),
        r_squared=float(r2),
        max_relative_error=float(np.max(np.abs(model / p - 1.0))),
    )


def read_loss_table(name_or_path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a loss table ``frequency_Hz,b_peak_T,loss_W_per_kg`` (``#`` comment header).

    ``name_or_path`` is a file path or a table name in :data:`LOSS_DATA_DIR` (e.g.
    ``"M400-50A"``). Returns (frequency [Hz], b_peak [T], loss [W/kg]).
    """
    path = Path(name_or_path)
    if not path.suffix:
        path = LOSS_DATA_DIR / f"{name_or_path}.csv"

    rows, _ = read_number_rows(path, "loss table", columns=3, min_rows=1)
    values = np.array(rows, dtype=float)
    return values[:, 0], values[:, 1], values[:, 2]
