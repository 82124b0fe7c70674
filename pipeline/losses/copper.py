r"""Copper losses: resistivity(T), phase resistance, DC and AC (Dowell) stator losses,
field-winding copper loss and brush / slip-ring losses.

Units: SI throughout; temperatures in kelvin [K] (use ``T_C + ZERO_CELSIUS`` at the edge).

Resistivity (linear, IEC 60028 copper)::

    rho(T) = rho_20 (1 + alpha_20 (T - T_20)),   T_20 = 293.15 K

Phase resistance of ``N_s`` series turns per parallel path, ``a`` parallel paths, copper
area ``A_c`` per turn (all strands in hand of one path) and mean turn length ``l_mt``::

    R = rho N_s l_mt / (a A_c),    l_mt = 2 (L_stack + l_end)

with ``l_end`` the length of one end connection (per side). A simple end-winding estimate
for a coil of (arc) span ``y``: semicircle plus straight axial extensions,
``l_end = pi y / 2 + 2 l_ext``.

Stator copper loss with the project's dq convention (peak-valued, amplitude-invariant
Park transform; i_d, i_q are phase-current *peaks*)::

    P = 3/2 R (i_d^2 + i_q^2) = 3 R I_rms^2

AC resistance of bar / hairpin windings: Dowell's 1D model (P. L. Dowell, "Effects of
eddy currents in transformer windings", Proc. IEE 113(8), 1387-1394, 1966,
doi:10.1049/piee.1966.0236). For ``M`` conductor layers stacked radially in a slot
(layer m = 1 at the slot bottom), with reduced conductor height::

    xi = (h / delta) sqrt(b_c / b_s),   delta = sqrt(2 rho / (omega mu_0 mu_r))

(h conductor height, b_c conductor width, b_s slot width), the resistance factor of
layer m and the slot average are::

    k_m  = phi(xi) + m (m - 1) psi(xi)
    k_ac = phi(xi) + (M^2 - 1)/3 psi(xi)
    phi(xi) = xi (sinh 2xi + sin 2xi) / (cosh 2xi - cos 2xi)
    psi(xi) = 2 xi (sinh xi - sin xi) / (cosh xi + cos xi)

Limits: k -> 1 + (5 M^2 - 1) xi^4 / 45 for xi << 1; k_ac -> xi for M = 1 and xi >> 1.
The factor applies to the slot (active) part of the resistance only; end windings carry
approximately DC current density.

Field winding: ``P_f = R_f(T) i_f^2`` with ``R_f(T) = R_f,ref rho(T)/rho(T_ref)``.

Brushes and slip rings: electrical contact loss ``P = n_series U_b |i_f|`` with ``U_b``
the contact voltage drop per brush (two brushes in series for one field circuit), plus
mechanical friction ``P = n_brushes mu_b p_b A_b v``, ``v = omega r_ring``. Contact drops:
about 1 V per brush for electrographite (K. Sawa, E. I. Shobert, "Sliding electrical
contacts (graphitic type lubrication)", ch. 18 of P. G. Slade (ed.), *Electrical
Contacts*, 2nd ed., CRC 2014, doi:10.1201/b15640-20); metal-graphite grades have lower
drops (a few tenths of a volt, depending on metal content and current density).
E. Nordlund, F. Magnussen, G. Bassilious, P. Thelin, "Testing of silver-, copper- and
electro-graphite brush materials for slip ring units", NORPIE 2004, measured both loss
components on an automotive slip-ring unit.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import ALPHA_CU_20, MU_0, RHO_CU_20, ZERO_CELSIUS
from pipeline.errors import DesignError

__all__ = [
    "T_20",
    "BRUSH_DROP_ELECTROGRAPHITE",
    "BRUSH_DROP_METAL_GRAPHITE",
    "resistivity",
    "resistance_at_temperature",
    "end_winding_length",
    "mean_turn_length",
    "phase_resistance",
    "copper_loss_dq",
    "skin_depth",
    "dowell_phi",
    "dowell_psi",
    "dowell_reduced_height",
    "dowell_layer_factor",
    "dowell_ac_factor",
    "field_copper_loss",
    "brush_electrical_loss",
    "brush_friction_loss",
    "brush_loss",
]

#: Reference temperature of RHO_CU_20 [K].
T_20 = ZERO_CELSIUS + 20.0

#: Contact voltage drop per electrographitic brush [V] (Sawa & Shobert 2014,
#: doi:10.1201/b15640-20: "about 1 V").
BRUSH_DROP_ELECTROGRAPHITE = 1.0

#: Contact voltage drop per metal-graphite brush [V]: assumed 0.5 V, the upper-typical
#: value for metal-graphite grades (lower than electrographite; Sawa & Shobert 2014).
BRUSH_DROP_METAL_GRAPHITE = 0.5


def resistivity(
    temperature: ArrayLike, rho_20: float = RHO_CU_20, alpha: float = ALPHA_CU_20
) -> np.ndarray:
    """Linear resistivity ``rho_20 (1 + alpha (T - 293.15 K))`` [ohm m].

    temperature [K], rho_20 [ohm m] at 20 degC, alpha [1/K] at 20 degC (IEC 60028 copper
    defaults from :mod:`pipeline.constants`).
    """
    return rho_20 * (1.0 + alpha * (np.asarray(temperature, dtype=float) - T_20))


def resistance_at_temperature(
    resistance_ref: ArrayLike,
    temperature: ArrayLike,
    temperature_ref: float = T_20,
    alpha: float = ALPHA_CU_20,
) -> np.ndarray:
    """Resistance scaled from ``temperature_ref`` to ``temperature`` [ohm].

    ``R(T) = R_ref (1 + alpha (T - T_20)) / (1 + alpha (T_ref - T_20))``; temperatures [K].
    """
    ratio = resistivity(temperature, 1.0, alpha) / resistivity(temperature_ref, 1.0, alpha)
    return np.asarray(resistance_ref, dtype=float) * ratio


def end_winding_length(coil_span: float, axial_extension: float = 0.0) -> float:
    """Length of one end connection of a coil (one side) [m].

    Semicircle over the coil span plus a straight axial extension on both legs:
    ``pi y / 2 + 2 l_ext``; coil_span y = arc length between the coil sides at mid-slot
    radius [m], axial_extension l_ext [m].
    """
    if coil_span <= 0.0 or axial_extension < 0.0:
        raise DesignError("coil_span", coil_span, "must be > 0 (extension >= 0) [m]")
    return 0.5 * math.pi * coil_span + 2.0 * axial_extension


def mean_turn_length(stack_length: float, end_length: float) -> float:
    """Mean length of one turn ``2 (L_stack + l_end)`` [m] (l_end per side) [m]."""
    if stack_length <= 0.0 or end_length < 0.0:
        raise DesignError("stack_length", stack_length, "must be > 0 [m]")
    return 2.0 * (stack_length + end_length)


def phase_resistance(
    n_series_turns: float,
    turn_length: float,
    conductor_area: float,
    n_parallel_paths: int = 1,
    resistivity: ArrayLike = RHO_CU_20,
) -> np.ndarray:
    """DC phase resistance ``rho N_s l_mt / (a A_c)`` [ohm].

    n_series_turns N_s: turns in series per parallel path [-]; turn_length l_mt [m];
    conductor_area A_c: copper area of one turn of one path (sum of strands in hand) [m^2];
    n_parallel_paths a [-]; resistivity [ohm m] (e.g. ``resistivity(T)``).
    """
    if n_series_turns <= 0 or turn_length <= 0 or conductor_area <= 0 or n_parallel_paths < 1:
        raise DesignError(
            "phase_resistance inputs",
            (n_series_turns, turn_length, conductor_area, n_parallel_paths),
            "turns, length, area must be > 0 and paths >= 1",
        )
    rho = np.asarray(resistivity, dtype=float)
    return rho * n_series_turns * turn_length / (n_parallel_paths * conductor_area)


def copper_loss_dq(resistance: ArrayLike, i_d: ArrayLike, i_q: ArrayLike) -> np.ndarray:
    """Three-phase copper loss from peak-valued dq currents ``3/2 R (i_d^2 + i_q^2)`` [W].

    resistance: per-phase resistance [ohm]; i_d, i_q: amplitude-invariant Park currents
    (peak phase current = sqrt(i_d^2 + i_q^2)) [A].
    """
    i_d = np.asarray(i_d, dtype=float)
    i_q = np.asarray(i_q, dtype=float)
    return 1.5 * np.asarray(resistance, dtype=float) * (i_d**2 + i_q**2)


def skin_depth(frequency: ArrayLike, resistivity: ArrayLike, mu_r: float = 1.0) -> np.ndarray:
    """Skin depth ``sqrt(2 rho / (omega mu_0 mu_r))`` [m]; frequency [Hz], rho [ohm m]."""
    omega = 2.0 * np.pi * np.asarray(frequency, dtype=float)
    return np.sqrt(2.0 * np.asarray(resistivity, dtype=float) / (omega * MU_0 * mu_r))


def dowell_phi(xi: ArrayLike) -> np.ndarray:
    """Dowell's skin-effect function ``xi (sinh 2xi + sin 2xi)/(cosh 2xi - cos 2xi)`` [-].

    Uses the series ``1 + 4 xi^4/45`` below xi = 1e-2 (cancellation) and the asymptote
    ``xi`` above xi = 20 (overflow); doi:10.1049/piee.1966.0236.
    """
    x = np.asarray(xi, dtype=float)
    small = x < 1e-2
    large = x > 20.0
    xm = np.clip(x, 1e-2, 20.0)
    mid = xm * (np.sinh(2 * xm) + np.sin(2 * xm)) / (np.cosh(2 * xm) - np.cos(2 * xm))
    return np.where(small, 1.0 + 4.0 * x**4 / 45.0, np.where(large, x, mid))


def dowell_psi(xi: ArrayLike) -> np.ndarray:
    """Dowell's proximity function ``2 xi (sinh xi - sin xi)/(cosh xi + cos xi)`` [-].

    Series ``xi^4/3`` below xi = 1e-2, asymptote ``2 xi`` above xi = 20.
    """
    x = np.asarray(xi, dtype=float)
    small = x < 1e-2
    large = x > 20.0
    xm = np.clip(x, 1e-2, 20.0)
    mid = 2.0 * xm * (np.sinh(xm) - np.sin(xm)) / (np.cosh(xm) + np.cos(xm))
    return np.where(small, x**4 / 3.0, np.where(large, 2.0 * x, mid))


def dowell_reduced_height(
    height: float,
    frequency: ArrayLike,
    resistivity: ArrayLike = RHO_CU_20,
    width_ratio: float = 1.0,
) -> np.ndarray:
    """Reduced conductor height ``xi = (h/delta) sqrt(b_c/b_s)`` [-].

    height h [m] (radial, along the slot), frequency [Hz], resistivity [ohm m],
    width_ratio b_c/b_s conductor width over slot width [-] (0 < ratio <= 1).
    """
    if not 0.0 < width_ratio <= 1.0:
        raise DesignError("width_ratio", width_ratio, "must be in (0, 1]")
    return height / skin_depth(frequency, resistivity) * math.sqrt(width_ratio)


def dowell_layer_factor(xi: ArrayLike, layer: int) -> np.ndarray:
    """AC resistance factor of layer ``m`` (1 = slot bottom): ``phi + m(m-1) psi`` [-]."""
    if layer < 1:
        raise DesignError("layer", layer, "must be >= 1")
    return dowell_phi(xi) + layer * (layer - 1) * dowell_psi(xi)


def dowell_ac_factor(xi: ArrayLike, n_layers: int) -> np.ndarray:
    """Slot-averaged AC resistance factor of M series layers ``phi + (M^2-1)/3 psi`` [-].

    xi: reduced conductor height (:func:`dowell_reduced_height`) [-];
    n_layers M: conductors stacked radially in the slot carrying the same current [-].
    """
    if n_layers < 1:
        raise DesignError("n_layers", n_layers, "must be >= 1")
    return dowell_phi(xi) + (n_layers**2 - 1) / 3.0 * dowell_psi(xi)


def field_copper_loss(
    i_f: ArrayLike,
    resistance_ref: float,
    temperature: ArrayLike,
    temperature_ref: float = T_20,
    alpha: float = ALPHA_CU_20,
) -> np.ndarray:
    """Field-winding copper loss ``R_f(T) i_f^2`` [W].

    i_f field current [A]; resistance_ref R_f at temperature_ref [ohm]; temperatures [K].
    """
    r = resistance_at_temperature(resistance_ref, temperature, temperature_ref, alpha)
    return r * np.asarray(i_f, dtype=float) ** 2


def brush_electrical_loss(
    i_f: ArrayLike, voltage_drop: float = BRUSH_DROP_METAL_GRAPHITE, n_series: int = 2
) -> np.ndarray:
    """Brush contact loss ``n_series U_b |i_f|`` [W].

    i_f [A]; voltage_drop U_b per brush [V]; n_series brushes in series in the field
    circuit [-] (2: one on each ring; parallel brushes share current, not the drop).
    """
    return n_series * voltage_drop * np.abs(np.asarray(i_f, dtype=float))


def brush_friction_loss(
    omega_mech: ArrayLike,
    ring_radius: float,
    brush_area: float,
    spring_pressure: float,
    friction_coefficient: float,
    n_brushes: int = 2,
) -> np.ndarray:
    """Brush friction loss ``n mu p A omega r`` [W].

    omega_mech [rad/s]; ring_radius [m]; brush_area contact area per brush [m^2];
    spring_pressure [Pa]; friction_coefficient mu [-]; n_brushes [-].
    """
    force = spring_pressure * brush_area
    speed = np.abs(np.asarray(omega_mech, dtype=float)) * ring_radius
    return n_brushes * friction_coefficient * force * speed


def brush_loss(
    i_f: ArrayLike,
    omega_mech: ArrayLike,
    ring_radius: float,
    brush_area: float,
    spring_pressure: float,
    friction_coefficient: float,
    voltage_drop: float = BRUSH_DROP_METAL_GRAPHITE,
    n_brushes: int = 2,
    n_series: int = 2,
) -> np.ndarray:
    """Total brush / slip-ring loss: contact drop plus friction [W] (see above)."""
    return brush_electrical_loss(i_f, voltage_drop, n_series) + brush_friction_loss(
        omega_mech, ring_radius, brush_area, spring_pressure, friction_coefficient, n_brushes
    )
