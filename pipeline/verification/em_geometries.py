"""Small gmsh (OpenCASCADE) geometries for the magnetostatic verification cases.

Used by :mod:`pipeline.verification.em_cases` (``edrive validate``) and by the tests.

Each builder runs gmsh inside :func:`gmsh_session` (always finalised), writes MSH 4.1 to a
temporary directory and loads it with ``skfem.MeshTri.load`` (physical groups become
``mesh.subdomains`` / ``mesh.boundaries``; meshio's ``gmsh:bounding_entities`` is not a
region and is dropped). Lengths in metres.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from pathlib import Path

import gmsh
import numpy as np
from scipy.spatial import cKDTree
from skfem import MeshTri

__all__ = [
    "M19_B",
    "M19_H",
    "gmsh_session",
    "round_conductor",
    "magnet_in_bore",
    "conductor_in_iron",
    "torque_benchmark",
    "pm_ring_sector",
    "replicate_sector",
    "TORQUE_BENCHMARK",
]

#: M-19 steel B-H table (B [T], H [A/m]). Source: FEMM 4.2 materials library
#: (``matlib.dat`` as shipped in github.com/Reoptimize-Systems/xfemm @ 35baec4c,
#: ``cfemm/femmcli/release/matlib.dat``), copied from reference-data femm_BH_M-19_Steel.csv.
M19_B = np.round(np.arange(0, 47) * 0.05, 2)
M19_H = np.array([
    0, 15.1207, 22.7183, 27.8427, 31.8714, 35.365, 38.6006, 41.7362, 44.874, 48.0878,
    51.4372, 54.9752, 58.753, 62.8236, 67.2453, 72.0844, 77.4201, 83.35, 89.9996, 97.5374,
    106.201, 116.348, 128.547, 143.765, 163.754, 191.868, 234.834, 306.51, 435.255, 674.912,
    1108.33, 1813.09, 2801.22, 4053.65, 5591.11, 7448.32, 9708.82, 12486.9, 16041.5,
    21249.4, 31313.5, 53589.4, 88477.5, 124329, 159969, 197752, 234025,
])  # fmt: skip

#: FEMM torque benchmark (femm.info/wiki/TorqueBenchmark; input file
#: ``cfemm/femmcli/test/femmcli_TorqueBenchmark.fem`` of xfemm @ 35baec4c). Numbers read
#: from that file (lengths there in cm, depth 2 cm): rectangular magnet 1 cm x 0.5 cm
#: centred at the origin, mu_r = 1, H_c = 1e6 A/m along +x; air inside a circle of radius
#: 1 cm; airgap-element band between radii 0.725 and 0.775 cm; exterior region
#: (Kelvin transformation, mu_r = 1, H_c = 5e6/pi A/m) that imposes a uniform field of
#: B_0 = MU_0 H_c / 2 = 1 T. Magnet moment m = H_c V = 1e6 A/m x 1e-6 m^3 = 1 A m^2, so the
#: torque is |m x B_0| = sin(theta) N m.
TORQUE_BENCHMARK = {
    "magnet_width": 0.01,
    "magnet_height": 0.005,
    "coercivity": 1e6,
    "depth": 0.02,
    "domain_radius": 0.01,
    "band_inner": 0.00725,
    "band_outer": 0.00775,
    "applied_flux_density": 1.0,
}


@contextlib.contextmanager
def gmsh_session(name: str = "model"):
    """Initialise gmsh quietly and always finalise it."""
    gmsh.initialize(interruptible=False)
    try:
        gmsh.option.setNumber("General.Terminal", 0)
        gmsh.option.setNumber("General.Verbosity", 0)
        gmsh.model.add(name)
        yield gmsh.model
    finally:
        gmsh.finalize()


def _mesh_and_load(h_max: float, h_min: float | None = None, order: int = 1) -> MeshTri:
    gmsh.option.setNumber("Mesh.MeshSizeMax", h_max)
    gmsh.option.setNumber("Mesh.MeshSizeMin", h_min if h_min is not None else 0.0)
    gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 1)
    gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 1)
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    gmsh.model.mesh.generate(2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mesh.msh"
        gmsh.write(str(path))
        mesh = MeshTri.load(str(path))
    bnd = {k: v for k, v in (mesh.boundaries or {}).items() if not k.startswith("gmsh:")}
    sub = {k: v for k, v in (mesh.subdomains or {}).items() if not k.startswith("gmsh:")}
    return MeshTri(mesh.p[:2], mesh.t, _boundaries=bnd, _subdomains=sub)


def _group(dim: int, tags: list[int], name: str) -> None:
    gmsh.model.addPhysicalGroup(dim, tags, name=name)


def _surfaces_by_radius(outer_radii: list[float], entities) -> list[list[int]]:
    """Group concentric surfaces by their outer radius (bounding box), one list per radius."""
    groups: list[list[int]] = [[] for _ in outer_radii]
    for dim, tag in entities:
        if dim != 2:
            continue
        x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(dim, tag)
        r = max(abs(x0), abs(x1), abs(y0), abs(y1))
        i = int(np.argmin(np.abs(np.asarray(outer_radii) - r)))
        groups[i].append(tag)
    return groups


def _curves_at_radius(radius: float, tol: float) -> list[int]:
    """Curves (circles or arcs centred at the origin) lying on the given radius."""
    out = []
    for dim, tag in gmsh.model.getEntities(1):
        lo, hi = gmsh.model.getParametrizationBounds(dim, tag)
        u = np.linspace(lo[0], hi[0], 7)
        xyz = np.reshape(gmsh.model.getValue(dim, tag, u), (-1, 3))
        if np.all(np.abs(np.hypot(xyz[:, 0], xyz[:, 1]) - radius) < tol):
            out.append(tag)
    return out


def round_conductor(a: float, r_out: float, h: float) -> MeshTri:
    """Conductor disk of radius a in an air disk of radius r_out; uniform size h [m].

    Subdomains 'conductor', 'air'; boundary 'outer_boundary'.
    """
    with gmsh_session("round_conductor"):
        occ = gmsh.model.occ
        c = occ.addDisk(0, 0, 0, a, a)
        o = occ.addDisk(0, 0, 0, r_out, r_out)
        occ.fragment([(2, o)], [(2, c)])
        occ.synchronize()
        cond, air = _surfaces_by_radius([a, r_out], gmsh.model.getEntities(2))
        _group(2, cond, "conductor")
        _group(2, air, "air")
        _group(1, _curves_at_radius(r_out, 1e-9), "outer_boundary")
        return _mesh_and_load(h, h)


def magnet_in_bore(r_magnet: float, r_bore: float, r_iron: float, h: float) -> MeshTri:
    """Magnet disk (radius r_magnet), air to r_bore, iron ring to r_iron; size h [m].

    Subdomains 'magnet', 'air', 'iron'; boundary 'outer_boundary' (r = r_iron).
    """
    with gmsh_session("magnet_in_bore"):
        occ = gmsh.model.occ
        disks = [occ.addDisk(0, 0, 0, r, r) for r in (r_magnet, r_bore, r_iron)]
        occ.fragment([(2, disks[-1])], [(2, d) for d in disks[:-1]])
        occ.synchronize()
        mag, air, iron = _surfaces_by_radius([r_magnet, r_bore, r_iron], gmsh.model.getEntities(2))
        _group(2, mag, "magnet")
        _group(2, air, "air")
        _group(2, iron, "iron")
        _group(1, _curves_at_radius(r_iron, 1e-9), "outer_boundary")
        return _mesh_and_load(h, h)


def conductor_in_iron(a: float, r_iron_in: float, r_iron_out: float, h: float) -> MeshTri:
    """Conductor (radius a), air to r_iron_in, iron ring to r_iron_out; size h [m].

    Subdomains 'conductor', 'air', 'iron'; boundary 'outer_boundary'.
    """
    with gmsh_session("conductor_in_iron"):
        occ = gmsh.model.occ
        disks = [occ.addDisk(0, 0, 0, r, r) for r in (a, r_iron_in, r_iron_out)]
        occ.fragment([(2, disks[-1])], [(2, d) for d in disks[:-1]])
        occ.synchronize()
        cond, air, iron = _surfaces_by_radius([a, r_iron_in, r_iron_out], gmsh.model.getEntities(2))
        _group(2, cond, "conductor")
        _group(2, air, "air")
        _group(2, iron, "iron")
        _group(1, _curves_at_radius(r_iron_out, 1e-9), "outer_boundary")
        return _mesh_and_load(h, h)


def torque_benchmark(n_slide: int, h_band: float | None = None, h_max: float = 8e-4) -> MeshTri:
    """FEMM torque benchmark geometry (see ``TORQUE_BENCHMARK``) with a sliding interface.

    The airgap band (0.725-0.775 cm) is split by the circle r = 0.75 cm named
    'sliding_interface', meshed with ``n_slide`` uniformly spaced nodes (the band circles
    too). Subdomains 'magnet', 'rotor_air', 'band_rotor', 'band_stator', 'stator_air';
    boundary 'outer_boundary' (r = 1 cm).
    """
    tb = TORQUE_BENCHMARK
    r_i, r_o, r_d = tb["band_inner"], tb["band_outer"], tb["domain_radius"]
    r_s = 0.5 * (r_i + r_o)
    with gmsh_session("torque_benchmark"):
        occ = gmsh.model.occ
        w, hgt = tb["magnet_width"], tb["magnet_height"]
        mag = occ.addRectangle(-w / 2, -hgt / 2, 0, w, hgt)
        disks = [occ.addDisk(0, 0, 0, r, r) for r in (r_i, r_s, r_o, r_d)]
        occ.fragment([(2, disks[-1])], [(2, d) for d in disks[:-1]] + [(2, mag)])
        occ.synchronize()
        surfaces = gmsh.model.getEntities(2)
        magnet = []
        for dim, tag in surfaces:
            x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(dim, tag)
            if abs((x1 - x0) - w) < 1e-6 and abs((y1 - y0) - hgt) < 1e-6:
                magnet.append(tag)
        rest = [(d, t) for d, t in surfaces if t not in magnet]
        rotor_air, band_r, band_s, stator_air = _surfaces_by_radius([r_i, r_s, r_o, r_d], rest)
        for name, tags in [
            ("magnet", magnet),
            ("rotor_air", rotor_air),
            ("band_rotor", band_r),
            ("band_stator", band_s),
            ("stator_air", stator_air),
        ]:
            _group(2, tags, name)
        slide = _curves_at_radius(r_s, 1e-9)
        _group(1, slide, "sliding_interface")
        _group(1, _curves_at_radius(r_d, 1e-9), "outer_boundary")
        for r in (r_i, r_s, r_o):
            for c in _curves_at_radius(r, 1e-9):
                gmsh.model.mesh.setTransfiniteCurve(c, n_slide + 1)
        pitch = 2 * math.pi * r_s / n_slide
        return _mesh_and_load(h_max, min(h_band or pitch, h_max) * 0.5)


def pm_ring_sector(
    radii: tuple[float, float, float, float, float],
    n_slide: int,
    h: float,
    angle: float = math.pi / 2,
) -> MeshTri:
    """Sector [0, angle] of a slotless PM machine, periodic mesh on the sector sides.

    radii = (R1 rotor iron, R2 magnet outer, Rs sliding interface, R3 stator bore,
    R4 stator outer). Subdomains 'rotor_core', 'magnet', 'airgap_rotor', 'airgap_stator',
    'stator_core'; boundaries 'outer_boundary', 'sliding_interface' (``n_slide`` uniform
    intervals), 'periodic_rotor_master'/'periodic_rotor_slave' (r <= Rs, at angles 0 and
    ``angle``) and 'periodic_stator_master'/'periodic_stator_slave' (r >= Rs).
    """
    r1, r2, rs, r3, r4 = radii
    rr = (0.0, r1, r2, rs, r3, r4)
    c, s = math.cos(angle), math.sin(angle)
    with gmsh_session("pm_ring_sector"):
        occ = gmsh.model.occ
        o = occ.addPoint(0, 0, 0)
        p0 = [o] + [occ.addPoint(r, 0, 0) for r in rr[1:]]
        p1 = [o] + [occ.addPoint(r * c, r * s, 0) for r in rr[1:]]
        l0 = [occ.addLine(p0[i], p0[i + 1]) for i in range(5)]
        l1 = [occ.addLine(p1[i], p1[i + 1]) for i in range(5)]
        arcs = [occ.addCircleArc(p0[i], o, p1[i]) for i in range(1, 6)]
        surf = []
        for i in range(5):
            loop = [l0[i], arcs[i], -l1[i]] + ([-arcs[i - 1]] if i > 0 else [])
            surf.append(occ.addPlaneSurface([occ.addCurveLoop(loop)]))
        occ.synchronize()
        names = ["rotor_core", "magnet", "airgap_rotor", "airgap_stator", "stator_core"]
        for name, sf in zip(names, surf, strict=True):
            _group(2, [sf], name)
        _group(1, [arcs[4]], "outer_boundary")
        _group(1, [arcs[2]], "sliding_interface")
        _group(1, l0[:3], "periodic_rotor_master")
        _group(1, l1[:3], "periodic_rotor_slave")
        _group(1, l0[3:], "periodic_stator_master")
        _group(1, l1[3:], "periodic_stator_slave")
        gmsh.model.mesh.setTransfiniteCurve(arcs[2], n_slide + 1)
        rot = [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
        gmsh.model.mesh.setPeriodic(1, l1, l0, rot)
        return _mesh_and_load(h, 0.0)


def _facet_index(mesh: MeshTri, nodes: np.ndarray) -> np.ndarray:
    n = mesh.p.shape[1]
    keys = np.sort(mesh.facets, axis=0)
    keys = keys[0].astype(np.int64) * n + keys[1]
    q = np.sort(nodes, axis=0)
    q = q[0].astype(np.int64) * n + q[1]
    order = np.argsort(keys)
    idx = order[np.searchsorted(keys, q, sorter=order)]
    assert np.all(keys[idx] == q)
    return idx


def replicate_sector(mesh: MeshTri, n_copies: int, angle: float) -> MeshTri:
    """Rotate copies of a periodic sector mesh by multiples of ``angle`` and merge them.

    Copies share the nodes of their common sides (they coincide because the sector mesh is
    periodic). Subdomains are concatenated; 'outer_boundary' and 'sliding_interface' are
    carried over; the periodic boundaries survive only at the two ends of an open model.
    """
    ne, npt = mesh.t.shape[1], mesh.p.shape[1]
    ps, ts = [], []
    for k in range(n_copies):
        c, s = math.cos(k * angle), math.sin(k * angle)
        ps.append(np.array([c * mesh.p[0] - s * mesh.p[1], s * mesh.p[0] + c * mesh.p[1]]))
        ts.append(mesh.t + k * npt)
    p = np.hstack(ps)
    t = np.hstack(ts)
    tol = 1e-9 * np.abs(p).max()
    rep = np.arange(p.shape[1])
    for i, j in sorted(cKDTree(p.T).query_pairs(tol)):
        rep[j] = min(rep[j], rep[i])
    used, new = np.unique(rep, return_inverse=True)
    p, t = np.ascontiguousarray(p[:, used]), np.ascontiguousarray(new[rep[t]])
    out = MeshTri(p, t)
    sub = {
        k: np.hstack([np.asarray(v) + c * ne for c in range(n_copies)])
        for k, v in mesh.subdomains.items()
    }
    bnd = {}
    for name, fac in mesh.boundaries.items():
        if name.endswith("_master"):
            copies = [0]
        elif name.endswith("_slave"):
            copies = [n_copies - 1]
        else:
            copies = list(range(n_copies))
        if name.startswith("periodic") and abs(n_copies * angle - 2 * math.pi) < 1e-9:
            continue
        nodes = np.hstack([mesh.facets[:, np.asarray(fac)] + c * npt for c in copies])
        bnd[name] = _facet_index(out, new[rep[nodes]])
    return MeshTri(p, out.t, _boundaries=bnd, _subdomains=sub)
