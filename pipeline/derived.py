r"""Quantities derived from a design, computed in one place for maps, thermal, studies and
validation: winding lengths and resistances, rotor mass and inertia, bearing, windage and
brush data. Pure functions of a :class:`pipeline.design.Design` (passed in, not imported:
the design module imports :class:`Mechanical` from here), SI units, temperatures in K.

Stator winding (``pipeline.losses.copper`` for the closed forms)::

    r_mid = r_bore + h_opening + h_wedge + h_body / 2          mid-slot radius
    y     = coil_pitch (2 pi / Q) r_mid                        coil span (arc)
    l_end = pi y / 2 + 2 l_ext                                 one end connection
    l_mt  = 2 (L + l_end)                                      mean turn
    R_s(T) = rho(T) N_s l_mt / (a A_c)                         DC phase resistance

The end connection is a semicircle over the coil span plus the straight extension
``l_ext = winding.end_winding_length`` on both legs, as the design files' source reads it
(pyleecan's ``Lewout``, the straight conductor length outside the lamination, which
pyleecan's ``EndWinding.comp_length`` adds to the curved part); with it the Prius 2004
phase resistance is +3.9 % from ORNL's measured 0.069 ohm at 21 degC (validation
report). The same length is the end-winding leakage's ``l_ec``
(:mod:`pipeline.post.endwinding`) and sets the thermal model's slot / end-winding split.

Field winding (salient poles, all pole coils in series)::

    l_f = 2 (L + b) + 2 pi s,   R_f(T) = rho(T) n_poles N_f l_f / A_f

a turn wound on the pole body (width b, length L) at a distance s from it, its corners
rounded with radius s (tight winding), so each turn is ``2 (L + b) + 2 pi s``; averaged over
the coil cross-section (turns uniformly spread) s is the distance of the coil side's
centroid from the body flank (:meth:`SalientPoleRotor.coil_polygon`, gap and clipping
included). For an unclipped coil of width w touching the body this is
``2 (L + b) + pi w``.

Resistivity ``rho(T) = rho_20 (1 + alpha (T - 293.15 K))`` with the conductor material's
data (IEC 60028 copper when it has none).

Rotor mass and inertia: a solid cylinder of the rotor's outer radius r and the stack length
L in steel of :data:`ROTOR_DENSITY` (holes, pockets and interpolar spaces ignored: an upper
bound), ``m = rho pi r^2 L``, ``J = m r^2 / 2``.

Bearings (SKF constant-friction model, :mod:`pipeline.losses.mechanical`): two deep-groove
ball bearings of bore 2 x shaft radius sharing the rotor weight, unless the design's
``[mechanical]`` table states otherwise. Windage (Bilgen-Boulos, same module) with one
roughness factor per rotor (the topology's ``WINDAGE_ROUGHNESS``). Brushes: :data:`BRUSHES`.
Magnet remanence at a temperature: :func:`magnet_remanence`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import ALPHA_CU_20, RHO_CU_20, ZERO_CELSIUS
from pipeline.errors import DesignError
from pipeline.io.tables import unit_field
from pipeline.losses import copper, mechanical
from pipeline.materials import load_material
from pipeline.winding import winding_layout

__all__ = [
    "T_REF",
    "mid_slot_radius",
    "coil_span",
    "end_turn_length",
    "mean_turn_length",
    "slot_length_share",
    "conductor_resistivity",
    "phase_resistance_dc",
    "field_turn_length",
    "field_resistance_dc",
    "ROTOR_DENSITY",
    "rotor_mass",
    "rotor_inertia",
    "Mechanical",
    "MechanicalData",
    "mechanical_data",
    "bearing_loss",
    "windage_loss",
    "mechanical_loss",
    "BrushData",
    "BRUSHES",
    "brush_data",
    "brush_loss",
    "magnet_remanence",
]

#: Reference temperature of resistances [K] (20 degC).
T_REF = ZERO_CELSIUS + 20.0
#: Standard gravity [m/s^2] (bearing load of the rotor weight).
GRAVITY = 9.80665


# --- stator winding -------------------------------------------------------------------
def mid_slot_radius(design) -> float:
    """Radius of the middle of the slot body (the conductors' centre) [m]:
    ``r_bore + h_opening + h_wedge + h_body / 2``."""
    st = design.stator
    return st.bore_radius + st.slot.opening_height + st.slot.wedge_height + st.slot.body_height / 2


def coil_span(design) -> float:
    """Arc between the two sides of a coil at the mid-slot radius [m]:
    ``coil_pitch (2 pi / Q) r_mid``."""
    return design.winding.coil_pitch * design.stator.slot_pitch * mid_slot_radius(design)


def end_turn_length(design) -> float:
    """Length of one end connection of a stator coil, one side [m]: ``pi y / 2 + 2 l_ext``
    (semicircle over the coil span y plus the straight extension l_ext on both legs;
    module docstring)."""
    return copper.end_winding_length(coil_span(design), design.winding.end_winding_length)


def mean_turn_length(design) -> float:
    """Mean stator turn ``2 (L + l_end)`` [m]."""
    return copper.mean_turn_length(design.stack_length, end_turn_length(design))


def slot_length_share(design) -> float:
    """Share of a stator turn inside the slots ``L / (L + l_end)`` [-] (of its length, its
    DC resistance and its DC copper loss)."""
    return design.stack_length / (design.stack_length + end_turn_length(design))


def conductor_resistivity(material: str) -> tuple[float, float]:
    """(rho_20 [ohm m], alpha_20 [1/K]) of a conductor material, its resistivity referred to
    20 degC; IEC 60028 copper (:data:`pipeline.constants.RHO_CU_20`) if it gives none."""
    mat = load_material(material)
    if not mat.resistivity > 0:
        return RHO_CU_20, ALPHA_CU_20
    rho_20 = mat.resistivity * (1.0 + mat.resistivity_alpha * (20.0 - mat.resistivity_temperature))
    return rho_20, mat.resistivity_alpha


def phase_resistance_dc(design, temperature: ArrayLike = T_REF) -> np.ndarray:
    """DC phase resistance incl. end connections ``rho(T) N_s l_mt / (a A_c)`` [ohm] at
    ``temperature`` [K] (N_s series turns per path, a parallel paths, A_c copper per turn)."""
    w = design.winding
    rho_20, alpha = conductor_resistivity(w.material)
    return copper.phase_resistance(
        winding_layout(design).series_turns,
        mean_turn_length(design),
        w.conductor_area,
        w.parallel_paths,
        copper.resistivity(temperature, rho_20, alpha),
    )


# --- field winding --------------------------------------------------------------------
def _centroid_offset(polygon: np.ndarray) -> float:
    """y of the centroid of a simple polygon (shoelace formulas) [m]."""
    x, y = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    return float(((y + y1) * cross).sum() / (3.0 * cross.sum()))


def field_turn_length(design) -> float:
    """Mean field turn ``2 (L + b) + 2 pi s`` [m] (s: distance of the coil side's centroid
    from the pole body; module docstring); 0 for a rotor without a field winding."""
    if not design.topology.HAS_FIELD_WINDING:
        return 0.0
    rotor = design.rotor
    s = _centroid_offset(rotor.coil_polygon()) - rotor.body_width / 2
    return 2.0 * (design.stack_length + rotor.body_width) + 2.0 * math.pi * s


def field_resistance_dc(design, temperature: ArrayLike = T_REF) -> np.ndarray:
    """Field-winding resistance, all pole coils in series, ``rho(T) n_poles N_f l_f / A_f``
    [ohm] at ``temperature`` [K]; 0 for a rotor without a field winding."""
    if not design.topology.HAS_FIELD_WINDING:
        return np.zeros_like(np.asarray(temperature, float))
    rotor = design.rotor
    rho_20, alpha = conductor_resistivity(rotor.field_material)
    length = rotor.field_turns * design.n_poles * field_turn_length(design)
    return copper.resistivity(temperature, rho_20, alpha) * length / rotor.field_conductor_area


# --- rotor mass and inertia -----------------------------------------------------------
#: Rotor steel density for the mass estimate [kg/m^3] (electrical steel M19: 7700).
ROTOR_DENSITY = 7700.0


def rotor_mass(design) -> float:
    """Rotor mass [kg]: solid cylinder ``rho pi r^2 L`` (module docstring; an upper bound)."""
    return ROTOR_DENSITY * math.pi * design.rotor.outer_radius**2 * design.stack_length


def rotor_inertia(design) -> float:
    """Rotor moment of inertia about its axis [kg m^2]: ``m r^2 / 2`` of that cylinder."""
    return 0.5 * rotor_mass(design) * design.rotor.outer_radius**2


# --- bearings and windage -------------------------------------------------------------


@dataclass(frozen=True)
class Mechanical:
    """The design's optional ``[mechanical]`` table: ``bearing_bore`` [m] (file key
    ``bearing_bore_mm``), ``n_bearings`` [-], ``bearing_friction_coefficient`` [-] (SKF
    constant-friction mu), ``windage_roughness`` [-] (k of the windage formula), with the
    ``source`` of the values. An unset value takes the default of :func:`mechanical_data`."""

    source: str = "not stated: defaults of pipeline.derived.mechanical_data"
    bearing_bore: float | None = unit_field("mm", None)
    n_bearings: int | None = None
    bearing_friction_coefficient: float | None = None
    windage_roughness: float | None = None

    def __post_init__(self):
        for f in dataclasses.fields(self)[1:]:
            value = getattr(self, f.name)
            if value is None:
                continue
            unit = f.metadata.get("unit")
            key = f"mechanical.{f.name}_{unit}" if unit else f"mechanical.{f.name}"
            shown = value * 1e3 if unit == "mm" else value
            if f.name == "n_bearings":
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise DesignError(key, value, "must be a positive integer")
            elif not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise DesignError(key, shown, "must be a positive number")


@dataclass(frozen=True)
class MechanicalData:
    """Bearings and windage of a design: bearing bore [m], bearings [-], bearing friction
    coefficient [-], rotor mass [kg] (bearing load = rotor weight shared), windage
    roughness factor [-]."""

    bearing_bore: float
    n_bearings: int
    bearing_mu: float
    rotor_mass: float
    roughness: float


def mechanical_data(design) -> MechanicalData:
    """Bearing and windage data of ``design``: its ``[mechanical]`` values where stated,
    else two deep-groove ball bearings (SKF mu = 0.0015) of bore 2 x shaft radius, and the
    roughness of its rotor kind (the topology's ``WINDAGE_ROUGHNESS``); rotor mass :func:`rotor_mass`."""
    given = getattr(design, "mechanical", None) or Mechanical()

    def pick(value, default):
        return default if value is None else value

    return MechanicalData(
        bearing_bore=pick(given.bearing_bore, 2.0 * design.rotor.shaft_radius),
        n_bearings=pick(given.n_bearings, 2),
        bearing_mu=pick(given.bearing_friction_coefficient, mechanical.MU_DEEP_GROOVE_BALL),
        rotor_mass=rotor_mass(design),
        roughness=pick(given.windage_roughness, design.topology.WINDAGE_ROUGHNESS),
    )


def bearing_loss(design, speed: ArrayLike, data: MechanicalData | None = None) -> np.ndarray:
    """Friction of all bearings ``n 0.5 mu (m g / n) d |omega|`` [W] at mechanical speed
    [rad/s] (``data``: :func:`mechanical_data`, computed when not given)."""
    m = mechanical_data(design) if data is None else data
    load = m.rotor_mass * GRAVITY / m.n_bearings
    omega = np.abs(np.asarray(speed, float))
    return m.n_bearings * mechanical.bearing_friction_loss(omega, load, m.bearing_bore, m.bearing_mu)


def windage_loss(design, speed: ArrayLike, data: MechanicalData | None = None) -> np.ndarray:
    """Rotor windage ``k C_f pi rho omega^3 r^4 L`` [W] at mechanical speed [rad/s] (air at
    20 degC; k of :func:`mechanical_data`)."""
    m = mechanical_data(design) if data is None else data
    return mechanical.windage_loss(
        np.abs(np.asarray(speed, float)), design.rotor.outer_radius, design.stack_length,
        design.airgap, roughness=m.roughness,
    )  # fmt: skip


def mechanical_loss(design, speed: ArrayLike, data: MechanicalData | None = None) -> np.ndarray:
    """Bearings + windage [W] at mechanical speed [rad/s]."""
    m = mechanical_data(design) if data is None else data
    return bearing_loss(design, speed, m) + windage_loss(design, speed, m)


# --- brushes --------------------------------------------------------------------------
@dataclass(frozen=True)
class BrushData:
    """Slip-ring brush set: drop per brush [V], ring radius [m], contact area per brush
    [m^2], spring pressure [Pa], friction coefficient [-], brushes [-]."""

    voltage_drop: float
    ring_radius: float
    brush_area: float
    spring_pressure: float
    friction_coefficient: float
    n_brushes: int = 2


#: Brushes of the EESM designs (assumed; no public data of either machine's slip rings):
#: metal-graphite brushes, 0.5 V each (two in series: 1 V total;
#: :data:`pipeline.losses.copper.BRUSH_DROP_METAL_GRAPHITE`, Sawa & Shobert 2014);
#: 22.5 kPa spring pressure, the middle of the 20-25 kPa recommended for slip-ring motors
#: (Electrographite brush-pressure guide, electrographite.co.za, "Brush pressure");
#: friction coefficient 0.2, typical of graphitic brushes on copper rings (0.1-0.3; see
#: Nordlund et al., NORPIE 2004, for measured slip-ring friction and electrical losses);
#: 1 cm^2 contact per brush (25 A at 25 A/cm^2, metal-graphite); ring radius 15 mm.
BRUSHES = BrushData(
    voltage_drop=copper.BRUSH_DROP_METAL_GRAPHITE,
    ring_radius=15e-3,
    brush_area=1e-4,
    spring_pressure=22.5e3,
    friction_coefficient=0.2,
)


def brush_data(design) -> BrushData | None:
    """The slip-ring brushes of ``design`` (:data:`BRUSHES`); None without a field winding."""
    return BRUSHES if design.topology.HAS_FIELD_WINDING else None


def brush_loss(design, field_current: ArrayLike, speed: ArrayLike) -> np.ndarray:
    """Brush contact drop ``2 U_b |i_f|`` plus friction ``n mu p A omega r_ring`` [W] at
    field current [A] and mechanical speed [rad/s]; 0 without a field winding."""
    b = brush_data(design)
    if b is None:
        return np.zeros(np.broadcast(np.asarray(field_current), np.asarray(speed)).shape)
    return copper.brush_loss(
        field_current, np.abs(np.asarray(speed, float)), b.ring_radius, b.brush_area,
        b.spring_pressure, b.friction_coefficient, b.voltage_drop, b.n_brushes,
    )  # fmt: skip


# --- magnets --------------------------------------------------------------------------
def magnet_remanence(design, temperature_C: float) -> float:
    """Magnet remanence [T] of ``design`` at ``temperature_C`` [degC]:
    ``Br(T) = Br_ref (1 + alpha (T - T_ref))`` with the material's ``alpha`` and ``T_ref``
    and ``Br_ref`` = ``rotor.magnet_remanence`` when the design states one (a calibrated
    design does), else the material's."""
    mag = load_material(design.rotor.magnet_material)
    br = mag.remanence_at(temperature_C)
    own = getattr(design.rotor, "magnet_remanence", None)
    return br if own is None else br * own / mag.remanence
