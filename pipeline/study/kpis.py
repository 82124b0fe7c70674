r"""Key performance indicators of a design variant that need no FE solve: active masses,
material cost, peak airgap shear stress, field current density.

Masses [kg] from closed-form areas (:func:`geometries.areas.analytic_areas`, full machine)
times the axial length and the material density (``geometries/reference/materials``):

- cores: ``A k_fe L rho`` (stacking factor k_fe of the stator or rotor lamination);
- stator copper: conductor cross-section in the slots ``A_cu = Q n_layers N_c a_c`` (Q slots,
  N_c turns per coil side, a_c copper area of one turn) over half a mean turn each:
  ``A_cu l_mt / 2 rho_cu`` with the mean turn l_mt of :func:`pipeline.derived.mean_turn_length`;
- field copper: ``2p N_f a_f l_f rho_cu`` with the mean field turn l_f of
  :func:`pipeline.derived.field_turn_length` (the one of the field resistance);
- magnets: ``A_m L rho_m``; shaft: ``pi r_s^2 L rho`` over the stack only (its length
  beyond the stack depends on the housing and bearings, not on the design).

Active mass = cores + copper + magnets (the shaft is reported apart, not active material).
Cost [USD] = sum of mass x price per kg (:data:`PRICES_USD_PER_KG`, each with its source
and date): raw material prices, no processing (lamination stamping, hairpin forming,
magnet machining), so a lower bound that ranks variants, not a bill of materials.

Peak airgap shear stress ``sigma = T / (2 pi r^2 L)`` [Pa] (r rotor outer radius; Pyrhonen,
Jokinen, Hrabovcova, *Design of Rotating Electrical Machines*, 2nd ed., Wiley 2014, eq. 6.3
and Table 6.3: 30-60 kPa peak for water-cooled traction machines).
"""

from __future__ import annotations

import math

from geometries.areas import analytic_areas
from pipeline.derived import field_turn_length, mean_turn_length
from pipeline.errors import DesignError
from pipeline.materials import load_material

__all__ = [
    "PRICES_USD_PER_KG",
    "core_mass",
    "stator_copper_mass",
    "field_copper_mass",
    "airgap_shear_stress",
    "current_density",
    "material_cost",
    "design_masses",
]

#: raw-material prices [USD/kg] with their sources (read December 2026; dates of the prices
#: in each source). Electrical steel: 0.35 mm high-performance NGOES (35H300 class), 3.90 to
#: 4.40 USD/kg, midpoint. Copper: 2024 annual average LME copper price 4.15 USD/lb = 9.149
#: USD/kg (1 lb = 0.45359237 kg), metal only. NdFeB: sintered magnets, 146.8 USD/kg in May 2023.
PRICES_USD_PER_KG = {
    "electrical_steel": (
        4.15,
        "Huaxiao-Alloy, 'How much does electrical steel cost', table 'Electrical steel "
        "pricing' and 35H300 NGOES coil 3.90-4.40 USD/kg, spot FOB China Q2 2024 "
        "(https://www.huaxiao-alloy.com/blog/how-much-does-electrical-steel-cost.html)",
    ),
    "copper": (
        4.15 / 0.45359237,
        "Barrick Gold, Annual Report 2024, 'Copper market overview': 2024 average copper "
        "price 4.15 USD/lb (https://www.barrick.com/English/investors/annual-report/"
        "copper-market-overview/default.aspx)",
    ),
    "magnet": (
        146.8,
        "Xinhui Magnet, 'Factors affecting neodymium magnets price': sintered NdFeB 146.8 "
        "USD/kg at the end of May 2023 (https://xinhuimagnet.com/factors-affecting-"
        "neodymium-magnets-price)",
    ),
}


def _positive(name: str, value: float, unit: str) -> None:
    if not value > 0:
        raise DesignError(name, value, f"must be > 0 [{unit}]")


def core_mass(area: float, stack_length: float, stacking_factor: float, density: float) -> float:
    """Lamination stack mass ``A k_fe L rho`` [kg]: area [m^2], stack_length [m],
    stacking_factor [-], density [kg/m^3]."""
    _positive("stack_length", stack_length, "m")
    return area * stacking_factor * stack_length * density


def stator_copper_mass(copper_area: float, mean_turn_length: float, density: float) -> float:
    """Stator winding mass ``A_cu l_mt / 2 rho`` [kg]: conductor cross-section in all slots
    [m^2], mean turn length [m] (each conductor is half a turn), density [kg/m^3]."""
    _positive("mean_turn_length", mean_turn_length, "m")
    return copper_area * mean_turn_length / 2.0 * density


def field_copper_mass(
    n_poles: int, field_turns: int, conductor_area: float, turn_length: float, density: float
) -> float:
    """Field winding mass ``2p N_f a_f l_f rho`` [kg]: poles, turns per pole, conductor area
    [m^2], turn length [m], density [kg/m^3]."""
    _positive("field_conductor_area", conductor_area, "m^2")
    return n_poles * field_turns * conductor_area * turn_length * density


def airgap_shear_stress(torque: float, rotor_radius: float, stack_length: float) -> float:
    """Airgap shear stress ``T / (2 pi r^2 L)`` [Pa]: torque [N m], rotor outer radius [m],
    stack length [m]."""
    _positive("rotor_radius", rotor_radius, "m")
    _positive("stack_length", stack_length, "m")
    return torque / (2.0 * math.pi * rotor_radius**2 * stack_length)


def current_density(current: float, conductor_area: float) -> float:
    """``I / a`` [A/m^2]: current [A] in one conductor of area [m^2]."""
    _positive("conductor_area", conductor_area, "m^2")
    return current / conductor_area


def material_cost(masses: dict[str, float], prices: dict | None = None) -> float:
    """Sum of ``masses[kind] * price[kind]`` [USD] over ``electrical_steel``, ``copper``,
    ``magnet`` (masses [kg]; prices {kind: (USD/kg, source)}, default
    :data:`PRICES_USD_PER_KG`)."""
    prices = PRICES_USD_PER_KG if prices is None else prices
    return sum(masses.get(kind, 0.0) * price for kind, (price, _) in prices.items())


def design_masses(design) -> dict[str, float]:
    """Masses [kg] of a design: ``stator_core``, ``rotor_core``, ``stator_copper``,
    ``field_copper``, ``magnets``, ``shaft``, and the sums ``electrical_steel``, ``copper``,
    ``magnet``, ``active`` (module docstring)."""

    st, w, rotor = design.stator, design.winding, design.rotor
    areas = analytic_areas(design)
    length = design.stack_length

    def rho(name: str) -> float:
        return load_material(name).density

    out = {
        "stator_core": core_mass(
            areas["stator_core"], length, st.stacking_factor, rho(st.material)
        ),
        "rotor_core": core_mass(
            areas["rotor_core"], length, rotor.stacking_factor, rho(rotor.material)
        ),
        "stator_copper": stator_copper_mass(
            st.n_slots * w.n_layers * w.turns_per_coil * w.conductor_area,
            mean_turn_length(design),
            rho(w.material),
        ),
        "field_copper": 0.0,
        "magnets": 0.0,
        "shaft": math.pi * rotor.shaft_radius**2 * length * rho(rotor.shaft_material),
    }
    if design.topology.HAS_FIELD_WINDING:
        out["field_copper"] = field_copper_mass(
            design.n_poles,
            rotor.field_turns,
            rotor.field_conductor_area,
            field_turn_length(design),
            rho(rotor.field_material),
        )
    elif "magnet" in areas:
        out["magnets"] = areas["magnet"] * length * rho(rotor.magnet_material)
    out["electrical_steel"] = out["stator_core"] + out["rotor_core"]
    out["copper"] = out["stator_copper"] + out["field_copper"]
    out["magnet"] = out["magnets"]
    out["active"] = out["electrical_steel"] + out["copper"] + out["magnet"]
    return out
