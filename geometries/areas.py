"""Closed-form region areas of a design, independent of gmsh (the reference for mesh checks).

Every area is computed from the design's dimensions with elementary formulas (annuli,
annular sectors, trapezoids, semicircles, rectangles, shoelace polygons and circular
segments), not from the builder's curves, so a builder error shows up as a mismatch.
"""

from __future__ import annotations

import math

import numpy as np

from geometries import names
from pipeline.design import Design
from pipeline.rotors import SalientPoleRotor
from pipeline.shapes import annulus_area, circular_segment_area, polygon_area

__all__ = ["analytic_areas"]


def _layer_areas(design: Design) -> list[float]:
    slot, w = design.stator.slot, design.winding
    h = slot.straight_height / w.n_layers

    def width(x):
        return slot.width_top + (slot.width_bottom - slot.width_top) * x / slot.straight_height

    out = []
    for i in range(w.n_layers):
        a = 0.5 * (width(i * h) + width((i + 1) * h)) * h
        if slot.round_bottom and i == w.n_layers - 1:
            a += math.pi * (slot.width_bottom / 2) ** 2 / 2
        out.append(a)
    return out


def _salient_iron_area(rotor: SalientPoleRotor) -> float:
    o = rotor.pole_outline()
    flip = np.array([1.0, -1.0])
    pts = []
    for k in range(rotor.n_poles):
        a = (k + 0.5) * rotor.pole_pitch
        c, s = math.cos(a), math.sin(a)
        rot = np.array([[c, s], [-s, c]])
        for key in ("foot", "neck", "tip_bottom", "tip_top"):
            pts.append((o[key] * flip) @ rot)
        for key in ("tip_top", "tip_bottom", "neck", "foot"):
            pts.append(o[key] @ rot)
    chord_poly = polygon_area(np.array(pts))
    half = math.asin(rotor.shoe_width / 2 / rotor.shoe_radius)
    arcs = rotor.n_poles * circular_segment_area(rotor.shoe_radius, half)
    return chord_poly + arcs - math.pi * rotor.shaft_radius**2


def analytic_areas(design: Design, n_sectors: int = 1) -> dict[str, float]:
    """Area [m^2] per region kind for one of ``n_sectors`` sectors (1 = full machine).

    Keys: ``slot_opening``, ``coil`` (all stator coil sides), ``copper`` (conductor area
    for hairpins, coil area for stranded), ``slot_liner``, ``airgap_band``,
    ``airgap_stator``, ``airgap_rotor``, ``housing``, ``coolant``, ``shaft``, ``magnet``,
    ``field`` (field-coil sides), ``rotor_core``.
    """
    st, w, rotor, hs = design.stator, design.winding, design.rotor, design.housing
    r_ro, g = rotor.outer_radius, design.airgap
    r_sl, r_bo = r_ro + g / 3, r_ro + 2 * g / 3
    slot = st.slot
    q = st.n_slots
    out: dict[str, float] = {}
    out[names.SLOT_OPENING] = q * (slot.opening_area(st.bore_radius) + slot.wedge_area())
    layers = _layer_areas(design)
    if w.conductor == "hairpin":
        bars = w.n_layers * w.turns_per_coil * w.bar_width * w.bar_height
        out["coil"] = q * bars
        out["copper"] = q * bars
        out[names.SLOT_LINER] = q * (slot.body_area() - bars)
    else:
        out["coil"] = q * sum(layers)
        out["copper"] = out["coil"]
    out[names.AIRGAP_BAND] = annulus_area(r_sl, r_bo)
    out[names.AIRGAP_STATOR] = annulus_area(r_bo, st.bore_radius)
    channels = hs.n_channels * hs.channel_area()
    out["coolant"] = channels
    out[names.HOUSING] = annulus_area(st.outer_radius, hs.outer_radius) - channels
    out[names.SHAFT] = math.pi * rotor.shaft_radius**2
    if isinstance(rotor, SalientPoleRotor):
        iron = _salient_iron_area(rotor)
        field = 2 * rotor.n_poles * rotor.coil_area()
        out["field"] = field
        out[names.ROTOR_CORE] = iron
        out[names.AIRGAP_ROTOR] = math.pi * r_sl**2 - iron - field - out[names.SHAFT]
    else:
        magnets = 2 * rotor.n_poles * rotor.magnet_area()
        pockets = 2 * rotor.n_poles * polygon_area(rotor.hole_polygon()) - magnets
        out["magnet"] = magnets
        out[names.ROTOR_POCKET] = pockets
        out[names.AIRGAP_ROTOR] = annulus_area(r_ro, r_sl)
        out[names.ROTOR_CORE] = annulus_area(rotor.shaft_radius, r_ro) - magnets - pockets
    stator_total = annulus_area(st.bore_radius, st.outer_radius)
    slot_total = q * slot.area(st.bore_radius)
    out[names.STATOR_CORE] = stator_total - slot_total
    return {k: v / n_sectors for k, v in out.items()}


def mesh_area_by_kind(areas: dict[str, float]) -> dict[str, float]:
    """Sum mesh region areas into the kinds used by :func:`analytic_areas`."""
    out: dict[str, float] = {}
    for name, a in areas.items():
        if name.startswith("coil_"):
            kind = "coil"
        elif name.startswith("field_"):
            kind = "field"
        elif name.startswith("magnet_"):
            kind = "magnet"
        elif name.startswith("coolant_"):
            kind = "coolant"
        else:
            kind = name
        out[kind] = out.get(kind, 0.0) + a
    return out
