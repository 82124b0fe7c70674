"""Pictures: machine regions with the mesh; calibration, thermal envelope, sweep variables."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

__all__ = [
    "region_color",
    "plot_regions",
    "plot_calibration",
    "plot_thermal_envelope",
    "plot_sweep_variable",
]

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


def plot_calibration(result, path: Path) -> Path:
    """Model before/after against the measurements, one panel per measurement kind, and the
    normalised residuals of the calibration and validation rows."""
    rows = result.data.measurements
    kinds = [k for k in dict.fromkeys(m.kind for m in rows)]
    xkey = {"back_emf": "speed_rpm", "locked_rotor_torque": "current_dc_A",
            "no_load_loss": "speed_rpm", "phase_resistance": "temperature_C",
            "stator_lamination_mass": None}  # fmt: skip
    fig, axes = plt.subplots(1, len(kinds) + 1, figsize=(4.2 * (len(kinds) + 1), 3.8))
    for ax, kind in zip(axes, kinds, strict=False):
        ms = [m for m in rows if m.kind == kind]
        x = [m.condition(xkey[kind]) if xkey[kind] else i for i, m in enumerate(ms)]
        for role, mk in (("calibration", "s"), ("validation", "o")):
            sel = [i for i, m in enumerate(ms) if m.role == role]
            if sel:
                ax.errorbar([x[i] for i in sel], [ms[i].value for i in sel],
                            yerr=[ms[i].uncertainty for i in sel], fmt=mk, color="k",
                            mfc="k" if role == "calibration" else "w", label=f"measured ({role})")  # fmt: skip
        order = sorted(range(len(ms)), key=lambda i: x[i])
        ax.plot([x[i] for i in order], [result.before[ms[i].name] for i in order], "x--",
                color="tab:red", label="model before")  # fmt: skip
        ax.plot([x[i] for i in order], [result.after[ms[i].name] for i in order], "+-",
                color="tab:blue", label="model calibrated")  # fmt: skip
        ax.set(xlabel=xkey[kind] or "row", ylabel=f"{kind} [{ms[0].unit}]", title=kind)
        ax.legend(fontsize=7)
    ax = axes[-1]
    for role, color in (("calibration", "tab:blue"), ("validation", "tab:green")):
        z = result.normalised_residuals("after", role)
        ax.barh(list(z), list(z.values()), color=color, label=role)
    ax.axvline(-1, color="0.5", lw=0.8)
    ax.axvline(1, color="0.5", lw=0.8)
    ax.tick_params(axis="y", labelsize=5)
    ax.set(xlabel="(model - measured) / uncertainty", title="residuals after")
    ax.legend(fontsize=7)
    fig.suptitle(f"{result.data.design}: calibration ({Path(result.data.path).name})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_thermal_envelope(ds, path: Path) -> Path:
    """Continuous, peak and electromagnetic torque over speed from the Dataset of
    :meth:`pipeline.api.ThermalEnvelope.to_dataset`."""
    rpm = ds["speed"].values * 30.0 / np.pi
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, style in (
        ("em_torque", "k--"),
        ("peak_torque", "C3-o"),
        ("continuous_torque", "C0-o"),
    ):
        ax.plot(rpm, ds[name].values, style, label=ds[name].attrs.get("long_name", name))
    ax.set(xlabel="speed [rpm]", ylabel="torque [N m]", ylim=(0, None))
    ax.set_title(
        f"{ds.attrs.get('design', '')}: coolant {ds.attrs.get('coolant_inlet_C', '')} degC, "
        f"{ds.attrs.get('flow_lpm', '')} l/min"
    )
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_sweep_variable(ds, variable: str, path: Path) -> Path:
    """``variable`` of a gathered sweep Dataset (dimension ``case``) per task; failed tasks
    (status other than ok) left out."""
    ok = ds["status"].values == "ok" if "status" in ds else np.ones(ds.sizes["case"], bool)
    da = ds[variable]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(np.flatnonzero(ok), da.values[ok], "o-")
    ax.set(xlabel="task (case)", ylabel=f"{variable} [{da.attrs.get('units', '')}]")
    ax.set_title(f"{ds.attrs.get('title', '')}: {da.attrs.get('long_name', variable)}")
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
