"""Rotor models: salient-pole wound rotor (EESM) and V-shaped interior magnets (IPM).

Each rotor is a frozen dataclass in SI, validated on construction, with the plane geometry
of one pole in the rotor frame: pole 0's axis (d-axis) lies along the x axis, pole k's at
angle ``k * pole_pitch`` rotated by ``pole_axis_offset``; the gmsh builders and the
analytic area checks use the same polygons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.errors import DesignError
from pipeline.io.tables import unit_field
from pipeline.shapes import (
    clip_polygon_halfplane,
    polygon_area,
    polygons_overlap,
    rotate,
)

__all__ = ["SalientPoleRotor", "VMagnetRotor", "Rotor"]


def _positive(where: str, **values: float) -> None:
    for name, value in values.items():
        if not (value > 0) or not math.isfinite(value):
            raise DesignError(f"{where}.{name}", value, "must be a positive number")


def _non_negative(where: str, **values: float) -> None:
    for name, value in values.items():
        if not (value >= 0) or not math.isfinite(value):
            raise DesignError(f"{where}.{name}", value, "must be zero or positive")


@dataclass(frozen=True)
class SalientPoleRotor:
    """Salient-pole wound rotor with a concentrated field coil around each pole body.

    Geometry of one pole in its own frame (x along the pole axis) [m]: the pole shoe's top
    is an arc of radius ``shoe_radius`` centred on the pole axis and touching
    ``outer_radius`` on the axis (a shoe radius below the outer radius widens the airgap
    towards the pole tips); the shoe spans the chord ``shoe_width`` and is
    ``shoe_tip_height`` thick at its tips; the body is ``body_width`` wide and
    ``body_height`` tall under the shoe; the hub between poles is the chord joining
    neighbouring body feet. The field-coil side beside the body is a rectangle
    ``coil_width`` wide between the shoe (gap ``coil_gap_shoe``) and the body foot, ``coil_gap_body``
    from the body, clipped at ``coil_clearance`` from the interpolar axis.
    Field winding: ``field_turns`` per pole of a conductor of area ``field_conductor_area``
    [m^2]; all pole coils in series.
    """

    KIND = "salient_pole"
    source: str
    n_poles: int
    outer_radius: float = unit_field("mm")
    shaft_radius: float = unit_field("mm")
    shoe_radius: float = unit_field("mm")
    shoe_width: float = unit_field("mm")
    shoe_tip_height: float = unit_field("mm")
    body_width: float = unit_field("mm")
    body_height: float = unit_field("mm")
    coil_width: float = unit_field("mm")
    coil_gap_shoe: float = unit_field("mm")
    coil_gap_body: float = unit_field("mm")
    coil_clearance: float = unit_field("mm")
    field_turns: int
    field_conductor_area: float = unit_field("mm2")
    field_max_fill: float = 0.75
    stacking_factor: float = 0.97
    material: str = "m400_50a_pyleecan"
    shaft_material: str = "steel_1010_femm"
    field_material: str = "copper"
    #: angle [rad] of pole 0's axis in the rotor frame
    pole_axis_offset: float = unit_field("deg", 0.0)

    def __post_init__(self):
        w = "rotor"
        if not isinstance(self.n_poles, int) or self.n_poles < 2 or self.n_poles % 2:
            raise DesignError(f"{w}.n_poles", self.n_poles, "must be an even integer >= 2")
        _positive(
            w,
            outer_radius_mm=self.outer_radius * 1e3,
            shaft_radius_mm=self.shaft_radius * 1e3,
            shoe_radius_mm=self.shoe_radius * 1e3,
            shoe_width_mm=self.shoe_width * 1e3,
            shoe_tip_height_mm=self.shoe_tip_height * 1e3,
            body_width_mm=self.body_width * 1e3,
            body_height_mm=self.body_height * 1e3,
            coil_width_mm=self.coil_width * 1e3,
            field_conductor_area_mm2=self.field_conductor_area * 1e6,
        )
        _non_negative(
            w,
            coil_gap_shoe_mm=self.coil_gap_shoe * 1e3,
            coil_gap_body_mm=self.coil_gap_body * 1e3,
            coil_clearance_mm=self.coil_clearance * 1e3,
        )
        if not isinstance(self.field_turns, int) or self.field_turns < 1:
            raise DesignError(f"{w}.field_turns", self.field_turns, "must be a positive integer")
        if not (0 < self.stacking_factor <= 1):
            raise DesignError(f"{w}.stacking_factor", self.stacking_factor, "must be in (0, 1]")
        if self.shoe_radius > self.outer_radius:
            raise DesignError(
                f"{w}.shoe_radius_mm", self.shoe_radius * 1e3, "must not exceed outer_radius_mm"
            )
        if self.shoe_width >= 2 * self.shoe_radius:
            raise DesignError(
                f"{w}.shoe_width_mm", self.shoe_width * 1e3, "must be less than 2 * shoe_radius_mm"
            )
        if self.body_width >= self.shoe_width:
            raise DesignError(
                f"{w}.body_width_mm", self.body_width * 1e3, "must be less than shoe_width_mm"
            )
        half = math.pi / self.n_poles
        tip = self.shoe_tip_points()[0]
        if math.atan2(tip[1], tip[0]) >= half:
            raise DesignError(
                f"{w}.shoe_width_mm",
                self.shoe_width * 1e3,
                f"pole shoes of neighbouring poles overlap (tip at {math.degrees(math.atan2(tip[1], tip[0])):.1f} deg, half pole pitch {math.degrees(half):.1f} deg)",
            )
        if self.hub_radius <= self.shaft_radius:
            raise DesignError(
                f"{w}.body_height_mm",
                self.body_height * 1e3,
                f"pole body reaches the shaft (hub at {self.hub_radius * 1e3:.2f} mm, shaft {self.shaft_radius * 1e3:.2f} mm)",
            )
        if not (0 < self.field_max_fill <= 1):
            raise DesignError(f"{w}.field_max_fill", self.field_max_fill, "must be in (0, 1]")
        coil = self.coil_polygon()
        if len(coil) < 3 or polygon_area(coil) <= 0:
            raise DesignError(f"{w}.coil_width_mm", self.coil_width * 1e3, "field coil has no room")
        r_coil = np.hypot(coil[:, 0], coil[:, 1])
        if r_coil.max() >= self.outer_radius or r_coil.min() <= self.shaft_radius:
            raise DesignError(  # gmsh would fail on the region overlap, naming no field
                f"{w}.coil_width_mm",
                self.coil_width * 1e3,
                f"field coil reaches outside the rotor iron ({r_coil.min() * 1e3:.2f} to "
                f"{r_coil.max() * 1e3:.2f} mm; rotor {self.shaft_radius * 1e3:g} to "
                f"{self.outer_radius * 1e3:g} mm)",
            )
        needed = self.field_turns * self.field_conductor_area / self.field_max_fill
        if polygon_area(coil) < needed:
            raise DesignError(
                f"{w}.field_turns",
                self.field_turns,
                f"field coil does not fit between poles: {self.field_turns} x "
                f"{self.field_conductor_area * 1e6:.2f} mm2 at fill {self.field_max_fill} needs "
                f"{needed * 1e6:.1f} mm2, the space is {polygon_area(coil) * 1e6:.1f} mm2",
            )
        mirrored = rotate(coil * np.array([1, -1]), 2 * half)
        if polygons_overlap(coil, mirrored):
            raise DesignError(
                f"{w}.coil_clearance_mm",
                self.coil_clearance * 1e3,
                "field coils of neighbouring poles overlap",
            )

    # --- derived geometry -------------------------------------------------------------
    @property
    def pole_pitch(self) -> float:
        """Mechanical pole pitch [rad]."""
        return 2 * math.pi / self.n_poles

    @property
    def shoe_center(self) -> float:
        """x of the shoe arc's centre on the pole axis [m]."""
        return self.outer_radius - self.shoe_radius

    @property
    def shoe_tip_x(self) -> float:
        """x where the shoe arc meets the tip [m]."""
        y = self.shoe_width / 2
        return self.shoe_center + math.sqrt(self.shoe_radius**2 - y**2)

    @property
    def shoe_bottom_x(self) -> float:
        return self.shoe_tip_x - self.shoe_tip_height

    @property
    def body_foot_x(self) -> float:
        return self.shoe_bottom_x - self.body_height

    @property
    def hub_radius(self) -> float:
        """Smallest radius of the hub chord between neighbouring body feet [m]."""
        foot = np.array([self.body_foot_x, self.body_width / 2])
        return float(
            np.linalg.norm(foot) * math.cos(math.pi / self.n_poles - math.atan2(foot[1], foot[0]))
        )

    def shoe_tip_points(self) -> np.ndarray:
        """The +y shoe tip's upper and lower corners [m]."""
        y = self.shoe_width / 2
        return np.array([[self.shoe_tip_x, y], [self.shoe_bottom_x, y]])

    def pole_outline(self) -> dict:
        """Key points of the +y half of a pole (for the builder) [m]."""
        return {
            "top": np.array([self.outer_radius, 0.0]),
            "tip_top": np.array([self.shoe_tip_x, self.shoe_width / 2]),
            "tip_bottom": np.array([self.shoe_bottom_x, self.shoe_width / 2]),
            "neck": np.array([self.shoe_bottom_x, self.body_width / 2]),
            "foot": np.array([self.body_foot_x, self.body_width / 2]),
        }

    def coil_polygon(self) -> np.ndarray:
        """The +y field-coil side of pole 0, counter-clockwise [m]."""
        y0 = self.body_width / 2 + self.coil_gap_body
        x1 = self.shoe_bottom_x - self.coil_gap_shoe
        x0 = self.body_foot_x
        rect = np.array(
            [[x0, y0], [x1, y0], [x1, y0 + self.coil_width], [x0, y0 + self.coil_width]]
        )
        half = math.pi / self.n_poles
        # interpolar axis at angle `half`: keep points with n.x <= -clearance where n is
        # the outward normal of that axis line (pointing to the neighbouring pole)
        normal = np.array([-math.sin(half), math.cos(half)])
        poly = clip_polygon_halfplane(rect, normal, -self.coil_clearance)
        # the hub chord between body feet bounds the coil from below
        foot = np.array([self.body_foot_x, self.body_width / 2])
        nfoot = rotate((foot * np.array([1, -1]))[None, :], 2 * half)[0]
        edge = nfoot - foot
        inward = np.array([edge[1], -edge[0]])  # points away from the origin side? check sign
        if inward @ (-foot) > 0:
            inward = -inward
        # keep points on the far side of the chord from the origin: -inward . (x - foot) <= 0
        poly = clip_polygon_halfplane(poly, -inward, float(-inward @ foot))
        return poly

    def coil_area(self) -> float:
        """Area of one field-coil side [m^2]."""
        return polygon_area(self.coil_polygon())

    @property
    def field_fill_factor(self) -> float:
        return self.field_turns * self.field_conductor_area / self.coil_area()


@dataclass(frozen=True)
class VMagnetRotor:
    """Interior permanent-magnet rotor with two rectangular magnets per pole in a V.

    Geometry of the +y magnet of pole 0 (pole axis along x) [m]: the hole's inner bottom
    corner sits at ``x = outer_radius - apex_depth`` on the line ``y = web_width/2``; the
    hole's long axis is tilted by ``tilt`` [rad] from the y axis towards the rotor surface
    (V included angle = pi - 2 tilt). Along the hole's bottom face the magnet starts at
    ``magnet_offset`` and is ``magnet_width`` long and ``magnet_thickness`` thick; the hole
    continues ``outer_pocket`` beyond the magnet (air). Magnetisation is normal to the long
    face, outward (towards the airgap) on north poles.
    """

    KIND = "v_magnet"
    source: str
    n_poles: int
    outer_radius: float = unit_field("mm")
    shaft_radius: float = unit_field("mm")
    apex_depth: float = unit_field("mm")
    web_width: float = unit_field("mm")
    tilt: float = unit_field("deg")
    magnet_width: float = unit_field("mm")
    magnet_thickness: float = unit_field("mm")
    magnet_offset: float = unit_field("mm")
    outer_pocket: float = unit_field("mm")
    min_bridge: float = unit_field("mm", 0.5e-3)
    stacking_factor: float = 0.95
    material: str = "m19_29ga"
    magnet_material: str = "ndfeb_prius"
    shaft_material: str = "steel_1010_femm"
    pole_axis_offset: float = unit_field("deg", 0.0)
    #: remanence [T] at the magnet material's reference temperature, when the design states
    #: its own (e.g. a calibrated value, see ``[calibration]``); None: the material's value
    magnet_remanence: float | None = unit_field("T", None)

    def __post_init__(self):
        w = "rotor"
        if not isinstance(self.n_poles, int) or self.n_poles < 2 or self.n_poles % 2:
            raise DesignError(f"{w}.n_poles", self.n_poles, "must be an even integer >= 2")
        if self.magnet_remanence is not None and not (
            math.isfinite(self.magnet_remanence) and 0.1 <= self.magnet_remanence <= 1.6
        ):  # 1.6 T: above any sintered NdFeB grade (N55 about 1.5 T at 20 degC)
            raise DesignError(
                f"{w}.magnet_remanence_T", self.magnet_remanence, "must be in [0.1, 1.6] T"
            )
        _positive(
            w,
            outer_radius_mm=self.outer_radius * 1e3,
            shaft_radius_mm=self.shaft_radius * 1e3,
            apex_depth_mm=self.apex_depth * 1e3,
            magnet_width_mm=self.magnet_width * 1e3,
            magnet_thickness_mm=self.magnet_thickness * 1e3,
        )
        _non_negative(
            w,
            web_width_mm=self.web_width * 1e3,
            outer_pocket_mm=self.outer_pocket * 1e3,
            magnet_offset_mm=self.magnet_offset * 1e3,
        )
        if not (0 <= self.tilt < math.pi / 2):
            raise DesignError(f"{w}.tilt_deg", math.degrees(self.tilt), "must be in [0, 90) deg")
        if not (0 < self.stacking_factor <= 1):
            raise DesignError(f"{w}.stacking_factor", self.stacking_factor, "must be in (0, 1]")
        if self.web_width <= 0:
            raise DesignError(
                f"{w}.web_width_mm",
                self.web_width * 1e3,
                "the two magnets of a pole overlap: needs a web > 0",
            )
        min_offset = self.magnet_thickness * math.tan(self.tilt)
        if self.magnet_offset < min_offset - 1e-12:
            raise DesignError(
                f"{w}.magnet_offset_mm",
                self.magnet_offset * 1e3,
                f"magnet crosses the pole's centre web; must be >= thickness * tan(tilt) = {min_offset * 1e3:.3f} mm",
            )
        hole = self.hole_polygon()
        r = np.linalg.norm(hole, axis=1)
        bridge = self.outer_radius - r.max()
        if bridge < self.min_bridge:
            raise DesignError(
                f"{w}.apex_depth_mm",
                self.apex_depth * 1e3,
                f"magnet hole reaches the rotor surface: bridge {bridge * 1e3:.3f} mm < min_bridge {self.min_bridge * 1e3:.3f} mm",
            )
        if r.min() <= self.shaft_radius:
            raise DesignError(
                f"{w}.shaft_radius_mm", self.shaft_radius * 1e3, "magnet hole reaches the shaft"
            )
        neighbour = rotate(hole * np.array([1, -1]), self.pole_pitch)
        if polygons_overlap(hole, neighbour):
            raise DesignError(
                f"{w}.magnet_width_mm",
                self.magnet_width * 1e3,
                "magnet holes of neighbouring poles overlap",
            )

    @property
    def pole_pitch(self) -> float:
        return 2 * math.pi / self.n_poles

    def _frame(self):
        u = np.array([math.sin(self.tilt), math.cos(self.tilt)])  # along the magnet
        n = np.array([math.cos(self.tilt), -math.sin(self.tilt)])  # towards the surface
        q0 = np.array([self.outer_radius - self.apex_depth, self.web_width / 2])
        return q0, u, n

    def hole_polygon(self) -> np.ndarray:
        """The +y hole (air pocket and magnet) of pole 0, counter-clockwise [m]."""
        q0, u, n = self._frame()
        t = self.magnet_thickness
        length = self.magnet_offset + self.magnet_width + self.outer_pocket
        a = q0
        b = q0 + length * u
        c = b + t * n
        d = q0 + t * n + t * math.tan(self.tilt) * u
        poly = np.array([a, b, c, d])
        return poly if polygon_area(poly) > 0 else poly[::-1]

    def magnet_polygon(self) -> np.ndarray:
        """The +y magnet of pole 0, counter-clockwise [m]."""
        q0, u, n = self._frame()
        a = q0 + self.magnet_offset * u
        b = a + self.magnet_width * u
        poly = np.array([a, b, b + self.magnet_thickness * n, a + self.magnet_thickness * n])
        return poly if polygon_area(poly) > 0 else poly[::-1]

    def magnet_direction(self) -> np.ndarray:
        """Unit magnetisation of pole 0's +y magnet (north pole: outward) [-]."""
        return self._frame()[2]

    def magnet_area(self) -> float:
        return self.magnet_width * self.magnet_thickness


Rotor = SalientPoleRotor | VMagnetRotor
