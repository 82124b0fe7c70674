"""Small gmsh builders for thermal verification cases (concentric discs and annuli, a
square unit cell with a round conductor).

Each builder runs gmsh (OpenCASCADE kernel) inside the machine builder's session
(:func:`geometries.builder.gmsh_session`, which always finalises it), writes MSH 4.1 and loads the mesh with ``skfem.MeshTri.load``, so that named
physical groups arrive as ``mesh.subdomains`` and ``mesh.boundaries``. Lengths in [m].
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence

import numpy as np
from skfem import MeshTri

from geometries.builder import gmsh_session as builder_session
from pipeline.errors import DesignError

__all__ = ["gmsh_session", "concentric_mesh", "unit_cell_mesh"]


@contextlib.contextmanager
def gmsh_session() -> Iterator[object]:
    """The builder's gmsh session (:func:`geometries.builder.gmsh_session`: always
    finalised), single-threaded; yields the gmsh module."""
    # defer: gmsh loads only when a mesh is built
    import gmsh


    with builder_session("thermal"):
        gmsh.option.setNumber("General.NumThreads", 1)
        yield gmsh


def _load(gmsh) -> MeshTri:
    gmsh.option.setNumber("Mesh.MshFileVersion", 4.1)
    fd, path = tempfile.mkstemp(suffix=".msh")
    os.close(fd)
    try:
        gmsh.write(path)
        return MeshTri.load(path)
    finally:
        os.remove(path)


def concentric_mesh(radii: Sequence[float], size: float) -> MeshTri:
    """Concentric layers between ``radii`` [m] (increasing; radii[0] = 0 gives a solid disc).

    Subdomains ``layer_0`` ... ``layer_{n-1}`` (inside out); boundaries ``circle_i`` at
    radii[i] (for radii[i] > 0). ``size`` is the target element size [m].
    """
    r = np.asarray(radii, dtype=float)
    if r.ndim != 1 or len(r) < 2 or np.any(np.diff(r) <= 0) or r[0] < 0:
        raise DesignError("radii", tuple(radii), "need >= 2 increasing radii >= 0 m")
    with gmsh_session() as gmsh:
        occ = gmsh.model.occ
        disks = [occ.addDisk(0, 0, 0, ri, ri) for ri in r if ri > 0]
        occ.fragment([(2, d) for d in disks[-1:]], [(2, d) for d in disks[:-1]])
        occ.synchronize()
        layers: dict[int, list[int]] = {}
        for _, tag in gmsh.model.getEntities(2):
            bb = gmsh.model.getBoundingBox(2, tag)
            i = int(np.argmin(np.abs(r - 0.5 * (bb[3] - bb[0]))))
            if i == 0:  # the hole inside radii[0] > 0
                occ.remove([(2, tag)])
                continue
            layers.setdefault(i - 1, []).append(tag)
        occ.synchronize()
        for i, tags in sorted(layers.items()):
            gmsh.model.addPhysicalGroup(2, tags, name=f"layer_{i}")
        curves: dict[int, list[int]] = {}
        for _, tag in gmsh.model.getEntities(1):
            bb = gmsh.model.getBoundingBox(1, tag)
            rc = 0.5 * (bb[3] - bb[0])
            i = int(np.argmin(np.abs(r - rc)))
            curves.setdefault(i, []).append(tag)
        for i, tags in sorted(curves.items()):
            gmsh.model.addPhysicalGroup(1, tags, name=f"circle_{i}")
        gmsh.option.setNumber("Mesh.MeshSizeMin", size)
        gmsh.option.setNumber("Mesh.MeshSizeMax", size)
        gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
        gmsh.model.mesh.generate(2)
        return _load(gmsh)


def unit_cell_mesh(fill_factor: float, size: float, cell: float = 1.0) -> MeshTri:
    """Square cell of side ``cell`` [m] with a centred round conductor of area fraction
    ``fill_factor`` [-] (< pi/4). Subdomains ``conductor``, ``matrix``; boundaries
    ``left``, ``right``, ``bottom``, ``top``."""
    if not 0 < fill_factor < np.pi / 4:
        raise DesignError("fill_factor", fill_factor, "must be in (0, pi/4) for a square array")
    radius = cell * np.sqrt(fill_factor / np.pi)
    with gmsh_session() as gmsh:
        occ = gmsh.model.occ
        sq = occ.addRectangle(0, 0, 0, cell, cell)
        disk = occ.addDisk(0.5 * cell, 0.5 * cell, 0, radius, radius)
        out, _ = occ.fragment([(2, sq)], [(2, disk)])
        occ.synchronize()
        for _, tag in gmsh.model.getEntities(2):
            bb = gmsh.model.getBoundingBox(2, tag)
            name = "conductor" if bb[3] - bb[0] < 0.99 * cell else "matrix"
            gmsh.model.addPhysicalGroup(2, [tag], name=name)
        eps = 1e-5 * cell
        sides = {"left": (0, 0), "right": (cell, 0), "bottom": (1, 0), "top": (1, cell)}
        for name, (axis_or_x, val) in sides.items():
            if name in ("left", "right"):
                box = (axis_or_x - eps, -eps, -eps, axis_or_x + eps, cell + eps, eps)
            else:
                box = (-eps, val - eps, -eps, cell + eps, val + eps, eps)
            tags = [t for _, t in gmsh.model.getEntitiesInBoundingBox(*box, dim=1)]
            gmsh.model.addPhysicalGroup(1, tags, name=name)
        gmsh.option.setNumber("Mesh.MeshSizeMin", size)
        gmsh.option.setNumber("Mesh.MeshSizeMax", size)
        gmsh.model.mesh.generate(2)
        return _load(gmsh)
