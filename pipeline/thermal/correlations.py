"""Thermal material homogenisation and heat-transfer correlations (pure functions, SI).

Windings
    Across round conductors in an impregnated slot (2D transverse): Hashin-Shtrikman bounds
    and Rayleigh's formula for a square array (Perrins, McKenzie & McPhedran's
    coefficients). Along the conductors: the parallel (rule of mixtures) value. Hairpin
    (rectangular) conductors: the adiabatic and isothermal bounds of the insulated cell.
Laminations
    In-plane parallel and axial series mixture with the stacking factor.
Thin layers and interfaces
    Slot liner and stator-housing interface as a thin layer resistance R'' = t / k
    [m^2 K/W], and the conductivity of a meshed band that has the same resistance.
Airgap
    Taylor-Couette correlation of Becker & Kaye (1962) for an annulus with a rotating inner
    cylinder, via the modified Taylor number (Howey, Childs & Holmes 2012).
Coolant channels
    Gnielinski (1976) with Petukhov's friction factor, laminar Nu = 3.66 / 4.36, Hausen's
    thermal entry correlation, Gnielinski's (2013) transition interpolation and
    developing-flow factor; Dittus-Boelter for comparison; coolant temperature rise.

References
    Z. Hashin, S. Shtrikman, J. Appl. Phys. 33 (1962) 3125, doi:10.1063/1.1728579.
    Lord Rayleigh, Phil. Mag. 34 (1892) 481, doi:10.1080/14786449208620364.
    W. T. Perrins, D. R. McKenzie, R. C. McPhedran, Proc. R. Soc. Lond. A 369 (1979) 207,
    doi:10.1098/rspa.1979.0160.
    D. Staton, A. Boglietti, A. Cavagnino, IEEE Trans. Energy Convers. 20 (2005) 620,
    doi:10.1109/TEC.2005.847979 (interface gaps, lamination, winding models).
    A. Boglietti, A. Cavagnino, D. Staton, M. Shanel, M. Mueller, C. Mejuto, IEEE Trans.
    Ind. Electron. 56 (2009) 871, doi:10.1109/TIE.2008.2011622.
    K. M. Becker, J. Kaye, J. Heat Transfer 84 (1962) 97, doi:10.1115/1.3684335.
    D. A. Howey, P. R. N. Childs, A. S. Holmes, IEEE Trans. Ind. Electron. 59 (2012) 1367,
    doi:10.1109/TIE.2010.2100337.
    V. Gnielinski, Int. Chem. Eng. 16 (1976) 359-368.
    V. Gnielinski, Int. J. Heat Mass Transfer 63 (2013) 134,
    doi:10.1016/j.ijheatmasstransfer.2013.04.015.
    B. S. Petukhov, Adv. Heat Transfer 6 (1970) 503, doi:10.1016/S0065-2717(08)70153-9.
    F. W. Dittus, L. M. K. Boelter, Univ. Calif. Publ. Eng. 2 (1930) 443.
    H. Hausen, Z. VDI Beih. Verfahrenstech. 4 (1943) 91; as eq. 8.57 in F. P. Incropera et
    al., Fundamentals of Heat and Mass Transfer, 6th ed., Wiley 2007.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pipeline.errors import DesignError

__all__ = [
    "hashin_shtrikman_bounds",
    "rayleigh_square_array",
    "parallel_mixture",
    "series_mixture",
    "stranded_winding_conductivity",
    "hairpin_winding_conductivity",
    "lamination_conductivity",
    "thin_layer_resistance",
    "equivalent_band_conductivity",
    "interface_gap_resistance",
    "INTERFACE_GAP_RANGE",
    "taylor_number",
    "taylor_geometric_factor",
    "becker_kaye_nusselt",
    "airgap_effective_conductivity",
    "petukhov_friction_factor",
    "gnielinski_nusselt",
    "dittus_boelter_nusselt",
    "hausen_nusselt",
    "LAMINAR_NU_CONSTANT_WALL_TEMPERATURE",
    "LAMINAR_NU_CONSTANT_HEAT_FLUX",
    "duct_nusselt",
    "hydraulic_diameter",
    "coolant_heat_transfer_coefficient",
    "coolant_temperature_rise",
]


def _fraction(name: str, value: ArrayLike, upper: float = 1.0) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    if np.any(v < 0) or np.any(v > upper):
        raise DesignError(name, value, f"must be within [0, {upper:.4g}]")
    return v


# --- windings -------------------------------------------------------------------------


def hashin_shtrikman_bounds(k_conductor: ArrayLike, k_matrix: ArrayLike, fill_factor: ArrayLike):
    """2D (transverse) Hashin-Shtrikman bounds [W/(m K)] of parallel fibres in a matrix.

    With phases a, b and fraction phi of a, the bound built on phase b is::

        k = k_b [(k_a + k_b) + phi (k_a - k_b)] / [(k_a + k_b) - phi (k_a - k_b)]

    which is the lower bound when b is the poorer conductor (impregnation as matrix) and
    the upper bound when b is the better one. Returns (lower, upper). Hashin & Shtrikman
    (1962), 2D form; equal to Maxwell-Garnett / first-order Rayleigh.
    """
    phi = _fraction("fill_factor", fill_factor)
    ka, kb = np.asarray(k_conductor, float), np.asarray(k_matrix, float)

    def bound(k_in, k_host, frac):
        return (
            k_host
            * ((k_in + k_host) + frac * (k_in - k_host))
            / ((k_in + k_host) - frac * (k_in - k_host))
        )

    b1 = bound(ka, kb, phi)
    b2 = bound(kb, ka, 1.0 - phi)
    return np.minimum(b1, b2), np.maximum(b1, b2)


def rayleigh_square_array(k_conductor: ArrayLike, k_matrix: ArrayLike, fill_factor: ArrayLike):
    """Transverse conductivity [W/(m K)] of a square array of round conductors (Rayleigh).

    k/k_m = 1 - 2 phi / (T + phi - 0.305827 phi^4 T / (T^2 - 1.402958 phi^8)
                         - 0.013362 phi^8),   T = (k_m + k_c) / (k_m - k_c)

    (Rayleigh 1892; coefficients of Perrins, McKenzie & McPhedran 1979). Valid for phi
    below touching (pi/4); accurate to about 1 % up to phi = 0.7 for good conductors.
    """
    phi = _fraction("fill_factor", fill_factor, np.pi / 4)
    kc, km = np.asarray(k_conductor, float), np.asarray(k_matrix, float)
    if np.any(kc == km):
        return np.broadcast_to(km, np.broadcast(kc, km, phi).shape).astype(float)
    T = (km + kc) / (km - kc)
    den = T + phi - 0.305827 * phi**4 * T / (T**2 - 1.402958 * phi**8) - 0.013362 * phi**8
    return km * (1.0 - 2.0 * phi / den)


def parallel_mixture(k_a: ArrayLike, k_b: ArrayLike, fraction_a: ArrayLike):
    """Parallel (arithmetic) mixture phi k_a + (1 - phi) k_b [W/(m K)]: conduction along
    layers or fibres."""
    phi = _fraction("fraction", fraction_a)
    return phi * np.asarray(k_a, float) + (1.0 - phi) * np.asarray(k_b, float)


def series_mixture(k_a: ArrayLike, k_b: ArrayLike, fraction_a: ArrayLike):
    """Series (harmonic) mixture 1 / (phi / k_a + (1 - phi) / k_b) [W/(m K)]: conduction
    across layers."""
    phi = _fraction("fraction", fraction_a)
    return 1.0 / (phi / np.asarray(k_a, float) + (1.0 - phi) / np.asarray(k_b, float))


def stranded_winding_conductivity(
    fill_factor: ArrayLike,
    k_copper: ArrayLike,
    k_impregnation: ArrayLike,
    model: str = "rayleigh",
):
    """Homogenised conductivity of a random-wound (stranded) slot [W/(m K)].

    fill_factor: copper area / slot area [-] (the rest is insulation and impregnation,
    lumped with k_impregnation [W/(m K)]). Returns (k_transverse, k_axial): across the
    conductors by ``model`` = "rayleigh" (square array), "hashin-shtrikman" (lower bound,
    impregnation as matrix: conservative), and along them by the parallel rule.
    """
    if model == "rayleigh":
        k_t = rayleigh_square_array(k_copper, k_impregnation, fill_factor)
    elif model == "hashin-shtrikman":
        k_t = hashin_shtrikman_bounds(k_copper, k_impregnation, fill_factor)[0]
    else:
        raise DesignError("model", model, "must be 'rayleigh' or 'hashin-shtrikman'")
    return k_t, parallel_mixture(k_copper, k_impregnation, fill_factor)


def hairpin_winding_conductivity(
    conductor_width: float,
    conductor_height: float,
    insulation_thickness: float,
    k_copper: float,
    k_insulation: float,
):
    """Homogenised conductivity of hairpin (rectangular, enamelled) conductors [W/(m K)].

    Cell: copper w x h [m] with insulation t [m] all round (enamel plus half the gap),
    cell size (w + 2t) x (h + 2t). Across each direction the adiabatic-strip value (series
    along strips, strips in parallel: a lower bound) and the isothermal-layer value
    (parallel within layers, layers in series: an upper bound) are averaged; the
    difference is below a few percent for thin insulation. Along the conductors: the
    parallel rule. Returns (k_width, k_height, k_axial).
    """
    w, h, t = conductor_width, conductor_height, insulation_thickness
    if min(w, h) <= 0 or t < 0:
        raise DesignError("hairpin cell", (w, h, t), "need w, h > 0 m and t >= 0 m")
    cw, ch = w + 2 * t, h + 2 * t

    def across(length_cu, cell_len, width_cu, cell_width):
        # heat flows along `length`; strips of width `width_cu` (through copper) and the rest
        strip_cu = series_mixture(k_copper, k_insulation, length_cu / cell_len)
        lower = parallel_mixture(strip_cu, k_insulation, width_cu / cell_width)
        layer_cu = parallel_mixture(k_copper, k_insulation, width_cu / cell_width)
        upper = series_mixture(layer_cu, k_insulation, length_cu / cell_len)
        return 0.5 * (lower + upper)

    k_axial = parallel_mixture(k_copper, k_insulation, (w * h) / (cw * ch))
    return float(across(w, cw, h, ch)), float(across(h, ch, w, cw)), float(k_axial)


def lamination_conductivity(k_iron: ArrayLike, k_insulation: ArrayLike, stacking_factor: ArrayLike):
    """Lamination stack conductivity [W/(m K)]: (in-plane, axial).

    In-plane: parallel mixture of iron and inter-laminar insulation by the stacking factor
    [-]; axial: series mixture (Staton et al. 2005; Boglietti et al. 2009).
    """
    return (
        parallel_mixture(k_iron, k_insulation, stacking_factor),
        series_mixture(k_iron, k_insulation, stacking_factor),
    )


# --- thin layers and interfaces -------------------------------------------------------


def thin_layer_resistance(thickness: ArrayLike, conductivity: ArrayLike):
    """Area-specific resistance of a thin layer R'' = t / k [m^2 K/W] (slot liner, varnish,
    interface gap); thickness [m], conductivity [W/(m K)]."""
    t, k = np.asarray(thickness, float), np.asarray(conductivity, float)
    if np.any(t < 0) or np.any(k <= 0):
        raise DesignError("thin layer", (thickness, conductivity), "need t >= 0 m, k > 0")
    return t / k


def equivalent_band_conductivity(band_thickness: ArrayLike, resistance: ArrayLike):
    """Conductivity [W/(m K)] of a meshed band of thickness [m] whose resistance across
    equals ``resistance`` [m^2 K/W]: k = t_band / R''."""
    return np.asarray(band_thickness, float) / np.asarray(resistance, float)


#: Typical equivalent air gap at a stator lamination - aluminium housing interface [m]
#: (0.01 to 0.08 mm; Staton et al. 2005, Boglietti et al. 2009).
INTERFACE_GAP_RANGE = (0.01e-3, 0.08e-3)


def interface_gap_resistance(gap: ArrayLike, k_gas: ArrayLike = 0.026):
    """Contact resistance of an interface as an equivalent gas gap, R'' = g / k_gas
    [m^2 K/W]; gap [m] (see :data:`INTERFACE_GAP_RANGE`), k_gas [W/(m K)] (air at about
    300 K by default; use :func:`pipeline.thermal.coolant.air_properties`)."""
    return thin_layer_resistance(gap, k_gas)


# --- airgap ---------------------------------------------------------------------------


def taylor_number(omega_mech: ArrayLike, r_mean: ArrayLike, gap: ArrayLike, nu: ArrayLike):
    """Taylor number Ta = omega^2 r_m g^3 / nu^2 [-]; omega_mech [rad/s], mean gap radius
    r_m [m], radial gap g [m], kinematic viscosity nu [m^2/s] (Howey et al. 2012)."""
    return (
        np.asarray(omega_mech, float) ** 2
        * r_mean
        * np.asarray(gap, float) ** 3
        / (np.asarray(nu, float) ** 2)
    )


def taylor_geometric_factor(r_mean: ArrayLike, gap: ArrayLike):
    """Geometric factor F_g [-] of the modified Taylor number Ta_m = Ta / F_g::

        F_g = pi^4 / (1697 P) / (1 - g / (2 r_m))
        P = 0.0571 (1 - 0.652 x) + 0.00056 / (1 - 0.652 x),  x = (g / r_m) / (1 - g / r_m)

    (Becker & Kaye 1962 after Taylor; as in Howey et al. 2012). F_g -> 1 for a narrow gap.
    """
    s = np.asarray(gap, float) / np.asarray(r_mean, float)
    x = 0.652 * s / (1.0 - s)
    P = 0.0571 * (1.0 - x) + 0.00056 / (1.0 - x)
    return np.pi**4 / (1697.0 * P) / (1.0 - 0.5 * s)


def becker_kaye_nusselt(taylor_modified: ArrayLike):
    """Airgap Nusselt number Nu = h (2 g) / k [-] from the modified Taylor number.

    Ta_m < 1700: Nu = 2 (laminar Couette flow, conduction only);
    1700 <= Ta_m < 1e4: Nu = 0.128 Ta_m^0.367 (Taylor vortices), not below 2 (the fit
    gives 1.96 at Ta_m = 1700; heat transfer cannot fall below conduction);
    Ta_m >= 1e4: Nu = 0.409 Ta_m^0.241 (turbulent; measured up to 1e7).
    Becker & Kaye (1962), as used by Staton et al. (2005) and Boglietti et al. (2009).
    """
    ta = np.asarray(taylor_modified, float)
    return np.where(
        ta < 1700.0,
        2.0,
        np.where(ta < 1e4, np.maximum(0.128 * ta**0.367, 2.0), 0.409 * ta**0.241),
    )


def airgap_effective_conductivity(
    omega_mech: ArrayLike,
    r_rotor: float,
    r_stator: float,
    k_air: ArrayLike,
    nu_air: ArrayLike,
):
    """Effective conductivity [W/(m K)] of the airgap for a solid conduction model.

    h = Nu k / (2 g) from :func:`becker_kaye_nusselt`; a solid band spanning the gap
    g = r_stator - r_rotor [m] with k_eff = h g = Nu k_air / 2 carries the same heat
    (thin-gap limit). At standstill or laminar flow (Nu = 2) k_eff = k_air, pure
    conduction. omega_mech [rad/s], k_air [W/(m K)], nu_air [m^2/s].
    """
    if not 0 < r_rotor < r_stator:
        raise DesignError("airgap radii", (r_rotor, r_stator), "need 0 < r_rotor < r_stator")
    g, r_m = r_stator - r_rotor, 0.5 * (r_rotor + r_stator)
    ta_m = taylor_number(omega_mech, r_m, g, nu_air) / taylor_geometric_factor(r_m, g)
    return becker_kaye_nusselt(ta_m) * np.asarray(k_air, float) / 2.0


# --- coolant channels -----------------------------------------------------------------

#: Fully developed laminar Nu in a round tube, constant wall temperature / heat flux [-]
#: (Incropera et al., 6th ed., eqs. 8.55 and 8.53).
LAMINAR_NU_CONSTANT_WALL_TEMPERATURE = 3.66
LAMINAR_NU_CONSTANT_HEAT_FLUX = 4.36


def petukhov_friction_factor(reynolds: ArrayLike):
    """Darcy friction factor of a smooth tube f = (0.790 ln Re - 1.64)^-2 [-]
    (Petukhov 1970; 3000 <= Re <= 5e6)."""
    return (0.790 * np.log(np.asarray(reynolds, float)) - 1.64) ** -2


def gnielinski_nusselt(reynolds: ArrayLike, prandtl: ArrayLike):
    """Turbulent Nu = (f/8)(Re - 1000) Pr / (1 + 12.7 (f/8)^0.5 (Pr^(2/3) - 1)) [-]
    with Petukhov's f (Gnielinski 1976; 3000 <= Re <= 5e6, 0.5 <= Pr <= 2000)."""
    re, pr = np.asarray(reynolds, float), np.asarray(prandtl, float)
    f8 = petukhov_friction_factor(re) / 8.0
    return f8 * (re - 1000.0) * pr / (1.0 + 12.7 * np.sqrt(f8) * (pr ** (2.0 / 3.0) - 1.0))


def dittus_boelter_nusselt(reynolds: ArrayLike, prandtl: ArrayLike, heating: bool = True):
    """Nu = 0.023 Re^0.8 Pr^n [-], n = 0.4 for heating the fluid, 0.3 for cooling it
    (Dittus & Boelter 1930; Re > 1e4, 0.6 <= Pr <= 160)."""
    n = 0.4 if heating else 0.3
    return 0.023 * np.asarray(reynolds, float) ** 0.8 * np.asarray(prandtl, float) ** n


def hausen_nusselt(reynolds: ArrayLike, prandtl: ArrayLike, diameter_over_length: ArrayLike):
    """Mean laminar Nu over a thermal entry length, constant wall temperature [-]:
    Nu = 3.66 + 0.0668 Gz / (1 + 0.04 Gz^(2/3)), Gz = (d/L) Re Pr (Hausen 1943)."""
    gz = np.asarray(diameter_over_length, float) * np.asarray(reynolds, float) * prandtl
    return LAMINAR_NU_CONSTANT_WALL_TEMPERATURE + 0.0668 * gz / (1.0 + 0.04 * gz ** (2.0 / 3.0))


def duct_nusselt(reynolds: ArrayLike, prandtl: ArrayLike, diameter_over_length: ArrayLike = 0.0):
    """Mean Nu of a smooth channel over all regimes [-].

    Re <= 2300: Hausen (thermal entry; 3.66 when d/L = 0). Re >= 1e4: Gnielinski times
    the developing-flow factor 1 + (d/L)^(2/3). In between: Gnielinski's (2013) linear
    interpolation in Re between the values at 2300 and 1e4. d/L: hydraulic diameter over
    heated length [-] (0 for fully developed flow).
    """
    re = np.asarray(reynolds, float)
    dl = np.asarray(diameter_over_length, float)
    if np.any(re <= 0):
        raise DesignError("reynolds", float(np.min(re)), "must be > 0")

    def lam(r):
        return hausen_nusselt(r, prandtl, dl)

    def turb(r):
        return gnielinski_nusselt(r, prandtl) * (1.0 + dl ** (2.0 / 3.0))

    gamma = np.clip((re - 2300.0) / (1e4 - 2300.0), 0.0, 1.0)
    trans = (1.0 - gamma) * lam(2300.0) + gamma * turb(1e4)
    re_t = np.maximum(re, 1e4)  # keep Gnielinski in its range where unused
    return np.where(re <= 2300.0, lam(re), np.where(re >= 1e4, turb(re_t), trans))


def hydraulic_diameter(area: ArrayLike, wetted_perimeter: ArrayLike):
    """D_h = 4 A / P [m]; area [m^2], wetted perimeter [m]."""
    return 4.0 * np.asarray(area, float) / np.asarray(wetted_perimeter, float)


def coolant_heat_transfer_coefficient(
    mass_flow: ArrayLike,
    area: float,
    wetted_perimeter: float,
    density: ArrayLike,
    viscosity: ArrayLike,
    conductivity: ArrayLike,
    specific_heat: ArrayLike,
    heated_length: float | None = None,
):
    """Coolant-side h [W/(m^2 K)] of a channel of flow area [m^2] and wetted perimeter [m]
    at mass flow [kg/s]; fluid density [kg/m^3], viscosity [Pa s], conductivity [W/(m K)],
    specific heat [J/(kg K)] (e.g. from :func:`water_glycol_properties`).

    Re = m_dot D_h / (A mu), Pr = mu c_p / k, Nu from :func:`duct_nusselt` (developing
    flow when heated_length [m] is given), h = Nu k / D_h.
    """
    d_h = hydraulic_diameter(area, wetted_perimeter)
    re = np.asarray(mass_flow, float) * d_h / (area * np.asarray(viscosity, float))
    pr = np.asarray(viscosity, float) * np.asarray(specific_heat, float) / conductivity
    dl = 0.0 if heated_length is None else d_h / heated_length
    return duct_nusselt(re, pr, dl) * np.asarray(conductivity, float) / d_h


def coolant_temperature_rise(power: ArrayLike, mass_flow: ArrayLike, specific_heat: ArrayLike):
    """Coolant temperature rise along the jacket dT = P / (m_dot c_p) [K]; power [W]
    absorbed, mass_flow [kg/s], specific_heat [J/(kg K)]."""
    m = np.asarray(mass_flow, float)
    if np.any(m <= 0):
        raise DesignError("mass_flow", mass_flow, "must be > 0 kg/s")
    return np.asarray(power, float) / (m * np.asarray(specific_heat, float))
