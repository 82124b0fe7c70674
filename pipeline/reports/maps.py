"""Pictures of the map stages: flux and loss maps over the current plane; efficiency maps
with envelopes, losses, curves, cycle overlay."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

from pipeline.maps.protocol import LOSS_KEYS

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["flux_figures", "efficiency_figures"]

_ETA_LEVELS = [
    0.5,
    0.7,
    0.8,
    0.85,
    0.88,
    0.9,
    0.92,
    0.93,
    0.94,
    0.95,
    0.96,
    0.97,
    0.975,
    0.98,
    0.985,
    0.99,
]


def _rpm(ds):
    return ds["speed"].values * 30.0 / np.pi


def _envelope(ax, ds):
    env = ds["torque_envelope"].values
    ax.plot(_rpm(ds), env[0], "k-", lw=1.5)
    ax.plot(_rpm(ds), env[1], "k-", lw=1.5)


def _region_legend(ax):
    """Label the region boundaries drawn from ``region`` (codes of
    :data:`pipeline.maps.strategy.REGIONS`): dashed MTPA | field weakening, dotted field
    weakening | MTPV; the currents may change abruptly only across these lines."""
    # defer: matplotlib loads only when a picture is drawn
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="w", ls="--", lw=1.0, label="MTPA | field weakening"),
        Line2D([], [], color="w", ls=":", lw=1.0, label="field weakening | MTPV"),
    ]
    ax.legend(handles=handles, loc="upper right", fontsize=8, facecolor="0.4", labelcolor="w")


def _eta_map(ax, fig, x, y, eta, title):
    eta = np.where(eta > 0, eta, np.nan)
    cs = ax.contourf(x, y, eta, levels=_ETA_LEVELS, cmap="viridis", extend="min")
    ax.contour(x, y, eta, levels=_ETA_LEVELS, colors="k", linewidths=0.3)
    fig.colorbar(cs, ax=ax, label="efficiency [-]")
    ax.set_title(title)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def efficiency_figures(ds, cycle: dict | None, out_dir, title: str = "") -> list[Path]:
    """Write the PNGs of an efficiency Dataset (:func:`efficiency_dataset`); return paths."""
    out = Path(out_dir)
    rpm, torque = _rpm(ds), ds["torque"].values
    paths = []

    fig, ax = plt.subplots(figsize=(8, 6))
    _eta_map(ax, fig, rpm, torque, ds["motor_efficiency"].values.T, f"{title}: motor efficiency")
    _envelope(ax, ds)
    reg = ds["region"].values.T.astype(float)
    ax.contour(
        rpm,
        torque,
        np.where(reg > 0, reg, np.nan),
        levels=[1.5, 2.5],
        colors="w",
        linestyles=["--", ":"],
        linewidths=1.0,
    )
    _region_legend(ax)
    ax.set_xlabel("speed [rpm]")
    ax.set_ylabel("torque [N m]")
    paths.append(_save(fig, out / "efficiency_motor.png"))

    keys = [k for k in ds.data_vars if k.startswith("loss_")] + ["p_inverter", "p_gearbox"]
    keys = [k for k in keys if np.nanmax(np.abs(ds[k].values), initial=0.0) > 0.0]
    ncol = 3
    nrow = max(1, -(-len(keys) // ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(5 * ncol, 3.8 * nrow), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        cs = ax.contourf(rpm, torque, ds[key].values.T / 1e3, levels=15, cmap="magma")
        fig.colorbar(cs, ax=ax, label="[kW]")
        _envelope(ax, ds)
        ax.set_title(ds[key].attrs.get("long_name", key))
        ax.set_xlabel("speed [rpm]")
        ax.set_ylabel("torque [N m]")
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    paths.append(_save(fig, out / "losses.png"))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    env = ds["torque_envelope"].values
    pw = ds["power_envelope"].values / 1e3
    ax1.plot(rpm, env[0], label="motoring")
    ax1.plot(rpm, env[1], label="generating")
    ax2.plot(rpm, pw[0], label="motoring")
    ax2.plot(rpm, pw[1], label="generating")
    ax1.set_ylabel("torque [N m]")
    ax2.set_ylabel("power [kW]")
    for ax in (ax1, ax2):
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_xlabel("speed [rpm]")
        ax.grid(True, alpha=0.3)
        ax.legend()
    ax1.set_title(f"{title}: torque-speed envelope")
    ax2.set_title("power-speed envelope")
    paths.append(_save(fig, out / "envelopes.png"))

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5.5))
    _eta_map(ax1, fig, rpm, torque, ds["motor_efficiency"].values.T, "motor")
    _envelope(ax1, ds)
    ax1.set_xlabel("motor speed [rpm]")
    ax1.set_ylabel("motor torque [N m]")
    w_rpm = ds["wheel_speed"].values * 30.0 / np.pi
    xx = np.broadcast_to(w_rpm[:, None], ds["wheel_torque"].shape).T
    yy = ds["wheel_torque"].values.T
    eta = ds["drive_efficiency"].values.T
    ok = np.isfinite(yy)
    yy = np.where(ok, yy, 0.0)
    eta = np.where(ok & (eta > 0), eta, np.nan)
    cs = ax2.contourf(xx, yy, eta, levels=_ETA_LEVELS, cmap="viridis", extend="min")
    fig.colorbar(cs, ax=ax2, label="efficiency [-]")
    ratio = float(ds.attrs.get("gear_ratio", 1.0))
    for row in ds["wheel_torque_envelope"].values:
        ax2.plot(w_rpm, row, "k-", lw=1.5)
    ax2.set_title(f"drive unit (DC link to wheel), ratio {ratio:g}")
    ax2.set_xlabel("wheel speed [rpm]")
    ax2.set_ylabel("wheel torque [N m]")
    paths.append(_save(fig, out / "efficiency_drive_unit.png"))

    if cycle is not None:
        fig, ax = plt.subplots(figsize=(8, 6))
        _eta_map(ax, fig, rpm, torque, ds["motor_efficiency"].values.T, "WLTC class 3b points")
        _envelope(ax, ds)
        ax.plot(
            cycle["omega_motor"] * 30.0 / np.pi,
            cycle["torque_motor"],
            ".",
            ms=2.5,
            color="tab:red",
            alpha=0.6,
        )
        e = cycle["energy"]
        ax.set_title(f"{title}: WLTC class 3b, {e.kWh_per_100km:.1f} kWh/100 km (DC link)")
        ax.set_xlabel("speed [rpm]")
        ax.set_ylabel("torque [N m]")
        paths.append(_save(fig, out / "cycle_overlay.png"))
    return paths


def _contour(ax, fig, ds, name: str, i_max: float, title: str) -> None:
    da = ds[name]
    if "i_f" in da.dims:
        da = da.isel(i_f=-1)
    x, y = ds["i_d"].values, ds["i_q"].values
    z = da.transpose("i_q", "i_d").values
    cs = ax.contourf(x, y, z, levels=20, cmap="viridis")
    ax.contour(x, y, z, levels=10, colors="k", linewidths=0.4)
    t = np.linspace(0, 2 * math.pi, 200)
    ax.plot(i_max * np.cos(t), i_max * np.sin(t), "w--", lw=1)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_xlabel("i_d [A]")
    ax.set_ylabel("i_q [A]")
    ax.set_title(title)
    fig.colorbar(cs, ax=ax, label=f"{name} [{da.attrs.get('units', '')}]")


def flux_figures(ds, out_dir: str | Path, model=None, speed_rpm: float | None = None) -> list[Path]:
    """``flux.png`` (psi_d, psi_q, torque contours; dashed: current limit) and, when ``model``
    (a MachineMap) is given, ``losses.png`` (its loss components at ``speed_rpm``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    i_max = float(ds.attrs.get("max_phase_current_A", 0.0))
    tag = f"{ds.attrs.get('design', '')} ({ds.attrs.get('mesh_level', '')})"
    if "i_f" in ds.dims:
        tag += f", i_f = {float(ds['i_f'].values[-1]):g} A"
    fig, axes = plt.subplots(1, 3, figsize=(17, 5), constrained_layout=True)
    for ax, name in zip(axes, ("psi_d", "psi_q", "torque"), strict=True):
        _contour(ax, fig, ds, name, i_max, f"{name}: {tag}")
    paths = [out / "flux.png"]
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)
    if model is None:
        return paths

    i_d, i_q = np.meshgrid(ds["i_d"].values, ds["i_q"].values, indexing="ij")
    i_f = float(ds["i_f"].values[-1]) if "i_f" in ds.dims else 0.0
    speed = (speed_rpm or 3000.0) * 2 * math.pi / 60
    losses = model.losses(i_d, i_q, i_f, speed)
    # components that vary over the current plane (mechanical losses do not; named in a note)
    values = {k: np.asarray(losses[k]) for k in LOSS_KEYS if k in losses}
    keys = [k for k, v in values.items() if np.nanmax(v) - np.nanmin(v) > 1e-9 * np.nanmax(v)]
    flat = [
        f"{k} {np.nanmax(v):.0f} W" for k, v in values.items() if k not in keys and np.nanmax(v)
    ]
    if not keys:
        return paths
    cols = min(4, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.8 * rows), constrained_layout=True)
    for ax, k in zip(np.atleast_1d(axes).ravel(), keys, strict=False):
        cs = ax.contourf(i_d[:, 0], i_q[0], losses[k].T, levels=20, cmap="magma")
        fig.colorbar(cs, ax=ax, label="W")
        ax.set_title(f"{k} at {speed * 60 / (2 * math.pi):.0f} rpm")
        ax.set_xlabel("i_d [A]")
        ax.set_ylabel("i_q [A]")
    for ax in np.atleast_1d(axes).ravel()[len(keys) :]:
        ax.axis("off")
    if flat:
        fig.suptitle(f"{tag}; constant over the plane: {', '.join(flat)}")
    paths.append(out / "losses.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths
