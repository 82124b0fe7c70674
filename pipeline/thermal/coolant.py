"""Coolant and air properties at a temperature (pure functions, SI).

Water-ethylene glycol 50/50 by volume (the usual automotive coolant, about 53 % glycol by
mass). Values below are tabulated from the Melinder correlations for aqueous ethylene
glycol (mass fraction 0.53), as implemented in CoolProp 8.0.0 (``INCOMP::MEG[0.53]``):

    A. Melinder, "Properties of Secondary Working Fluids (Secondary Refrigerants or
    Coolants, Heat Transfer Fluids) for Indirect Systems", International Institute of
    Refrigeration, Paris, 2010.
    I. H. Bell et al., Ind. Eng. Chem. Res. 53 (2014) 2498, doi:10.1021/ie4033999
    (CoolProp).

Cross-check: ASHRAE Handbook - Fundamentals (2009), ch. 31, Table of densities of ethylene
glycol solutions, 50 % by volume at 70 degF (21.1 degC): 67.05 lb/ft^3 = 1074 kg/m^3,
0.5 % above this table (tested). Linear interpolation in T; viscosity interpolated in log.

Above 100 degC (the upper limit of Melinder's correlations; pressurised loops run at
105-120 degC) the 120 degC row takes its temperature dependence from Dow's table of the
inhibited 50 % (by volume) ethylene glycol fluid, scaled to the Melinder values at 90 degC:
``p(120) = p_Melinder(90) x p_Dow(120) / p_Dow(90)`` for each property, with the Dow values
(:data:`DOW_SR1_50`) from The Dow Chemical Company, DOWTHERM SR-1 Heat Transfer Fluid,
product information, Form No. 180-01312-602 AMS (June 2002), p. 2, typical properties of a
50 % solution. The level of the two sources differs at 90 degC by +1.0 % (density), -0.4 %
(c_p), -1.1 % (conductivity), -5.7 % (viscosity: the inhibitors); their temperature
dependence is what is taken. Check against a third source: the density ratio 120/90 degC
of the ASHRAE table above (50 % by volume, 190-250 degF rows) is 0.97535, Dow's 0.97530
(tested). The table ends at 120 degC: Dow's SR-1 data end there (250 degF, its operating
limit), and no cited table to 130 degC was at hand.

Air at 1 atm: Sutherland's laws for viscosity and conductivity (F. M. White, Viscous Fluid
Flow, 3rd ed., McGraw-Hill 2006, Tables 1-2 and 1-3), ideal-gas density, constant c_p.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError

__all__ = [
    "FluidProperties",
    "WATER_GLYCOL_50_TABLE",
    "WATER_GLYCOL_50_SOURCE",
    "DOW_SR1_50",
    "water_glycol_properties",
    "air_properties",
]

WATER_GLYCOL_50_SOURCE = (
    "Melinder (2010), IIR, aqueous ethylene glycol, mass fraction 0.53 (50 % by volume), "
    "via CoolProp 8.0.0 INCOMP::MEG[0.53] at 3 bar, -30 to 100 degC; 120 degC: its 90 degC "
    "values times the 120/90 degC ratios of Dow DOWTHERM SR-1 50 % (Form 180-01312-602 AMS)"
)

#: (T [degC], density [kg/m^3], c_p [J/(kg K)], conductivity [W/(m K)], viscosity [mPa s])
WATER_GLYCOL_50_TABLE = np.array(
    [
        (-30.0, 1089.54, 2946.2, 0.3509, 48.2356),
        (-20.0, 1086.52, 3009.8, 0.3564, 25.0722),
        (-10.0, 1082.88, 3072.2, 0.3619, 14.2184),
        (0.0, 1078.66, 3133.1, 0.3675, 8.7211),
        (10.0, 1073.90, 3192.2, 0.3733, 5.7358),
        (20.0, 1068.66, 3249.2, 0.3790, 4.0099),
        (30.0, 1062.98, 3303.9, 0.3848, 2.9541),
        (40.0, 1056.90, 3356.1, 0.3905, 2.2736),
        (50.0, 1050.46, 3405.4, 0.3963, 1.8122),
        (60.0, 1043.72, 3451.6, 0.4020, 1.4831),
        (70.0, 1036.72, 3494.4, 0.4076, 1.2353),
        (80.0, 1029.50, 3533.5, 0.4131, 1.0383),
        (90.0, 1022.11, 3568.7, 0.4184, 0.8729),
        (100.0, 1014.59, 3599.7, 0.4236, 0.7278),
        # 120 degC: Melinder at 90 degC x Dow(120) / Dow(90), module docstring
        (120.0, 996.87, 3685.2, 0.42133, 0.55725),
    ]
)

#: Dow DOWTHERM SR-1, 50 % by volume (module docstring): (T [degC], density [kg/m^3],
#: c_p [J/(kg K)], conductivity [W/(m K)], viscosity [mPa s]) at the two temperatures used
DOW_SR1_50 = np.array(
    [
        (90.0, 1032.15, 3554.0, 0.4139, 0.8227),
        (120.0, 1006.66, 3670.0, 0.4168, 0.5252),
    ]
)


@dataclass(frozen=True)
class FluidProperties:
    """Fluid properties: density [kg/m^3], specific_heat [J/(kg K)], conductivity
    [W/(m K)], viscosity (dynamic) [Pa s]."""

    density: float | np.ndarray
    specific_heat: float | np.ndarray
    conductivity: float | np.ndarray
    viscosity: float | np.ndarray

    @property
    def kinematic_viscosity(self):
        """nu = mu / rho [m^2/s]."""
        return self.viscosity / self.density

    @property
    def prandtl(self):
        """Pr = mu c_p / k [-]."""
        return self.viscosity * self.specific_heat / self.conductivity


def water_glycol_properties(temperature: ArrayLike) -> FluidProperties:
    """Water-ethylene glycol 50/50 (by volume) properties at temperature [K].

    Table :data:`WATER_GLYCOL_50_TABLE` (-30 to 120 degC), source
    :data:`WATER_GLYCOL_50_SOURCE`; outside the table: DesignError.
    """
    tc = np.asarray(temperature, dtype=float) - ZERO_CELSIUS
    tab = WATER_GLYCOL_50_TABLE
    if np.any(tc < tab[0, 0] - 1e-9) or np.any(tc > tab[-1, 0] + 1e-9):
        lo, hi = tab[0, 0], tab[-1, 0]
        bad = float(np.max(tc)) if np.any(tc > hi + 1e-9) else float(np.min(tc))
        raise DesignError("coolant temperature", bad, f"outside the table, {lo:g} to {hi:g} degC")
    return FluidProperties(
        density=np.interp(tc, tab[:, 0], tab[:, 1]),
        specific_heat=np.interp(tc, tab[:, 0], tab[:, 2]),
        conductivity=np.interp(tc, tab[:, 0], tab[:, 3]),
        viscosity=1e-3 * np.exp(np.interp(tc, tab[:, 0], np.log(tab[:, 4]))),
    )


#: Sutherland constants for air (White 2006): reference temperature [K], viscosity
#: [Pa s], viscosity constant S [K], conductivity [W/(m K)], conductivity constant [K].
_SUTHERLAND_AIR = (273.15, 1.716e-5, 110.4, 0.0241, 194.0)
#: Specific gas constant of dry air [J/(kg K)] and c_p [J/(kg K)] near 300 K
#: (Incropera et al., Fundamentals of Heat and Mass Transfer, 6th ed., Table A.4).
_R_AIR, _CP_AIR = 287.05, 1007.0
_P_ATM = 101325.0


def air_properties(temperature: ArrayLike, pressure: float = _P_ATM) -> FluidProperties:
    """Dry air at temperature [K] and pressure [Pa] (Sutherland's laws, ideal gas)."""
    T = np.asarray(temperature, dtype=float)
    if np.any(T <= 0):
        raise DesignError("air temperature", float(np.min(T)), "must be > 0 K")
    t0, mu0, s_mu, k0, s_k = _SUTHERLAND_AIR
    mu = mu0 * (T / t0) ** 1.5 * (t0 + s_mu) / (T + s_mu)
    k = k0 * (T / t0) ** 1.5 * (t0 + s_k) / (T + s_k)
    return FluidProperties(
        density=pressure / (_R_AIR * T),
        specific_heat=np.full_like(T, _CP_AIR),
        conductivity=k,
        viscosity=mu,
    )
