"""Parametric gmsh (OpenCASCADE) builder of a machine cross-section.

``build(design, settings, path)`` writes an MSH 4.1 mesh of the full machine or of its
smallest (anti-)periodic sector and returns the metadata the solvers need (sector angle,
boundary pairs, sliding-interface radius and node count, magnetisation directions, coil
sides). Regions are primitives with a priority; after one OCC ``fragment`` each piece takes
the name of the highest-priority primitive that covers it, so overlapping primitives (the
bore disk over the slot openings, magnets inside their pockets) need no booleans of their own.

Frames: stator slot k is centred at ``(k + 1/2) 2 pi / Q``; rotor pole k's axis lies at
``(k + 1/2) 2 pi / P`` in the rotor frame, so sector cuts at 0 and at the sector angle pass
through stator tooth centres and rotor interpolar axes. Pole k is a north pole for even k.

With q = Q / (6 p) whole the stator side is cut at every q-th tooth centre and meshed as
copies of its first piece, so the stator mesh is periodic under pi/3 electrical (the
sixth-period map of :mod:`pipeline.em.sixfold` is then a node permutation).
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import gmsh
import numpy as np

from geometries import names
from geometries.settings import MeshSettings
from pipeline.design import Design
from pipeline.errors import MeshError
from pipeline.shapes import rotate
from pipeline.winding import winding_layout

__all__ = ["build", "gmsh_session", "airgap_radii", "interface_segments"]

log = logging.getLogger(__name__)

# priorities: the most specific region wins where primitives overlap
_P_MAGNET, _P_FIELD, _P_SHAFT, _P_POCKET, _P_ROTOR = 100, 95, 85, 90, 80
_P_SLIDE, _P_BAND, _P_BORE = 70, 60, 50
_P_COIL, _P_LINER, _P_OPENING = 45, 44, 43
_P_STATOR, _P_CHANNEL, _P_HOUSING = 30, 20, 10


@contextlib.contextmanager
def gmsh_session(name: str = "model"):
    """Initialise gmsh, yield, and always finalise (gmsh keeps global state)."""
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.model.add(name)
        yield
    finally:
        gmsh.finalize()


def airgap_radii(design: Design) -> dict[str, float]:
    """Radii [m] of the airgap layers: rotor | sliding interface | band | stator."""
    r_ro, g = design.rotor.outer_radius, design.airgap
    return {
        "rotor": r_ro,
        "sliding": r_ro + g / 3,
        "band_outer": r_ro + 2 * g / 3,
        "bore": design.stator.bore_radius,
    }


def interface_segments(design: Design, settings: MeshSettings) -> tuple[int, float]:
    """(segments per electrical period on the sliding interface, tangential airgap size [m])."""
    r = airgap_radii(design)["sliding"]
    target = settings.gap_aspect * design.airgap / settings.gap_layers
    per_period = 2 * math.pi * r / design.pole_pairs / target
    m = settings.positions_multiple
    n = max(m, int(math.ceil(per_period / m)) * m)
    return n, 2 * math.pi * r / design.pole_pairs / n


@dataclass
class _Model:
    prims: list = field(default_factory=list)  # (priority, label, (2, tag))

    def add(self, priority: int, label: str, tag: int) -> None:
        self.prims.append((priority, label, (2, tag)))


def _surface(path: list[tuple[np.ndarray, np.ndarray | None]]) -> int:
    """Plane surface bounded by ``path``: (vertex, arc centre of the edge to the next or None)."""
    occ = gmsh.model.occ
    pts = [occ.addPoint(float(p[0]), float(p[1]), 0.0) for p, _ in path]
    curves = []
    for i, (_, centre) in enumerate(path):
        a, b = pts[i], pts[(i + 1) % len(pts)]
        if centre is None:
            curves.append(occ.addLine(a, b))
        else:
            c = occ.addPoint(float(centre[0]), float(centre[1]), 0.0)
            curves.append(occ.addCircleArc(a, c, b))
    return occ.addPlaneSurface([occ.addCurveLoop(curves)])


def _polygon(points: np.ndarray) -> int:
    return _surface([(p, None) for p in points])


def _disk(r: float, cx: float = 0.0, cy: float = 0.0) -> int:
    return gmsh.model.occ.addDisk(cx, cy, 0.0, r, r)


def _annular_sector(r0: float, r1: float, a0: float, a1: float) -> int:
    o = np.zeros(2)

    def pt(r, a):
        return np.array([r * math.cos(a), r * math.sin(a)])

    return _surface([(pt(r0, a0), None), (pt(r1, a0), o), (pt(r1, a1), None), (pt(r0, a1), o)])


def _wedge(radius: float, angle: float) -> int:
    o = np.zeros(2)
    mid = angle / 2
    pts = [np.array([radius * math.cos(a), radius * math.sin(a)]) for a in (0.0, mid, angle)]
    return _surface([(o, None), (pts[0], o), (pts[1], o), (pts[2], None)])


# --- stator -------------------------------------------------------------------------------
def _slot_local(design: Design) -> dict:
    """Slot parts in the slot's frame (x radial from the centre, y tangential) [m]."""
    st, slot, w = design.stator, design.stator.slot, design.winding
    r = st.bore_radius
    x_open = r + slot.opening_height
    x_top = x_open + slot.wedge_height
    x_str = x_top + slot.straight_height
    a0 = slot.opening_width / 2
    inner = r * math.cos(math.asin(a0 / r)) - 0.2 * design.airgap
    parts = {"opening": [np.array([[inner, -a0], [x_open, -a0], [x_open, a0], [inner, a0]])]}
    if slot.wedge_height > 0:
        wt = slot.width_top / 2
        parts["wedge"] = [np.array([[x_open, -a0], [x_top, -wt], [x_top, wt], [x_open, a0]])]

    def width(x):
        return (
            slot.width_top
            + (slot.width_bottom - slot.width_top) * (x - x_top) / slot.straight_height
        )

    def band(x0, x1, bottom_round):
        w0, w1 = width(x0) / 2, width(x1) / 2
        path = [(np.array([x0, -w0]), None), (np.array([x1, -w1]), None)]
        if bottom_round:
            c = np.array([x1, 0.0])
            path = [
                (np.array([x0, -w0]), None),
                (np.array([x1, -w1]), c),
                (np.array([x1 + w1, 0.0]), c),
                (np.array([x1, w1]), None),
                (np.array([x0, w0]), None),
            ]
        else:
            path += [(np.array([x1, w1]), None), (np.array([x0, w0]), None)]
        return path

    if w.conductor == "stranded":
        edges = np.linspace(x_top, x_str, w.n_layers + 1)
        parts["layers"] = [
            band(edges[i], edges[i + 1], slot.round_bottom and i == w.n_layers - 1)
            for i in range(w.n_layers)
        ]
    else:
        parts["liner"] = band(x_top, x_str, slot.round_bottom)
        bars = []
        x = x_top + w.bar_gap
        for _layer in range(w.n_layers):
            layer = []
            for _turn in range(w.turns_per_coil):
                hw = w.bar_width / 2
                layer.append(
                    np.array([[x, -hw], [x + w.bar_height, -hw], [x + w.bar_height, hw], [x, hw]])
                )
                x += w.bar_height + w.bar_gap
            bars.append(layer)
        parts["bars"] = bars
    return parts


def _add_stator(model: _Model, design: Design, slots: range, info: dict) -> None:
    layout = winding_layout(design)
    parts = _slot_local(design)
    coils = {}
    for k in slots:
        ang = design.stator.slot_angle(k)
        for poly in parts["opening"] + parts.get("wedge", []):
            model.add(_P_OPENING, names.SLOT_OPENING, _polygon(rotate(poly, ang)))
        for layer in range(design.winding.n_layers):
            label = names.coil_name(k, layer, layout.label(k, layer))
            coils[label] = {
                "slot": k,
                "layer": layer,
                "phase": int(layout.phase[k, layer]),
                "sign": int(layout.sign[k, layer]),
            }
            if design.winding.conductor == "stranded":
                path = [
                    (rotate(p[None, :], ang)[0], None if c is None else rotate(c[None, :], ang)[0])
                    for p, c in parts["layers"][layer]
                ]
                model.add(_P_COIL, label, _surface(path))
            else:
                for bar in parts["bars"][layer]:
                    model.add(_P_COIL, label, _polygon(rotate(bar, ang)))
        if design.winding.conductor == "hairpin":
            path = [
                (rotate(p[None, :], ang)[0], None if c is None else rotate(c[None, :], ang)[0])
                for p, c in parts["liner"]
            ]
            model.add(_P_LINER, names.SLOT_LINER, _surface(path))
    info["coils"] = coils


# --- rotors -------------------------------------------------------------------------------
class _Canvas:
    """What a rotor topology draws with (:class:`pipeline.rotors.base.Canvas`)."""

    PRIORITY = {"magnet": _P_MAGNET, "field": _P_FIELD, "pocket": _P_POCKET, "rotor": _P_ROTOR}

    def __init__(self, model: _Model):
        self._model = model

    def polygon(self, points: np.ndarray) -> int:
        return _polygon(points)

    def surface(self, path: list) -> int:
        return _surface(path)

    def disk(self, radius: float) -> int:
        return _disk(radius)

    def add(self, kind: str, label: str, tag: int) -> None:
        if kind not in self.PRIORITY:
            raise MeshError(f"rotor region kind {kind!r}: must be one of {sorted(self.PRIORITY)}")
        self._model.add(self.PRIORITY[kind], label, tag)


# --- assembly -----------------------------------------------------------------------------
def _classify_curves(design: Design, radii: dict, sector_angle: float | None, scale: float) -> dict:
    groups: dict[str, list[int]] = {}
    tol = 1e-7 * scale
    for _, c in gmsh.model.getEntities(1):
        lo, hi = gmsh.model.getParametrizationBounds(1, c)
        t = np.linspace(lo[0], hi[0], 5)
        xyz = np.array(gmsh.model.getValue(1, c, t)).reshape(-1, 3)
        rr = np.hypot(xyz[:, 0], xyz[:, 1])
        ang = np.arctan2(xyz[:, 1], xyz[:, 0])
        for label, radius in (
            (names.OUTER_BOUNDARY, design.housing.outer_radius),
            (names.SLIDING_INTERFACE, radii["sliding"]),
            (names.STATOR_OUTER, design.stator.outer_radius),
        ):
            if np.all(np.abs(rr - radius) < tol):
                groups.setdefault(label, []).append(c)
        if sector_angle is not None:
            side = "rotor" if rr.mean() < radii["sliding"] else "stator"
            pos = rr > tol
            if np.all(np.abs(ang[pos]) < 1e-9):
                groups.setdefault(names.PERIODIC[side][0], []).append(c)
            elif np.all(np.abs(np.mod(ang[pos], 2 * math.pi) - sector_angle) < 1e-9):
                groups.setdefault(names.PERIODIC[side][1], []).append(c)
    return groups


def build(design: Design, settings: MeshSettings, path: str | Path) -> dict:
    """Build and mesh ``design``; write MSH 4.1 to ``path``; return the metadata."""
    n_sectors, anti = design.symmetry if settings.sector else (1, False)
    sector_angle = 2 * math.pi / n_sectors if n_sectors > 1 else None
    st, rotor, hs = design.stator, design.rotor, design.housing
    radii = airgap_radii(design)
    n_period, s_gap = interface_segments(design, settings)
    n_iface = n_period * design.pole_pairs // n_sectors
    slots = range(st.n_slots // n_sectors)
    poles = range(rotor.n_poles // n_sectors)
    channels = range(hs.n_channels // n_sectors)
    info: dict = {
        "n_sectors": n_sectors,
        "antiperiodic": bool(anti),
        "sector_angle": 2 * math.pi / n_sectors,
        "radii": radii,
        "interface_segments": n_iface,
        "interface_segments_per_period": n_period,
    }
    with gmsh_session(design.name):
        occ = gmsh.model.occ
        model = _Model()
        model.add(_P_HOUSING, names.HOUSING, _disk(hs.outer_radius))
        pitch = 2 * math.pi / hs.n_channels
        for k in channels:
            a = (k + 0.5) * pitch
            model.add(
                _P_CHANNEL,
                names.coolant_name(k),
                _annular_sector(
                    hs.channel_inner_radius,
                    hs.channel_inner_radius + hs.channel_height,
                    a - hs.channel_angle / 2,
                    a + hs.channel_angle / 2,
                ),
            )
        model.add(_P_STATOR, names.STATOR_CORE, _disk(st.outer_radius))
        model.add(_P_BORE, names.AIRGAP_STATOR, _disk(radii["bore"]))
        model.add(_P_BAND, names.AIRGAP_BAND, _disk(radii["band_outer"]))
        model.add(_P_SLIDE, names.AIRGAP_ROTOR, _disk(radii["sliding"]))
        model.add(_P_SHAFT, names.SHAFT, _disk(rotor.shaft_radius))
        _add_stator(model, design, slots, info)
        rotor.add_regions(_Canvas(model), poles, info)
        occ.synchronize()
        prims = model.prims
        if sector_angle is not None:
            wedge = _wedge(1.5 * hs.outer_radius, sector_angle)
            kept = []
            for prio, label, dt in prims:
                out, _ = occ.intersect([dt], [(2, wedge)], removeObject=True, removeTool=False)
                kept += [(prio, label, o) for o in out]
            occ.remove([(2, wedge)], recursive=True)
            prims = kept
        n_pieces = _stator_pieces(design, len(slots))
        if n_pieces > 1:
            # the housing too if its cooling channels repeat every piece (else it stays one
            # surface, so the channels keep their shape and the cuts end at the stator)
            lowest = _P_HOUSING if hs.n_channels % (n_pieces * n_sectors) == 0 else _P_STATOR
            prims = _cut_stator_side(prims, radii["sliding"], 1.5 * hs.outer_radius, n_pieces,
                                     2 * math.pi / n_sectors, lowest)  # fmt: skip
        dimtags = [dt for _, _, dt in prims]
        _, outmap = occ.fragment(dimtags[:1], dimtags[1:])
        occ.synchronize()
        owner: dict[int, tuple[int, str]] = {}
        for (prio, label, _), pieces in zip(prims, outmap, strict=True):
            for _, tag in pieces:
                if tag not in owner or owner[tag][0] < prio:
                    owner[tag] = (prio, label)
        regions: dict[str, list[int]] = {}
        for tag, (_, label) in owner.items():
            regions.setdefault(label, []).append(tag)
        for label, tags in sorted(regions.items()):
            gmsh.model.addPhysicalGroup(2, sorted(set(tags)), name=label)
        curves = _classify_curves(design, radii, sector_angle, hs.outer_radius)
        for k in channels:
            tags = regions.get(names.coolant_name(k), [])
            bnd = gmsh.model.getBoundary([(2, t) for t in tags], oriented=False)
            curves[names.coolant_wall_name(k)] = [abs(t) for _, t in bnd]
        for label, tags in sorted(curves.items()):
            gmsh.model.addPhysicalGroup(1, sorted(set(tags)), name=label)
        missing = [n for n in (names.OUTER_BOUNDARY, names.SLIDING_INTERFACE) if n not in curves]
        if missing:
            raise MeshError(f"{design.name}: boundary curves not found: {missing}")
        sliding = curves[names.SLIDING_INTERFACE]
        if len(sliding) != max(n_pieces, 1) or n_iface % len(sliding):
            raise MeshError(
                f"{design.name}: the sliding interface is split into {len(sliding)} curves "
                f"({max(n_pieces, 1)} expected, {n_iface} segments to share)"
            )
        for c in sliding:
            gmsh.model.mesh.setTransfiniteCurve(c, n_iface // len(sliding) + 1)
        if sector_angle is not None:
            _set_periodic(curves, sector_angle)
        if n_pieces > 1:
            info["stator_periodic_faces"] = _set_stator_periodic(
                radii["sliding"], n_pieces, 2 * math.pi / n_sectors / n_pieces, hs.outer_radius
            )
        s_core = 2 * math.pi * st.bore_radius / st.n_slots / settings.slot_pitch_divisions
        fid = gmsh.model.mesh.field.add("MathEval")
        expr = (
            f"min({s_core:.9g}, {s_gap:.9g} + {settings.growth:.9g}"
            f"*abs(sqrt(x*x+y*y) - {radii['sliding']:.9g}))"
        )
        gmsh.model.mesh.field.setString(fid, "F", expr)
        gmsh.model.mesh.field.setAsBackgroundMesh(fid)
        for opt, val in (
            ("Mesh.MeshSizeFromPoints", 0),
            ("Mesh.MeshSizeFromCurvature", settings.curvature_divisions),
            ("Mesh.MeshSizeExtendFromBoundary", 0),
            ("Mesh.Algorithm", 6),
            ("Mesh.MshFileVersion", 4.1),
        ):
            gmsh.option.setNumber(opt, val)
        gmsh.model.mesh.generate(2)
        gmsh.write(str(path))
        info["regions"] = sorted(regions)
        info["boundaries"] = sorted(curves)
    return info


def _stator_pieces(design: Design, slots_in_mesh: int) -> int:
    """Pieces of q = Q / (6 p) slot pitches (pi/3 el.) the stator side is cut into, 0 if q
    is not a whole number (no sixth-period symmetry)."""
    q2 = 6 * design.pole_pairs
    if design.stator.n_slots % q2:
        return 0
    q = design.stator.n_slots // q2
    return slots_in_mesh // q if slots_in_mesh % q == 0 else 0


def _cut_stator_side(
    prims: list, r_in: float, r_out: float, n: int, span: float, lowest: int
) -> list:
    """Split every stator-side primitive (priority from ``lowest`` up to the torque band's)
    into ``n`` annular wedges of ``span / n`` between ``r_in`` (the sliding radius) and
    ``r_out``, so that the stator side is ``n`` congruent pieces the mesher can copy
    (:func:`_set_stator_periodic`). The rotor side (inside the sliding radius) stays whole."""
    occ = gmsh.model.occ
    w = span / n
    wedges = [_annular_sector(r_in, r_out, j * w, (j + 1) * w) for j in range(n)]
    kept = []
    for prio, label, dt in prims:
        if not lowest <= prio <= _P_BAND:
            kept.append((prio, label, dt))
            continue
        out, _ = occ.intersect([dt], [(2, t) for t in wedges], removeObject=True,
                               removeTool=False)  # fmt: skip
        kept += [(prio, label, o) for o in out]
    occ.remove([(2, t) for t in wedges], recursive=True)
    return kept


def _set_stator_periodic(r_in: float, n: int, w: float, scale: float) -> int:
    """Make the mesh of every stator-side surface of piece j (angle j w .. (j + 1) w) a copy
    of its congruent surface in piece 0 turned by j w, so the stator mesh is periodic under
    a turn of w (pi/3 el.) and the sixth-period map is a node permutation
    (:mod:`pipeline.em.sixfold`). Surfaces without a congruent partner (cooling channels that
    do not repeat every pi/3 el.) are meshed freely. Returns the number of copied surfaces."""
    tol = 1e-7 * scale
    faces = []
    for _, f in gmsh.model.getEntities(2):
        x, y, _z = gmsh.model.occ.getCenterOfMass(2, f)
        r, a = math.hypot(x, y), math.atan2(y, x) % (2 * math.pi)
        if r > r_in:
            faces.append((f, r, a, gmsh.model.occ.getMass(2, f)))
    base = [(f, r, a, m) for f, r, a, m in faces if a < w]
    copied = 0
    for f, r, a, m in faces:
        j = int(a // w)
        if j < 1 or j >= n:
            continue
        for g, rg, ag, mg in base:
            if abs(rg - r) < tol and abs(r * (ag + j * w - a)) < tol and abs(mg - m) < 1e-7 * m:
                c, s = math.cos(j * w), math.sin(j * w)
                affine = [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
                gmsh.model.mesh.setPeriodic(2, [f], [g], affine)
                copied += 1
                break
    return copied


def _set_periodic(curves: dict, angle: float) -> None:
    c, s = math.cos(angle), math.sin(angle)
    affine = [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    for side in ("stator", "rotor"):
        master, slave = names.PERIODIC[side]
        m = curves.get(master, [])
        sl = curves.get(slave, [])
        if len(m) != len(sl):
            raise MeshError(
                f"periodic {side} boundary: {len(m)} master curves, {len(sl)} slave curves"
            )

        def key(tag):
            lo, hi = gmsh.model.getParametrizationBounds(1, tag)
            xyz = np.array(gmsh.model.getValue(1, tag, [(lo[0] + hi[0]) / 2])).reshape(-1, 3)
            return float(np.hypot(xyz[0, 0], xyz[0, 1]))

        for a, b in zip(sorted(m, key=key), sorted(sl, key=key), strict=True):
            gmsh.model.mesh.setPeriodic(1, [b], [a], affine)
