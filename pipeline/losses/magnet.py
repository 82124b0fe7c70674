r"""Eddy-current loss in permanent magnets, resistance-limited estimates [W/m^3].

Set-up: a magnet block of width ``w`` and length ``l`` (the two dimensions perpendicular
to the field; usually w = circumferential width, l = axial length of one segment) sees a
spatially uniform flux density ``B(t)`` normal to the ``w x l`` face. Resistance-limited
means the eddy currents do not change the field: valid when ``w << delta``, the skin depth
``sqrt(2 / (omega mu_0 mu_r sigma))`` (about 30 mm for sintered NdFeB at 1 kHz).

Derivation. With ``J = curl(T e_z)`` and ``curl(J/sigma) = -dB/dt e_z``, the current
stream function obeys ``laplace T = sigma dB/dt`` with ``T = 0`` on the magnet edge, and
the loss per unit volume is ``p = -(dB/dt) / (w l) integral T dA``. Expanding in
``sin(m pi x/w) sin(n pi y/l)`` (odd m, n)::

    p = sigma (dB/dt)^2 w^2 / 12 * F(l/w),
    F(l/w) = 768/pi^6 sum_{m,n odd} 1 / (m^2 n^2 (m^2 + n^2 (w/l)^2))

``F -> 1`` as ``l/w -> inf``: the classic thin-plate result ``p = sigma w^2 (dB/dt)^2 / 12``
(e.g. R. L. Stoll, *The analysis of eddy currents*, Clarendon Press, 1974, ch. 1).
The same Poisson problem is Prandtl's torsion problem, so ``F = 3 k_1(l/w)`` with ``k_1``
the torsion-constant coefficient ``J = k_1 l w^3`` of a rectangle (S. Timoshenko,
J. N. Goodier, *Theory of Elasticity*, 2nd ed., McGraw-Hill 1951, sec. 109: k_1 = 0.141,
0.229, 0.312, 1/3 for l/w = 1, 2, 10, inf) -- an independent check used in the tests.

Time averages: for a sinusoid of peak ``B`` at ``f``, ``<(dB/dt)^2> = (2 pi f B)^2 / 2``, so
``p = sigma (omega B w)^2 / 24 * F``. For an arbitrary periodic waveform the mean square of
dB/dt is taken over one period (spectral derivative), which sums the harmonic losses.

Field varying across the width (``strip_eddy_loss_density``): for a long block
(``l >> w``) whose normal flux density depends on the width coordinate x, the axial
electric field is ``E(x, t) = integral_0^x dB/dt dx' - c`` with ``c`` such that the net
axial current vanishes (``c`` = mean of the integral over the width), and
``p = sigma <E^2>`` averaged over width and time. With B piecewise constant over equal
strips, E is piecewise linear and the width integral is exact. A uniform B gives the
thin-plate value above; a field alternating across the width (slot harmonics) gives much
less than the uniform-field formula with its local amplitude. The finite-length factor
``F(l/w)`` of the uniform case is applied as an approximation.

Segmentation: dividing a magnet into ``n`` pieces along ``w`` divides ``w`` by ``n`` and
the resistance-limited loss density by about ``n^2``. Ruoho et al. (IEEE Trans. Magn. 46(4),
2010, doi:10.1109/TMAG.2009.2038013) discuss how such 2D estimates relate to the 3D loss;
this module provides only the analytic block result.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import MU_0
from pipeline.errors import DesignError

__all__ = [
    "rectangular_block_factor",
    "thin_plate_eddy_loss_density",
    "block_eddy_loss_density",
    "waveform_eddy_loss_density",
    "strip_eddy_loss_density",
    "magnet_skin_depth",
]


def rectangular_block_factor(width: float, length: float, n_terms: int = 200) -> float:
    """Shape factor ``F(l/w)`` of the resistance-limited block loss [-] (module docstring).

    width w [m] and length l [m] of the face normal to the field; the result is symmetric
    in the sense ``w^2 F(l/w) = l^2 F(w/l)``. n_terms odd indices per direction are summed;
    the truncation error is below 1e-5 relative for n_terms = 200.
    """
    if width <= 0.0 or length <= 0.0:
        raise DesignError("magnet width/length", (width, length), "must be > 0 [m]")
    k = 2.0 * np.arange(n_terms) + 1.0
    m = k[:, None]
    n = k[None, :]
    ratio2 = (width / length) ** 2
    total = np.sum(1.0 / (m**2 * n**2 * (m**2 + n**2 * ratio2)))
    return float(768.0 / np.pi**6 * total)


def thin_plate_eddy_loss_density(
    b_peak: ArrayLike, frequency: ArrayLike, width: float, conductivity: float
) -> np.ndarray:
    """Thin-plate eddy loss density under sinusoidal B: ``sigma (omega B w)^2 / 24`` [W/m^3].

    b_peak [T]; frequency [Hz]; width w (dimension across which the currents turn) [m];
    conductivity sigma [S/m].
    """
    omega = 2.0 * np.pi * np.asarray(frequency, dtype=float)
    return conductivity * (omega * np.asarray(b_peak, dtype=float) * width) ** 2 / 24.0


def block_eddy_loss_density(
    b_peak: ArrayLike,
    frequency: ArrayLike,
    width: float,
    length: float,
    conductivity: float,
) -> np.ndarray:
    """Rectangular-block eddy loss density ``sigma (omega B w)^2 / 24 * F(l/w)`` [W/m^3].

    b_peak [T], frequency [Hz], width w and length l of the face normal to B [m],
    conductivity [S/m].
    """
    factor = rectangular_block_factor(width, length)
    return thin_plate_eddy_loss_density(b_peak, frequency, width, conductivity) * factor


def waveform_eddy_loss_density(
    b: ArrayLike,
    period: float,
    width: float,
    length: float | None,
    conductivity: float,
) -> np.ndarray:
    """Block eddy loss density of a periodic waveform ``sigma <(dB/dt)^2> w^2 F / 12`` [W/m^3].

    b : normal flux density samples over one period, uniform in time, endpoint excluded,
        along the last axis [T] (e.g. the mean over the magnet face at each rotor angle)
    period [s]; width, length [m] (length None: thin plate, F = 1); conductivity [S/m].
    """
    b = np.asarray(b, dtype=float)
    n = b.shape[-1]
    spectrum = np.fft.rfft(b, axis=-1) / n
    order = np.arange(spectrum.shape[-1])
    weight = np.full(spectrum.shape[-1], 2.0)  # one-sided spectrum: count +-k
    weight[0] = 0.0
    if n % 2 == 0:
        weight[-1] = 0.0  # drop the aliased Nyquist bin
    omega = 2.0 * np.pi * order / period
    mean_square_rate = np.sum(weight * omega**2 * np.abs(spectrum) ** 2, axis=-1)
    factor = 1.0 if length is None else rectangular_block_factor(width, length)
    return conductivity * mean_square_rate * width**2 / 12.0 * factor


def strip_eddy_loss_density(
    b: ArrayLike,
    period: float,
    width: float,
    length: float | None,
    conductivity: float,
) -> np.ndarray:
    """Eddy loss density of a block whose normal B varies across its width [W/m^3].

    b : normal flux density [T], shape (..., n_strips, n_samples): equal strips across the
        width (axis -2), samples over one period, uniform in time, endpoint excluded
        (axis -1)
    period [s]; width w [m] (across which the currents turn); length l [m] (None: long
    block, F = 1); conductivity [S/m]. See the module docstring for the model.
    """
    b = np.asarray(b, dtype=float)
    n_strips, n = b.shape[-2], b.shape[-1]
    spectrum = np.fft.rfft(b, axis=-1)
    omega = 2.0 * np.pi * np.arange(spectrum.shape[-1]) / period
    spectrum = spectrum * 1j * omega
    if n % 2 == 0:
        spectrum[..., -1] = 0.0  # aliased Nyquist bin
    db_dt = np.fft.irfft(spectrum, n=n, axis=-1)
    du = width / n_strips
    e_right = np.cumsum(db_dt, axis=-2) * du  # E at the right edge of each strip (c = 0)
    e_left = e_right - db_dt * du
    mean = np.sum(0.5 * (e_left + e_right), axis=-2, keepdims=True) * du / width
    e_l, e_r = e_left - mean, e_right - mean
    mean_square = np.sum(e_l**2 + e_l * e_r + e_r**2, axis=-2) * du / (3.0 * width)
    factor = 1.0 if length is None else rectangular_block_factor(width, length)
    return conductivity * np.mean(mean_square, axis=-1) * factor


def magnet_skin_depth(frequency: ArrayLike, conductivity: float, mu_r: float = 1.05) -> np.ndarray:
    """Skin depth in the magnet ``sqrt(2 / (omega mu_0 mu_r sigma))`` [m]; f [Hz], sigma [S/m].

    The resistance-limited formulas hold for dimensions well below this depth.
    """
    omega = 2.0 * np.pi * np.asarray(frequency, dtype=float)
    return np.sqrt(2.0 / (omega * MU_0 * mu_r * conductivity))
