"""Mesh cache: build once per (design, mesh settings, builder version), reuse after.

Files live in ``meshes/`` (or ``$EDRIVE_MESH_DIR``) as ``<design>-<level>-<sector|full>-<hash>.msh``
with a ``.json`` sidecar holding the inputs (design table, settings), the builder's
metadata and the SHA-256 of the mesh file. A damaged or mismatching entry (unreadable
sidecar, wrong key, hash mismatch, unloadable mesh) is reported once, moved to
``damaged/`` and rebuilt, never used. Writes are atomic (temporary file, then rename), so
an interrupted build never leaves a half-written mesh behind. Loading gives a :class:`MachineMesh`: the scikit-fem
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

from geometries.builder import build
from geometries.settings import BUILDER_VERSION, MeshSettings, mesh_settings
from pipeline.design import Design
from pipeline.errors import DesignError, MeshError
from pipeline.io.tables import canonical

__all__ = [
    "MachineMesh",
    "mesh_dir",
    "mesh_key",
    "get_mesh",
    "region_areas",
    "estimate_elements",
    "file_sha256",
    "MAX_MESH_ELEMENTS",
]

log = logging.getLogger(__name__)


def mesh_dir() -> Path:
    """Cache folder: ``$EDRIVE_MESH_DIR`` or ``meshes/`` of the checkout."""
    env = os.environ.get("EDRIVE_MESH_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "meshes"


#: design fields that do not change the geometry or the mesh (materials, stacking factors,
#: remanence, ratings, inverter, cooling models): a design that differs only in these shares its mesh, so
#: e.g. a calibration of the remanence or a material sweep meshes once
NON_GEOMETRIC = {
    "": ("ratings", "inverter", "description", "calibration", "cooling"),
    "stator": ("stacking_factor", "material"),
    "rotor": ("stacking_factor", "material", "magnet_material", "shaft_material",
              "field_material", "magnet_remanence"),  # fmt: skip
    "winding": ("material",),
    "housing": ("material", "coolant", "shaft_cooling_conductance"),
}


def geometry_canonical(design: Design) -> dict:
    """``canonical(design)`` without the :data:`NON_GEOMETRIC` fields."""
    out = canonical(design)
    for table, names in NON_GEOMETRIC.items():
        target = out.get(table) if table else out
        if isinstance(target, dict):
            for name in names:
                target.pop(name, None)
    return out


def mesh_key(design: Design, settings: MeshSettings) -> str:
    """Content hash of the design's geometry (:func:`geometry_canonical`), mesh settings and
    builder version (16 hex digits)."""
    blob = json.dumps(
        {
            "design": geometry_canonical(design),
            "settings": canonical(settings),
            "builder": BUILDER_VERSION,
        },
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


#: largest mesh [elements] built without ``allow_large``: the ci meshes of the reference
#: designs have 5 to 8 thousand elements and solve in 0.05 s per rotor position; a million
#: elements means minutes per Newton solve and a mesh file of ~100 MB (a 10 m stator with a
#: 0.1 mm airgap would ask for tens of millions, issue 17)
MAX_MESH_ELEMENTS = 1_000_000

#: the estimate of :func:`estimate_elements` is below the element count gmsh produced for
#: the ci sector meshes of prius_2004, gen5_eesm and zoe_eesm by factors 2.56, 1.84 and 1.13
#: (slots, magnets and coils add detail the radial model ignores); this factor covers them
ESTIMATE_FACTOR = 3.0


def estimate_elements(design: Design, settings: MeshSettings) -> float:
    """Triangles [-] the mesh will need, from the airgap size and the growth away from it.

    Size h(r) = max(h0, min(h0 + growth |r - r_gap|, r slot_pitch / slot_pitch_divisions)),
    h0 = gap_aspect * airgap / gap_layers; count = ESTIMATE_FACTOR * theta_sector *
    integral of r / (sqrt(3)/4 h^2) dr from the shaft to the stator outer radius.
    """
    gap = design.airgap
    r_gap = design.rotor.outer_radius + gap / 2
    h0 = settings.gap_aspect * gap / settings.gap_layers
    r = np.linspace(design.rotor.shaft_radius, design.stator.outer_radius, 2001)
    h = np.minimum(
        h0 + settings.growth * np.abs(r - r_gap),
        r * design.stator.slot_pitch / settings.slot_pitch_divisions,
    )
    h = np.maximum(h, h0)
    theta = 2 * np.pi / (design.symmetry[0] if settings.sector else 1)
    density = r / (np.sqrt(3) / 4 * h**2)
    area_integral = float(np.sum((density[1:] + density[:-1]) / 2 * np.diff(r)))
    return ESTIMATE_FACTOR * theta * area_integral


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_entry(msh: Path, sidecar: Path, key: str) -> tuple[dict, skfem.MeshTri]:
    """The sidecar and mesh of a cache entry; ValueError naming what is wrong."""
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"sidecar unreadable ({type(exc).__name__})") from None
    if not isinstance(meta, dict):
        raise ValueError("sidecar is not a JSON object")
    for name, tp in (("key", str), ("info", dict), ("build_time_s", float), ("mesh_sha256", str)):
        if not isinstance(meta.get(name), tp):
            raise ValueError(f"sidecar field {name} missing or not a {tp.__name__}")
    if meta["key"] != key:
        raise ValueError(f"sidecar key {meta['key'][:16]} does not match {key}")
    if not msh.is_file():
        raise ValueError("mesh file missing")
    if file_sha256(msh) != meta["mesh_sha256"]:
        raise ValueError("mesh file content does not match the hash in its sidecar")
    try:
        mesh = _load(msh)
    except Exception as exc:  # noqa: BLE001 - any reader failure means a damaged file
        raise ValueError(f"mesh file unreadable ({type(exc).__name__})") from None
    if mesh.t.shape[1] == 0 or not mesh.subdomains:
        raise ValueError("mesh has no elements or no named regions")
    return meta, mesh


def _move_aside(folder: Path, paths: tuple[Path, ...]) -> Path:
    """Move damaged cache files to ``folder/damaged/`` (kept for inspection); returns it."""
    aside = folder / "damaged"
    aside.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for p in paths:
        with contextlib.suppress(FileNotFoundError):  # another process moved it first
            os.replace(p, aside / f"{p.name}.{stamp}.{os.getpid()}")
    return aside


def get_mesh(
    design: Design,
    level: str | MeshSettings = "ci",
    sector: bool = True,
    rebuild: bool = False,
    allow_large: bool = False,
) -> MachineMesh:
    """Build or reuse the mesh of ``design`` at ``level``; returns the loaded mesh.

    A cache entry is checked before it is used (sidecar fields and key, SHA-256 of the mesh
    file, the mesh loads and has named regions); a damaged entry is reported once, moved to
    ``damaged/`` and rebuilt. A build whose :func:`estimate_elements` exceeds
    :data:`MAX_MESH_ELEMENTS` is refused before gmsh starts unless ``allow_large``.
    """
    settings = level if isinstance(level, MeshSettings) else mesh_settings(level, sector)
    key = mesh_key(design, settings)
    folder = mesh_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{design.name}-{settings.level}-{'sector' if settings.sector else 'full'}-{key}"
    msh, sidecar = folder / f"{stem}.msh", folder / f"{stem}.json"
    if not rebuild and (msh.exists() or sidecar.exists()):
        try:
            meta, mesh = _check_entry(msh, sidecar, key)
            return MachineMesh(mesh, meta["info"], msh, key, False, float(meta["build_time_s"]))
        except ValueError as exc:
            aside = _move_aside(folder, (msh, sidecar))
            log.warning(
                "damaged mesh cache entry %s: %s; moved to %s, rebuilding", stem, exc, aside
            )
    n_est = estimate_elements(design, settings)
    if n_est > MAX_MESH_ELEMENTS and not allow_large:
        raise DesignError(
            "design",
            f"{design.name}: about {n_est:.3g} elements",
            f"more than {MAX_MESH_ELEMENTS:.0e} (airgap {design.airgap * 1e3:.3g} mm, bore "
            f"{design.stator.bore_radius * 1e3:.4g} mm); build it once with "
            "`edrive mesh DESIGN --allow-large`",
        )

    tmp = folder / f".{stem}.{os.getpid()}.tmp.msh"
    t0 = time.perf_counter()
    try:
        info = build(design, settings, tmp)
    except DesignError:
        raise
    except Exception as exc:  # gmsh's own message names no design field
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        first = (str(exc).splitlines() or [""])[0][:200]
        raise MeshError(f"{design.name}: gmsh failed ({type(exc).__name__}: {first})") from exc
    elapsed = time.perf_counter() - t0
    meta = {
        "key": key,
        "builder_version": BUILDER_VERSION,
        "design": design.to_table(),
        "settings": dataclasses.asdict(settings),
        "info": info,
        "build_time_s": elapsed,
        "mesh_sha256": file_sha256(tmp),
    }
    tmp_json = folder / f".{stem}.{os.getpid()}.tmp.json"
    tmp_json.write_text(json.dumps(meta, indent=1))
    os.replace(tmp, msh)
    os.replace(tmp_json, sidecar)
    log.info("built %s in %.2f s", msh.name, elapsed)
    info = json.loads(json.dumps(info))  # as a reuse would read it back from the sidecar
    return MachineMesh(_load(msh), info, msh, key, True, elapsed)
