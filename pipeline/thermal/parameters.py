"""Parameters of the machine thermal model that the design file does not hold, the jacket
operating conditions, the hot-spot limits, and the homogenised slot conductivity.

All SI; each default names its source or says it is assumed (see
:mod:`pipeline.thermal.machine` for how they enter the model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.constants import ZERO_CELSIUS
from pipeline.design import Design
from pipeline.errors import DesignError
from pipeline.materials import load_material
from pipeline.thermal import correlations as corr
from pipeline.thermal.coolant import WATER_GLYCOL_50_TABLE

__all__ = ["ThermalParameters", "Cooling", "ThermalLimits", "winding_conductivity"]


@dataclass(frozen=True)
class ThermalParameters:
    """Thermal parameters that the design file does not hold (SI; sources in comments)."""

    #: impregnation resin (epoxy / polyester varnish) 0.2-0.3 W/(m K) (Staton et al. 2005)
    impregnation_conductivity: float = 0.25
    #: slot liner (aramid paper, Nomex 410: 0.10-0.18 W/(m K), DuPont data sheet), varnished
    liner_conductivity: float = 0.2
    #: liner thickness used where the design gives none [m] (0.2-0.35 mm usual; assumed)
    liner_thickness: float = 0.3e-3
    #: slot wedge / opening (glass-epoxy wedge about 0.3 W/(m K); assumed)
    wedge_conductivity: float = 0.3
    #: equivalent air gap of the stator-housing interface [m] (0.01-0.08 mm, Staton 2005)
    interface_gap: float = 0.03e-3
    #: end-space convection h = k1 (1 + k2 v^k3), v rotor surface speed [m/s]
    #: (Schubert's coefficients, Staton & Cavagnino 2008, Table I)
    end_space_k: tuple[float, float, float] = (15.0, 0.4, 0.9)
    #: end-cap wall thickness [m] (cast aluminium, assumed)
    end_cap_thickness: float = 8e-3
    #: conductance of one bearing, inner to outer ring [W/K] (assumed: about 1 K/W for a
    #: grease-lubricated ball bearing of this size)
    bearing_conductance: float = 1.0
    #: channels the coolant passes in series (axial zig-zag jacket: U-turns in the end
    #: caps); n_channels / passes branches in parallel. None: all in series (assumed)
    channel_passes: int | None = None
    #: gearbox-housing flange conductance [W/K] and gearbox (gears + oil) capacity [J/K]
    #: (assumed: 0.1 m^2 of aluminium flange at 200 W/(m^2 K); 8 kg steel + 1.5 l oil)
    gearbox_conductance: float = 20.0
    gearbox_capacity: float = 6.6e3
    #: rotor (hollow-shaft) cooling: conductance shaft -> coolant [W/K]; 0: none (default;
    #: set it for a machine with a cooled shaft)
    shaft_cooling_conductance: float = 0.0
    #: natural convection on the housing's outer surface [W/(m^2 K)]; 0: adiabatic
    #: (the integrated housing is mostly enclosed; 5-10 for free air, Incropera ch. 9)
    ambient_h: float = 0.0
    ambient_temperature: float = ZERO_CELSIUS + 40.0
    #: resin density [kg/m^3] and specific heat [J/(kg K)] (epoxy, Incropera Table A.3)
    impregnation_rho_c: float = 1200.0 * 1100.0

    def __post_init__(self) -> None:
        for name in (
            "impregnation_conductivity",
            "liner_conductivity",
            "liner_thickness",
            "wedge_conductivity",
            "interface_gap",
            "end_cap_thickness",
            "bearing_conductance",
            "gearbox_conductance",
            "gearbox_capacity",
            "impregnation_rho_c",
        ):
            if not (getattr(self, name) > 0):
                raise DesignError(name, getattr(self, name), "must be > 0 (SI units)")
        if not self.shaft_cooling_conductance >= 0:
            raise DesignError(
                "shaft_cooling_conductance", self.shaft_cooling_conductance, "must be >= 0 W/K"
            )
        if not self.ambient_h >= 0:
            raise DesignError("ambient_h", self.ambient_h, "must be >= 0 W/(m^2 K)")


@dataclass(frozen=True)
class Cooling:
    """Jacket operating conditions: inlet temperature [K], volumetric flow [m^3/s] (all
    channels together), inverter and gearbox losses [W] that share the coolant / housing."""

    inlet_temperature: float = ZERO_CELSIUS + 65.0
    flow_rate: float = 10.0 / 60e3
    inverter_loss: float = 0.0
    gearbox_loss: float = 0.0

    def __post_init__(self) -> None:
        if not self.flow_rate > 0:
            raise DesignError("flow_rate", self.flow_rate, "coolant flow must be > 0 m^3/s")
        lo, hi = WATER_GLYCOL_50_TABLE[0, 0], WATER_GLYCOL_50_TABLE[-1, 0]  # [degC]
        if not (ZERO_CELSIUS + lo <= self.inlet_temperature <= ZERO_CELSIUS + hi):
            raise DesignError(
                "coolant inlet temperature",
                round(self.inlet_temperature - ZERO_CELSIUS, 3),
                f"must be within {lo:g} to {hi:g} degC (coolant table)",
            )
        for name in ("inverter_loss", "gearbox_loss"):
            if not getattr(self, name) >= 0:
                raise DesignError(name, getattr(self, name), "must be >= 0 W")


@dataclass(frozen=True)
class ThermalLimits:
    """Hot-spot limits [K]: winding insulation class H 180 degC (IEC 60085), field winding
    the same class, NdFeB magnets 150 degC (an SH-grade maximum operating temperature,
    assumed for the Prius magnets)."""

    winding: float = ZERO_CELSIUS + 180.0
    field: float = ZERO_CELSIUS + 180.0
    magnet: float = ZERO_CELSIUS + 150.0


def winding_conductivity(design: Design, coil_area: float, params: ThermalParameters):
    """Homogenised slot-coil conductivity [W/(m K)]: (k_radial, k_tangential, k_axial).

    coil_area: area of the coil regions of one slot [m^2]. Stranded: Rayleigh across the
    wires at the fill factor of the wire region; the slot liner (not meshed) in series
    across the slot width. Hairpin: insulated bar cell (enamel + half the bar gap all
    round), orthotropic; the liner is a meshed region of its own.
    """
    w, st = design.winding, design.stator
    cu = load_material(w.material)
    k_imp = params.impregnation_conductivity
    if w.conductor == "hairpin":
        t_ins = max(0.5 * w.bar_gap, 0.05e-3)
        k_w, k_h, k_ax = corr.hairpin_winding_conductivity(
            w.bar_width, w.bar_height, t_ins, cu.thermal_conductivity, k_imp
        )
        return k_h, k_w, k_ax
    copper = w.n_layers * w.turns_per_coil * w.conductor_area
    width = 0.5 * (st.slot.width_top + st.slot.width_bottom)
    t = w.liner_thickness if w.liner_thickness > 0 else params.liner_thickness
    inner = max(width - 2 * t, 0.5 * width)
    fill = min(copper / (coil_area * inner / width), 0.99 * math.pi / 4)
    k_t, k_ax = corr.stranded_winding_conductivity(fill, cu.thermal_conductivity, k_imp)
    k_slot = width / (inner / k_t + (width - inner) / params.liner_conductivity)
    return float(k_slot), float(k_slot), float(k_ax) * inner / width
