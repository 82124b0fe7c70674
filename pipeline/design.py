"""Machine designs: frozen, validated objects in SI, loaded from cited TOML files.

A design file under ``geometries/reference/designs/NAME.toml`` has the tables
``[stator]`` (with ``[stator.slot]``), ``[winding]``, ``[rotor]`` (``kind`` = a registered
rotor topology, :mod:`pipeline.rotors`: ``"salient_pole"`` or ``"v_magnet"``), ``[housing]``
and ``[ratings]``; keys carry their unit
(``bore_radius_mm``), every table a ``source``. Everything is checked on construction, so
an infeasible design fails with a one-line :class:`~pipeline.errors.DesignError` naming the
field, the value and the rule before gmsh starts.

Angles: stator slot k is centred at ``(k + 1/2) * 2 pi / n_slots`` (a tooth centre lies
on the x axis, so sector cuts pass through teeth).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline.derived import Mechanical, magnet_remanence  # the latter: kept public here
from pipeline.errors import DesignError
from pipeline.io.inputs import read_text
from pipeline.io.tables import canonical, from_table, to_table, unit_field
from pipeline.io.toml import loads_toml
from pipeline.materials import load_material
from pipeline.rotors import RotorTopology
from pipeline.shapes import annular_sector_area
from pipeline.thermal.cooling import CoolingModel
from pipeline.winding import machine_symmetry

__all__ = [
    "SlotShape",
    "Stator",
    "Winding",
    "Housing",
    "Ratings",
    "InverterSpec",
    "MODULATION_SCHEMES",
    "Design",
    "DESIGNS_DIR",
    "list_designs",
    "load_design",
    "design_from_toml",
    "magnet_remanence",
]

DESIGNS_DIR = Path(__file__).resolve().parent.parent / "geometries" / "reference" / "designs"


def _check_positive(where: str, obj, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(obj, name)
        f = next(f for f in dataclasses.fields(obj) if f.name == name)
        unit = f.metadata.get("unit")
        shown = value / {"mm": 1e-3, "deg": math.pi / 180, "mm2": 1e-6}.get(unit, 1.0)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            key = f"{name}_{unit}" if unit else name
            raise DesignError(f"{where}.{key}", shown, "must be a positive number")


@dataclass(frozen=True)
class SlotShape:
    """Stator slot: opening (rectangle through the bore), wedge (taper), body (trapezoid).

    Depths along the slot axis from the bore [m]: ``opening_height`` of width
    ``opening_width``, then ``wedge_height`` tapering to ``width_top``, then the body of
    ``body_height`` from ``width_top`` to ``width_bottom``; with ``round_bottom`` the body
    ends in a semicircle of diameter ``width_bottom`` (included in ``body_height``).
    """

    source: str
    opening_width: float = unit_field("mm")
    opening_height: float = unit_field("mm")
    wedge_height: float = unit_field("mm")
    width_top: float = unit_field("mm")
    width_bottom: float = unit_field("mm")
    body_height: float = unit_field("mm")
    round_bottom: bool = False

    def __post_init__(self):
        _check_positive(
            "stator.slot",
            self,
            ("opening_width", "opening_height", "width_top", "width_bottom", "body_height"),
        )
        if not (self.wedge_height >= 0):
            raise DesignError(
                "stator.slot.wedge_height_mm", self.wedge_height * 1e3, "must be >= 0"
            )
        if self.opening_width > self.width_top:
            raise DesignError(
                "stator.slot.opening_width_mm",
                self.opening_width * 1e3,
                f"must not exceed width_top_mm = {self.width_top * 1e3:g}",
            )
        if self.round_bottom and self.body_height <= self.width_bottom / 2:
            raise DesignError(
                "stator.slot.body_height_mm",
                self.body_height * 1e3,
                "must exceed width_bottom/2 for a round bottom",
            )

    @property
    def depth(self) -> float:
        """Total slot depth from the bore [m]."""
        return self.opening_height + self.wedge_height + self.body_height

    @property
    def straight_height(self) -> float:
        """Height of the trapezoidal part of the body [m]."""
        return self.body_height - (self.width_bottom / 2 if self.round_bottom else 0.0)

    def opening_area(self, bore_radius: float) -> float:
        """Area [m^2] between the bore arc and the opening's top line."""
        a, r = self.opening_width / 2, bore_radius
        under_arc = a * math.sqrt(r * r - a * a) + r * r * math.asin(a / r)
        return self.opening_width * (r + self.opening_height) - under_arc

    def wedge_area(self) -> float:
        return 0.5 * (self.opening_width + self.width_top) * self.wedge_height

    def body_area(self) -> float:
        """Area [m^2] of the body (trapezoid plus semicircle)."""
        trap = 0.5 * (self.width_top + self.width_bottom) * self.straight_height
        semi = math.pi * (self.width_bottom / 2) ** 2 / 2 if self.round_bottom else 0.0
        return trap + semi

    def area(self, bore_radius: float) -> float:
        return self.opening_area(bore_radius) + self.wedge_area() + self.body_area()


@dataclass(frozen=True)
class Stator:
    """Stator lamination [m]: radii, stack, stacking factor, slots."""

    source: str
    outer_radius: float = unit_field("mm")
    bore_radius: float = unit_field("mm")
    stack_length: float = unit_field("mm")
    n_slots: int
    slot: SlotShape
    stacking_factor: float = 0.95
    material: str = "m400_50a_pyleecan"

    def __post_init__(self):
        _check_positive("stator", self, ("outer_radius", "bore_radius", "stack_length"))
        if not isinstance(self.n_slots, int) or self.n_slots < 3:
            raise DesignError("stator.n_slots", self.n_slots, "must be an integer >= 3")
        if not (0 < self.stacking_factor <= 1):
            raise DesignError("stator.stacking_factor", self.stacking_factor, "must be in (0, 1]")
        if self.bore_radius >= self.outer_radius:
            raise DesignError(
                "stator.bore_radius_mm", self.bore_radius * 1e3, "must be less than outer_radius_mm"
            )
        yoke = self.outer_radius - self.bore_radius - self.slot.depth
        if yoke < 1e-3:
            raise DesignError(
                "stator.slot.body_height_mm",
                self.slot.body_height * 1e3,
                f"slot deeper than the yoke allows: leaves a yoke of {yoke * 1e3:.2f} mm (< 1 mm)",
            )
        # the slot must leave a tooth at every depth
        for depth, width in (
            (self.slot.opening_height + self.slot.wedge_height, self.slot.width_top),
            (
                self.slot.depth - (self.slot.width_bottom / 2 if self.slot.round_bottom else 0),
                self.slot.width_bottom,
            ),
        ):
            r = self.bore_radius + depth
            tooth = 2 * r * math.sin(math.pi / self.n_slots) - width
            if tooth <= 0.5e-3:
                raise DesignError(
                    "stator.slot.width_bottom_mm"
                    if width == self.slot.width_bottom
                    else "stator.slot.width_top_mm",
                    width * 1e3,
                    f"leaves no tooth ({tooth * 1e3:.2f} mm < 0.5 mm) at radius {r * 1e3:.1f} mm",
                )

    @property
    def slot_pitch(self) -> float:
        """Mechanical slot pitch [rad]."""
        return 2 * math.pi / self.n_slots

    @property
    def yoke_thickness(self) -> float:
        return self.outer_radius - self.bore_radius - self.slot.depth

    def slot_angle(self, k: int) -> float:
        """Centre angle [rad] of slot k."""
        return (k + 0.5) * self.slot_pitch


@dataclass(frozen=True)
class Winding:
    """Stator winding.

    ``n_layers`` coil-side layers per slot (1 or 2, stacked radially: layer 0 at the slot
    top, towards the bore), ``coil_pitch`` in slots, ``turns_per_coil``,
    ``parallel_paths``. ``conductor`` is ``"stranded"`` (round wire of ``wire_diameter``,
    ``strands_in_hand`` in parallel) or ``"hairpin"`` (rectangular bars ``bar_width`` x
    ``bar_height``, one bar per turn, ``turns_per_coil`` bars per coil side stacked
    radially with ``bar_gap`` between them, ``liner_thickness`` to the slot wall).
    ``end_winding_length``: one-side axial overhang of a coil [m], for resistance and
    end-winding leakage.
    """

    source: str
    n_phases: int
    n_layers: int
    coil_pitch: int
    turns_per_coil: int
    parallel_paths: int
    conductor: str
    end_winding_length: float = unit_field("mm")
    wire_diameter: float = unit_field("mm", 0.0)
    strands_in_hand: int = 1
    bar_width: float = unit_field("mm", 0.0)
    bar_height: float = unit_field("mm", 0.0)
    bar_gap: float = unit_field("mm", 0.0)
    liner_thickness: float = unit_field("mm", 0.0)
    material: str = "copper"

    def __post_init__(self):
        w = "winding"
        for name in (
            "n_phases",
            "n_layers",
            "coil_pitch",
            "turns_per_coil",
            "parallel_paths",
            "strands_in_hand",
        ):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise DesignError(f"{w}.{name}", v, "must be a positive integer")
        if self.n_phases != 3:
            raise DesignError(
                f"{w}.n_phases", self.n_phases, "only three-phase windings are supported"
            )
        if self.n_layers not in (1, 2):
            raise DesignError(f"{w}.n_layers", self.n_layers, "must be 1 or 2")
        if self.conductor not in ("stranded", "hairpin"):
            raise DesignError(f"{w}.conductor", self.conductor, "must be 'stranded' or 'hairpin'")
        if not (self.end_winding_length >= 0):
            raise DesignError(
                f"{w}.end_winding_length_mm", self.end_winding_length * 1e3, "must be >= 0"
            )
        if self.conductor == "stranded":
            _check_positive(w, self, ("wire_diameter",))
        else:
            _check_positive(w, self, ("bar_width", "bar_height"))
            for name in ("bar_gap", "liner_thickness"):
                if not (getattr(self, name) >= 0):
                    raise DesignError(f"{w}.{name}_mm", getattr(self, name) * 1e3, "must be >= 0")

    @property
    def conductor_area(self) -> float:
        """Copper area of one turn [m^2] (all strands in hand)."""
        if self.conductor == "hairpin":
            return self.bar_width * self.bar_height
        return self.strands_in_hand * math.pi * self.wire_diameter**2 / 4


@dataclass(frozen=True)
class Housing:
    """Aluminium housing around the stator with axial cooling channels (water jacket).

    The housing fills ``stator.outer_radius < r < outer_radius``; ``n_channels`` channels
    are annular sectors ``channel_inner_radius < r < channel_inner_radius + channel_height``
    of angular width ``channel_angle`` [rad], evenly spaced, the first centred at half a
    channel pitch.
    """

    source: str
    outer_radius: float = unit_field("mm")
    n_channels: int
    channel_inner_radius: float = unit_field("mm")
    channel_height: float = unit_field("mm")
    channel_angle: float = unit_field("deg")
    material: str = "aluminium_a356"
    coolant: str = "water_glycol_50"
    #: rotor cooling through the hollow shaft (coolant lance): conductance shaft -> coolant
    #: for the whole machine [W/K]; 0 = no rotor cooling
    shaft_cooling_conductance: float = unit_field("W_per_K", 0.0)

    def __post_init__(self):
        _check_positive(
            "housing",
            self,
            ("outer_radius", "channel_inner_radius", "channel_height", "channel_angle"),
        )
        if not self.shaft_cooling_conductance >= 0:
            raise DesignError(
                "housing.shaft_cooling_conductance_W_per_K",
                self.shaft_cooling_conductance,
                "must be >= 0 W/K",
            )
        if not isinstance(self.n_channels, int) or self.n_channels < 1:
            raise DesignError("housing.n_channels", self.n_channels, "must be a positive integer")
        if self.channel_angle >= 2 * math.pi / self.n_channels:
            raise DesignError(
                "housing.channel_angle_deg",
                math.degrees(self.channel_angle),
                f"channels overlap: must be below 360/n_channels = {360 / self.n_channels:g} deg",
            )
        if self.channel_inner_radius + self.channel_height >= self.outer_radius:
            raise DesignError(
                "housing.channel_height_mm",
                self.channel_height * 1e3,
                "channels reach the housing's outer surface",
            )

    def channel_area(self) -> float:
        r0 = self.channel_inner_radius
        return annular_sector_area(r0, r0 + self.channel_height, self.channel_angle)


@dataclass(frozen=True)
class Ratings:
    """Published or target ratings and limits (SI: W, N m, rad/s, V, A peak)."""

    source: str
    peak_torque: float = unit_field("Nm")
    peak_power: float = unit_field("kW")
    max_speed: float = unit_field("rpm")
    dc_link_voltage: float = unit_field("V")
    max_phase_current: float = unit_field("A")
    max_field_current: float = unit_field("A", 0.0)
    max_field_voltage: float = unit_field("V", 0.0)

    def __post_init__(self):
        _check_positive(
            "ratings",
            self,
            ("peak_torque", "peak_power", "max_speed", "dc_link_voltage", "max_phase_current"),
        )


#: PWM schemes of :class:`InverterSpec` (implemented in :mod:`pipeline.drive.pwm`).
MODULATION_SCHEMES = ("svpwm", "spwm", "dpwm1")


@dataclass(frozen=True)
class InverterSpec:
    """The drive's two-level inverter, as far as the machine's PWM losses need it.

    ``switching_frequency_kHz``: carrier frequency [kHz] (the file's unit in the name;
    :attr:`switching_frequency` is SI); ``modulation``: one of :data:`MODULATION_SCHEMES`;
    ``source``: where both come from (or why they are assumed). Drive data: it changes no
    field solution, so it is not part of the design's content hash (which keys the mesh and
    flux-map caches); the efficiency dataset records it.
    """

    KIND = "two_level"
    source: str
    switching_frequency_kHz: float
    modulation: str = "svpwm"

    def __post_init__(self):
        f = self.switching_frequency_kHz
        if not (isinstance(f, (int, float)) and math.isfinite(f) and 0.1 <= f <= 1000.0):
            raise DesignError("inverter.switching_frequency_kHz", f, "must be in [0.1, 1000] kHz")
        if self.modulation not in MODULATION_SCHEMES:
            raise DesignError(
                "inverter.modulation", self.modulation, f"must be one of {', '.join(MODULATION_SCHEMES)}"
            )

    @property
    def switching_frequency(self) -> float:
        """Carrier (switching) frequency [Hz]."""
        return 1e3 * self.switching_frequency_kHz


#: smallest airgap [m]: production traction machines have 0.5 to 1 mm (Prius 2004: 0.73 mm);
#: the mesh puts 3 to 6 element layers across the gap, and below 0.1 mm gmsh produces
#: slivers or millions of elements around the bore (issue 17: "near-zero airgap")
MIN_AIRGAP = 0.1e-3


@dataclass(frozen=True)
class Design:
    """A complete machine design; cross-checks between its parts run on construction."""

    name: str
    description: str
    source: str
    stator: Stator
    winding: Winding
    rotor: RotorTopology
    housing: Housing
    ratings: Ratings
    #: provenance of calibrated values (the ``[calibration]`` table written by
    #: ``edrive calibrate``): not compared, not part of the content hash
    calibration: dict | None = dataclasses.field(
        default=None, compare=False, metadata={"provenance": True}
    )
    #: the drive's inverter (``[inverter]`` table, ``kind = "two_level"``); None: no
    #: inverter data (efficiency maps then default to sinusoidal currents). Not part of the
    #: content hash (:class:`InverterSpec`)
    inverter: InverterSpec | None = dataclasses.field(default=None, metadata={"provenance": True})
    #: the machine's cooling models (``[[cooling]]`` tables, ``kind`` = a registered
    #: :class:`~pipeline.thermal.cooling.CoolingModel`); empty: the water jacket of
    #: ``[housing]``. Left out of the file and the hashes while empty
    cooling: tuple[CoolingModel, ...] = dataclasses.field(
        default=(), metadata={"omit_default": True}
    )
    #: bearing and windage data (optional ``[mechanical]`` table, :class:`Mechanical`); no
    #: field solution uses it, so it is not part of the content hash either
    mechanical: Mechanical = dataclasses.field(
        default_factory=Mechanical, metadata={"provenance": True}
    )

    def __post_init__(self):
        if not self.name.replace("_", "").isalnum():
            raise DesignError("name", self.name, "must be letters, digits and underscores")
        gap = self.airgap
        if not (gap > 0):
            raise DesignError(
                "rotor.outer_radius_mm",
                self.rotor.outer_radius * 1e3,
                f"airgap must be positive: rotor outer radius must be below the bore radius {self.stator.bore_radius * 1e3:g} mm",
            )
        if gap < MIN_AIRGAP:  # gmsh fails (or meshes millions of slivers) on a sliver gap
            raise DesignError(
                "rotor.outer_radius_mm",
                self.rotor.outer_radius * 1e3,
                f"airgap {gap * 1e3:.4g} mm is below {MIN_AIRGAP * 1e3:g} mm",
            )
        if self.housing.channel_inner_radius <= self.stator.outer_radius:
            raise DesignError(
                "housing.channel_inner_radius_mm",
                self.housing.channel_inner_radius * 1e3,
                f"channels must lie outside the stator (outer radius {self.stator.outer_radius * 1e3:g} mm)",
            )
        for where, name in self.material_names().items():
            load_material(name) if name else None
            kind = load_material(name).kind
            allowed = {
                "stator.material": ("electrical_steel",),
                "rotor.material": ("electrical_steel", "solid_steel"),
                "rotor.shaft_material": ("electrical_steel", "solid_steel", "structural"),
                "rotor.magnet_material": ("magnet",),
                "rotor.field_material": ("conductor",),
                "winding.material": ("conductor",),
                "housing.material": ("structural",),
                "housing.coolant": ("fluid",),
            }[where]
            if kind not in allowed:
                raise DesignError(where, name, f"is a {kind}; must be one of {', '.join(allowed)}")
        for model in self.cooling:
            model.check(self)
        # layout checks (balanced winding for this pole count) run here, before gmsh
        _ = self.symmetry  # balanced winding for this pole count; channels repeat per sector
        self._check_slot_fits_conductors()

    def _check_slot_fits_conductors(self) -> None:
        w, slot = self.winding, self.stator.slot
        if w.conductor == "hairpin":
            n_bars = w.n_layers * w.turns_per_coil
            need_h = n_bars * w.bar_height + (n_bars + 1) * w.bar_gap
            if need_h > slot.straight_height:
                raise DesignError(
                    "winding.bar_height_mm",
                    w.bar_height * 1e3,
                    f"{n_bars} bars need {need_h * 1e3:.2f} mm, the slot body is {slot.straight_height * 1e3:.2f} mm",
                )
            need_w = w.bar_width + 2 * w.liner_thickness
            if need_w > min(slot.width_top, slot.width_bottom):
                raise DesignError(
                    "winding.bar_width_mm", w.bar_width * 1e3, "bar plus liners wider than the slot"
                )
        else:
            copper = w.n_layers * w.turns_per_coil * w.conductor_area
            if copper > 0.8 * slot.body_area():
                raise DesignError(
                    "winding.wire_diameter_mm",
                    w.wire_diameter * 1e3,
                    f"copper {copper * 1e6:.1f} mm2 exceeds 80 % of the slot body {slot.body_area() * 1e6:.1f} mm2",
                )

    # --- derived ----------------------------------------------------------------------
    @property
    def topology(self) -> type[RotorTopology]:
        """The rotor's topology class (registry key ``topology.KIND``; ask it, e.g.
        ``HAS_FIELD_WINDING``, rather than comparing names)."""
        return type(self.rotor)

    @property
    def kind(self) -> str:
        """Display label of the machine ("eesm", "ipm", ...: the topology's ``LABEL``) for
        listings and dataset attributes; code asks :attr:`topology`."""
        return self.rotor.LABEL

    @property
    def n_poles(self) -> int:
        return self.rotor.n_poles

    @property
    def pole_pairs(self) -> int:
        return self.rotor.n_poles // 2

    @property
    def airgap(self) -> float:
        """Minimum mechanical airgap [m]."""
        return self.stator.bore_radius - self.rotor.outer_radius

    @property
    def stack_length(self) -> float:
        return self.stator.stack_length

    def material_names(self) -> dict[str, str]:
        names = {
            "stator.material": self.stator.material,
            "rotor.material": self.rotor.material,
            "rotor.shaft_material": self.rotor.shaft_material,
            "winding.material": self.winding.material,
            "housing.material": self.housing.material,
            "housing.coolant": self.housing.coolant,
        }
        names.update(self.rotor.material_names())
        return names

    @cached_property
    def symmetry(self) -> tuple[int, bool]:
        """(number of sectors in the full machine, anti-periodic?) of the smallest sector."""

        return machine_symmetry(self)

    def with_changes(self, changes: dict) -> Design:
        """A validated copy with dotted-path changes in SI, e.g. {"stator.stack_length": 0.2}."""
        return _replace_path(self, changes)

    def to_table(self) -> dict:
        return to_table(self)

    def content_hash(self) -> str:
        """SHA-256 of the canonical design (first 16 hex digits)."""
        blob = json.dumps(canonical(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _replace_path(obj, changes: dict):
    groups: dict[str, dict] = {}
    direct = {}
    for path, value in changes.items():
        head, _, rest = path.partition(".")
        names = {f.name for f in dataclasses.fields(obj)}
        if head not in names:
            raise DesignError(path, value, f"unknown design field; expected one of {sorted(names)}")
        if rest:
            groups.setdefault(head, {})[rest] = value
        else:
            direct[head] = value
    for head, sub in groups.items():
        direct[head] = _replace_path(getattr(obj, head), sub)
    return dataclasses.replace(obj, **direct)


def design_from_toml(text: str, origin: str = "<string>") -> Design:
    """Parse and validate a design from TOML text."""
    table = loads_toml(text, origin)
    return from_table(Design, table)


def list_designs() -> list[str]:
    return sorted(p.stem for p in DESIGNS_DIR.glob("*.toml"))


def load_design(name_or_path: str | Path) -> Design:
    """Load a reference design by name, or a design file by path."""

    path = Path(name_or_path)
    try:
        is_path = path.suffix == ".toml" or path.exists() or len(path.parts) > 1
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise DesignError(
            "design", str(name_or_path), f"not a name or path ({exc.strerror})"
        ) from None
    if not is_path:
        path = DESIGNS_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise DesignError(
                "design", str(name_or_path), f"unknown design; known: {', '.join(list_designs())}"
            )
    return design_from_toml(read_text(path, "design"), str(path))

