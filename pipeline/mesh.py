"""Mesh cache: build once per (design, mesh settings, builder version), reuse after.

Files live in ``meshes/`` (or ``$EDRIVE_MESH_DIR``) as ``<design>-<level>-<sector|full>-<hash>.msh``
with a ``.json`` sidecar holding the inputs (design table, settings) and the builder's
metadata. Writes are atomic (temporary file, then rename), so an interrupted build never
leaves a half-written mesh behind. Loading gives a :class:`MachineMesh`: the scikit-fem
mesh, whose ``subdomains`` and ``boundaries`` carry the physical-group names, and the
metadata.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skfem

from geometries.settings import BUILDER_VERSION, MeshSettings, mesh_settings
from pipeline.design import Design
from pipeline.errors import MeshError
from pipeline.io.tables import canonical

__all__ = ["MachineMesh", "mesh_dir", "mesh_key", "get_mesh", "region_areas"]

log = logging.getLogger(__name__)


def mesh_dir() -> Path:
    """Cache folder: ``$EDRIVE_MESH_DIR`` or ``meshes/`` of the checkout."""
    env = os.environ.get("EDRIVE_MESH_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "meshes"


def mesh_key(design: Design, settings: MeshSettings) -> str:
    """Content hash of design, mesh settings and builder version (16 hex digits)."""
    blob = json.dumps(
        {"design": canonical(design), "settings": canonical(settings), "builder": BUILDER_VERSION},
        sort_keys=True,
    ).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class MachineMesh:
    """A loaded machine mesh with its metadata."""

    mesh: skfem.MeshTri
    info: dict
    path: Path
    key: str
    built: bool  # True if this call built it, False if reused
    build_time: float  # [s] meshing time recorded when it was built

    @property
    def n_sectors(self) -> int:
        return int(self.info["n_sectors"])

    @property
    def antiperiodic(self) -> bool:
        return bool(self.info["antiperiodic"])

    def areas(self) -> dict[str, float]:
        return region_areas(self.mesh)


def region_areas(mesh: skfem.MeshTri) -> dict[str, float]:
    """Area [m^2] of every named subdomain."""
    p, t = mesh.p, mesh.t
    a = 0.5 * np.abs(
        (p[0, t[1]] - p[0, t[0]]) * (p[1, t[2]] - p[1, t[0]])
        - (p[0, t[2]] - p[0, t[0]]) * (p[1, t[1]] - p[1, t[0]])
    )
    return {name: float(a[idx].sum()) for name, idx in sorted(mesh.subdomains.items())}


def _load(path: Path) -> skfem.MeshTri:
    with contextlib.redirect_stdout(io.StringIO()):  # meshio's reader prints a blank line
        mesh = skfem.MeshTri.load(str(path))
    subdomains = {k: v for k, v in (mesh.subdomains or {}).items() if not k.startswith("gmsh:")}
    boundaries = {k: v for k, v in (mesh.boundaries or {}).items() if not k.startswith("gmsh:")}
    return dataclasses.replace(mesh, _subdomains=subdomains, _boundaries=boundaries)


def get_mesh(
    design: Design, level: str | MeshSettings = "ci", sector: bool = True, rebuild: bool = False
) -> MachineMesh:
    """Build or reuse the mesh of ``design`` at ``level``; returns the loaded mesh."""
    settings = level if isinstance(level, MeshSettings) else mesh_settings(level, sector)
    key = mesh_key(design, settings)
    folder = mesh_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{design.name}-{settings.level}-{'sector' if settings.sector else 'full'}-{key}"
    msh, sidecar = folder / f"{stem}.msh", folder / f"{stem}.json"
    built = False
    if rebuild or not (msh.exists() and sidecar.exists()):
        from geometries.builder import build  # gmsh is imported only when building

        tmp = folder / f".{stem}.{os.getpid()}.tmp.msh"
        t0 = time.perf_counter()
        info = build(design, settings, tmp)
        elapsed = time.perf_counter() - t0
        meta = {
            "key": key,
            "builder_version": BUILDER_VERSION,
            "design": design.to_table(),
            "settings": dataclasses.asdict(settings),
            "info": info,
            "build_time_s": elapsed,
        }
        tmp_json = folder / f".{stem}.{os.getpid()}.tmp.json"
        tmp_json.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, msh)
        os.replace(tmp_json, sidecar)
        built = True
        log.info("built %s in %.2f s", msh.name, elapsed)
    meta = json.loads(sidecar.read_text())
    if meta.get("key") != key:
        raise MeshError(f"{sidecar}: sidecar key {meta.get('key')} does not match {key}")
    mesh = _load(msh)
    return MachineMesh(mesh, meta["info"], msh, key, built, float(meta["build_time_s"]))
