r"""Loss coefficients of one map point from the finite-element field over rotor positions.

:func:`point_losses` turns a :class:`~pipeline.em.machine.CaseResult` solved with
``keep_fields=True`` into scalars that make iron and magnet losses available at *any*
speed without new solves (:class:`~pipeline.losses.iron.FrequencyScaledLoss`): with ``f``
the electrical frequency ``p n / (2 pi)`` [Hz] (n mechanical speed [rad/s])::

    P_iron,region(f) = c_h f + c_e f^2 + c_a f^1.5      (harmonic Bertotti)
    P_iron,region(f) = k_mse f^alpha_mse                 (modified Steinmetz, alternative)
    P_magnet(f)      = c_m f^2                           (resistance-limited eddy currents)

Positions. The case must cover a full electrical period (``span_el = 2 pi``), half of it
(``span_el = pi``) or, for integral-slot windings, a sixth of it (``span_el = pi/3``), ``N``
positions evenly spaced with the endpoint excluded (the default spacing of ``run_case``).
A sixth is completed by :mod:`pipeline.em.sixfold`: the stator's fields at theta + k pi/3
are the solved fields rotated by k pi/3 el. (interpolated on the stator mesh), the rotor's
repeat. A half period is completed by symmetry:

* stator (stator frame): shifting the rotor by one pole pitch while the currents change
  sign (theta_el + pi) reverses every source; the B-H curves are odd, so
  ``B(theta + pi) = -B(theta)`` for any machine with identical poles;
* rotor and magnets (rotor frame): if the smallest sector is one pole with anti-periodic
  boundaries (all reference designs), the field seen from the rotor at theta + pi is the
  anti-periodic image of the field at theta rotated with the rotor, so
  ``B(theta + pi) = +B(theta)`` in rotor coordinates. Otherwise a full period is required.

Harmonics up to ``N_full/2 - 1`` are resolved (``N_full`` samples per period); slot
harmonics seen by the rotor have order ``Q/p`` (12 for the Prius, 18 for gen5_eesm, 24 for
zoe_eesm), so ``N = 36`` positions over ``pi`` or 12 over ``pi/3`` (72 per period) resolve
them on all three.

Iron. Per element and component (B_x, B_y) the one-sided harmonic amplitudes give
:func:`~pipeline.losses.iron.bertotti_frequency_coefficients` (per-harmonic Bertotti,
hysteresis summed over harmonics, DC bias ignored); the MSE variant applies
:func:`~pipeline.losses.iron.modified_steinmetz` to each component and adds them. The MSE
counts one major loop per period; a waveform repeating ``r`` times per electrical period
(the rotor sees the 6k stator harmonics only) is counted as r loops:
``p = r^(2 - alpha) MSE(full period)`` with ``r`` from :func:`repetition_order`. Minor
loops inside a repetition are otherwise ignored (a known MSE limitation).
Element mass = density x area x stack length x n_sectors x stacking factor. The solver's
field is the stack average ``B_eff = k_f B_steel + (1 - k_f) mu_0 H``
(:func:`pipeline.em.machine.stacked_bh_curve`); the steel sees ``B_eff / k_f`` (the
``mu_0 H`` share is below 1e-3 T up to 1.9 T and is neglected), which is the B used here.
Coefficients are fitted to the material's loss table (:data:`LOSS_TABLES`; Bertotti with
the hysteresis exponent fitted, Steinmetz log-linear); :func:`iron_fit_report` gives the
fit quality.
No build factor (cutting, pressing) is applied.

Magnets. For each magnet the normal flux density (along the magnetisation) is averaged
over equal strips across the magnet width and fed to
:func:`~pipeline.losses.magnet.strip_eddy_loss_density` (axial currents closing at the
magnet ends, finite-length factor F(l/w), magnets unsegmented along the stack); currents
driven by the small tangential component (across the thickness) are neglected.
Conductivity at the material's reference temperature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from pipeline.design import Design
from pipeline.em.sixfold import stator_full_period
from pipeline.errors import DesignError
from pipeline.losses.iron import (
    BertottiFit,
    SteinmetzFit,
    bertotti_frequency_coefficients,
    fit_bertotti,
    fit_steinmetz,
    harmonic_amplitudes,
    modified_steinmetz,
    read_loss_table,
)
from pipeline.losses.magnet import strip_eddy_loss_density
from pipeline.materials import load_material
from pipeline.mesh import get_mesh

__all__ = [
    "LOSS_TABLES",
    "IRON_REGIONS",
    "IronLossModel",
    "iron_loss_model",
    "iron_fit_report",
    "full_period",
    "repetition_order",
    "point_losses",
    "POINT_LOSS_VARIABLES",
]

#: Loss table (``geometries/reference/materials/loss_data/<name>.csv``) per steel material.
#: m250_35a_syre has no measured table: the M235-35A table (same 0.35 mm gauge) stands in;
#: the SyR-e M250-35A loss model (kh 0.00778, alpha 1.231, beta 1.790, ke 3.15e-5, from the
#: same material file) is within 3 % of it (median ratio 1.03 over the table points).
LOSS_TABLES = {
    "m19_29ga": "M19_29Ga",
    "m400_50a_pyleecan": "M400-50A",
    "m250_35a_syre": "M235-35A",
}

#: Field regions (``result.extras["regions"]``) -> loss component name (protocol LOSS_KEYS).
IRON_REGIONS = {
    "stator_teeth": "iron_stator_teeth",
    "stator_yoke": "iron_stator_yoke",
    "rotor_core": "iron_rotor",
}


def losses_at_frequency(coefficients, frequency: ArrayLike) -> dict:
    """Iron loss per region (Bertotti ``c_h f + c_e f^2 + c_a f^1.5``) and magnet eddy loss
    (``c_e f^2``) [W] at electrical frequency ``frequency`` [Hz], from coefficients named as
    :func:`point_losses` names them (``iron_rotor_c_h``, ``magnet_c_e``, ...; numbers or
    arrays that broadcast with ``frequency``)."""
    f = np.asarray(frequency, dtype=float)
    c = coefficients
    out = {
        key: c[f"{key}_c_h"] * f + c[f"{key}_c_e"] * f**2 + c[f"{key}_c_a"] * f**1.5
        for key in IRON_REGIONS.values()
    }
    out["magnet"] = c["magnet_c_e"] * f**2
    return out


#: Strips across a magnet's width (at most; fewer if the magnet has few elements).
MAX_MAGNET_STRIPS = 16


@dataclass(frozen=True)
class IronLossModel:
    """Fitted loss models of one steel: density [kg/m^3], Bertotti and Steinmetz fits."""

    material: str
    table: str
    density: float
    bertotti: BertottiFit
    steinmetz: SteinmetzFit
    steinmetz_rms_relative_error: float


@lru_cache(maxsize=16)
def iron_loss_model(material: str) -> IronLossModel:
    """Fit Bertotti (alpha fitted) and Steinmetz to the loss table of ``material``."""
    if material not in LOSS_TABLES:
        raise DesignError("material", material, f"no loss table; known: {sorted(LOSS_TABLES)}")
    table = LOSS_TABLES[material]
    f, b, p = read_loss_table(table)
    steinmetz = fit_steinmetz(f, b, p)
    rel = steinmetz(b, f) / p - 1.0
    return IronLossModel(
        material=material,
        table=table,
        density=load_material(material).density,
        bertotti=fit_bertotti(f, b, p, alpha=None),
        steinmetz=steinmetz,
        steinmetz_rms_relative_error=float(np.sqrt(np.mean(rel**2))),
    )


def iron_fit_report(design: Design) -> dict:
    """Fit quality of the stator and rotor steels' loss models (relative errors [-])."""
    out = {}
    for part, material in (("stator", design.stator.material), ("rotor", design.rotor.material)):
        m = iron_loss_model(material)
        out[part] = {
            "material": material,
            "loss_table": m.table,
            "bertotti": {
                "k_h": m.bertotti.k_h,
                "k_e": m.bertotti.k_e,
                "k_a": m.bertotti.k_a,
                "alpha": m.bertotti.alpha,
                "rms_relative_error": m.bertotti.rms_relative_error,
                "max_relative_error": m.bertotti.max_relative_error,
            },
            "steinmetz": {
                "k": m.steinmetz.k,
                "alpha": m.steinmetz.alpha,
                "beta": m.steinmetz.beta,
                "rms_relative_error": m.steinmetz_rms_relative_error,
                "max_relative_error": m.steinmetz.max_relative_error,
            },
        }
    return out


def _span_kind(theta_el: np.ndarray) -> str:
    """'full', 'half' or 'sixth' for uniform samples over 2 pi, pi or pi/3 (endpoint
    excluded)."""
    theta = np.asarray(theta_el, float)
    n = theta.size
    if n < 4:
        raise DesignError("positions", n, "iron losses need >= 4 rotor positions")
    step = np.diff(theta)
    if np.ptp(step) > 1e-6 * abs(step.mean()) or step.mean() <= 0:
        raise DesignError("theta_el", "non-uniform", "positions must be evenly spaced")
    span = n * step.mean()
    for kind, target in (("full", 2 * math.pi), ("half", math.pi), ("sixth", math.pi / 3)):
        if abs(span - target) < 1e-6:
            return kind
    raise DesignError(
        "span_el",
        span,
        "iron losses need span_el = pi/3 (a sixth), pi (half period) or 2 pi, endpoint excluded",
    )


def full_period(b: np.ndarray, theta_el: np.ndarray, frame: str, design: Design) -> np.ndarray:
    """B samples over one full electrical period (module docstring) [T].

    b : (n_positions, ...) samples over the solved span; frame "stator" or "rotor".
    Returns (2 n_positions, ...) for a half-period span, (6 n_positions, ...) for a sixth
    (rotor frame only: the stator needs :func:`pipeline.em.sixfold.stator_full_period`),
    ``b`` itself for a full period.
    """
    kind = _span_kind(theta_el)
    if kind == "full":
        return b
    if kind == "sixth":
        if frame == "stator":
            raise DesignError(
                "frame", frame, "a sixth-period stator field needs stator_full_period (the mesh)"
            )
        return np.concatenate([b] * 6, axis=0)  # the rotor sees the 6k harmonics only
    if frame == "stator":
        return np.concatenate([b, -b], axis=0)
    n_sectors, antiperiodic = design.symmetry
    if not (antiperiodic and n_sectors == design.n_poles):
        raise DesignError(
            "span_el",
            "pi",
            f"{design.name}: the rotor half-period symmetry needs a one-pole anti-periodic "
            "sector; solve a full period (span_el = 2 pi)",
        )
    return np.concatenate([b, b], axis=0)


def repetition_order(b: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Loops per period r of each waveform (last axis): the gcd of the harmonic orders whose
    amplitude exceeds ``threshold`` x the largest AC amplitude (1 for a flat waveform)."""
    amp = harmonic_amplitudes(b)[..., 1:]
    if b.shape[-1] % 2 == 0:
        amp = amp[..., :-1]
    orders = np.arange(1, amp.shape[-1] + 1)
    big = amp > threshold * amp.max(axis=-1, keepdims=True)
    r = np.gcd.reduce(np.where(big, orders, 0), axis=-1)
    return np.where(r > 0, r, 1)


def _iron_coefficients(b: np.ndarray, mass: np.ndarray, model: IronLossModel) -> dict:
    """Region totals c_h [W/Hz], c_e [W/Hz^2], c_a [W/Hz^1.5], k_mse [W/Hz^alpha]."""
    bx, by = b[:, 0, :].T, b[:, 1, :].T  # (n_elements, n_samples)
    fit = model.bertotti
    c = bertotti_frequency_coefficients(bx, by, fit.k_h, fit.k_e, fit.k_a, fit.alpha)
    st = model.steinmetz
    # MSE at f = 1 Hz (period 1 s); it scales as f^alpha for a fixed waveform shape
    p_mse = sum(
        repetition_order(bc) ** (2.0 - st.alpha)
        * modified_steinmetz(bc, 1.0, st.k, st.alpha, st.beta)
        for bc in (bx, by)
    )
    return {
        "c_h": float(mass @ c.c_h),
        "c_e": float(mass @ c.c_e),
        "c_a": float(mass @ c.c_a),
        "k_mse": float(mass @ p_mse),
    }


@lru_cache(maxsize=8)
def _magnet_layout(design: Design, level: str, mesh_key: str):
    """Per magnet: (element indices, unit direction, width coordinate of centroids)."""

    for sector in (True, False):
        mm = get_mesh(design, level, sector=sector)
        if mm.key == mesh_key:
            break
    else:
        raise DesignError("mesh_key", mesh_key, f"no {level} mesh of {design.name} has this key")
    mesh = mm.mesh
    centroid = mesh.p[:, mesh.t].mean(axis=1)
    out = []
    for name, meta in (mm.info.get("magnets") or {}).items():
        idx = np.asarray(mesh.subdomains[name])
        d = np.asarray(meta["direction"], float)
        tangent = np.array([-d[1], d[0]])
        out.append((idx, d, tangent @ centroid[:, idx]))
    return tuple(out)


def _magnet_coefficient(result, b_all: np.ndarray, design: Design, area: np.ndarray) -> float:
    """Magnet eddy loss coefficient c_m [W/Hz^2] of the whole machine."""
    rotor = design.rotor
    material = load_material(rotor.magnet_material)
    sigma = 1.0 / material.resistivity
    width, length = rotor.magnet_width, design.stack_length
    n_sectors = design.symmetry[0]
    total = 0.0
    for idx, direction, u in _magnet_layout(design, result.level, result.mesh_key):
        b = full_period(b_all[:, :, idx], result.theta_el, "rotor", design)
        b_n = np.einsum("tce,c->et", b, direction)  # (n_elements, n_samples)
        n_strips = int(max(2, min(MAX_MAGNET_STRIPS, idx.size // 4)))
        edges = np.linspace(u.min(), u.max(), n_strips + 1)
        strip = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, n_strips - 1)
        a = area[idx]
        weight = np.bincount(strip, a, n_strips)
        filled = weight > 0
        mean = np.zeros((n_strips, b_n.shape[1]))
        for s in np.flatnonzero(filled):
            mean[s] = a[strip == s] @ b_n[strip == s] / weight[s]
        centres = 0.5 * (edges[1:] + edges[:-1])
        for t in range(b_n.shape[1]):  # empty strips: interpolate their neighbours
            mean[~filled, t] = np.interp(centres[~filled], centres[filled], mean[filled, t])
        p = strip_eddy_loss_density(mean, 1.0, width, length, sigma)  # at 1 Hz [W/m^3]
        total += float(p) * a.sum() * design.stack_length * n_sectors
    return total


#: Variables returned by :func:`point_losses`: name -> (units, long_name).
POINT_LOSS_VARIABLES = {
    **{
        f"{key}_{c}": (units, f"{key.replace('_', ' ')}: {text}")
        for key in IRON_REGIONS.values()
        for c, units, text in (
            ("c_h", "W/Hz", "hysteresis coefficient, P = c_h f"),
            ("c_e", "W/Hz^2", "classical eddy coefficient, P = c_e f^2"),
            ("c_a", "W/Hz^1.5", "excess coefficient, P = c_a f^1.5"),
            ("k_mse", "W/Hz^alpha", "modified Steinmetz coefficient, P = k_mse f^mse_alpha"),
        )
    },
    "iron_stator_mse_alpha": ("1", "frequency exponent of the stator k_mse coefficients"),
    "iron_rotor_mse_alpha": ("1", "frequency exponent of the rotor k_mse coefficients"),
    "magnet_c_e": ("W/Hz^2", "magnet eddy-current loss coefficient, P = magnet_c_e f^2"),
}


def point_losses(result, design: Design) -> dict[str, tuple[float, str, str]]:
    """Iron and magnet loss coefficients of one operating point (module docstring).

    result : a CaseResult with ``b_elements`` (n_positions, 2, n_elements) [T] (attribute
        or ``extras`` key; rotor elements in the rotor frame) over half or a full
        electrical period, ``extras["regions"]`` (element indices of stator_teeth,
        stator_yoke, rotor_core, magnets) and ``extras["element_area"]`` [m^2]
    design : the design that was solved

    Returns {name: (value, units, long_name)} with the names of
    :data:`POINT_LOSS_VARIABLES`; ``f`` in the formulas is the electrical frequency [Hz].
    """
    extras = getattr(result, "extras", {}) or {}
    b = getattr(result, "b_elements", None)
    b = extras.get("b_elements") if b is None else b
    if b is None or "regions" not in extras or "element_area" not in extras:
        raise DesignError(
            "result", "no fields", "solve the case with run_case(..., keep_fields=True)"
        )
    b = np.asarray(b, float)
    theta = np.asarray(result.theta_el, float)
    if b.ndim != 3 or b.shape[0] != theta.size or b.shape[1] != 2:
        raise DesignError("b_elements", b.shape, "must be (n_positions, 2, n_elements)")
    area = np.asarray(extras["element_area"], float)
    regions = extras["regions"]
    n_sectors = design.symmetry[0]
    stator_b = None  # (stator-core elements, their B over a period) for a sixth span
    if _span_kind(theta) == "sixth":
        if "a_positions" not in extras or "machine_model" not in extras:
            raise DesignError(
                "result", "no a_positions", "solve with run_case(..., keep_fields=True)"
            )
        core = np.sort(np.concatenate([regions["stator_teeth"], regions["stator_yoke"]]))
        model = extras["machine_model"]
        stator_b = core, stator_full_period(model, extras["a_positions"], core)
    out: dict[str, tuple[float, str, str]] = {}
    for region, key in IRON_REGIONS.items():
        stator = region.startswith("stator")
        part = design.stator if stator else design.rotor
        model = iron_loss_model(part.material)
        name = f"iron_{'stator' if stator else 'rotor'}_mse_alpha"
        out[name] = (model.steinmetz.alpha, *POINT_LOSS_VARIABLES[name])
        idx = np.asarray(regions.get(region, ()), dtype=np.int64)
        mass = model.density * area[idx] * design.stack_length * n_sectors * part.stacking_factor
        if stator and stator_b is not None:
            bf = stator_b[1][:, :, np.searchsorted(stator_b[0], idx)]
        else:
            bf = full_period(b[:, :, idx], theta, "stator" if stator else "rotor", design)
        bf = bf / part.stacking_factor
        for c, value in _iron_coefficients(bf, mass, model).items():
            name = f"{key}_{c}"
            out[name] = (value, *POINT_LOSS_VARIABLES[name])
    c_m = _magnet_coefficient(result, b, design, area) if design.topology.HAS_MAGNETS else 0.0
    out["magnet_c_e"] = (c_m, *POINT_LOSS_VARIABLES["magnet_c_e"])
    return out
