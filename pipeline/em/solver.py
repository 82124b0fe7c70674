"""Nonlinear 2D planar magnetostatics (A_z per unit length) solved by Newton's method.

Equations and weak forms: :mod:`pipeline.em.forms`. Materials are given per element:
linear reluctivity nu [m/H] (air, copper, magnets with their recoil reluctivity), or a
nonlinear B-H curve (:class:`pipeline.em.bh.BHCurve`) selected by ``material_index``;
sources are the current density J_z [A/m^2] and the remanence (Br_x, Br_y) [T] of magnet
elements. Constraints (Dirichlet, (anti-)periodic, sliding interface) enter through
A = T a + g (:mod:`pipeline.em.constraints`), and the reduced system T^T K T is solved.

Newton: J(a_k) da = -r(a_k) (after the first step of a solve, first by a few conjugate-gradient
iterations preconditioned with the last factor, to a relative residual of 1e-2; see
``recycle_iterations``), a_{k+1} = a_k + alpha da with a backtracking line search on the
Euclidean norm of the reduced residual (Armijo factor 1e-4, alpha halved, at most 12
times). Converged when ||r_k|| <= tol ||r(a = 0)|| (the residual of the zero start, i.e.
the size of the sources); ``ConvergenceError`` carries the history of these relative
residuals otherwise. The Jacobian is SPD for monotone B-H curves (see :mod:`bh`).

Speed (thousands of solves per flux map): basis gradients are precomputed; the linear
elements' stiffness is assembled once; each iteration only the nonlinear elements are
re-evaluated (on P1 at one point per triangle: the gradients are constant, so one point
integrates nu(|B|^2) grad A . grad v exactly; the same values as the 3-point rule to
round-off) and scattered straight into the data array of the reduced matrix through a
precomputed index map. Per constraint pattern (rotor position) the reduced sparsity
pattern and the CHOLMOD symbolic analysis are computed once and cached; each iteration
refactorises in place (``Factor.cholesky_inplace``). Without scikit-sparse, SuperLU is
used (factorised from scratch each iteration). A linear problem is factorised once per
pattern and reused for any source.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix
from scipy.sparse.linalg import splu
from skfem import Basis, ElementTriP1, ElementTriP2, MeshTri

from pipeline.em.bh import BHCurve
from pipeline.em.constraints import Constraints
from pipeline.errors import ConvergenceError, DesignError

try:  # optional fast path
    from sksparse.cholmod import CholmodNotPositiveDefiniteError
    from sksparse.cholmod import analyze as _cholmod_analyze
except ImportError:  # pragma: no cover - depends on the installation
    _cholmod_analyze = None

__all__ = [
    "MagnetostaticProblem",
    "MagnetostaticResult",
    "MagnetostaticSolver",
    "solve",
    "element_values",
    "HAVE_CHOLMOD",
]

logger = logging.getLogger(__name__)

HAVE_CHOLMOD = _cholmod_analyze is not None

_ELEMENTS = {1: ElementTriP1, 2: ElementTriP2}

#: conjugate-gradient iterations tried with a recycled factor before refactorising, and
#: the relative linear residual they must reach (an inexact Newton step, Dembo, Eisenstat
#: & Steihaug, SIAM J. Numer. Anal. 19 (1982) 400, doi:10.1137/0719025: a forcing term
#: 1e-2 keeps the outer convergence; measured on the Prius fine sector 2026-12-04: half the
#: factorisations, the same Newton steps +- 1, solutions within 1e-7 of plain Newton)
RECYCLE_ITERATIONS = 6
RECYCLE_RTOL = 1e-2
#: largest relative change of the current density for which a solve starts from the
#: prediction of an earlier sweep (``across_solves``); beyond it the saturation differs too
#: much and ``a0`` is the better start (measured on the Prius ci map in random order)
NEAR_CURRENT = 0.3


def element_values(
    mesh: MeshTri, values: Mapping[str, float], default: float | None = None
) -> np.ndarray:
    """Per-element array from values per named subdomain (``mesh.subdomains``).

    Elements in no listed subdomain get ``default``; with ``default=None`` they raise.
    """
    out = np.full(mesh.t.shape[1], np.nan)
    for name, value in values.items():
        if name not in (mesh.subdomains or {}):
            raise DesignError("subdomain", name, f"not in mesh ({sorted(mesh.subdomains or {})})")
        out[np.asarray(mesh.subdomains[name])] = value
    if np.isnan(out).any():
        if default is None:
            raise DesignError("subdomain", "unassigned", "every element needs a value")
        out[np.isnan(out)] = default
    return out


@dataclass(frozen=True, eq=False)
class MagnetostaticProblem:
    """Mesh, element order and per-element materials and sources.

    Parameters
    ----------
    mesh : triangle mesh [m].
    reluctivity : (n_elements,) linear reluctivity [m/H]; for magnets the recoil value
        1/(MU_0 mu_rec). Ignored on nonlinear elements.
    material_index : (n_elements,) index into ``bh_curves``, -1 = linear (default all -1).
    bh_curves : nonlinear materials.
    current_density : (n_elements,) J_z [A/m^2] (default 0); may be overridden per solve.
    remanence : (2, n_elements) (Br_x, Br_y) [T] in the mesh frame (default 0); must be 0
        on nonlinear elements; may be overridden per solve.
    order : 1 or 2 (Lagrange P1 or P2).
    """

    mesh: MeshTri
    reluctivity: np.ndarray
    material_index: np.ndarray | None = None
    bh_curves: tuple[BHCurve, ...] = ()
    current_density: np.ndarray | None = None
    remanence: np.ndarray | None = None
    order: int = 1

    def __post_init__(self) -> None:
        ne = self.mesh.t.shape[1]
        nu = np.asarray(self.reluctivity, dtype=float)
        if nu.shape != (ne,):
            raise DesignError("reluctivity", nu.shape, f"one value per element ({ne})")
        mi = (
            np.full(ne, -1, dtype=np.int64)
            if self.material_index is None
            else np.asarray(self.material_index, dtype=np.int64)
        )
        if mi.shape != (ne,) or mi.min() < -1 or mi.max() >= len(self.bh_curves):
            raise DesignError(
                "material_index", (mi.shape, mi.min(), mi.max()), "-1 or a bh_curves index"
            )
        if np.any(~(nu[mi < 0] > 0)) or not np.all(np.isfinite(nu[mi < 0])):
            raise DesignError("reluctivity", "element", "finite and > 0 [m/H] on linear elements")
        j = (
            np.zeros(ne)
            if self.current_density is None
            else np.asarray(self.current_density, float)
        )
        br = np.zeros((2, ne)) if self.remanence is None else np.asarray(self.remanence, float)
        if j.shape != (ne,):
            raise DesignError("current_density", j.shape, f"one value per element ({ne}) [A/m^2]")
        if br.shape != (2, ne):
            raise DesignError("remanence", br.shape, f"shape (2, {ne}) [T]")
        if np.any(br[:, mi >= 0] != 0):
            raise DesignError("remanence", "nonzero", "only on linear (magnet) elements")
        if self.order not in _ELEMENTS:
            raise DesignError("order", self.order, "1 or 2")
        object.__setattr__(self, "reluctivity", nu)
        object.__setattr__(self, "material_index", mi)
        object.__setattr__(self, "current_density", j)
        object.__setattr__(self, "remanence", br)
        object.__setattr__(self, "bh_curves", tuple(self.bh_curves))


@dataclass(frozen=True, eq=False)
class MagnetostaticResult:
    """Solution of one magnetostatic solve.

    a : full dof vector of A_z [Wb/m] (use with ``solver.basis``).
    iterations : Newton steps taken.
    residuals : relative residual norms ||r_k|| / ||r(0)||, one per iterate.
    step_lengths : line-search factor alpha of each Newton step.
    factorizations : Jacobians factorised (steps not taken by recycled-factor CG).
    """

    a: np.ndarray
    iterations: int
    residuals: tuple[float, ...]
    step_lengths: tuple[float, ...] = ()
    factorizations: int = 0


@dataclass(eq=False)
class _Pattern:
    """Reduced sparsity pattern and factorisation for one constraint set."""

    indptr: np.ndarray
    indices: np.ndarray
    q_nl: np.ndarray  # reduced data position of each kept nonlinear element-matrix entry
    s_nl: np.ndarray  # its sign
    keep_nl: np.ndarray  # flat indices of the kept entries of the (nb, nb, nnl) array
    lin_data: np.ndarray
    n: int
    scatter: object = None  # (nnz, nb nb nnl) CSR: element-matrix entries -> reduced data
    matrix: object = None  # the reduced CSC matrix, built once; its data is overwritten
    factor: object = None
    linear_factor_ready: bool = False
    last_a: np.ndarray | None = field(default=None, repr=False)  # last solution (full)
    last_seq: int = -1  # its number among the solver's solves
    last_j: np.ndarray | None = field(default=None, repr=False)  # its current density
    superlu: object = field(default=None, repr=False)


class MagnetostaticSolver:
    """Reusable Newton solver for one :class:`MagnetostaticProblem` (mesh and materials).

    ``backend``: 'auto' (CHOLMOD if available), 'cholmod' or 'superlu'.
    ``cache_size``: number of constraint patterns (rotor positions) kept factorised.
    ``cholmod_mode``, ``cholmod_ordering``: passed to ``sksparse.cholmod.analyze``; METIS
    costs ~40 ms more per pattern (11k unknowns) than AMD but factorises ~30 % faster.
    ``recycle_iterations``, ``recycle_rtol``: after the first Newton step of a solve, each
    step is first tried by at most ``recycle_iterations`` conjugate-gradient iterations
    preconditioned with the factor already held (an earlier Jacobian of the same solve) to
    the relative linear residual ``recycle_rtol``; only if that fails is the Jacobian
    refactorised. 0 refactorises every step (plain Newton).
    ``across_solves``: a solve at a rotor position solved before, for a current density
    within ``near_current`` (relative) of that solve's, starts from the parallelogram
    a(k, n-1) + a(k-1, n) - a(k-1, n-1) of solutions kept per pattern (``a0`` = a(k-1, n)
    has a jump at the moved sliding interface, a(k, n-1) the previous current's
    saturation). Prius ci map, Newton steps / factorisations per position: grid order 7.2 /
    3.3 -> 5.3 / 2.0, every other point 7.0 / 3.1 -> 5.9 / 2.3, random order 7.2 -> 6.9;
    the map itself 6.9 -> 6.6 (its tasks run in no particular order). Off by default: the
    answer then depends on what the process solved before (within the Newton tolerance,
    but a study's envelope bisection moved by 1.7 %); cached results must depend on inputs.
    """

    def __init__(
        self,
        problem: MagnetostaticProblem,
        backend: str = "auto",
        cache_size: int = 64,
        cholmod_mode: str = "simplicial",
        cholmod_ordering: str = "metis",
        recycle_iterations: int = RECYCLE_ITERATIONS,
        recycle_rtol: float = RECYCLE_RTOL,
        across_solves: bool = False,
    ):
        if not (isinstance(recycle_iterations, int) and recycle_iterations >= 0):
            raise DesignError("recycle_iterations", recycle_iterations, "whole number >= 0")
        if not 0.0 < recycle_rtol < 1.0:
            raise DesignError("recycle_rtol", recycle_rtol, "0 < relative residual < 1")
        self.recycle_iterations = recycle_iterations
        self.recycle_rtol = float(recycle_rtol)
        self.across_solves = bool(across_solves)
        self._chain = None  # (last solution, its pattern's solution before, and its number)
        self._seq = 0  # solves remembered so far
        self._current = None  # current density of the solve under way
        self.near_current = NEAR_CURRENT
        self._cholmod_args = {"mode": cholmod_mode, "ordering_method": cholmod_ordering}
        if backend not in ("auto", "cholmod", "superlu"):
            raise DesignError("backend", backend, "'auto', 'cholmod' or 'superlu'")
        if backend == "cholmod" and not HAVE_CHOLMOD:
            raise DesignError("backend", backend, "scikit-sparse (sksparse.cholmod) not installed")
        self.backend = "cholmod" if backend == "auto" and HAVE_CHOLMOD else backend
        if self.backend == "auto":
            self.backend = "superlu"
        self.problem = problem
        p = problem.order
        self.basis = Basis(problem.mesh, _ELEMENTS[p](), intorder=max(2 * (p - 1), p))
        b = self.basis
        nb = len(b.basis)
        self.dofs = b.element_dofs  # (nb, ne)
        grads = np.array([b.basis[i][0].grad for i in range(nb)])  # (nb, 2, ne, nq)
        values = np.array([np.asarray(b.basis[i][0]) for i in range(nb)])  # (nb, ne, nq)
        dx = b.dx  # (ne, nq)
        self.phi_int = np.einsum("ieq,eq->ie", values, dx)
        self.grad_int = np.einsum("ixeq,eq->ixe", grads, dx)  # (nb, 2, ne)

        # full sparsity pattern of all element pairs
        ndof = b.N
        rows = np.broadcast_to(self.dofs[:, None, :], (nb, nb, self.dofs.shape[1])).ravel()
        cols = np.broadcast_to(self.dofs[None, :, :], (nb, nb, self.dofs.shape[1])).ravel()
        keys = rows.astype(np.int64) * ndof + cols
        ukeys, pos = np.unique(keys, return_inverse=True)
        self._pos = pos.reshape(nb, nb, -1)
        self._rows = (ukeys // ndof).astype(np.int64)
        self._cols = (ukeys % ndof).astype(np.int64)
        self.ndof = ndof

        mi = problem.material_index
        lin = np.flatnonzero(mi < 0)
        nl = np.flatnonzero(mi >= 0)
        self.nl = nl[np.argsort(mi[nl], kind="stable")]  # grouped by curve: slices, no copies
        ke_lin = np.einsum(
            "ixeq,jxeq,eq->ije",
            grads[:, :, lin],
            grads[:, :, lin],
            dx[lin] * problem.reluctivity[lin, None],
        )
        lin_data = np.bincount(self._pos[:, :, lin].ravel(), ke_lin.ravel(), minlength=ukeys.size)
        self.k_lin = csr_matrix((lin_data, (self._rows, self._cols)), shape=(ndof, ndof))
        self._lin_data = lin_data
        g_nl, dx_nl = grads[:, :, self.nl], dx[self.nl]
        if p == 1:  # P1 gradients are constant on a triangle: one point integrates exactly
            g_nl, dx_nl = g_nl[..., :1], dx_nl.sum(axis=1, keepdims=True)
        self._g_nl = np.ascontiguousarray(g_nl)
        self._dx_nl = dx_nl
        self._gg_nl = np.einsum("ixeq,jxeq->ijeq", self._g_nl, self._g_nl)
        self._dofs_nl = self.dofs[:, self.nl]
        bounds = np.searchsorted(mi[self.nl], np.arange(len(problem.bh_curves) + 1))
        self._curve_groups = [
            (c, slice(bounds[i], bounds[i + 1])) for i, c in enumerate(problem.bh_curves)
        ]
        self._cache: OrderedDict[str, _Pattern] = OrderedDict()
        self.cache_size = cache_size
        logger.debug(
            "MagnetostaticSolver: %d dofs, %d elements (%d nonlinear), P%d, %s",
            ndof, dx.shape[0], self.nl.size, p, self.backend,
        )  # fmt: skip

    # -- sources -----------------------------------------------------------------------
    def source_vector(
        self, current_density: np.ndarray | None = None, remanence: np.ndarray | None = None
    ) -> np.ndarray:
        """Full load vector int J v + int nu_m (Br_x dv/dy - Br_y dv/dx) dS [A]."""
        pr = self.problem
        j = pr.current_density if current_density is None else np.asarray(current_density, float)
        br = pr.remanence if remanence is None else np.asarray(remanence, float)
        if br.shape != pr.remanence.shape or j.shape != pr.current_density.shape:
            raise DesignError("sources", (j.shape, br.shape), "same shapes as in the problem")
        fe = self.phi_int * j
        nu_br = pr.reluctivity * br
        fe = fe + self.grad_int[:, 1] * nu_br[0] - self.grad_int[:, 0] * nu_br[1]
        return np.bincount(self.dofs.ravel(), fe.ravel(), minlength=self.ndof)

    # -- pattern per constraint set ------------------------------------------------------
    def _pattern(self, cons: Constraints) -> _Pattern:
        key = cons.key
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if cons.n_full != self.ndof:
            raise DesignError(
                "constraints.n_full", cons.n_full, f"must equal the dof count {self.ndof}"
            )
        n = cons.n_reduced
        cr = cons.col[self._rows]
        cc = cons.col[self._cols]
        valid = (cr >= 0) & (cc >= 0)
        s = (cons.sign[self._rows] * cons.sign[self._cols]).astype(float)
        rkeys = cr[valid] * n + cc[valid]
        ukeys, inv = np.unique(rkeys, return_inverse=True)
        q = np.full(self._rows.size, -1, dtype=np.int64)
        q[valid] = inv
        rr = ukeys // n
        indptr = np.searchsorted(rr, np.arange(n + 1)).astype(np.int64)
        indices = (ukeys % n).astype(np.int64)
        lin_data = np.bincount(inv, s[valid] * self._lin_data[valid], minlength=ukeys.size)
        pos_nl = self._pos[:, :, self.nl].ravel()
        keep = np.flatnonzero(q[pos_nl] >= 0)
        pat = _Pattern(
            indptr=indptr,
            indices=indices,
            q_nl=q[pos_nl[keep]],
            s_nl=s[pos_nl[keep]],
            keep_nl=keep,
            lin_data=lin_data,
            n=n,
        )
        # one sparse product scatters the nonlinear element matrices into the reduced data
        pat.scatter = csr_matrix((pat.s_nl, (pat.q_nl, keep)), shape=(ukeys.size, pos_nl.size))
        pat.scatter.sum_duplicates()
        pat.matrix = self._matrix(pat, lin_data.copy())
        if self.backend == "cholmod":
            pat.factor = _cholmod_analyze(pat.matrix, **self._cholmod_args)
        self._cache[key] = pat
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return pat

    @staticmethod
    def _matrix(pat: _Pattern, data: np.ndarray) -> csc_matrix:
        # symmetric: the CSR arrays of K are the CSC arrays of K^T = K
        return csc_matrix((data, pat.indices, pat.indptr), shape=(pat.n, pat.n))

    @staticmethod
    def _loaded(pat: _Pattern, data: np.ndarray) -> csc_matrix:
        """The pattern's matrix holding ``data`` (a new one costs scipy's checks, ~1 ms)."""
        pat.matrix.data[:] = data
        return pat.matrix

    # -- nonlinear evaluation --------------------------------------------------------------
    def _nonlinear_state(self, a_full: np.ndarray):
        """(gg, nu, dnu) on the nonlinear elements: gg_i = grad A . grad phi_i (nb, nnl, nq)."""
        ae = a_full[self._dofs_nl]  # (nb, nnl)
        g = self._g_nl
        ga = ae[0][None, :, None] * g[0]
        for i in range(1, g.shape[0]):
            ga += ae[i][None, :, None] * g[i]
        b2 = ga[0] ** 2 + ga[1] ** 2
        nu = np.empty_like(b2)
        dnu = np.empty_like(b2)
        for curve, idx in self._curve_groups:
            curve.nu_and_derivative(b2[idx], out=(nu[idx], dnu[idx]))
        gg = ga[0][None] * g[:, 0] + ga[1][None] * g[:, 1]
        return gg, nu, dnu

    def _residual_full(self, a_full: np.ndarray, f: np.ndarray, state=None) -> np.ndarray:
        r = self.k_lin @ a_full - f
        if self.nl.size:
            gg, nu, _ = self._nonlinear_state(a_full) if state is None else state
            re = (gg * (self._dx_nl * nu)).sum(axis=-1)
            r += np.bincount(self._dofs_nl.ravel(), re.ravel(), minlength=self.ndof)
        return r

    def _jacobian_data(self, pat: _Pattern, state) -> np.ndarray:
        if not self.nl.size:
            return pat.lin_data
        gg, nu, dnu = state
        ke = (self._gg_nl * (self._dx_nl * nu)).sum(axis=-1)
        t = gg * (2.0 * dnu * self._dx_nl)
        ke += (t[:, None] * gg[None, :]).sum(axis=-1)
        return pat.lin_data + pat.scatter @ ke.ravel()

    def _solve_linear(self, pat: _Pattern, data: np.ndarray, rhs: np.ndarray, reuse: bool):
        if self.backend == "cholmod":
            if not (reuse and pat.linear_factor_ready):
                try:
                    pat.factor.cholesky_inplace(self._loaded(pat, data))
                except CholmodNotPositiveDefiniteError as exc:
                    raise ConvergenceError(f"Jacobian not positive definite: {exc}") from exc
                pat.linear_factor_ready = reuse
            return pat.factor(rhs)
        if not (reuse and pat.linear_factor_ready):
            pat.superlu = splu(
                self._loaded(pat, data),
                permc_spec="MMD_AT_PLUS_A",
                diag_pivot_thresh=0.0,
                options={"SymmetricMode": True},
            )
            pat.linear_factor_ready = reuse
        return pat.superlu.solve(rhs)

    def _recycled_step(self, pat: _Pattern, data: np.ndarray, r: np.ndarray):
        """Newton step -J^-1 r by conjugate gradients preconditioned with the factor of an
        earlier Jacobian of the same solve; None if it does not reach the relative residual
        ``recycle_rtol`` in ``recycle_iterations`` steps (the caller then refactorises)."""
        jac = self._loaded(pat, data)
        b = -r
        x = np.zeros_like(b)
        res = b.copy()
        z = self._precondition(pat, res)
        d = z.copy()
        rz = float(res @ z)
        goal = self.recycle_rtol * float(np.linalg.norm(b))
        for _ in range(self.recycle_iterations):
            q = jac @ d
            dq = float(d @ q)
            if not dq > 0.0:  # not SPD (or breakdown): leave it to the factorisation
                return None
            step = rz / dq
            x += step * d
            res -= step * q
            if float(np.linalg.norm(res)) <= goal:
                return x
            z = self._precondition(pat, res)
            rz, rz_old = float(res @ z), rz
            d = z + (rz / rz_old) * d
        return None

    def _precondition(self, pat: _Pattern, v: np.ndarray) -> np.ndarray:
        return pat.factor(v) if self.backend == "cholmod" else pat.superlu.solve(v)

    def _trial(self, constraints, f, a, da, alpha: float, linear: bool):
        """(a, a_full, r, ||r||, state, alpha) at the trial point a + alpha da."""
        a_try = a + alpha * da
        full_try = constraints.expand(a_try)
        state_try = self._nonlinear_state(full_try) if not linear else None
        r_try = constraints.reduce(self._residual_full(full_try, f, state_try))
        return a_try, full_try, r_try, float(np.linalg.norm(r_try)), state_try, alpha

    def _start(self, pat: _Pattern, a0):
        """Start of a nonlinear solve (``across_solves``, see the class doc): a(k, n) ~
        a(k, n-1) + a(k-1, n) - a(k-1, n-1) when ``a0`` is the last solve's answer a(k-1, n)
        and this pattern k was solved right after that pattern in an earlier sweep (n-1);
        the solution last found at this pattern if there is no ``a0``; else ``a0``. The
        current density is that of the solve under way (``_current``)."""
        if not self.across_solves or pat.last_a is None:
            return a0
        if a0 is None:
            return pat.last_a
        j = np.asarray(self._current, float)
        dj = float(np.linalg.norm(j - pat.last_j)) if pat.last_j is not None else np.inf
        near = dj <= self.near_current * max(float(np.linalg.norm(j)), 1e-300)
        chain = self._chain
        if near and chain is not None and a0 is chain[0] and chain[1] is not None:
            if pat.last_seq == chain[2] + 1:  # the same earlier sweep, next position
                return pat.last_a + (a0 - chain[1])
        return a0

    def _remember(self, pat: _Pattern, a_full: np.ndarray) -> None:
        """Keep a solution (and the one it replaces, for the next solve) for _start."""
        self._seq += 1
        self._chain = (a_full, pat.last_a, pat.last_seq)
        pat.last_a, pat.last_seq = a_full.copy(), self._seq
        pat.last_j = np.array(self._current, float)

    # -- public --------------------------------------------------------------------------
    def prepare(self, constraints: Constraints) -> None:
        """Build (and cache) the reduced pattern and symbolic factorisation for ``constraints``."""
        self._pattern(constraints)

    def residual(
        self,
        constraints: Constraints,
        a_full: np.ndarray,
        current_density: np.ndarray | None = None,
        remanence: np.ndarray | None = None,
    ) -> np.ndarray:
        """Reduced residual T^T (K(A) A - f) [A] at the full vector ``a_full``."""
        f = self.source_vector(current_density, remanence)
        return constraints.reduce(self._residual_full(a_full, f))

    def jacobian(self, constraints: Constraints, a_full: np.ndarray) -> csc_matrix:
        """Reduced Newton Jacobian T^T J(A) T [A/(Wb/m)] at the full vector ``a_full``."""
        pat = self._pattern(constraints)
        state = self._nonlinear_state(a_full) if self.nl.size else None
        return self._matrix(pat, self._jacobian_data(pat, state).copy())

    def solve(
        self,
        constraints: Constraints,
        current_density: np.ndarray | None = None,
        remanence: np.ndarray | None = None,
        a0: np.ndarray | None = None,
        tol: float = 1e-8,
        max_iter: int = 50,
    ) -> MagnetostaticResult:
        """Solve for A_z with the given constraints and sources (defaults: the problem's).

        a0 : full vector to warm-start from (e.g. the result of a neighbouring case).
        Raises ConvergenceError (with the relative residual history) if ||r|| > tol ||r(0)||
        after ``max_iter`` Newton steps.
        """
        pat = self._pattern(constraints)
        f = self.source_vector(current_density, remanence)
        self._current = self.problem.current_density if current_density is None else current_density
        linear = self.nl.size == 0
        a = np.zeros(constraints.n_reduced)
        full0 = constraints.expand(a)
        if constraints.offset.any():
            r = constraints.reduce(self._residual_full(full0, f))
        else:  # A = 0: K(0) 0 - f (no B-H evaluation needed)
            r = constraints.reduce(-f)
        scale = float(np.linalg.norm(r))
        if scale == 0.0:
            return MagnetostaticResult(full0, 0, (0.0,))
        start = self._start(pat, a0) if not linear else a0
        if start is not None:
            a = constraints.restrict(np.asarray(start, float))
            full0 = constraints.expand(a)
            r = constraints.reduce(self._residual_full(full0, f))
        a_full = full0
        norm = float(np.linalg.norm(r))
        history = [norm / scale]
        steps: list[float] = []
        state = self._nonlinear_state(full0) if not linear else None
        factored = False  # the pattern's factor holds a Jacobian of this solve
        n_factor = 0
        for it in range(1, max_iter + 1):
            if history[-1] <= tol:
                self._remember(pat, a_full)
                return MagnetostaticResult(a_full, it - 1, tuple(history), tuple(steps), n_factor)
            data = self._jacobian_data(pat, state)
            da = self._recycled_step(pat, data, r) if factored else None
            if da is None:
                da = -self._solve_linear(pat, data, r, reuse=linear)
                factored = not linear and self.recycle_iterations > 0
                n_factor += 1
            alpha = 1.0
            for _ in range(13):
                trial = self._trial(constraints, f, a, da, alpha, linear)
                if trial[3] <= (1.0 - 1e-4 * alpha) * norm or linear:
                    break
                alpha *= 0.5
            else:
                logger.debug("line search did not reduce the residual; alpha=%g", trial[5])
            a, a_full, r, norm, state, alpha = trial
            history.append(norm / scale)
            steps.append(alpha)
            logger.debug("Newton %d: alpha=%g, relative residual %.3e", it, alpha, history[-1])
        if history[-1] <= tol:
            self._remember(pat, a_full)
            return MagnetostaticResult(a_full, max_iter, tuple(history), tuple(steps), n_factor)
        raise ConvergenceError(
            f"Newton did not reach relative residual {tol:g} in {max_iter} iterations "
            f"(last {history[-1]:.3e})",
            history,
        )


def solve(
    problem: MagnetostaticProblem,
    constraints: Constraints,
    a0: np.ndarray | None = None,
    tol: float = 1e-8,
    max_iter: int = 50,
    backend: str = "auto",
) -> MagnetostaticResult:
    """One-off solve; for sweeps keep a :class:`MagnetostaticSolver` instead."""
    return MagnetostaticSolver(problem, backend=backend).solve(
        constraints, a0=a0, tol=tol, max_iter=max_iter
    )
