"""Closed-form region areas of a design, independent of gmsh (the reference for mesh checks).

Every area is computed from the design's dimensions with elementary formulas (annuli,
annular sectors, trapezoids, semicircles, rectangles, shoelace polygons and circular
segments), not from the builder's curves, so a builder error shows up as a mismatch.
"""

from __future__ import annotations

import math

from geometries import names
from pipeline.design import Design
from pipeline.shapes import annulus_area

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
    inside = rotor.areas()  # the topology's closed forms: rotor_core and its own regions
    out.update(inside)
    out[names.AIRGAP_ROTOR] = math.pi * r_sl**2 - out[names.SHAFT] - sum(inside.values())
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
