"""Salient-pole wound rotor (EESM): a concentrated field coil around each pole body.

Plane geometry of one pole in its own frame (pole axis along x); the builder's regions
(:meth:`SalientPoleRotor.add_regions`) and the closed-form areas use the same polygons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from geometries import names
from pipeline.errors import DesignError
from pipeline.io.tables import unit_field
from pipeline.materials import load_material
from pipeline.rotors.base import (
    Canvas,
    RotorTopology,
    check_non_negative,
    check_positive,
    register_topology,
)
from pipeline.shapes import (
    circular_segment_area,
    clip_polygon_halfplane,
    polygon_area,
    polygons_overlap,
    rotate,
)
from pipeline.thermal.correlations import rayleigh_square_array

__all__ = ["SalientPoleRotor"]


@register_topology
@dataclass(frozen=True)
class SalientPoleRotor(RotorTopology):
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
    LABEL = "eesm"
    HAS_FIELD_WINDING = True
    #: open interpolar spaces: deep axial grooves (Saari 1998, :class:`RotorTopology`)
    WINDAGE_ROUGHNESS = 2.5
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
        self.check_poles(w)
        check_positive(
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
        check_non_negative(
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

    # --- what the rest of the pipeline asks (RotorTopology) ---------------------------
    def add_regions(self, canvas: Canvas, poles: range, info: dict) -> None:
        o = self.pole_outline()
        flip = np.array([1.0, -1.0])
        centre = np.array([self.shoe_center, 0.0])
        path = []
        for k in range(self.n_poles):
            a = self.pole_angle(k)

            def r(p, a=a):
                return rotate(np.asarray(p)[None, :], a)[0]

            path += [
                (r(o["foot"] * flip), None),
                (r(o["neck"] * flip), None),
                (r(o["tip_bottom"] * flip), None),
                (r(o["tip_top"] * flip), r(centre)),
                (r(o["tip_top"]), None),
                (r(o["tip_bottom"]), None),
                (r(o["neck"]), None),
                (r(o["foot"]), None),
            ]
        canvas.add("rotor", names.ROTOR_CORE, canvas.surface(path))
        coil = self.coil_polygon()
        fields = {}
        for k in poles:
            a = self.pole_angle(k)
            polarity = 1 if k % 2 == 0 else -1
            for side, poly in ((+1, coil), (-1, (coil * flip)[::-1])):
                label = names.field_name(k, side * polarity)
                canvas.add("field", label, canvas.polygon(rotate(poly, a)))
                fields[label] = {"pole": k, "sign": side * polarity}
        info["field_coils"] = fields

    def material_names(self) -> dict[str, str]:
        return {"rotor.field_material": self.field_material}

    def thermal_regions(self, field_side_area: float, params) -> dict[str, tuple[float, float]]:
        """Field coils: Rayleigh's square array of the field conductors in resin at the fill
        of one meshed coil side (capped at 0.78, near the square array's packing limit)."""
        fcu = load_material(self.field_material)
        ff = min(self.field_turns * self.field_conductor_area / field_side_area, 0.78)
        k_f = float(
            rayleigh_square_array(fcu.thermal_conductivity, params.impregnation_conductivity, ff)
        )
        rho_c = ff * (fcu.density * fcu.specific_heat) + (1 - ff) * params.impregnation_rho_c
        return {"field": (k_f, rho_c)}

    def areas(self) -> dict[str, float]:
        """Iron: the chord polygon through the pole outlines plus the shoe-arc segments,
        minus the shaft disk; field: two coil sides per pole; rotor_air: the rest of the
        disk of ``outer_radius``."""
        o = self.pole_outline()
        flip = np.array([1.0, -1.0])
        pts = []
        for k in range(self.n_poles):
            a = (k + 0.5) * self.pole_pitch
            c, s = math.cos(a), math.sin(a)
            rot = np.array([[c, s], [-s, c]])
            for key in ("foot", "neck", "tip_bottom", "tip_top"):
                pts.append((o[key] * flip) @ rot)
            for key in ("tip_top", "tip_bottom", "neck", "foot"):
                pts.append(o[key] @ rot)
        chord_poly = polygon_area(np.array(pts))
        half = math.asin(self.shoe_width / 2 / self.shoe_radius)
        arcs = self.n_poles * circular_segment_area(self.shoe_radius, half)
        iron = chord_poly + arcs - math.pi * self.shaft_radius**2
        return {"rotor_core": iron, "field": 2 * self.n_poles * self.coil_area()}
