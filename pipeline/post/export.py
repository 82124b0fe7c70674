"""Export a solved field: VTU / XDMF (meshio, for ParaView) and a PNG picture (matplotlib).

Exported per element (cell data): B_x, B_y [T] (element mean), |B| [T], ``region`` (an
integer id; ``region_names[id]`` is the mesh subdomain name); per node (point data): A_z
[Wb/m]. With ``rotate=True`` the rotor's nodes (and its B vectors) are turned by the
rotor rotation of the solved position so the picture shows the actual rotor position;
otherwise everything is in the mesh frame (rotor in the rotor frame).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.em.machine import machine_model
from pipeline.errors import WorkflowError

__all__ = [
    "FieldSnapshot",
    "field_snapshot",
    "case_snapshot",
    "write_vtu",
    "write_xdmf",
    "plot_field",
]


@dataclass(frozen=True)
class FieldSnapshot:
    """Triangles and field of one solved position (2D, metres)."""

    points: np.ndarray  # (n_nodes, 2) [m]
    triangles: np.ndarray  # (n_elements, 3)
    a_z: np.ndarray  # (n_nodes,) [Wb/m]
    b: np.ndarray  # (2, n_elements) [T]
    region: np.ndarray  # (n_elements,) int
    region_names: tuple
    title: str = ""

    @property
    def b_magnitude(self) -> np.ndarray:
        return np.hypot(self.b[0], self.b[1])


def field_snapshot(model, a: np.ndarray, k: int | None = None, rotate: bool = True, title=""):
    """Snapshot of the dof vector ``a`` [Wb/m] of ``model`` (a :class:`MachineModel`) at pitch
    count ``k`` (rotor rotation ``model.interface.rotation_angle(k)``)."""
    solver = model.solver
    mesh = solver.basis.mesh
    a = np.asarray(a, float)
    g = np.einsum("ie,ixe->xe", a[solver.dofs], solver.grad_int) / model.element_area
    b = np.array([g[1], -g[0]])
    pts = mesh.p.T.copy()
    tris = mesh.t.T.copy()
    a_nodes = a[solver.basis.nodal_dofs[0]]
    if rotate and k is not None:
        # rotor triangles get their own nodes, turned by the rotation; on a sector model the
        # ones leaving the sector are mapped back by whole sector angles ((anti-)periodicity)
        rot_el = model.rotor_elements
        ang = model.interface.rotation_angle(int(k))
        xy = mesh.p[:, mesh.t[:, rot_el]]  # (2, 3, n_r)
        cen = xy.mean(axis=1)
        phi = np.arctan2(cen[1], cen[0]) + ang
        sector = 2 * np.pi / model.n_sectors
        m = np.floor(phi / sector + 1e-9) if model.n_sectors > 1 else np.zeros_like(phi)
        turn = ang - m * sector
        sign = np.where(m % 2 == 1, -1.0, 1.0) if model.antiperiodic else np.ones_like(m)
        c, s_ = np.cos(turn), np.sin(turn)
        x = c[None] * xy[0] - s_[None] * xy[1]
        y = s_[None] * xy[0] + c[None] * xy[1]
        n0 = pts.shape[0]
        n_r = rot_el.size
        pts = np.vstack([pts, np.column_stack([x.T.ravel(), y.T.ravel()])])
        tris[rot_el] = n0 + np.arange(3 * n_r).reshape(n_r, 3)
        a_nodes = np.concatenate([a_nodes, (a_nodes[mesh.t[:, rot_el]] * sign[None]).T.ravel()])
        bx, by = b[:, rot_el]
        b[0, rot_el] = sign * (c * bx - s_ * by)
        b[1, rot_el] = sign * (s_ * bx + c * by)
    names = tuple(sorted(mesh.subdomains))
    region = np.full(mesh.t.shape[1], -1, dtype=np.int32)
    for i, name in enumerate(names):
        region[np.asarray(mesh.subdomains[name])] = i
    return FieldSnapshot(pts, tris, a_nodes, b, region, names, title)


def case_snapshot(result, position: int = -1, model=None, rotate: bool = True) -> FieldSnapshot:
    """Snapshot of a :class:`~pipeline.em.machine.CaseResult` at ``position`` (needs
    ``keep_fields`` for any position but the last, whose solution is always kept)."""

    ex = result.extras
    n = result.torque.size
    j = position % n
    if "a_positions" in ex:
        a = ex["a_positions"][j]
    elif j == n - 1:
        a = ex["a_last"]
    else:

        raise WorkflowError(f"position {position}: only the last is kept; run with keep_fields")
    if model is None:
        model = machine_model(
            result.design,
            result.level,
            ex.get("magnet_temperature_C", 20.0),
            ex.get("sector", True),
        )
    k = int(ex["pitch_counts"][j])
    title = (
        f"{result.design} [{result.level}] i_d {result.i_d:g} A, i_q {result.i_q:g} A, "
        f"i_f {result.i_f:g} A, theta_el {np.degrees(result.theta_el[j]):.1f} deg"
    )
    return field_snapshot(model, a, k, rotate, title)


def _meshio_mesh(snap: FieldSnapshot):
    # defer: meshio loads only when meshes are read or written
    import meshio

    pts = np.column_stack([snap.points, np.zeros(len(snap.points))])
    return meshio.Mesh(
        pts,
        [("triangle", snap.triangles.astype(np.int64))],
        point_data={"A_z": snap.a_z},
        cell_data={
            "B": [np.column_stack([snap.b[0], snap.b[1], np.zeros(snap.b.shape[1])])],
            "B_magnitude": [snap.b_magnitude],
            "region": [snap.region],
        },
    )


def write_vtu(snap: FieldSnapshot, path) -> Path:
    """Write ``snap`` as a VTU file (ParaView); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _meshio_mesh(snap).write(path, file_format="vtu")
    return path


def write_xdmf(snap: FieldSnapshot, path) -> Path:
    """Write ``snap`` as XDMF (+ HDF5 heavy data next to it); returns the .xdmf path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _meshio_mesh(snap).write(path, file_format="xdmf")
    return path


def plot_field(snap: FieldSnapshot, path, n_lines: int = 30, b_max: float = 2.2) -> Path:
    """PNG: |B| colour map per element with flux lines (contours of A_z); returns the path."""
    # defer: matplotlib loads only when a picture is drawn
    import matplotlib

    matplotlib.use("Agg")
    # defer: matplotlib loads only when a picture is drawn
    import matplotlib.pyplot as plt

    # defer: matplotlib loads only when a picture is drawn
    from matplotlib.tri import Triangulation

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tri = Triangulation(snap.points[:, 0] * 1e3, snap.points[:, 1] * 1e3, snap.triangles)
    fig, ax = plt.subplots(figsize=(7, 7), dpi=120)
    pc = ax.tripcolor(tri, facecolors=snap.b_magnitude, cmap="viridis", vmin=0.0, vmax=b_max)
    lo, hi = float(snap.a_z.min()), float(snap.a_z.max())
    if hi > lo:
        levels = np.linspace(lo, hi, n_lines + 2)[1:-1]
        ax.tricontour(tri, snap.a_z, levels=levels, colors="k", linewidths=0.5)
    fig.colorbar(pc, ax=ax, shrink=0.7, label="|B| [T]")
    ax.set_aspect("equal")
    ax.set_xlabel("x [mm]")
    ax.set_ylabel("y [mm]")
    ax.set_title(snap.title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
