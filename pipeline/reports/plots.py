"""Pictures: machine regions with the mesh."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

__all__ = ["region_color", "plot_regions"]

_PHASE_COLORS = {"A": "#d62728", "B": "#2ca02c", "C": "#1f77b4"}


def region_color(name: str) -> str:
    """A colour per kind of region (coils by phase)."""
    if name.startswith("coil_"):
        return _PHASE_COLORS[name[5]]
    if name.startswith("field_"):
        return "#ff7f0e" if name.endswith("+") else "#8c564b"
    if name.startswith("magnet_"):
        return "#9467bd"
    if name.startswith("coolant_"):
        return "#17becf"
    return {
        "stator_core": "#7f7f7f",
        "rotor_core": "#a0a0a0",
        "shaft": "#505050",
        "housing": "#c7c7e0",
        "slot_opening": "#ffffff",
        "slot_liner": "#f5e6a8",
        "rotor_pocket": "#ffffff",
        "airgap_rotor": "#ffffff",
        "airgap_band": "#fff2cc",
        "airgap_stator": "#ffffff",
    }.get(name, "#e0e0e0")


def plot_regions(mesh, path: str | Path, title: str = "", zoom: float | None = None) -> Path:
    """PNG of the regions (coloured) with the mesh edges; ``zoom`` [m] crops to that radius range."""
    p, t = mesh.p, mesh.t
    colors = np.empty(t.shape[1], dtype=object)
    colors[:] = "#e0e0e0"
    for name, idx in mesh.subdomains.items():
        colors[idx] = region_color(name)
    verts = np.transpose(p[:, t], (2, 1, 0)) * 1e3
    fig, axes = plt.subplots(1, 2 if zoom else 1, figsize=(14 if zoom else 8, 7))
    axes = np.atleast_1d(axes)
    for ax in axes:
        ax.add_collection(
            PolyCollection(verts, facecolors=list(colors), edgecolors="k", linewidths=0.08)
        )
        ax.set_aspect("equal")
        ax.set_xlabel("x [mm]")
        ax.set_ylabel("y [mm]")
    axes[0].autoscale_view()
    axes[0].set_title(title)
    if zoom:
        r = np.hypot(p[0], p[1])
        sel = np.abs(r - zoom) < 0.012
        ang = np.arctan2(p[1, sel], p[0, sel])
        a0 = np.min(ang) if ang.size else 0.0
        c = np.array([np.cos(a0 + 0.06), np.sin(a0 + 0.06)]) * zoom * 1e3
        axes[1].set_xlim(c[0] - 10, c[0] + 10)
        axes[1].set_ylim(c[1] - 10, c[1] + 10)
        axes[1].set_title("airgap and slot openings")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
