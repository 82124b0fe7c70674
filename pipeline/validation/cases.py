"""The cases of ``edrive validate``: verification (closed forms), validation (measurements
copied into the project with their sources) and regression (golden values).

Every case is a function ``case(ctx) -> list[Row]`` listed by :func:`cases` with its
section and whether it belongs to ``--quick``; it may save PNGs through ``ctx.figure``.
Tolerances are those of the matching tests, with the reason in each row's note.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.calibration.data import load_calibration_data
from pipeline.calibration.observables import evaluate_rows
from pipeline.constants import ZERO_CELSIUS
from pipeline.derived import mechanical_loss as design_mechanical_loss
from pipeline.derived import phase_resistance_dc
from pipeline.design import load_design
from pipeline.drive.cycle import DATA_DIR, cycle_distance, load_wltc_class3b
from pipeline.em.machine import run_case
from pipeline.losses.mechanical import fit_mechanical_loss, mechanical_loss
from pipeline.maps.losses import losses_at_frequency, point_losses
from pipeline.mesh import get_mesh
from pipeline.post.fields import element_flux_density
from pipeline.thermal.machine import Cooling, MachineThermalModel
from pipeline.validation.golden import (
    DESIGNS,
    check_design,
    default_operating_points,
    golden_path,
    read_golden,
)
from pipeline.validation.rows import Row
from pipeline.verification.em_cases import (
    ROUND_CONDUCTOR,
    SaturatingRing,
    femm_torque_benchmark,
    magnet_in_bore_field,
    round_conductor_convergence,
    round_conductor_exact,
    round_conductor_solution,
)
from pipeline.verification.thermal_cases import (
    annulus_convergence,
    lumped_cooling,
    solid_cylinder_error,
    two_layer_annulus,
)

__all__ = ["Context", "Case", "CASE_NAMES", "cases", "run_cases"]


@dataclass
class Context:
    """Output folder, quick flag, designs for the regression, and the figures written."""

    out_dir: Path
    quick: bool = False
    designs: tuple[str, ...] = ()
    figures: list = field(default_factory=list)  # (section, file name, caption)
    section: str = ""  # of the case running now

    def figure(self, fig, case: str, name: str, caption: str) -> None:
        """Save ``fig`` as ``name`` in the output folder, listed under the running section."""
        # defer: matplotlib loads only when a picture is drawn
        import matplotlib.pyplot as plt

        self.out_dir.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        fig.savefig(self.out_dir / name, dpi=110)
        plt.close(fig)
        self.figures.append((self.section, name, f"{case}: {caption}"))


@dataclass(frozen=True)
class Case:
    name: str
    section: str
    quick: bool
    run: Callable[[Context], list[Row]]
    title: str


def _plt():
    # defer: matplotlib loads only when a picture is drawn
    import matplotlib

    matplotlib.use("Agg")
    # defer: matplotlib loads only when a picture is drawn
    import matplotlib.pyplot as plt

    return plt


# -- verification: magnetostatics -----------------------------------------------------------
def _round_conductor(ctx: Context) -> list[Row]:

    rows, convs = [], {}
    for order, rate in ((1, 1.0), (2, 2.0)):
        conv = round_conductor_convergence(order, divisions=(2, 4, 8))
        convs[order] = conv
        rows.append(
            Row("verification", "round conductor", f"P{order} L2 rate of B (min of 2)",
                float(conv.rates.min()), rate, "-", 0.15, "atleast",
                "O(h^p); unstructured meshes make the observed rate wander by ~0.1")
        )  # fmt: skip
        bound = 0.045 if order == 1 else 0.004
        rows.append(
            Row("verification", "round conductor", f"P{order} L2 error of B at h = a/8",
                float(conv.errors[-1]), 0.0, "-", bound, "atmost",
                "error bound from the O(h^p) constant with ~30 % margin")
        )  # fmt: skip
    plt = _plt()
    basis, a = round_conductor_solution(1, ROUND_CONDUCTOR["radius"] / 8)
    b = element_flux_density(basis, a)
    xy = basis.mesh.p[:, basis.mesh.t].mean(axis=1)
    r = np.hypot(*xy)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(r * 1e3, np.hypot(*b) * 1e3, ".", ms=2, label="FE P1, h = a/8 (element centroids)")
    rr = np.linspace(1e-6, r.max(), 400)
    ax1.plot(rr * 1e3, round_conductor_exact(rr) * 1e3, "k-", label="Ampere's law")
    ax1.set(xlabel="r [mm]", ylabel="|B| [mT]", title="Round conductor, I = 1 kA, a = 10 mm")
    ax1.legend()
    for order, conv in convs.items():
        ax2.loglog(conv.sizes * 1e3, conv.errors, "o-", label=f"P{order}")
        ax2.loglog(conv.sizes * 1e3, conv.errors[-1] * (conv.sizes / conv.sizes[-1]) ** order,
                   "k:", lw=0.8)  # fmt: skip
    ax2.set(xlabel="h [mm]", ylabel="relative L2 error of B", title="Convergence (dotted: h^p)")
    ax2.legend()
    ctx.figure(fig, "round conductor", "em_round_conductor.png", "B(r) and convergence rates")
    return rows


def _magnet_bore(ctx: Context) -> list[Row]:

    b, expected = magnet_in_bore_field()
    note = "P1 h = 1 mm: measured -0.12 %; polygonal circles and O(h) error"
    return [
        Row("verification", "magnet in permeable bore", "mean B_x in the magnet",
            float(b[0].mean()), expected, "T", 3e-3, "rel", note + "; (Br/2)(1 + Rm^2/Rs^2)"),
        Row("verification", "magnet in permeable bore", "max |B_y| / B (uniformity)",
            float(np.abs(b[1]).max() / expected), 0.0, "-", 1e-2, "atmost",
            "measured 0.33 %: the field must be uniform and along Br"),
    ]  # fmt: skip


def _saturating_ring(ctx: Context) -> list[Row]:

    ring = SaturatingRing()
    rows = []
    for current in (500.0, 2000.0, 20000.0):
        res = ring.solve(current, tol=1e-8)
        rows.append(
            Row("verification", "conductor in saturating M-19 ring",
                f"ring flux A(R1) at I = {current:g} A", ring.flux(res.a),
                ring.exact_flux(current), "Wb/m", 3e-3, "rel",
                f"int B(I/2 pi r) dr; O(h^2) nodal error; Newton {res.iterations} steps")
        )  # fmt: skip
    return rows


def _torque_benchmark(ctx: Context) -> list[Row]:

    steps = tuple(range(0, 180, 15 if not ctx.quick else 30))
    rows = []
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for order in (1,) if ctx.quick else (1, 2):
        angles, torques = femm_torque_benchmark(order, steps=steps, n_slide=180)
        err = float(np.max(np.abs(torques + np.sin(angles))))
        rows.append(
            Row("verification", "FEMM torque benchmark",
                f"P{order} max |T - (-sin theta)| over {len(steps)} angles", err, 0.0, "N m",
                1e-3, "atmost", "m = 1 A m^2 in B0 = 1 T; measured <= 1.1e-4 N m")
        )  # fmt: skip
        ax.plot(np.degrees(angles), torques, "o" if order == 1 else "x", label=f"Arkkio, P{order}")
    th = np.linspace(0, 2 * np.pi, 200)
    ax.plot(np.degrees(th), -np.sin(th), "k-", label="-sin(theta)")
    ax.set(xlabel="rotor angle [deg]", ylabel="torque [N m]", title="FEMM torque benchmark")
    ax.legend()
    ctx.figure(fig, "FEMM torque benchmark", "em_torque_benchmark.png", "T = -sin(theta)")
    return rows


def _sector_full(ctx: Context) -> list[Row]:

    rows = []
    for design, i_d, i_q, i_f in (("prius_2004", -100.0, 195.0, 0.0), ("gen5_eesm", 0, 510, 25)):
        sec = run_case(design, i_d, i_q, i_f, positions=6)
        full = run_case(design, i_d, i_q, i_f, positions=6, sector=False)
        tag = f"{design} ci, i_d {i_d:g} A, i_q {i_q:g} A" + (f", i_f {i_f:g} A" if i_f else "")
        rows += [
            Row("verification", "sector vs full machine", f"{tag}: mean torque", sec.mean_torque,
                full.mean_torque, "N m", 5e-3, "rel",
                "different meshes of the same physics: mesh noise (measured ~0.1 %)"),
            Row("verification", "Arkkio vs dq torque", f"{tag}: mean Arkkio / dq torque",
                sec.mean_torque, float(np.mean(sec.dq_torque)), "N m", 1e-2, "rel",
                "band integral vs 3/2 p (psi_d i_q - psi_q i_d); ci mesh"),
        ]  # fmt: skip
    return rows


def _ci_vs_fine(ctx: Context) -> list[Row]:

    rows = []
    for design in DESIGNS:

        op = default_operating_points(load_design(design))[-1]  # the load point
        ci = run_case(design, op.i_d, op.i_q, op.i_f, positions=6)
        fine = run_case(design, op.i_d, op.i_q, op.i_f, positions=6, level="fine")
        rows += [
            Row("verification", "ci vs fine mesh", f"{design} load: mean torque",
                ci.mean_torque, fine.mean_torque, "N m", 1e-2, "rel",
                "ci is the regression level; torque within 1 % of fine (measured 0.06-0.26 %)"),
            Row("verification", "ci vs fine mesh", f"{design} load: psi_q", float(np.mean(ci.psi_q)),
                float(np.mean(fine.psi_q)), "Wb", 1e-2, "rel",
                "flux linkage within 1 % of fine (measured 0.25-0.74 %)"),
        ]  # fmt: skip
    return rows


# -- verification: heat conduction ----------------------------------------------------------
def _thermal_annulus(ctx: Context) -> list[Row]:

    conv, _, nodal = annulus_convergence((0.01, 0.005, 0.0025))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.loglog(conv.sizes * 1e3, conv.errors, "o-", label="P1")
    ax.loglog(conv.sizes * 1e3, conv.errors[-1] * (conv.sizes / conv.sizes[-1]) ** 2, "k:",
              label="h^2")  # fmt: skip
    ax.set(xlabel="h [mm]", ylabel="relative L2 error of T", title="Annulus with source")
    ax.legend()
    ctx.figure(fig, "thermal annulus", "thermal_annulus.png", "convergence of the annulus case")
    return [
        Row("verification", "annulus: source, adiabatic in, convection out",
            "P1 L2 rate of T (min of 2)", float(conv.rates.min()), 2.0, "-", 0.25, "atleast",
            "O(h^2); measured 1.97-2.01 on non-nested meshes"),
        Row("verification", "annulus: source, adiabatic in, convection out",
            "max nodal error / rise at h = r_o/40", nodal, 0.0, "-", 1e-3, "atmost",
            "issue target 0.1 %"),
    ]  # fmt: skip


def _thermal_cylinder_two_layer(ctx: Context) -> list[Row]:

    err, hot, hot_exact = solid_cylinder_error()
    two = two_layer_annulus()
    return [
        Row("verification", "solid cylinder with convection", "hot spot (centre)", hot,
            hot_exact, "K", 1e-4, "rel", "h = R/20: discretisation error ~1e-4 of the rise"),
        Row("verification", "solid cylinder with convection", "max nodal error / rise", err,
            0.0, "-", 1e-3, "atmost", "issue target 0.1 %"),
        Row("verification", "two-layer annulus, convection both faces", "heat in [per m]",
            two.q_in, two.q_exact, "W/m", 1e-3, "rel", "series resistances; measured 3e-5"),
        Row("verification", "two-layer annulus, convection both faces", "heat out [per m]",
            two.q_out, two.q_exact, "W/m", 1e-3, "rel", "series resistances; measured 3e-5"),
    ]  # fmt: skip


def _thermal_lumped(ctx: Context) -> list[Row]:

    t0, t_inf = 400.0, 300.0
    times, mean, exact, tau = lumped_cooling(t0=t0, t_inf=t_inf)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(times / tau, mean, "o", ms=2, label="FE (BDF2, dt = tau/100), mean")
    ax.plot(times / tau, exact, "k-", label="lumped exponential")
    ax.set(xlabel="t / tau", ylabel="T [K]", title="Disc cooling, Bi = 5e-5")
    ax.legend()
    ctx.figure(fig, "lumped transient", "thermal_lumped.png", "transient vs exponential")
    return [
        Row("verification", "lumped-capacitance transient", "max |T_mean - exact| / (T0 - T_inf)",
            float(np.max(np.abs(mean - exact)) / (t0 - t_inf)), 0.0, "-", 1e-4, "atmost",
            "Biot 5e-5 plus BDF2 (dt/tau)^2/3 = 3e-5"),
    ]  # fmt: skip


def _thermal_balance(ctx: Context) -> list[Row]:

    rows = []
    for name in ctx.designs or DESIGNS:
        if not golden_path(name).exists():
            continue
        g = read_golden(name)
        losses = {k.split(".loss_")[1]: q["value"] for k, q in g["quantities"].items()
                  if ".loss_" in k}  # fmt: skip
        if not losses or "loss_point" not in g:
            continue
        pt, d = g["loss_point"], load_design(name)
        full = {"brushes": 0.0, "mechanical": 0.0, "magnet": 0.0, "field_copper": 0.0} | losses
        model = MachineThermalModel(d, get_mesh(d, "ci"))
        cooling = Cooling(ZERO_CELSIUS + pt["coolant_C"], pt["flow_lpm"] / 60e3)
        bal = model.steady(full, pt["speed_rpm"] * 2 * math.pi / 60, cooling).balance
        total = sum(full.values())
        rows += [
            Row("verification", "thermal heat balance", f"{name}: heat generated / losses in",
                bal["generated"], total, "W", 1e-9, "rel",
                "the loss mapping onto the mesh and network conserves power (round-off)"),
            Row("verification", "thermal heat balance", f"{name}: |imbalance| / generated",
                abs(bal["imbalance"]) / bal["generated"], 0.0, "-", 5e-3, "atmost",
                "issue 7 target 0.5 %; a direct solve closes it to round-off"),
        ]  # fmt: skip
    return rows


# -- validation: measurements ---------------------------------------------------------------
#: the Prius calibration data file (issue 13 policy: calibration and validation rows)
PRIUS_DATA = (
    Path(__file__).resolve().parent.parent.parent
    / "geometries" / "reference" / "calibration" / "prius_2004_ornl.toml"
)


def _prius_back_emf(ctx: Context) -> list[Row]:
    """The shipped (calibrated) Prius against the rows of its calibration data file that
    need a field solution at no load or at rest: back-EMF (1000 rpm: calibration; the other
    speeds: validation, 5 % as issue 3 asks) and peak locked-rotor torque (calibration).
    Calibration rows pass within their stated uncertainty (one standard deviation)."""

    design = load_design("prius_2004")
    data = load_calibration_data(PRIUS_DATA, design)
    rows_in = [m for m in data.measurements if m.kind in ("back_emf", "locked_rotor_torque")]
    model = evaluate_rows(design, data.level, rows_in)
    rows = []
    for m in rows_in:
        cond = ", ".join(f"{k} {v}" for k, v in m.conditions)
        if m.role == "calibration":
            rows.append(Row("calibration", f"Prius 2004 {m.kind}", cond, model[m.name], m.value,
                            m.unit, m.uncertainty, "abs",
                            f"{m.source}; within the stated uncertainty (1 sigma)"))  # fmt: skip
        else:
            rows.append(Row("validation", f"Prius 2004 {m.kind}", cond, model[m.name], m.value,
                            m.unit, 0.05, "rel", f"{m.source}; issue tolerance 5 %"))  # fmt: skip
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, kind, xkey in zip(axes, ("back_emf", "locked_rotor_torque"),
                              ("speed_rpm", "current_dc_A"), strict=True):  # fmt: skip
        ms = [m for m in rows_in if m.kind == kind]
        x = np.array([m.condition(xkey) for m in ms])
        o = np.argsort(x)
        for role, mfc in (("calibration", "k"), ("validation", "w")):
            sel = [i for i in o if ms[i].role == role]
            if sel:
                ax.errorbar(x[sel], [ms[i].value for i in sel], [ms[i].uncertainty for i in sel],
                            fmt="s", color="k", mfc=mfc, label=f"ORNL ({role})")  # fmt: skip
        ax.plot(x[o], [model[ms[i].name] for i in o], "o-", label="model (calibrated design, ci)")
        ax.set(xlabel=xkey, ylabel=f"{kind} [{ms[0].unit}]")
        ax.legend(fontsize=8)
    axes[0].set_title("open-circuit back-EMF, line-to-line rms")
    axes[1].set_title("peak locked-rotor torque, DC A -> B||C")
    ctx.figure(fig, "Prius back-EMF", "prius_back_emf.png", "back-EMF and locked-rotor torque")
    return rows


def _prius_rotor_loss(ctx: Context) -> list[Row]:

    path = DATA_DIR / "ornl_prius_2004_loss_breakdown_25C.csv"
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    data = np.array([ln.split(",") for ln in lines[1:]], dtype=float)
    speed_rpm, loss = data[:, 0], data[:, 2]
    omega_mech = speed_rpm * 2 * math.pi / 60
    coeffs = fit_mechanical_loss(omega_mech, loss)
    fit = mechanical_loss(omega_mech, coeffs)
    rel = fit / loss - 1
    src = "ORNL/TM-2004/247 Table 3.7 (pipeline/drive/data/ornl_prius_2004_loss_breakdown_25C.csv)"
    rows = [
        Row("validation", "Prius 2004 rotor spin loss (fit)",
            "rms relative error of the NNLS fit, 12 points", float(np.sqrt(np.mean(rel**2))),
            0.0, "-", 0.12, "atmost", src + "; the data scatter ~20 % at low speed"),
    ]  # fmt: skip
    predicted = _prius_spin_loss_model(speed_rpm)
    if predicted is not None:
        total, parts = predicted
        for n, c, m in zip(speed_rpm, total, loss, strict=True):
            rows.append(
                Row("validation", "Prius 2004 spin loss (FE iron+magnet, bearings, windage)",
                    f"at {n:.0f} rpm", float(c), float(m), "W", 0.25,
                    "rel", src + "; 25 %: the measured points scatter ~20 % about a smooth "
                    "curve; no build factor on the Epstein-fitted iron loss")
            )  # fmt: skip
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(speed_rpm, loss, "ks", label="ORNL p_rotor (25 degC)")
    ax.plot(speed_rpm, fit, "--", color="0.5", label="fit a w + b w^2 + c w^3")
    if predicted is not None:
        ax.plot(speed_rpm, predicted[0], "o-", label="model: FE iron (ci) + magnet + mech.")
        ax.plot(speed_rpm, predicted[1]["mechanical"], ":", label="model: bearings + windage")
    ax.set(xlabel="speed [rpm]", ylabel="loss [W]", title="Prius MG2 spinning-rotor loss")
    ax.legend()
    ctx.figure(fig, "Prius rotor loss", "prius_rotor_loss.png", "spin loss vs speed")
    return rows


def _prius_spin_loss_model(speed_rpm: np.ndarray):
    """Open-circuit loss of the spinning Prius rotor [W] at ``speed_rpm``: FE iron and
    magnet loss coefficients (ci, 36 positions over half a period) at f = p n / 60, plus
    bearings and windage (:func:`pipeline.derived.mechanical_loss`)."""

    d = load_design("prius_2004")
    res = run_case(d, 0.0, 0.0, positions=36, span_el=math.pi, keep_fields=True)
    c = {k: v[0] for k, v in point_losses(res, d).items()}
    f = d.pole_pairs * speed_rpm / 60
    omega_mech = speed_rpm * 2 * math.pi / 60
    at_f = losses_at_frequency(c, f)
    magnet = at_f.pop("magnet")
    iron = sum(at_f.values())
    mech = design_mechanical_loss(d, omega_mech)
    parts = {"iron": iron, "magnet": magnet, "mechanical": mech}
    return iron + magnet + mech, parts


def _prius_resistance(ctx: Context) -> list[Row]:

    path = Path(__file__).resolve().parent / "data" / "ornl_prius_2004_motor.csv"
    lines = [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    table = {ln.split(",")[0]: float(ln.split(",")[2]) for ln in lines[1:]}
    r = float(phase_resistance_dc(load_design("prius_2004"), ZERO_CELSIUS + 21.0))
    return [
        Row("validation", "Prius 2004 phase resistance", "DC phase resistance at 21 degC", r,
            table["phase_resistance_21C"], "ohm", 0.05, "rel",
            "ORNL/TM-2010/253 Table 2.7 (pipeline/validation/data/ornl_prius_2004_motor.csv); "
            "end connections are 2/3 of the turn length and estimated (semicircle + "
            "overhang): 5 %"),
    ]  # fmt: skip


def _wltc(ctx: Context) -> list[Row]:

    c = load_wltc_class3b()
    src = "UN GTR No. 15 checksums (pipeline/drive/data/wltc_class3b.csv)"
    return [
        Row("validation", "WLTC class 3b trace", "distance", cycle_distance(c) / 1e3, 23.27,
            "km", 0.005, "abs", src + "; published to 0.01 km"),
        Row("validation", "WLTC class 3b trace", "sum of speeds", float(c.speed.sum() * 3.6),
            83758.6, "km/h", 0.05, "abs", src + "; published to 0.1 km/h"),
        Row("validation", "WLTC class 3b trace", "maximum speed", float(c.speed.max() * 3.6),
            131.3, "km/h", 0.05, "abs", src),
    ]  # fmt: skip


# -- regression -------------------------------------------------------------------------------
def _regression(ctx: Context) -> list[Row]:

    rows, ratios = [], {}
    for name in ctx.designs or DESIGNS:
        for c in check_design(name):
            rows.append(
                Row("regression", f"golden {name}", c.quantity, c.now, c.golden, c.unit,
                    c.tolerance, "abs", c.basis)
            )  # fmt: skip
            ratios[(name, c.quantity)] = abs(c.change) / c.tolerance if c.tolerance else math.inf
    if ratios:
        plt = _plt()
        keys = list(ratios)
        fig, ax = plt.subplots(figsize=(7, max(4, 0.16 * len(keys))))
        vals = [min(ratios[k], 3.0) for k in keys]
        colors = ["tab:green" if ratios[k] <= 1 else "tab:red" for k in keys]
        ax.barh(range(len(keys)), vals, color=colors)
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set_yticks(range(len(keys)), [f"{d} {q}" for d, q in keys], fontsize=6)
        ax.set(xlabel="|change| / tolerance (clipped at 3)", title="Regression against golden")
        ax.invert_yaxis()
        ctx.figure(fig, "regression", "regression.png", "change relative to tolerance")
    return rows


def _cases() -> list[Case]:
    cases = [
        Case("round_conductor", "verification", True, _round_conductor,
             "Round conductor in air: B(r) and convergence"),
        Case("magnet_bore", "verification", True, _magnet_bore,
             "Magnetised cylinder in a permeable bore"),
        Case("saturating_ring", "verification", True, _saturating_ring,
             "Conductor in a saturating ring (Newton)"),
        Case("torque_benchmark", "verification", True, _torque_benchmark,
             "FEMM torque benchmark"),
        Case("sector_full", "verification", False, _sector_full,
             "Sector vs full machine; Arkkio vs dq torque"),
        Case("ci_vs_fine", "verification", False, _ci_vs_fine,
             "Mesh convergence: ci vs fine at the load points"),
        Case("thermal_annulus", "verification", True, _thermal_annulus,
             "Annulus with source: convergence"),
        Case("thermal_radial", "verification", True, _thermal_cylinder_two_layer,
             "Solid cylinder and two-layer annulus"),
        Case("thermal_lumped", "verification", True, _thermal_lumped,
             "Lumped-capacitance transient"),
    ]  # fmt: skip
    cases.append(Case("thermal_balance", "verification", True, _thermal_balance,
                      "Heat balance of the machine thermal model (golden losses)"))  # fmt: skip
    cases.append(Case("prius_back_emf", "validation", True, _prius_back_emf,
                      "Prius 2004 back-EMF vs ORNL"))  # fmt: skip
    cases.append(Case("prius_rotor_loss", "validation", True, _prius_rotor_loss,
                      "Prius 2004 rotor spin loss vs ORNL"))  # fmt: skip
    cases.append(Case("prius_resistance", "validation", True, _prius_resistance,
                      "Prius 2004 phase resistance vs ORNL"))  # fmt: skip
    cases.append(Case("wltc", "validation", True, _wltc, "WLTC class 3b trace checksums"))
    cases.append(Case("regression", "regression", True, _regression,
                      "Reference designs against golden values (ci)"))  # fmt: skip
    return cases


#: every case name (the ones whose code is missing are left out at run time)
CASE_NAMES = (
    "round_conductor", "magnet_bore", "saturating_ring", "torque_benchmark", "sector_full",
    "ci_vs_fine", "thermal_annulus", "thermal_radial", "thermal_lumped", "thermal_balance",
    "prius_back_emf",
    "prius_rotor_loss", "prius_resistance", "wltc", "regression",
)  # fmt: skip


def cases() -> list[Case]:
    """The cases whose code is available, in report order."""
    return _cases()


def run_cases(ctx: Context, only: tuple[str, ...] = ()) -> tuple[list[Row], dict[str, float]]:
    """Run the cases (``--quick`` ones only if ``ctx.quick``); a case that raises gives one
    failing row with the reason. Returns the rows and the wall time per case [s]."""

    log = logging.getLogger(__name__)
    rows, times = [], {}
    for case in cases():
        if (ctx.quick and not case.quick) or (only and case.name not in only):
            continue
        t0 = time.perf_counter()
        ctx.section = case.section
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # meshio prints on mesh loads
                rows += case.run(ctx)
        except Exception as exc:  # noqa: BLE001 - a broken case is reported, not hidden
            log.exception("case %s failed", case.name)
            rows.append(Row(case.section, case.title, f"case raised {type(exc).__name__}",
                            math.nan, math.nan, "", 0.0, "abs", str(exc)[:200]))  # fmt: skip
        times[case.name] = time.perf_counter() - t0
        log.info("%s: %.1f s", case.name, times[case.name])
    return rows, times
