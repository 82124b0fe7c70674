"""Lumped thermal network, alone or coupled to the 2D finite-element model.

Network (absolute units, not per length)::

    C_i dT_i/dt = P_i - sum_j G_ij (T_i - T_j) - sum_b G_ib (T_i - T_b)

with node capacities C_i [J/K], losses P_i [W], conductances G_ij [W/K] between nodes and
G_ib [W/K] to fixed temperatures T_b [K] (ambient, coolant inlet).

Coupling to the FE cross-section of axial length L [m] (the FE rows are multiplied by L so
that every row is in W):

- :class:`RegionCoupling` (node, region, G): a conductance G [W/K] spread uniformly over the
  area A of an FE region, i.e. a volumetric exchange g = G / (L A) [W/(m^3 K)] between each
  point of the region and the node. The node sees the region's mean temperature:
  Q = G (T_mean - T_node). Example: the end-winding node fed axially by the slot copper.
- :class:`SurfaceCoupling` (node, facets, G): the same along FE boundary facets of length
  S, h = G / (L S) [W/(m^2 K)]. Example: end-cap air or a bearing node against a shaft or
  housing boundary.

Both keep the monolithic matrix symmetric positive definite and sparse, so
:func:`solve_coupled_steady` and :func:`solve_coupled_transient` solve FE and network in one
augmented system; :func:`solve_coupled_fixed_point` alternates FE and network solves (block
Gauss-Seidel on the same SPD system, which converges) for codes that keep them apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from skfem import Basis, FacetBasis

from pipeline.errors import ConvergenceError, DesignError
from pipeline.thermal.forms import convection, heat_capacity, region_average
from pipeline.thermal.solver import (
    ThermalSystem,
    facet_indices,
    factorize,
    solve_condensed,
    time_integrate,
)

__all__ = [
    "Node",
    "Link",
    "FixedTemperatureLink",
    "ThermalNetwork",
    "RegionCoupling",
    "SurfaceCoupling",
    "CoupledSolution",
    "coupling_operators",
    "solve_coupled_steady",
    "solve_coupled_transient",
    "solve_coupled_fixed_point",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Node:
    """Network node: name, capacity [J/K] (0 for a massless node), power (loss) [W]."""

    name: str
    capacity: float = 0.0
    power: float = 0.0

    def __post_init__(self) -> None:
        if self.capacity < 0:
            raise DesignError(f"{self.name}.capacity", self.capacity, "must be >= 0 J/K")


@dataclass(frozen=True)
class Link:
    """Conductance [W/K] between nodes ``a`` and ``b`` (names)."""

    a: str
    b: str
    conductance: float

    def __post_init__(self) -> None:
        if self.conductance <= 0:
            raise DesignError(f"{self.a}-{self.b}", self.conductance, "conductance must be > 0")


@dataclass(frozen=True)
class FixedTemperatureLink:
    """Conductance [W/K] from ``node`` to a fixed temperature [K] (ambient, coolant)."""

    node: str
    conductance: float
    temperature: float

    def __post_init__(self) -> None:
        if self.conductance <= 0:
            raise DesignError(f"{self.node}-fixed", self.conductance, "must be > 0 W/K")


@dataclass(frozen=True)
class ThermalNetwork:
    """A lumped network of :class:`Node`, :class:`Link` and :class:`FixedTemperatureLink`."""

    nodes: tuple[Node, ...]
    links: tuple[Link, ...] = ()
    fixed: tuple[FixedTemperatureLink, ...] = ()

    def __post_init__(self) -> None:
        names = [n.name for n in self.nodes]
        if len(set(names)) != len(names):
            raise DesignError("nodes", names, "node names must be unique")
        for link in self.links:
            for end in (link.a, link.b):
                if end not in names:
                    raise DesignError("link end", end, f"not a node ({names})")
        for f in self.fixed:
            if f.node not in names:
                raise DesignError("fixed link node", f.node, f"not a node ({names})")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes)

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def capacities(self) -> NDArray:
        """Node capacities [J/K]."""
        return np.array([n.capacity for n in self.nodes])

    @property
    def powers(self) -> NDArray:
        """Node losses [W]."""
        return np.array([n.power for n in self.nodes])

    def conductance_matrix(self) -> tuple[sp.csr_matrix, NDArray]:
        """(G [W/K], b [W]): G T = b + P is the steady balance; b = sum G_ib T_b."""
        n = len(self.nodes)
        rows, cols, vals = [], [], []
        for link in self.links:
            i, j, g = self.index(link.a), self.index(link.b), link.conductance
            rows += [i, j, i, j]
            cols += [i, j, j, i]
            vals += [g, g, -g, -g]
        b = np.zeros(n)
        for f in self.fixed:
            i = self.index(f.node)
            rows.append(i)
            cols.append(i)
            vals.append(f.conductance)
            b[i] += f.conductance * f.temperature
        return sp.csr_matrix((vals, (rows, cols)), shape=(n, n)), b

    def solve_steady(self, power: ArrayLike | None = None) -> NDArray:
        """Steady node temperatures [K] for node losses [W] (default: the nodes' own)."""
        G, b = self.conductance_matrix()
        P = self.powers if power is None else np.asarray(power, float)
        return np.linalg.solve(G.toarray(), b + P)

    def solve_transient(
        self,
        dt: float,
        t_end: float,
        T0: ArrayLike,
        power: ArrayLike | Callable[[float], NDArray] | None = None,
        method: str = "bdf2",
    ) -> tuple[NDArray, NDArray]:
        """(times [s], temperatures [K] n_steps+1 x n_nodes) from T0 [K]; power [W] constant
        or a callable of time."""
        G, b = self.conductance_matrix()
        if power is None:
            power = self.powers
        load = (lambda t: b + power(t)) if callable(power) else (lambda t: b + np.asarray(power))
        times, states, _ = time_integrate(
            sp.diags(self.capacities), G, load, np.asarray(T0, float), dt,
            int(round(t_end / dt)), method,
        )  # fmt: skip
        return times, states


@dataclass(frozen=True, eq=False)
class RegionCoupling:
    """Conductance [W/K] between a network node and an FE region (subdomain name or
    element indices), spread uniformly over the region's area."""

    node: str
    region: str | ArrayLike
    conductance: float


@dataclass(frozen=True, eq=False)
class SurfaceCoupling:
    """Conductance [W/K] between a network node and FE boundary facets (name or indices),
    spread uniformly along them."""

    node: str
    facets: str | ArrayLike
    conductance: float


def coupling_operators(
    system: ThermalSystem,
    network: ThermalNetwork,
    couplings: Sequence[RegionCoupling | SurfaceCoupling],
) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix, list[tuple[NDArray, int, float]]]:
    """(C_ff [W/K], C_fn [W/K], C_nn [W/K], weights): the coupling adds
    [[C_ff, C_fn], [C_fn^T, C_nn]] to the monolithic matrix; weights holds (w, node, G)
    with w the FE averaging vector of each coupling (w . T = mean temperature)."""
    mesh, basis = system.mesh, system.basis
    N, m = basis.N, len(network.nodes)
    C_ff = sp.csr_matrix((N, N))
    fn_rows, fn_cols, fn_vals = [], [], []
    C_nn = np.zeros(m)
    weights = []
    for c in couplings:
        j = network.index(c.node)
        if c.conductance <= 0:
            raise DesignError(f"coupling {c.node}", c.conductance, "conductance must be > 0")
        if isinstance(c, RegionCoupling):
            elems = mesh.subdomains[c.region] if isinstance(c.region, str) else c.region
            b = Basis(mesh, basis.elem, elements=np.asarray(elems))
            ones = np.ones((b.nelems, b.X.shape[-1]))
            mass = heat_capacity.assemble(b, rho_c=ones)
        else:
            b = FacetBasis(mesh, basis.elem, facets=facet_indices(mesh, c.facets))
            ones = np.ones((b.nelems, b.X.shape[-1]))
            mass = convection.assemble(b, h=ones)
        vec = region_average.assemble(b)
        size = vec.sum()
        g = c.conductance / size
        C_ff = C_ff + g * mass
        nz = np.nonzero(vec)[0]
        fn_rows.append(nz)
        fn_cols.append(np.full(nz.size, j))
        fn_vals.append(-g * vec[nz])
        C_nn[j] += c.conductance
        weights.append((vec / size, j, c.conductance))
    C_fn = sp.csr_matrix(
        (np.concatenate(fn_vals or [[]]), (np.concatenate(fn_rows or [[]]).astype(int),
         np.concatenate(fn_cols or [[]]).astype(int))),
        shape=(N, m),
    )  # fmt: skip
    return C_ff.tocsr(), C_fn, sp.diags(C_nn).tocsr(), weights


def _monolithic(system, network, couplings, length):
    G, b_net = network.conductance_matrix()
    C_ff, C_fn, C_nn, weights = coupling_operators(system, network, couplings)
    A = sp.bmat([[length * system.stiffness + C_ff, C_fn], [C_fn.T, G + C_nn]]).tocsr()
    return A, b_net, weights


@dataclass(frozen=True, eq=False)
class CoupledSolution:
    """FE temperatures T_fe [K], node temperatures T_net [K] and the heat [W] each coupling
    carries from the FE into its node (``coupling_heat``, in coupling order)."""

    T_fe: NDArray
    T_net: NDArray
    coupling_heat: NDArray
    iterations: int = 1


def _coupling_heat(weights, T_fe, T_net) -> NDArray:
    return np.array([G * (w @ T_fe - T_net[j]) for w, j, G in weights])


def solve_coupled_steady(
    system: ThermalSystem,
    network: ThermalNetwork,
    couplings: Sequence[RegionCoupling | SurfaceCoupling],
    length: float,
    power: ArrayLike | None = None,
) -> CoupledSolution:
    """Monolithic steady solve of the FE cross-section (axial length [m]) and the network
    (node losses ``power`` [W], default the nodes' own)."""
    if length <= 0:
        raise DesignError("length", length, "must be > 0 m")
    A, b_net, weights = _monolithic(system, network, couplings, length)
    P = network.powers if power is None else np.asarray(power, float)
    rhs = np.concatenate([length * system.load, b_net + P])
    x = solve_condensed(A, rhs, system.fixed_dofs, system.fixed_values)
    N = system.basis.N
    return CoupledSolution(x[:N], x[N:], _coupling_heat(weights, x[:N], x[N:]))


def solve_coupled_transient(
    system: ThermalSystem,
    network: ThermalNetwork,
    couplings: Sequence[RegionCoupling | SurfaceCoupling],
    length: float,
    *,
    dt: float,
    t_end: float,
    T0_fe: float | NDArray,
    T0_net: float | NDArray,
    method: str = "bdf2",
    save_every: int = 1,
) -> tuple[NDArray, NDArray, NDArray]:
    """Monolithic transient of FE (needs ``system.capacity``) and network: returns
    (times [s], FE temperatures [K] n_saved x N, node temperatures [K] n_saved x m)."""
    if system.capacity is None:
        raise DesignError("rho_c", None, "assemble the system with rho_c for a transient")
    A, b_net, _ = _monolithic(system, network, couplings, length)
    M = sp.block_diag([length * system.capacity, sp.diags(network.capacities)]).tocsr()
    rhs = np.concatenate([length * system.load, b_net + network.powers])
    N, m = system.basis.N, len(network.nodes)
    x0 = np.concatenate([np.broadcast_to(T0_fe, (N,)), np.broadcast_to(T0_net, (m,))])
    times, states, _ = time_integrate(
        M, A, lambda t: rhs, x0.astype(float), dt, int(round(t_end / dt)), method,
        system.fixed_dofs, system.fixed_values, save_every,
    )  # fmt: skip
    return times, states[:, :N], states[:, N:]


def solve_coupled_fixed_point(
    system: ThermalSystem,
    network: ThermalNetwork,
    couplings: Sequence[RegionCoupling | SurfaceCoupling],
    length: float,
    tol: float = 1e-8,
    max_iter: int = 200,
) -> CoupledSolution:
    """Steady FE-network coupling by alternating solves (block Gauss-Seidel): FE with the
    node temperatures as sink temperatures, then the network with the FE region means.
    Stops when the node temperatures change by less than ``tol`` [K]; ConvergenceError
    with the history otherwise. Each block is factorised once."""
    G, b_net = network.conductance_matrix()
    C_ff, C_fn, C_nn, weights = coupling_operators(system, network, couplings)
    A_fe = (length * system.stiffness + C_ff).tocsr()
    fixed, fvals = system.fixed_dofs, system.fixed_values
    free = np.setdiff1d(np.arange(system.basis.N), fixed)
    solve_fe = factorize(A_fe[free][:, free])
    A_fd = A_fe[free][:, fixed]
    solve_net = factorize((G + C_nn).tocsc())
    T_net = np.zeros(len(network.nodes))
    T_fe = np.zeros(system.basis.N)
    T_fe[fixed] = fvals
    history = []
    for it in range(1, max_iter + 1):
        rhs = length * system.load - C_fn @ T_net
        T_fe[free] = solve_fe(rhs[free] - A_fd @ fvals)
        T_new = solve_net(b_net + network.powers - C_fn.T @ T_fe)
        change = float(np.max(np.abs(T_new - T_net)))
        history.append(change)
        T_net = T_new
        if change < tol:
            log.debug("fixed-point coupling converged in %d iterations", it)
            return CoupledSolution(T_fe, T_net, _coupling_heat(weights, T_fe, T_net), it)
    raise ConvergenceError(f"FE-network fixed point: no convergence in {max_iter}", history)
