"""One operating point of a machine over rotor positions: mesh + sources -> torque, psi_dq.

Model (2D planar, per unit length times the stack length L, one (anti-)periodic sector of
``n_sectors``, see :mod:`pipeline.em.constraints`):

* Materials: stator and rotor laminations are nonlinear B-H curves with the stacking factor
  k_f folded in as a lamination/air mixture, B_eff(H) = k_f B(H) + (1 - k_f) MU_0 H (the
  flux-parallel average of steel and inter-laminar gaps); the shaft uses its own (solid
  steel) curve, k_f = 1; magnets are linear with recoil reluctivity 1/(MU_0 mu_rec) and
  remanence Br(T) (rotor frame, direction from the mesh metadata); everything else is air.
* Sources: stator coil side of phase x, N_c turns, a parallel paths, area S:
  J = N_c i_x sign / (a S) [A/m^2]; field coil side: J = N_f i_f sign / S.
* Rotor position: the rotor turns by whole sliding-interface pitches k (angle k * pitch,
  counter-clockwise). Pole 0's d-axis sits at pi/n_poles in the rotor frame, phase A's
  magnetic axis at ``layout.phase_axis(0)`` in the stator frame, so the electrical angle is
  theta_el = p (k pitch + pi/n_poles - phase_axis_A); the first position is the pitch
  nearest to theta_el = 0 and the stator currents are evaluated at the *actual* theta_el
  (no residual misalignment).
* Flux linkage of phase x: psi_x = n_sectors L N_c / a sum_sides sign <A>_side, with <A> the
  mean of A_z over the side; on an anti-periodic sector the omitted coils have both their
  sign and A flipped, so each sector contributes equally. Field:
  psi_f = n_sectors L N_f sum_sides sign <A>_side (all poles in series).
* Torque: Arkkio's band (``airgap_band``, stationary, between the sliding and band_outer
  radii) times n_sectors; the dq torque 3/2 p (psi_d i_q - psi_q i_d) (:mod:`park`) is
  reported alongside as a consistency check.

Positions: ``positions`` steps over ``span_el`` (default 60 electrical degrees, the period
of the 6k torque harmonics of a three-phase machine), each a whole number of pitches;
Newton is warm-started from the previous position.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.constants import MU_0
from pipeline.design import Design, load_design, magnet_remanence
from pipeline.em.bh import BHCurve
from pipeline.em.case import CaseResult
from pipeline.em.constraints import (
    Constraints,
    boundary_dofs,
    build_constraints,
    periodic_ties,
    sliding_interface,
    split_sliding_interface,
)
from pipeline.em.park import abc_from_dq, dq_from_abc
from pipeline.em.solver import MagnetostaticProblem, MagnetostaticSolver
from pipeline.errors import DesignError
from pipeline.materials import load_material
from pipeline.mesh import get_mesh
from pipeline.post.endwinding import design_end_winding_inductance
from pipeline.post.torque import arkkio_torque
from pipeline.winding import winding_layout

__all__ = [
    "CaseResult",
    "MachineModel",
    "machine_model",
    "stacked_bh_curve",
    "run_case",
    "solve_position",
    "slot_bottom_radius",
    "check_case_inputs",
]

logger = logging.getLogger(__name__)


def stacked_bh_curve(b, h, stacking_factor: float, name: str = "bh") -> BHCurve:
    """Lamination stack curve B_eff(H) = k_f B(H) + (1 - k_f) MU_0 H [T] of steel B(H) [T, A/m]."""
    b = np.asarray(b, float)
    h = np.asarray(h, float)
    return BHCurve(stacking_factor * b + (1.0 - stacking_factor) * MU_0 * h, h, name)


@dataclass(eq=False)
class MachineModel:
    """Solver, constraints and source maps of one design's sector mesh (built once, reused)."""

    design: Design
    level: str
    mesh_key: str
    solver: MagnetostaticSolver
    static_ties: list
    dirichlet: np.ndarray
    interface: object
    antiperiodic: bool
    n_sectors: int
    coils: list  # (elements, area [m^2], phase, sign)
    field_coils: list  # (elements, area [m^2], sign)
    remanence: np.ndarray
    band: np.ndarray
    radii: dict
    k0: int  # pitch count nearest theta_el = 0
    phase_axis: float  # [rad] mechanical
    turns_per_coil: int
    parallel_paths: int
    field_turns: int
    element_area: np.ndarray  # [m^2] per element of the (sector) mesh
    regions: dict  # region kind -> element indices (see :func:`_region_kinds`)
    rotor_elements: np.ndarray  # elements inside the sliding radius (rotor frame)
    magnet_temperature_C: float
    sector: bool
    band_basis: object = None  # the solver's basis restricted to ``band`` (torque)
    _constraints: dict = field(default_factory=dict, repr=False)  # pitch count -> Constraints

    def constraints(self, k: int) -> Constraints:
        """Constraints at pitch count ``k`` (built once per position and kept)."""
        k = int(k)
        if k not in self._constraints:
            ties = self.static_ties + [self.interface.ties(k, antiperiodic=self.antiperiodic)]
            self._constraints[k] = build_constraints(self.solver.basis.N, self.dirichlet, ties)
            if len(self._constraints) > self.solver.cache_size:  # as many as factorisations
                self._constraints.pop(next(iter(self._constraints)))
        return self._constraints[k]

    def torque(self, a: np.ndarray) -> float:
        """Arkkio torque [N m] per sector of the A_z dofs ``a`` over the air-gap band."""
        return arkkio_torque(
            self.band_basis,
            a,
            np.arange(self.band.size),
            self.radii["sliding"],
            self.radii["band_outer"],
            self.design.stack_length,
        )

    def theta_el(self, k: int) -> float:
        """Electrical angle [rad] of pole 0's d-axis from phase A's axis at pitch count k."""
        p = self.design.pole_pairs
        return p * (
            self.interface.rotation_angle(k) + math.pi / self.design.n_poles - self.phase_axis
        )


def slot_bottom_radius(design: Design) -> float:
    """Largest radius [m] of the slot bottom (its corners for a flat bottom)."""
    st = design.stator
    r = st.bore_radius + st.slot.depth
    return r if st.slot.round_bottom else math.hypot(r, st.slot.width_bottom / 2)


def _region_kinds(mesh, r: np.ndarray, design: Design, magnets) -> dict:
    """Element indices of the iron-loss region kinds: stator teeth and yoke (stator core split
    at the slot-bottom radius by element centroid radius ``r`` [m]), rotor core, magnets."""
    sub = mesh.subdomains
    core = np.asarray(sub.get("stator_core", []), dtype=np.int64)
    yoke = r[core] > slot_bottom_radius(design)
    mag = [np.asarray(sub[name], dtype=np.int64) for name in magnets]
    return {
        "stator_teeth": core[~yoke],
        "stator_yoke": core[yoke],
        "rotor_core": np.asarray(sub.get("rotor_core", []), dtype=np.int64),
        "magnets": np.sort(np.concatenate(mag)) if mag else np.zeros(0, dtype=np.int64),
    }


@functools.lru_cache(maxsize=4)
def _model_cached(
    design: Design, level: str, magnet_temperature_C: float, sector: bool = True
) -> MachineModel:
    mm = get_mesh(design, level, sector=sector)
    mesh = split_sliding_interface(mm.mesh)
    sub = mesh.subdomains
    ne = mesh.t.shape[1]
    nu = np.full(ne, 1.0 / MU_0)
    mi = np.full(ne, -1, dtype=np.int64)
    curves = []
    parts = [
        ("stator_core", design.stator.material, design.stator.stacking_factor),
        ("rotor_core", design.rotor.material, design.rotor.stacking_factor),
        ("shaft", design.rotor.shaft_material, 1.0),
    ]
    for region, name, kf in parts:
        if region not in sub:
            continue
        mat = load_material(name)
        if mat.is_nonlinear:
            mi[sub[region]] = len(curves)
            curves.append(stacked_bh_curve(mat.bh_b, mat.bh_h, kf, f"{region}:{name}"))
        else:  # a non-magnetic shaft
            nu[sub[region]] = 1.0 / (MU_0 * mat.recoil_permeability)
    rem = np.zeros((2, ne))
    magnets = mm.info.get("magnets") or {}
    if magnets:
        mag = load_material(design.rotor.magnet_material)
        br = magnet_remanence(design, magnet_temperature_C)
        for name, meta in magnets.items():
            idx = np.asarray(sub[name])
            nu[idx] = 1.0 / (MU_0 * mag.recoil_permeability)
            rem[:, idx] = br * np.asarray(meta["direction"], float)[:, None]
    solver = MagnetostaticSolver(MagnetostaticProblem(mesh, nu, mi, tuple(curves), None, rem))
    basis = solver.basis
    area = np.asarray(basis.dx.sum(axis=1))
    r_centroid = np.hypot(*mesh.p[:, mesh.t].mean(axis=1))  # [m] per element
    sign = -1 if mm.antiperiodic else 1
    ties = [
        periodic_ties(
            basis,
            f"periodic_{part}_master",
            f"periodic_{part}_slave",
            mm.info["sector_angle"],
            sign,
        )
        for part in ("rotor", "stator")
        if f"periodic_{part}_master" in (mesh.boundaries or {})
    ]
    iface = sliding_interface(basis)
    layout = winding_layout(design)
    coils = []
    for name, meta in mm.info["coils"].items():
        idx = np.asarray(sub[name])
        coils.append((idx, float(area[idx].sum()), int(meta["phase"]), int(meta["sign"])))
    fields = []
    for name, meta in (mm.info.get("field_coils") or {}).items():
        idx = np.asarray(sub[name])
        fields.append((idx, float(area[idx].sum()), int(meta["sign"])))
    axis = layout.phase_axis(0)
    k0 = int(round((axis - math.pi / design.n_poles) / iface.pitch))
    return MachineModel(
        design=design,
        level=level,
        mesh_key=mm.key,
        solver=solver,
        static_ties=ties,
        dirichlet=boundary_dofs(basis, "outer_boundary"),
        interface=iface,
        antiperiodic=mm.antiperiodic,
        n_sectors=mm.n_sectors,
        coils=coils,
        field_coils=fields,
        remanence=rem,
        band=np.asarray(sub["airgap_band"]),
        band_basis=basis.with_elements(np.asarray(sub["airgap_band"])),
        radii=dict(mm.info["radii"]),
        k0=k0,
        phase_axis=axis,
        turns_per_coil=layout.turns_per_coil,
        parallel_paths=layout.parallel_paths,
        field_turns=int(getattr(design.rotor, "field_turns", 0) or 0),
        element_area=area,
        regions=_region_kinds(mesh, r_centroid, design, magnets),
        rotor_elements=np.flatnonzero(r_centroid < mm.info["radii"]["sliding"]),
        magnet_temperature_C=magnet_temperature_C,
        sector=sector,
    )


def machine_model(
    design: Design | str,
    level: str = "ci",
    magnet_temperature_C: float = 20.0,
    sector: bool = True,
) -> MachineModel:
    """The (cached) :class:`MachineModel` of ``design`` at mesh ``level`` [degC for magnets].

    ``level`` is a level name or a :class:`geometries.settings.MeshSettings` (e.g. a finer
    mesh for convergence studies; its own ``sector`` flag then applies).
    ``sector=False`` uses the full-machine mesh (no periodic ties, n_sectors = 1).
    """
    d = load_design(design) if isinstance(design, str | Path) else design
    return _model_cached(d, level, float(magnet_temperature_C), bool(sector))


def solve_position(m: MachineModel, k: int, i_abc, i_f: float = 0.0, a0=None, tol: float = 1e-8):
    """Solve ``m`` at pitch count ``k`` with phase currents ``i_abc`` (3,) [A] and field
    current ``i_f`` [A]; returns the solver's :class:`MagnetostaticResult`."""
    ne = m.solver.basis.mesh.t.shape[1]
    cur = np.zeros(ne)
    for idx, area, ph, sg in m.coils:
        cur[idx] = m.turns_per_coil * i_abc[ph] * sg / (m.parallel_paths * area)
    for idx, area, sg in m.field_coils:
        cur[idx] = m.field_turns * i_f * sg / area
    return m.solver.solve(m.constraints(k), current_density=cur, a0=a0, tol=tol)


#: largest current magnitude a solve accepts, in multiples of the design's rated peak phase
#: (and field) current, even for overload studies: at 1e9 A Arkkio and dq torque came out
#: with opposite signs (issue 17); 20 x rating is beyond any drive's short-circuit current
MAX_CURRENT_FACTOR = 20.0
#: most rotor positions per solve: the ci/fine meshes have 144 interface segments per
#: electrical period (MeshSettings.positions_multiple), more positions repeat positions
MAX_POSITIONS = 144


def check_case_inputs(design: Design, i_d, i_q, i_f, positions, span_el, speed_rpm) -> None:
    for name, value in (("i_d", i_d), ("i_q", i_q), ("i_f", i_f)):
        if not math.isfinite(value):
            raise DesignError(name, value, "finite current [A]")
    rt = design.ratings
    if math.hypot(i_d, i_q) > MAX_CURRENT_FACTOR * rt.max_phase_current:
        raise DesignError(
            "i_d, i_q",
            (i_d, i_q),
            f"|i_dq| above {MAX_CURRENT_FACTOR:g} x the rated {rt.max_phase_current:g} A",
        )
    if i_f > MAX_CURRENT_FACTOR * max(rt.max_field_current, 1.0):
        raise DesignError(
            "i_f", i_f, f"above {MAX_CURRENT_FACTOR:g} x the rated {rt.max_field_current:g} A"
        )
    if not design.topology.HAS_FIELD_WINDING and i_f != 0.0:
        raise DesignError(
            "i_f", i_f, f"field current needs a wound rotor ({design.name} is {design.kind})"
        )
    if i_f < 0:
        raise DesignError("i_f", i_f, "field current >= 0 [A] (diode-free unipolar supply)")
    if not isinstance(positions, int | np.integer) or not 1 <= positions <= MAX_POSITIONS:
        raise DesignError(
            "positions", positions, f"a whole number >= 1 and <= {MAX_POSITIONS} of rotor positions"
        )
    if not (span_el > 0 and math.isfinite(span_el)):
        raise DesignError("span_el", span_el, "> 0 [rad]")
    if speed_rpm is not None and not (math.isfinite(speed_rpm) and speed_rpm >= 0):
        raise DesignError("speed_rpm", speed_rpm, ">= 0 [rpm]")


def run_case(
    design: Design | str,
    i_d: float,
    i_q: float,
    i_f: float = 0.0,
    positions: int = 12,
    level: str = "ci",
    speed_rpm: float | None = None,
    span_el: float = math.pi / 3,
    magnet_temperature_C: float = 20.0,
    tol: float = 1e-8,
    sector: bool = True,
    keep_fields: bool = False,
) -> CaseResult:
    """Solve one operating point at ``positions`` rotor positions over ``span_el`` [rad el.].

    i_d, i_q [A] peak phase current (amplitude-invariant dq), i_f [A] field current
    (EESM only); magnet_temperature_C [degC]; ``sector=False`` solves the full machine
    (a check of the sector model). Positions are spaced by whole interface pitches, starting at the
    pitch nearest theta_el = 0; currents follow the actual theta_el of each position.

    ``extras`` always holds ``a_last`` (A_z dofs [Wb/m] of the last position), ``k_last``
    (its pitch count) and ``pitch_counts``. With ``keep_fields`` it also holds
    ``b_elements`` (n_positions, 2, n_elements) [T], the element-mean flux density in the
    mesh frame (rotor elements in the rotor frame, i.e. as seen by the moving iron),
    ``a_positions`` (n_positions, n_dofs) [Wb/m], ``regions`` (kind -> element indices:
    stator_teeth, stator_yoke, rotor_core, magnets) and ``element_area`` [m^2] (of the
    sector mesh: volumes are area * n_sectors * stack length; ``n_sectors`` is stored too).
    """
    d = load_design(design) if isinstance(design, str | Path) else design
    level_name = getattr(level, "level", level)  # a MeshSettings (custom mesh) or a name
    i_d, i_q, i_f = float(i_d), float(i_q), float(i_f)
    check_case_inputs(d, i_d, i_q, i_f, positions, span_el, speed_rpm)
    m = machine_model(d, level, magnet_temperature_C, sector)
    basis, iface = m.solver.basis, m.interface
    p, L = d.pole_pairs, d.stack_length
    step = max(1, int(round(span_el / positions / (p * iface.pitch))))
    ks = m.k0 + step * np.arange(positions)
    n = ks.size
    out = {key: np.zeros(n) for key in ("theta", "torque", "psi_f", "iters", "time", "angle")}
    psi_abc = np.zeros((3, n))
    i_abc = np.zeros((3, n))
    ne = basis.mesh.t.shape[1]
    a_prev = None
    b_el = np.zeros((n, 2, ne)) if keep_fields else None
    a_all = np.zeros((n, basis.N)) if keep_fields else None
    for j, k in enumerate(ks):
        t0 = time.perf_counter()
        theta = m.theta_el(int(k))
        i_ph = abc_from_dq(i_d, i_q, theta)
        res = solve_position(m, int(k), i_ph, i_f, a0=a_prev, tol=tol)
        a_prev = res.a
        torque = m.torque(res.a)
        a_int = np.einsum("ie,ie->e", res.a[m.solver.dofs], m.solver.phi_int)  # int A dS [Wb]
        for idx, area, ph, sg in m.coils:
            psi_abc[ph, j] += (
                m.n_sectors * L * m.turns_per_coil / m.parallel_paths * sg * a_int[idx].sum() / area
            )
        out["psi_f"][j] = sum(
            m.n_sectors * L * m.field_turns * sg * a_int[idx].sum() / area
            for idx, area, sg in m.field_coils
        )
        if keep_fields:
            a_all[j] = res.a
            g = np.einsum("ie,ixe->xe", res.a[m.solver.dofs], m.solver.grad_int)
            b_el[j, 0], b_el[j, 1] = g[1] / m.element_area, -g[0] / m.element_area
        out["theta"][j] = theta
        out["angle"][j] = iface.rotation_angle(int(k))
        out["torque"][j] = m.n_sectors * torque
        out["iters"][j] = res.iterations
        out["time"][j] = time.perf_counter() - t0
        i_abc[:, j] = i_ph
        logger.debug(
            "%s k=%d theta_el=%.2f deg: T=%.3f N m, %d Newton steps, %.2f s",
            d.name, k, math.degrees(theta), out["torque"][j], res.iterations, out["time"][j],
        )  # fmt: skip
    L_ew = design_end_winding_inductance(d)
    psi_2d = psi_abc.copy()
    psi_abc = psi_abc + L_ew * i_abc
    psi_d, psi_q = dq_from_abc(psi_abc, out["theta"])
    extras = {
        "psi_abc_2d": psi_2d,
        "a_last": a_prev,
        "k_last": int(ks[-1]),
        "pitch_counts": ks,
        "magnet_temperature_C": float(magnet_temperature_C),
        "sector": bool(sector),
    }
    if keep_fields:
        extras.update(
            b_elements=b_el,
            a_positions=a_all,
            regions={key: v.copy() for key, v in m.regions.items()},
            element_area=m.element_area.copy(),
            n_sectors=m.n_sectors,
            machine_model=m,  # the mesh and operators (not serialised)
        )
    return CaseResult(
        design=d.name,
        level=level_name,
        mesh_key=m.mesh_key,
        design_hash=d.content_hash(),
        i_d=i_d,
        i_q=i_q,
        i_f=i_f,
        pole_pairs=p,
        rotor_angle=out["angle"],
        theta_el=out["theta"],
        torque=out["torque"],
        psi_abc=psi_abc,
        psi_d=np.asarray(psi_d),
        psi_q=np.asarray(psi_q),
        psi_f=out["psi_f"],
        i_abc=i_abc,
        iterations=out["iters"].astype(int),
        solve_time=out["time"],
        speed_rpm=speed_rpm,
        extras=extras,
        L_ew=L_ew,
    )
