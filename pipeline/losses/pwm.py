r"""Extra losses from the PWM carrier-band ripple: stator copper, iron, magnets [W].

Pure functions of the ripple spectrum (:mod:`pipeline.drive.pwm`: per carrier band k a
frequency ``f_k`` and a mean square of ripple current or flux density) and of conductor,
lamination and magnet data, all SI. The design-dependent glue (masses, flux paths) is in
:mod:`pipeline.maps.pwm`.

Eddy currents with their own field (slab). A conducting slab of thickness ``d`` carrying an
alternating flux parallel to its faces, of mean flux density (peak) ``B`` over the thickness
(flux imposed, as by a winding's volt-seconds) at angular frequency omega, loses per volume
the resistance-limited ``sigma (omega B d)^2 / 24`` times::

    F(xi) = (3 / xi) (sinh xi - sin xi) / (cosh xi - cos xi),   xi = d / delta,
    delta = sqrt(2 / (omega mu sigma)),

``F -> 1`` for ``xi -> 0`` and ``F -> 3 / xi`` for ``xi >> 1`` (field confined to the skin
depth). (J. Lammeraner, M. Stafl, *Eddy Currents*, Iliffe 1966, ch. 4; R. L. Stoll,
*The Analysis of Eddy Currents*, Clarendon 1974, ch. 1.) :func:`slab_eddy_factor`. It
applies to a lamination (d = sheet thickness, mu = the incremental permeability of the
minor loops the ripple traces) and to a long magnet block in its normal field (d = the
width across which the currents turn; :mod:`pipeline.losses.magnet`).

Copper. Per band, ``P_k = 3 I_k^2 R_dc [s k_slot(f_k) + (1 - s)]`` with ``I_k^2`` the phase
mean square of band k, ``s`` the slot share of the turn length (end windings taken at DC
resistance) and ``k_slot`` Dowell's factor (:func:`pipeline.losses.copper.dowell_ac_factor`,
skin + proximity of M conductor layers stacked in the slot). Hairpins: bars of height h and
width b_c in a slot of width b_s, ``xi = (h / delta) sqrt(b_c / b_s)``, M = bars per slot.
Stranded round wire of diameter d: the equivalent square conductor of the same area
(side ``h = sqrt(pi) d / 2``) with the layer porosity ``eta = h / p`` (p the wire pitch),
``xi = (h / delta) sqrt(eta)``, M = wire layers in the slot height (A. Reatti,
M. K. Kazimierczuk, "Comparison of various methods for calculating the AC resistance of
inductors", IEEE Trans. Magn. 38(3), 1512-1518, 2002, doi:10.1109/20.999124). The
low-frequency proximity loss of this equivalent lies about 5 % above the exact sum for round
wires in the same layered field (``pi sigma omega^2 B^2 d^4 / 128`` per length and wire;
checked in tests/test_pwm_losses.py). All strands are taken to share the current equally
(no circulating currents between strands in hand).

Iron. Per region and band, Bertotti's three terms at the ripple flux density ``b_k``
(peak-equivalent) and ``f_k``::

    p_k = k_h f_k b_k^alpha + k_e (f_k b_k)^2 F(d / delta_k) + k_a (f_k b_k)^1.5

Hysteresis counts one minor loop of amplitude ``b_k`` per period of band k, with the
major-loop coefficients: in the Rayleigh region small loops lose less (``~ b^3``), so this is
an upper estimate (the same summation over harmonics as the map's own iron loss,
:mod:`pipeline.losses.iron`). The lamination factor F uses the incremental permeability
:data:`MU_R_MINOR_LOOP`.

Magnets. Per band, the block formula of :func:`pipeline.losses.magnet.block_eddy_loss_density`
at the ripple flux density normal to the magnet, times the slab factor F(w / delta_m).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import MU_0
from pipeline.errors import DesignError
from pipeline.losses.copper import dowell_ac_factor, skin_depth
from pipeline.losses.magnet import block_eddy_loss_density

__all__ = [
    "MU_R_MINOR_LOOP",
    "slab_eddy_factor",
    "round_wire_layers",
    "round_wire_reduced_height",
    "bar_reduced_height",
    "ripple_copper_loss",
    "ripple_iron_loss",
    "ripple_magnet_loss",
]

#: Relative incremental permeability of the minor loops traced by the carrier ripple in
#: non-oriented steel [-]: assumed 500. Reversible permeabilities of NO steels lie between
#: about 100 (near saturation) and 1000-2000 (low bias); 500 is a middle value. It enters
#: only the lamination skin factor F (at 10 kHz and 0.35 mm: F = 0.97 at 500, 0.90 at 1000).
MU_R_MINOR_LOOP = 500.0


def slab_eddy_factor(xi: ArrayLike) -> np.ndarray:
    """Eddy loss of a slab with its own field over the resistance-limited value [-].

    ``F = (3/xi) (sinh xi - sin xi)/(cosh xi - cos xi)``, xi = thickness / skin depth [-]
    (module docstring); 1 below xi = 1e-2 (1 - F is about xi^4 / 630 there), the
    asymptote ``3/xi`` above xi = 30.
    """
    x = np.asarray(xi, dtype=float)
    small, large = x < 1e-2, x > 30.0
    xm = np.clip(x, 1e-2, 30.0)
    mid = 3.0 / xm * (np.sinh(xm) - np.sin(xm)) / (np.cosh(xm) - np.cos(xm))
    return np.where(small, 1.0, np.where(large, 3.0 / np.where(large, x, 1.0), mid))


def round_wire_layers(
    wire_diameter: float, n_wires: int, slot_area: float, slot_height: float
) -> tuple[float, float]:
    """(wire pitch p [m], wire layers M [-]) of ``n_wires`` round wires spread evenly over a
    slot body of ``slot_area`` [m^2] and radial ``slot_height`` [m]: each wire occupies a
    square ``p x p`` with ``p = sqrt(area / n)``, ``M = height / p`` (rounded, >= 1)."""
    if not (wire_diameter > 0 and n_wires >= 1 and slot_area > 0 and slot_height > 0):
        raise DesignError(
            "round wire slot",
            (wire_diameter, n_wires, slot_area, slot_height),
            "diameter, wires, area and height must be > 0",
        )
    pitch = math.sqrt(slot_area / n_wires)
    if pitch < wire_diameter:
        raise DesignError("wire_diameter", wire_diameter, f"wires do not fit: pitch {pitch:.3g} m")
    return pitch, float(max(1, round(slot_height / pitch)))


def round_wire_reduced_height(
    frequency: ArrayLike, wire_diameter: float, pitch: float, resistivity: ArrayLike
) -> np.ndarray:
    """Dowell's reduced height of round wire ``(h/delta) sqrt(h/p)``, ``h = sqrt(pi) d/2``
    [-]; frequency [Hz], wire_diameter d [m], pitch p [m], resistivity [ohm m]."""
    h = math.sqrt(math.pi) * wire_diameter / 2.0
    return h / skin_depth(np.maximum(frequency, 1e-9), resistivity) * math.sqrt(h / pitch)


def bar_reduced_height(
    frequency: ArrayLike, bar_height: float, width_ratio: float, resistivity: ArrayLike
) -> np.ndarray:
    """Dowell's reduced height of a rectangular bar ``(h/delta) sqrt(b_c/b_s)`` [-]."""
    return (
        bar_height / skin_depth(np.maximum(frequency, 1e-9), resistivity) * math.sqrt(width_ratio)
    )


def ripple_copper_loss(
    current_ms: ArrayLike, xi: ArrayLike, n_layers: float, r_dc: ArrayLike, slot_share: float
) -> np.ndarray:
    """Stator copper loss of the ripple ``sum_k 3 I_k^2 R_dc (s k_slot + 1 - s)`` [W].

    current_ms (..., K): phase mean square of each band [A^2]; xi (..., K) or (K,): Dowell
    reduced height at the band frequencies [-]; n_layers M [-] (round wire: may be
    non-integer after rounding the pitch, used as is); r_dc: phase DC resistance [ohm];
    slot_share s: slot part of the turn length [-].
    """
    k_slot = dowell_ac_factor(xi, float(n_layers))
    factor = slot_share * k_slot + (1.0 - slot_share)
    r = np.asarray(r_dc, float)[..., None]
    return np.sum(3.0 * np.asarray(current_ms, float) * r * factor, axis=-1)


def ripple_iron_loss(
    b_peak: ArrayLike,
    frequency: ArrayLike,
    mass: float,
    k_h: float,
    alpha: float,
    k_e: float,
    k_a: float,
    thickness: float,
    resistivity: float,
    mu_r: float = MU_R_MINOR_LOOP,
) -> np.ndarray:
    """Iron loss of the ripple in one region [W] (module docstring).

    b_peak (..., K): peak-equivalent ripple flux density per band [T]; frequency (K,) [Hz];
    mass [kg]; Bertotti k_h [W/(kg Hz T^alpha)], alpha [-], k_e [W/(kg Hz^2 T^2)],
    k_a [W/(kg (Hz T)^1.5)]; lamination thickness [m] and resistivity [ohm m]; mu_r of the
    minor loops [-].
    """
    b = np.abs(np.asarray(b_peak, float))
    f = np.asarray(frequency, float)
    delta = np.sqrt(2.0 * resistivity / (2.0 * np.pi * f * MU_0 * mu_r))
    lam = slab_eddy_factor(thickness / delta)
    p = k_h * f * b**alpha + k_e * (f * b) ** 2 * lam + k_a * (f * b) ** 1.5
    return mass * np.sum(p, axis=-1)


def ripple_magnet_loss(
    b_peak: ArrayLike,
    frequency: ArrayLike,
    width: float,
    length: float,
    volume: float,
    conductivity: float,
    mu_r: float = 1.05,
) -> np.ndarray:
    """Magnet eddy loss of the ripple [W]: block formula x slab factor, summed over bands.

    b_peak (..., K): peak-equivalent ripple flux density normal to the magnets [T];
    frequency (K,) [Hz]; width w (across which the currents turn) and length l [m] of one
    magnet; volume of all magnets [m^3]; conductivity [S/m]; recoil mu_r [-].
    """
    f = np.asarray(frequency, float)
    delta = np.sqrt(2.0 / (2.0 * np.pi * f * MU_0 * mu_r * conductivity))
    density = block_eddy_loss_density(np.asarray(b_peak, float), f, width, length, conductivity)
    return volume * np.sum(density * slab_eddy_factor(width / delta), axis=-1)
