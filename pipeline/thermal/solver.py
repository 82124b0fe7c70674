"""Steady and transient 2D heat conduction per unit length on a triangular mesh.

Equations (per unit axial length, z out of plane; see :mod:`pipeline.thermal.forms`)::

    rho c dT/dt - div(K grad T) = q     in Omega
    -(K grad T) . n = h (T - T_inf)     on the Robin boundaries
    T = T_D                             on the Dirichlet boundaries
    -(K grad T) . n = 0                 elsewhere (adiabatic; also symmetry planes)

Discretisation: Lagrange P1 (default) or P2 triangles (scikit-fem). Materials are given per
element (piecewise constant), so conductivity, source and heat capacity follow the mesh
subdomains. Sources are per unit volume [W/m^3]; the heat a region generates per unit
length is the integral over its area [W/m]. Time stepping is implicit Euler, Crank-Nicolson
or BDF2 with a fixed step; the system matrix is factorised once (CHOLMOD when
``sksparse`` is installed, SuperLU otherwise) and reused for every step.

The heat balance of a solution (:func:`heat_balance`) returns the heat generated, the heat
leaving through each Robin and Dirichlet boundary and the rate of change of stored heat,
all in [W/m]; for a converged solve they add up to round-off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from skfem import (
    Basis,
    BilinearForm,
    ElementTriP0,
    ElementTriP1,
    ElementTriP2,
    FacetBasis,
    MeshTri,
)

from pipeline.errors import DesignError
from pipeline.thermal.forms import (
    conduction,
    conduction_anisotropic,
    convection,
    convection_load,
    heat_capacity,
)

__all__ = [
    "Orthotropic",
    "Robin",
    "Dirichlet",
    "ThermalSystem",
    "ThermalSolution",
    "TransientSolution",
    "HeatBalance",
    "element_values",
    "exclude_subdomains",
    "assemble_thermal",
    "solve_steady",
    "solve_transient",
    "heat_balance",
    "factorize",
    "time_integrate",
]

log = logging.getLogger(__name__)

ElementField = float | ArrayLike | Mapping[str, float]


@dataclass(frozen=True, eq=False)
class Orthotropic:
    """Orthotropic conductivity per element [W/(m K)].

    ``frame="cartesian"``: k_1 = k_x, k_2 = k_y. ``frame="polar"``: k_1 = k_r (radial),
    k_2 = k_t (tangential) about ``center`` [m], evaluated at each quadrature point (a
    lamination stack or a winding in a slot). Isotropic regions have k_1 = k_2.
    """

    k_1: ElementField
    k_2: ElementField
    frame: str = "polar"
    center: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.frame not in ("polar", "cartesian"):
            raise DesignError("frame", self.frame, "must be 'polar' or 'cartesian'")


@dataclass(frozen=True, eq=False)
class Robin:
    """Convection boundary: facets (boundary name or facet indices), h [W/(m^2 K)] and
    T_inf [K], each a scalar or one value per facet."""

    facets: str | ArrayLike
    h: float | ArrayLike
    T_inf: float | ArrayLike

    def __post_init__(self) -> None:
        if np.any(np.asarray(self.h) < 0):
            raise DesignError("h", self.h, "heat transfer coefficient must be >= 0 W/(m^2 K)")


@dataclass(frozen=True, eq=False)
class Dirichlet:
    """Fixed temperature T [K] on facets (boundary name or facet indices)."""

    facets: str | ArrayLike
    temperature: float


def element_values(mesh: MeshTri, values: ElementField, default: float | None = None) -> NDArray:
    """One value per element from a scalar, an array, or a ``{subdomain: value}`` mapping.

    With a mapping, elements of no listed subdomain get ``default``; if it is None they
    raise :class:`DesignError`. Units are those of the values.
    """
    nelems = mesh.t.shape[1]
    if isinstance(values, Mapping):
        out = np.full(nelems, np.nan)
        subdomains = mesh.subdomains or {}
        for name, value in values.items():
            if name not in subdomains:
                raise DesignError("subdomain", name, f"not in mesh ({sorted(subdomains)})")
            out[subdomains[name]] = value
        missing = np.isnan(out)
        if np.any(missing):
            if default is None:
                raise DesignError(
                    "element_values", int(missing.sum()), "elements in no listed subdomain"
                )
            out[missing] = default
        return out
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        return np.full(nelems, float(arr))
    if arr.shape != (nelems,):
        raise DesignError("element array shape", arr.shape, f"must be ({nelems},)")
    return arr


def exclude_subdomains(mesh: MeshTri, names: Sequence[str]) -> MeshTri:
    """The mesh without the elements of the named subdomains (e.g. coolant channels that
    are modelled by a Robin condition on their walls); names of regions and boundaries
    are kept."""
    drop = np.zeros(mesh.t.shape[1], dtype=bool)
    for name in names:
        drop[mesh.subdomains[name]] = True
    return mesh.restrict(np.nonzero(~drop)[0])


def facet_indices(mesh: MeshTri, facets: str | ArrayLike) -> NDArray:
    if isinstance(facets, str):
        if not mesh.boundaries or facets not in mesh.boundaries:
            raise DesignError("boundary", facets, f"not in mesh ({sorted(mesh.boundaries or {})})")
        return np.asarray(mesh.boundaries[facets])
    return np.asarray(facets, dtype=np.int64)


def _qp(values: NDArray, nqp: int) -> NDArray:
    """Per-element (or per-facet) constants as a quadrature-point array."""
    return np.repeat(np.asarray(values, dtype=float)[:, None], nqp, axis=1)


@BilinearForm
def _element_mass(u, v, w):
    return u * v


def factorize(A: sp.spmatrix) -> Callable[[NDArray], NDArray]:
    """Factorise a sparse SPD matrix once; return a solve function. CHOLMOD if available,
    else SuperLU."""
    A = sp.csc_matrix(A)
    try:  # defer: the optional CHOLMOD back-end, tried where it is used
        from sksparse.cholmod import cholesky

        factor = cholesky(A)
        return lambda b: factor(b)
    except ImportError:  # pragma: no cover - depends on the optional extra
        # defer: SciPy's SuperLU only as the fallback
        from scipy.sparse.linalg import splu

        lu = splu(A)
        return lambda b: lu.solve(np.asarray(b, dtype=float))


@dataclass(frozen=True, eq=False)
class ThermalSystem:
    """Assembled operators of a thermal problem (all per unit length).

    stiffness = conduction + Robin matrix [W/(m K)], load = source + Robin load [W/m],
    capacity [J/(m K)] or None, source_matrix maps a per-element q [W/m^3] to its load
    vector [W/m]; robin holds (H_j, b_j) per Robin entry; dirichlet holds (dofs, T) per
    Dirichlet entry.
    """

    mesh: MeshTri
    basis: Basis
    stiffness: sp.csr_matrix
    load: NDArray
    source_load: NDArray
    source_matrix: sp.csr_matrix
    capacity: sp.csr_matrix | None
    robin: tuple[tuple[sp.csr_matrix, NDArray], ...]
    dirichlet: tuple[tuple[NDArray, float], ...]
    element_area: NDArray = field(repr=False)

    @property
    def fixed_dofs(self) -> NDArray:
        if not self.dirichlet:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate([d for d, _ in self.dirichlet]))

    @property
    def fixed_values(self) -> NDArray:
        values = np.zeros(self.basis.N)
        for dofs, temp in self.dirichlet:
            values[dofs] = temp
        return values[self.fixed_dofs]

    def region_mean(self, T: NDArray, elements: str | ArrayLike) -> float:
        """Area-weighted mean temperature of a subdomain or element set [K]."""
        elems = self.mesh.subdomains[elements] if isinstance(elements, str) else elements
        b = Basis(self.mesh, self.basis.elem, elements=np.asarray(elems))
        Th = b.interpolate(T)
        return float(np.sum(np.asarray(Th) * b.dx) / np.sum(b.dx))


def assemble_thermal(
    mesh: MeshTri,
    k: ElementField | Orthotropic,
    q: ElementField | None = None,
    robin: Sequence[Robin | tuple] = (),
    dirichlet: Sequence[Dirichlet | tuple] = (),
    rho_c: ElementField | None = None,
    element: str = "P1",
) -> ThermalSystem:
    """Assemble conduction, convection, source and capacity operators.

    Parameters: k [W/(m K)] per element (scalar, array, subdomain mapping or
    :class:`Orthotropic`); q [W/m^3] per element; robin as :class:`Robin` or
    ``(facets, h, T_inf)`` tuples; dirichlet as :class:`Dirichlet` or ``(facets, T)``;
    rho_c [J/(m^3 K)] per element (needed for transient solves); element "P1" or "P2".
    """
    elems = {"P1": ElementTriP1, "P2": ElementTriP2}
    if element not in elems:
        raise DesignError("element", element, "must be 'P1' or 'P2'")
    basis = Basis(mesh, elems[element]())
    nqp = basis.X.shape[-1]
    if isinstance(k, Orthotropic):
        k1, k2 = element_values(mesh, k.k_1), element_values(mesh, k.k_2)
        if np.any(k1 <= 0) or np.any(k2 <= 0):
            raise DesignError("k", "Orthotropic", "conductivities must be > 0 W/(m K)")
        k1q, k2q = _qp(k1, nqp), _qp(k2, nqp)
        if k.frame == "cartesian":
            kxx, kyy, kxy = k1q, k2q, np.zeros_like(k1q)
        else:
            x = np.asarray(basis.global_coordinates())
            dx, dy = x[0] - k.center[0], x[1] - k.center[1]
            r = np.hypot(dx, dy)
            r = np.where(r > 0, r, 1.0)
            c, s = dx / r, dy / r
            kxx = k1q * c**2 + k2q * s**2
            kyy = k1q * s**2 + k2q * c**2
            kxy = (k1q - k2q) * c * s
        K = conduction_anisotropic.assemble(basis, k_xx=kxx, k_xy=kxy, k_yy=kyy)
    else:
        kv = element_values(mesh, k)
        if np.any(kv <= 0):
            raise DesignError("k", float(kv.min()), "conductivity must be > 0 W/(m K)")
        K = conduction.assemble(basis, k=_qp(kv, nqp))

    basis0 = basis.with_element(ElementTriP0())
    source_matrix = _element_mass.assemble(basis0, basis).tocsr()
    qv = np.zeros(mesh.t.shape[1]) if q is None else element_values(mesh, q)
    source_load = source_matrix @ qv
    element_area = np.asarray(source_matrix.sum(axis=0)).ravel()

    H = sp.csr_matrix((basis.N, basis.N))
    b_robin = np.zeros(basis.N)
    robin_terms = []
    for entry in robin:
        entry = entry if isinstance(entry, Robin) else Robin(*entry)
        facets = facet_indices(mesh, entry.facets)
        fb = FacetBasis(mesh, basis.elem, facets=facets)
        nq = fb.X.shape[-1]
        hq = _qp(np.broadcast_to(np.asarray(entry.h, float), facets.shape), nq)
        tq = _qp(np.broadcast_to(np.asarray(entry.T_inf, float), facets.shape), nq)
        Hj = convection.assemble(fb, h=hq).tocsr()
        bj = convection_load.assemble(fb, h=hq, T_inf=tq)
        robin_terms.append((Hj, bj))
        H = H + Hj
        b_robin = b_robin + bj

    dir_terms = []
    for entry in dirichlet:
        entry = entry if isinstance(entry, Dirichlet) else Dirichlet(*entry)
        dofs = basis.get_dofs(facets=facet_indices(mesh, entry.facets)).flatten()
        dir_terms.append((np.asarray(dofs), float(entry.temperature)))

    capacity = None
    if rho_c is not None:
        rc = element_values(mesh, rho_c)
        if np.any(rc <= 0):
            raise DesignError("rho_c", float(rc.min()), "heat capacity must be > 0 J/(m^3 K)")
        capacity = heat_capacity.assemble(basis, rho_c=_qp(rc, nqp)).tocsr()

    return ThermalSystem(
        mesh=mesh,
        basis=basis,
        stiffness=(K + H).tocsr(),
        load=source_load + b_robin,
        source_load=source_load,
        source_matrix=source_matrix,
        capacity=capacity,
        robin=tuple(robin_terms),
        dirichlet=tuple(dir_terms),
        element_area=element_area,
    )


@dataclass(frozen=True)
class HeatBalance:
    """Heat flows of a solution [W/m] (per unit length).

    generated: int q dA; robin_out: heat leaving through each Robin entry, int h (T -
    T_inf) ds; dirichlet_out: heat leaving through each Dirichlet entry (its reaction);
    stored: rate of change of stored heat, int rho c dT/dt dA; imbalance: generated -
    sum(robin_out) - sum(dirichlet_out) - stored.
    """

    generated: float
    robin_out: tuple[float, ...]
    dirichlet_out: tuple[float, ...]
    stored: float = 0.0

    @property
    def imbalance(self) -> float:
        return self.generated - sum(self.robin_out) - sum(self.dirichlet_out) - self.stored


def heat_balance(
    system: ThermalSystem,
    T: NDArray,
    rate: NDArray | None = None,
    load: NDArray | None = None,
) -> HeatBalance:
    """Heat balance of temperatures T [K]: generated, out through Robin and Dirichlet
    boundaries, stored [W/m]. ``rate`` is dT/dt [K/s] (transient); ``load`` the load
    vector the solve used if it differs from ``system.load`` (time-varying sources)."""
    load = system.load if load is None else load
    source = system.source_load + (load - system.load)
    robin_out = tuple(float(np.sum(Hj @ T) - np.sum(bj)) for Hj, bj in system.robin)
    stored_vec = np.zeros(system.basis.N) if rate is None else system.capacity @ rate
    residual = system.stiffness @ T - load + stored_vec
    dirichlet_out = tuple(-float(np.sum(residual[dofs])) for dofs, _ in system.dirichlet)
    return HeatBalance(
        generated=float(np.sum(source)),
        robin_out=robin_out,
        dirichlet_out=dirichlet_out,
        stored=float(np.sum(stored_vec)),
    )


@dataclass(frozen=True, eq=False)
class ThermalSolution:
    """Steady solution: nodal temperatures T [K] (dofs of ``system.basis``) and balance."""

    system: ThermalSystem
    T: NDArray
    balance: HeatBalance

    def region_mean(self, elements: str | ArrayLike) -> float:
        """Area-weighted mean temperature of a region [K]."""
        return self.system.region_mean(self.T, elements)

    def region_max(self, elements: str | ArrayLike) -> float:
        """Largest nodal temperature of a region [K]."""
        elems = self.system.mesh.subdomains[elements] if isinstance(elements, str) else elements
        dofs = self.system.basis.element_dofs[:, np.asarray(elems)]
        return float(self.T[np.unique(dofs)].max())


@dataclass(frozen=True, eq=False)
class TransientSolution:
    """Transient solution: times [s] and temperatures T [K] (n_saved x n_dofs) at the saved
    steps; per-step balance arrays [W/m] at every step (``balance_times`` [s])."""

    system: ThermalSystem
    times: NDArray
    T: NDArray
    balance_times: NDArray
    generated: NDArray
    robin_out: NDArray
    dirichlet_out: NDArray
    stored: NDArray

    @property
    def imbalance(self) -> NDArray:
        return self.generated - self.robin_out - self.dirichlet_out - self.stored


def solve_steady(
    mesh: MeshTri,
    k: ElementField | Orthotropic,
    q: ElementField | None = None,
    robin: Sequence[Robin | tuple] = (),
    dirichlet: Sequence[Dirichlet | tuple] = (),
    *,
    element: str = "P1",
) -> ThermalSolution:
    """Steady temperatures [K] for conductivity k [W/(m K)], source q [W/m^3], convection
    ``robin=[(facets, h, T_inf)]`` and fixed temperatures ``dirichlet=[(facets, T)]``.

    Without any Robin or Dirichlet boundary the problem is singular: DesignError.
    """
    if not robin and not dirichlet:
        raise DesignError("boundary conditions", "none", "need a Robin or Dirichlet boundary")
    system = assemble_thermal(mesh, k, q, robin, dirichlet, element=element)
    T = solve_condensed(system.stiffness, system.load, system.fixed_dofs, system.fixed_values)
    bal = heat_balance(system, T)
    log.debug("steady thermal solve: %d dofs, imbalance %.3e W/m", system.basis.N, bal.imbalance)
    return ThermalSolution(system=system, T=T, balance=bal)


def solve_condensed(A, b, fixed, values) -> NDArray:
    x = np.zeros(A.shape[0])
    x[fixed] = values
    free = np.setdiff1d(np.arange(A.shape[0]), fixed)
    A = sp.csr_matrix(A)
    rhs = b[free] - A[free][:, fixed] @ values
    x[free] = factorize(A[free][:, free])(rhs)
    return x


def time_integrate(
    M: sp.spmatrix,
    K: sp.spmatrix,
    load: Callable[[float], NDArray],
    x0: NDArray,
    dt: float,
    n_steps: int,
    method: str = "bdf2",
    fixed_dofs: NDArray | None = None,
    fixed_values: NDArray | None = None,
    save_every: int = 1,
    monitor: Callable[[float, NDArray, NDArray, NDArray], tuple] | None = None,
) -> tuple[NDArray, NDArray, list]:
    """Integrate M dx/dt + K x = load(t) with a fixed step dt [s].

    method: "euler" (implicit Euler), "crank-nicolson" or "bdf2" (started by one implicit
    Euler step). The step matrices are factorised once. Rows in ``fixed_dofs`` are held at
    ``fixed_values``. ``monitor(t, x_eval, rate, load_eval)`` is called after every step with
    the state and time derivative the scheme balances, and its results are returned.
    Returns (saved times, saved states, monitor results).
    """
    if method not in ("euler", "crank-nicolson", "bdf2"):
        raise DesignError("method", method, "must be 'euler', 'crank-nicolson' or 'bdf2'")
    if dt <= 0 or n_steps < 1:
        raise DesignError("dt, n_steps", (dt, n_steps), "need dt > 0 s and n_steps >= 1")
    n = K.shape[0]
    fixed = np.zeros(0, dtype=np.int64) if fixed_dofs is None else np.asarray(fixed_dofs)
    fvals = np.zeros(0) if fixed_values is None else np.asarray(fixed_values, float)
    free = np.setdiff1d(np.arange(n), fixed)
    M, K = sp.csr_matrix(M), sp.csr_matrix(K)

    def stepper(a_m: float, a_k: float):
        A = (a_m * M + a_k * K).tocsr()
        solve = factorize(A[free][:, free])
        A_fd = A[free][:, fixed]

        def step(rhs: NDArray) -> NDArray:
            x = np.empty(n)
            x[fixed] = fvals
            x[free] = solve(rhs[free] - A_fd @ fvals)
            return x

        return step

    x = np.array(x0, dtype=float)
    x[fixed] = fvals
    times, states, records = [0.0], [x.copy()], []
    theta = 0.5 if method == "crank-nicolson" else 1.0
    step_theta = stepper(1.0 / dt, theta)
    step_bdf2 = stepper(1.5 / dt, 1.0) if method == "bdf2" else None
    x_prev = None
    b_old = load(0.0)
    for i in range(1, n_steps + 1):
        t = i * dt
        b_new = load(t)
        if step_bdf2 is not None and x_prev is not None:
            rhs = M @ (2.0 * x - 0.5 * x_prev) / dt + b_new
            x_new = step_bdf2(rhs)
            rate = (1.5 * x_new - 2.0 * x + 0.5 * x_prev) / dt
            x_eval, b_eval, t_eval = x_new, b_new, t
        else:
            rhs = M @ x / dt - (1.0 - theta) * (K @ x) + theta * b_new + (1.0 - theta) * b_old
            x_new = step_theta(rhs)
            rate = (x_new - x) / dt
            x_eval = theta * x_new + (1.0 - theta) * x
            b_eval = theta * b_new + (1.0 - theta) * b_old
            t_eval = t - (1.0 - theta) * dt
        if monitor is not None:
            records.append(monitor(t_eval, x_eval, rate, b_eval))
        x_prev, x, b_old = x, x_new, b_new
        if i % save_every == 0 or i == n_steps:
            times.append(t)
            states.append(x.copy())
    return np.array(times), np.array(states), records


def solve_transient(
    mesh: MeshTri,
    k: ElementField | Orthotropic,
    rho_c: ElementField,
    q: ElementField | Callable[[float], NDArray] | None = None,
    robin: Sequence[Robin | tuple] = (),
    dirichlet: Sequence[Dirichlet | tuple] = (),
    *,
    dt: float,
    t_end: float,
    T0: float | NDArray,
    method: str = "bdf2",
    save_every: int = 1,
    element: str = "P1",
) -> TransientSolution:
    """Transient temperatures [K] from T0 [K] (scalar or nodal array) over t_end [s].

    k [W/(m K)], rho_c [J/(m^3 K)], q [W/m^3] per element, or a callable ``q(t)``
    returning one value per element (a time-varying loss). Fixed step dt [s]; method as in
    :func:`time_integrate`. Balance arrays are recorded at every step.
    """
    q_static = None if callable(q) else q
    system = assemble_thermal(mesh, k, q_static, robin, dirichlet, rho_c=rho_c, element=element)
    base = system.load - system.source_load
    if callable(q):

        def load(t: float) -> NDArray:
            return base + system.source_matrix @ element_values(mesh, q(t))
    else:

        def load(t: float) -> NDArray:
            return system.load

    n_steps = int(round(t_end / dt))
    T0v = np.full(system.basis.N, float(T0)) if np.ndim(T0) == 0 else np.asarray(T0, float)

    def monitor(t, x_eval, rate, b_eval):
        bal = heat_balance(system, x_eval, rate=rate, load=b_eval)
        return (t, bal.generated, sum(bal.robin_out), sum(bal.dirichlet_out), bal.stored)

    times, states, rec = time_integrate(
        system.capacity,
        system.stiffness,
        load,
        T0v,
        dt,
        n_steps,
        method,
        system.fixed_dofs,
        system.fixed_values,
        save_every,
        monitor,
    )
    rec = np.array(rec)
    return TransientSolution(
        system=system,
        times=times,
        T=states,
        balance_times=rec[:, 0],
        generated=rec[:, 1],
        robin_out=rec[:, 2],
        dirichlet_out=rec[:, 3],
        stored=rec[:, 4],
    )
