"""Interior permanent-magnet rotor (IPM) with two rectangular magnets per pole in a V.

Plane geometry of one pole in its own frame (pole axis along x); the builder's regions
(:meth:`VMagnetRotor.add_regions`) and the closed-form areas use the same polygons.
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
from pipeline.shapes import annulus_area, polygon_area, polygons_overlap, rotate

__all__ = ["VMagnetRotor"]


@register_topology
@dataclass(frozen=True)
class VMagnetRotor(RotorTopology):
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
    LABEL = "ipm"
    HAS_MAGNETS = True
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
        self.check_poles(w)
        if self.magnet_remanence is not None and not (
            math.isfinite(self.magnet_remanence) and 0.1 <= self.magnet_remanence <= 1.6
        ):  # 1.6 T: above any sintered NdFeB grade (N55 about 1.5 T at 20 degC)
            raise DesignError(
                f"{w}.magnet_remanence_T", self.magnet_remanence, "must be in [0.1, 1.6] T"
            )
        check_positive(
            w,
            outer_radius_mm=self.outer_radius * 1e3,
            shaft_radius_mm=self.shaft_radius * 1e3,
            apex_depth_mm=self.apex_depth * 1e3,
            magnet_width_mm=self.magnet_width * 1e3,
            magnet_thickness_mm=self.magnet_thickness * 1e3,
        )
        check_non_negative(
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

    # --- what the rest of the pipeline asks (RotorTopology) ---------------------------
    def add_regions(self, canvas: Canvas, poles: range, info: dict) -> None:
        canvas.add("rotor", names.ROTOR_CORE, canvas.disk(self.outer_radius))
        flip = np.array([1.0, -1.0])
        hole, magnet, direction = (
            self.hole_polygon(),
            self.magnet_polygon(),
            self.magnet_direction(),
        )
        mags = {}
        for k in poles:
            a = self.pole_angle(k)
            polarity = 1 if k % 2 == 0 else -1
            for i, m in enumerate((flip, np.array([1.0, 1.0]))):
                h = hole * m if i == 0 else hole
                g = magnet * m if i == 0 else magnet
                canvas.add(
                    "pocket", names.ROTOR_POCKET, canvas.polygon(rotate(h if i else h[::-1], a))
                )
                label = names.magnet_name(k, i)
                canvas.add("magnet", label, canvas.polygon(rotate(g if i else g[::-1], a)))
                d = rotate((direction * m)[None, :], a)[0] * polarity
                mags[label] = {"pole": k, "direction": [float(d[0]), float(d[1])]}
        info["magnets"] = mags

    def material_names(self) -> dict[str, str]:
        return {"rotor.magnet_material": self.magnet_material}

    def thermal_regions(self, field_side_area: float, params) -> dict[str, tuple[float, float]]:
        mag = load_material(self.magnet_material)
        return {"magnets": (mag.thermal_conductivity, mag.density * mag.specific_heat)}

    def areas(self) -> dict[str, float]:
        """Magnets: width x thickness, two per pole; pockets: the holes minus the magnets;
        iron: the annulus between shaft and outer radius minus both."""
        magnets = 2 * self.n_poles * self.magnet_area()
        pockets = 2 * self.n_poles * polygon_area(self.hole_polygon()) - magnets
        core = annulus_area(self.shaft_radius, self.outer_radius) - magnets - pockets
        return {"magnet": magnets, "rotor_pocket": pockets, "rotor_core": core}
