"""Outputs of a design study: ``study.nc`` (one row per variant), a ranked CSV, and pictures
(Pareto fronts of WLTC energy against active material cost and mass, KPI scatter matrix,
torque envelopes of the front variants).

``study.nc``: dimension ``variant``; the inputs in the study file's units under their file
names with ``.`` replaced by ``__`` (e.g. ``stator__stack_length_mm``, ``units`` = the
suffix); the KPIs in SI (``units`` and ``long_name`` on each); ``status`` (ok / failed /
infeasible), ``reason``, paths to the variant's ``flux.nc`` and ``efficiency.nc``;
``pareto_cost`` / ``pareto_mass`` (1 on the front); ``rank`` (1 = lowest WLTC energy);
``envelope_speed`` [rad/s] and ``envelope_torque`` [N m] over ``envelope_point``. The
attributes record the sampling (method, n, seed), the prices and their sources, the
design, level, package version and the run's counts.

The CSV (an edge of the library) converts to the units in its column names:
``wltc_kWh_per_100km``, ``peak_power_kW``, ``airgap_shear_stress_kPa``,
``field_current_density_A_per_mm2``; rows are sorted by rank, failed variants last.
"""

from __future__ import annotations

import csv
import datetime
import json
import math
from pathlib import Path

import numpy as np

from pipeline.io.store import write_dataset
from pipeline.study.kpis import PRICES_USD_PER_KG
from pipeline.version import __version__

__all__ = ["pareto_front", "write_study_outputs", "CSV_COLUMNS"]

#: (KPI name, CSV column, factor from SI to the column's unit)
CSV_COLUMNS = [
    ("wltc_energy", "wltc_kWh_per_100km", 1 / 36.0),
    ("material_cost", "material_cost_USD", 1.0),
    ("mass_active", "active_mass_kg", 1.0),
    ("peak_torque", "peak_torque_Nm", 1.0),
    ("peak_power", "peak_power_kW", 1e-3),
    ("continuous_torque_base_speed", "S1_torque_base_speed_Nm", 1.0),
    ("peak_30s_torque_base_speed", "peak_30s_torque_base_speed_Nm", 1.0),
    ("peak_drive_efficiency", "peak_drive_efficiency", 1.0),
    ("airgap_shear_stress", "airgap_shear_stress_kPa", 1e-3),
    ("field_current_density", "field_current_density_A_per_mm2", 1e-6),
    ("mass_shaft", "shaft_mass_kg", 1.0),
]
#: KPIs of the scatter matrix
SCATTER = (
    "wltc_energy",
    "material_cost",
    "mass_active",
    "peak_torque",
    "continuous_torque_base_speed",
)


def pareto_front(x, y) -> np.ndarray:
    """Mask of the points not dominated when both ``x`` and ``y`` are minimised (NaN: never
    on the front). A point is dominated if another is <= in both and < in one."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    front = np.zeros(x.size, bool)
    for i in np.flatnonzero(ok):
        le = ok & (x <= x[i]) & (y <= y[i])
        lt = (x < x[i]) | (y < y[i])
        front[i] = not np.any(le & lt)
    return front


def _kpi_table(records: list[dict]) -> dict[str, tuple[np.ndarray, str, str]]:
    meta: dict[str, tuple[str, str]] = {}
    for r in records:
        for name, (_, units, long_name) in (r or {}).get("values", {}).items():
            meta.setdefault(name, (units, long_name))
    out = {}
    for name, (units, long_name) in meta.items():
        vals = [
            (r["values"][name][0] if r and name in r.get("values", {}) else math.nan)
            for r in records
        ]
        out[name] = (np.asarray(vals, float), units, long_name)
    return out


def _dataset(spec, records, kpis, front_cost, front_mass, rank, summary):
    # defer: xarray loads only where datasets are read or written
    import xarray as xr

    n = len(records)
    dv: dict = {}
    for key in spec.inputs:
        vals = [r["labels"].get(key, math.nan) if r else math.nan for r in records]
        unit = key.rsplit("_", 1)[-1] if "_" in key else "1"
        dv[key.replace(".", "__")] = (
            ("variant",),
            np.asarray(vals, float),
            {"units": unit, "long_name": f"input {key} (study file units)"},
        )
    for name, (vals, units, long_name) in kpis.items():
        dv[name] = (("variant",), vals, {"units": units, "long_name": long_name})

    def col(f, long_name):
        return (
            ("variant",),
            np.asarray([f(r) for r in records], dtype=str),
            {"long_name": long_name},
        )

    dv["status"] = col(
        lambda r: r.get("outcome", r["status"]) if r else "missing", "ok | failed | infeasible"
    )
    dv["reason"] = col(lambda r: (r or {}).get("reason", ""), "why a variant failed")
    dv["origin"] = col(lambda r: (r or {}).get("origin", ""), "sampled or listed")
    dv["record_hash"] = col(lambda r: (r or {}).get("hash", ""), "content hash of the record")
    dv["flux_dataset"] = col(lambda r: (r or {}).get("paths", {}).get("flux", ""), "flux map path")
    dv["efficiency_dataset"] = col(
        lambda r: (r or {}).get("paths", {}).get("efficiency", ""), "efficiency maps path"
    )
    dv["newton_tolerance"] = (
        ("variant",),
        np.asarray([(r or {}).get("newton_tolerance", math.nan) for r in records], float),
        {"units": "1", "long_name": "Newton relative residual tolerance of the map points"},
    )
    dv["pareto_cost"] = (
        ("variant",),
        front_cost.astype(np.int8),
        {"units": "1", "long_name": "1: on the front WLTC energy vs material cost"},
    )
    dv["pareto_mass"] = (
        ("variant",),
        front_mass.astype(np.int8),
        {"units": "1", "long_name": "1: on the front WLTC energy vs active mass"},
    )
    dv["rank"] = (
        ("variant",),
        rank,
        {"units": "1", "long_name": "rank by WLTC energy (1 best; 0: failed)"},
    )
    envs = [(r or {}).get("envelope", {}) for r in records]
    m = max((len(e.get("speed", [])) for e in envs), default=0)
    sp, tq = np.full((n, m), np.nan), np.full((n, m), np.nan)
    for i, e in enumerate(envs):
        k = len(e.get("speed", []))
        sp[i, :k], tq[i, :k] = e.get("speed", []), e.get("torque", [])
    dv["envelope_speed"] = (
        ("variant", "envelope_point"),
        sp,
        {"units": "rad/s", "long_name": "speed of the envelope"},
    )
    dv["envelope_torque"] = (
        ("variant", "envelope_point"),
        tq,
        {"units": "N m", "long_name": "motoring torque envelope"},
    )

    attrs = {
        "title": f"design study {spec.name}",
        "design": spec.base.name,
        "design_hash": spec.base.content_hash(),
        "mesh_level": spec.level,
        "sampling_method": spec.method,
        "sampling_n": spec.n,
        "sampling_seed": -1 if spec.seed is None else spec.seed,
        "workflow_file": str(spec.path),
        "map_grid": json.dumps(spec.map_sizes),
        "efficiency_options": json.dumps(spec.efficiency),
        "prices_USD_per_kg": json.dumps({k: v[0] for k, v in PRICES_USD_PER_KG.items()}),
        "price_sources": json.dumps({k: v[1] for k, v in PRICES_USD_PER_KG.items()}),
        "package_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "wall_time_s": summary.wall_time_s,
        "map_points": summary.map_points,
        "map_points_computed": summary.map_points_computed,
        "map_points_reused": summary.map_points_reused,
        "variants_computed": summary.computed_variants,
        "variants_reused": summary.reused_variants,
    }
    coords = {
        "variant": ("variant", np.asarray([r["index"] if r else i for i, r in enumerate(records)]))
    }
    return xr.Dataset(dv, coords=coords, attrs=attrs)


def _csv(path: Path, spec, records, kpis, front_cost, front_mass, rank) -> Path:
    order = sorted(range(len(records)), key=lambda i: (rank[i] == 0, rank[i], i))
    header = [
        "rank",
        "variant",
        "status",
        *spec.inputs,
        *(c for _, c, _ in CSV_COLUMNS),
        "pareto_cost",
        "pareto_mass",
        "reason",
    ]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for i in order:
            r = records[i] or {}
            row = [int(rank[i]), r.get("index", i), r.get("outcome", "missing")]
            row += [r.get("labels", {}).get(k, "") for k in spec.inputs]
            for name, _, factor in CSV_COLUMNS:
                v = kpis[name][0][i] * factor if name in kpis else math.nan
                row.append("" if not math.isfinite(v) else f"{v:.6g}")
            row += [int(front_cost[i]), int(front_mass[i]), r.get("reason", "")]
            w.writerow(row)
    return path


def _pictures(out: Path, kpis, front_cost, front_mass, records, title: str) -> list[Path]:
    # defer: matplotlib loads only when a picture is drawn
    import matplotlib

    matplotlib.use("Agg")
    # defer: matplotlib loads only when a picture is drawn
    import matplotlib.pyplot as plt

    paths = []
    e = kpis.get("wltc_energy", (np.array([]),))[0] / 36.0
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, (name, label), front in zip(
        axes,
        [("material_cost", "active material cost [USD]"), ("mass_active", "active mass [kg]")],
        [front_cost, front_mass],
        strict=True,
    ):
        x = kpis.get(name, (np.full(e.size, np.nan),))[0]
        ax.scatter(x, e, c="0.6", label="variants")
        idx = np.flatnonzero(front)
        idx = idx[np.argsort(x[idx])]
        ax.plot(x[idx], e[idx], "o-", color="C3", label="Pareto front")
        for i in idx:
            ax.annotate(
                str(records[i]["index"]), (x[i], e[i]), textcoords="offset points", xytext=(4, 4)
            )
        ax.set_xlabel(label)
        ax.set_ylabel("WLTC energy [kWh/100 km]")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"{title}: WLTC energy against cost and mass")
    fig.tight_layout()
    paths.append(out / "pareto.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    names = [n for n in SCATTER if n in kpis]
    k = len(names)
    if k:
        fig, axes = plt.subplots(k, k, figsize=(2.2 * k, 2.2 * k), squeeze=False)
        for a, na in enumerate(names):
            for b, nb in enumerate(names):
                ax = axes[a][b]
                if a == b:
                    vals = kpis[na][0][np.isfinite(kpis[na][0])]
                    ax.hist(vals, bins=max(3, min(10, vals.size)))
                else:
                    ax.scatter(kpis[nb][0], kpis[na][0], s=10)
                if a == k - 1:
                    ax.set_xlabel(f"{nb} [{kpis[nb][1]}]", fontsize=7)
                if b == 0:
                    ax.set_ylabel(f"{na} [{kpis[na][1]}]", fontsize=7)
                ax.tick_params(labelsize=6)
        fig.suptitle(f"{title}: KPI scatter matrix")
        fig.tight_layout()
        paths.append(out / "kpi_scatter.png")
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 5))
    for i in np.flatnonzero(front_cost | front_mass):
        env = records[i].get("envelope", {})
        rpm = np.asarray(env.get("speed", []), float) * 30.0 / math.pi
        ax.plot(rpm, env.get("torque", []), label=f"variant {records[i]['index']}")
    ax.set_xlabel("speed [rpm]")
    ax.set_ylabel("torque envelope [N m]")
    ax.set_title(f"{title}: torque envelopes of the Pareto-front variants")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(out / "front_envelopes.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def write_study_outputs(spec, records: list[dict | None], out_dir, summary) -> dict:
    """Write study.nc, <name>_ranked.csv and the pictures; return their paths."""

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kpis = _kpi_table(records)
    ok = np.array([bool(r) and r.get("outcome") == "ok" for r in records])
    nan = np.full(len(records), np.nan)
    e = np.where(ok, kpis.get("wltc_energy", (nan,))[0], np.nan)
    front_cost = pareto_front(kpis.get("material_cost", (nan,))[0], e)
    front_mass = pareto_front(kpis.get("mass_active", (nan,))[0], e)
    rank = np.zeros(len(records), dtype=np.int32)
    order = [i for i in np.argsort(np.where(np.isfinite(e), e, np.inf)) if np.isfinite(e[i])]
    for r, i in enumerate(order, start=1):
        rank[i] = r
    ds = _dataset(spec, records, kpis, front_cost, front_mass, rank, summary)
    nc = write_dataset(ds, out / "study.nc")
    csv_path = _csv(
        out / f"{spec.name}_ranked.csv", spec, records, kpis, front_cost, front_mass, rank
    )
    pngs = _pictures(out, kpis, front_cost, front_mass, records, spec.name)
    return {"dataset": str(nc), "csv": str(csv_path), "pictures": [str(p) for p in pngs]}
