r"""Fields over a whole electrical period from rotor positions over a sixth of it.

In a three-phase integral-slot machine (q = Q / (6 p) slots per pole and phase, a whole
number) fed with balanced currents that follow the rotor, advancing the rotor by
``pi/3`` el. reproduces the whole machine rotated by ``pi/3`` el. (q slot pitches):

* the currents: i_a(theta + pi/3) = -i_b(theta), i_b -> -i_c, i_c -> -i_a; the 60-degree
  phase belts A+, C-, B+, A-, C+, B- (:mod:`pipeline.winding`) each take over the current
  of the belt behind them, so the current sheet moves forward by one belt;
* the stator iron repeats every slot pitch; the rotor has turned with the sheet.

With R the rotation by ``pi / (3 p)`` mechanical and A_z invariant under rotations about z::

    A_z(x, theta + k pi/3) = A_z(R^-k x, theta)          (stator frame)
    B(rotor frame, theta + pi/3) = B(rotor frame, theta)   (the rotor sees 6k harmonics)

so the stator's flux density over a period follows from 6 rotations of the fields solved
over ``pi/3``: this module builds, once per mesh, the sparse operators that evaluate the
solved A_z at the rotated degrees of freedom (a point location in the stator part of the
mesh; a rotated point that leaves a one-pole sector re-enters it through the anti-periodic
boundary with the sign of A_z reversed). The rotor needs no operator: its samples repeat.

The mapping is exact in the continuum. The builder makes the stator mesh periodic under
the rotation (:func:`geometries.builder._set_stator_periodic`), so every rotated stator dof
lands on a stator dof and the operators are signed node permutations: the mapped fields
equal directly solved ones up to the Newton tolerance. On a mesh that is not periodic
(``SixfoldStator.exact`` False, logged) they interpolate, which adds the local
discretisation error (both checked against directly solved positions in
``tests/test_sixfold.py``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from pipeline.errors import DesignError

log = logging.getLogger(__name__)

__all__ = [
    "SixfoldStator",
    "sixfold_stator",
    "stator_full_period",
    "sixfold_applies",
    "rotation_operator",
    "stator_side",
]

#: relative radial nudges (inwards, then outwards) for rotated points that fall just outside
#: a curved boundary polygonised differently at the rotated place (chord sagitta of the
#: outer boundary, the sliding interface's chords)
_NUDGES = (0.0, 1e-9, -1e-9, 1e-6, -1e-6, 1e-5, -1e-5, 1e-4, -1e-4, 1e-3, -1e-3)


def sixfold_applies(design) -> bool:
    """True if q = Q / (6 p) is a whole number (integral-slot, three-phase)."""
    q = design.stator.n_slots / (6 * design.pole_pairs)
    return abs(q - round(q)) < 1e-9 and round(q) >= 1


@dataclass(frozen=True)
class SixfoldStator:
    """Operators of one mesh: ``ops[k-1] @ a`` gives A_z at ``dofs`` for theta + k pi/3."""

    elements: np.ndarray  # stator elements the operators cover
    dofs: np.ndarray  # the global dofs they touch (sorted)
    ops: tuple  # 5 sparse (len(dofs), n_dofs) matrices, k = 1..5
    exact: bool = False  # True: signed node permutations (periodic stator mesh)


def _stator_finder(mesh, elements: np.ndarray):
    """Point -> element (of ``elements``) finder, -1 outside (matplotlib's trapezoid map)."""
    # defer: matplotlib loads only when a picture is drawn
    from matplotlib.tri import Triangulation

    nodes, local = np.unique(mesh.t[:, elements], return_inverse=True)
    tri = Triangulation(mesh.p[0, nodes], mesh.p[1, nodes], local.reshape(3, -1).T)
    finder = tri.get_trifinder()

    def find(x: np.ndarray) -> np.ndarray:
        idx = np.asarray(finder(x[0], x[1]), dtype=np.int64)
        return np.where(idx >= 0, elements[np.clip(idx, 0, None)], -1)

    return find


#: operators per (mesh, sectors); a worker holds few meshes at a time
_CACHE: dict = {}
_CACHE_SIZE = 4


def _cached(key, build):
    hit = _CACHE.get(key)
    if hit is None:
        hit = build()
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = hit
    return hit


def stator_side(model) -> np.ndarray:
    """Elements outside the sliding radius (stator frame) of a MachineModel."""
    ne = model.solver.basis.mesh.t.shape[1]
    return np.setdiff1d(np.arange(ne), model.rotor_elements)


def _node_permutation(basis, candidates, x, y, sign):
    """The signed permutation taking every point (x, y) to the candidate dof at its place,
    or None if some point is not a dof location (within 1e-9 of the mesh radius): on a mesh
    periodic under the rotation the interpolation weights are exactly 0 and 1."""
    # defer: this scipy submodule loads only on this path
    from scipy.spatial import cKDTree

    loc = basis.doflocs[:, candidates]
    tol = 1e-9 * float(np.hypot(loc[0], loc[1]).max())
    dist, idx = cKDTree(loc.T).query(np.column_stack([x, y]), distance_upper_bound=tol)
    if not np.all(dist <= tol):
        return None
    n = x.size
    return sparse.csr_matrix((sign, (np.arange(n), candidates[idx])), shape=(n, basis.N))


def rotation_operator(
    model, dofs: np.ndarray, angle: float, find=None, stator_dofs=None
) -> sparse.csr_matrix:
    """Sparse (len(dofs), n_dofs) R: ``(R @ a)[i]`` = the field ``a`` evaluated at the
    location of dof ``dofs[i]`` rotated by ``-angle`` [rad, mechanical], i.e. the stator-side
    field of ``a`` turned by ``+angle``. Points that leave a sector re-enter it through the
    (anti-)periodic boundary (sign reversed for anti-periodic). ``dofs`` must be stator-side
    dofs; ``find``: a point finder of the stator side (built here if None); ``stator_dofs``:
    all stator-side dofs (found here if None). Where every rotated dof lands on a stator-side
    dof (a stator mesh periodic under the rotation, :mod:`geometries.builder`) R is a signed
    permutation; otherwise it interpolates (point location in the stator side)."""
    basis = model.solver.basis
    if find is None:
        find = _stator_finder(basis.mesh, stator_side(model))
    if stator_dofs is None:
        stator_dofs = np.unique(model.solver.dofs[:, stator_side(model)])
    dofs = np.asarray(dofs, dtype=np.int64)
    x0 = basis.doflocs[:, dofs]
    phi = np.arctan2(x0[1], x0[0]) - angle
    sign = np.ones(dofs.size)
    if model.n_sectors > 1:
        sector = 2 * math.pi / model.n_sectors
        wraps = np.floor(phi / sector)
        phi = phi - wraps * sector
        if model.antiperiodic:
            sign = np.where(wraps.astype(np.int64) % 2 == 0, 1.0, -1.0)
        phi = np.clip(phi, 1e-10, sector - 1e-10)
    r = np.hypot(x0[0], x0[1])
    exact = _node_permutation(basis, stator_dofs, r * np.cos(phi), r * np.sin(phi), sign)
    if exact is not None:
        return exact
    cells = np.full(dofs.size, -1, dtype=np.int64)
    pts = np.zeros_like(x0)
    for nudge in _NUDGES:
        todo = cells < 0
        if not todo.any():
            break
        rr = r[todo] * (1.0 - nudge)
        pts[:, todo] = rr * np.cos(phi[todo]), rr * np.sin(phi[todo])
        cells[todo] = find(pts[:, todo])
    if (cells < 0).any():
        bad = pts[:, cells < 0][:, 0]
        raise DesignError(
            "mesh", f"point ({bad[0]:.6g}, {bad[1]:.6g}) m",
            "a rotated stator point lies outside the stator mesh",
        )  # fmt: skip
    ref = basis.mapping.invF(pts[:, :, None], tind=cells)
    phis = np.array(
        [basis.elem.gbasis(basis.mapping, ref, i, tind=cells)[0] for i in range(basis.Nbfun)]
    ).reshape(basis.Nbfun, -1)
    rows = np.tile(np.arange(dofs.size), basis.Nbfun)
    cols = basis.element_dofs[:, cells].ravel()
    vals = (phis * sign[None, :]).ravel()
    return sparse.csr_matrix((vals, (rows, cols)), shape=(dofs.size, basis.N))


def sixfold_stator(model) -> SixfoldStator:
    """The operators of a :class:`pipeline.em.machine.MachineModel`, built once per mesh."""
    return _cached((model.mesh_key, model.n_sectors), lambda: _sixfold_stator(model))


def _sixfold_stator(model) -> SixfoldStator:
    design = model.design
    if not sixfold_applies(design):
        raise DesignError(
            "stator.n_slots",
            design.stator.n_slots,
            f"the sixth-period symmetry needs Q / (6 p) whole (here {design.stator.n_slots} / "
            f"{6 * design.pole_pairs}); solve half a period (span_el = pi) instead",
        )
    # only the stator core carries iron losses; the operators interpolate on the whole
    # stator side so a rotated point on a slot's curved edge still finds its element
    iron = np.sort(np.concatenate([model.regions["stator_teeth"], model.regions["stator_yoke"]]))
    dofs = np.unique(model.solver.dofs[:, iron])
    p = design.pole_pairs
    side = stator_side(model)
    stator_dofs = np.unique(model.solver.dofs[:, side])
    find = _LazyFinder(model.solver.basis.mesh, side)
    ops = tuple(
        rotation_operator(model, dofs, k * math.pi / (3 * p), find, stator_dofs)
        for k in range(1, 6)
    )
    exact = all(op.nnz == dofs.size and np.all(np.abs(op.data) == 1.0) for op in ops)
    log.info(
        "sixfold stator map of %s: %s",
        design.name,
        "exact node permutation" if exact else "interpolated (stator mesh not periodic)",
    )
    return SixfoldStator(elements=iron, dofs=dofs, ops=ops, exact=exact)


class _LazyFinder:
    """The point finder, built on first use only (a periodic mesh never needs it)."""

    def __init__(self, mesh, elements):
        self._args, self._find = (mesh, elements), None

    def __call__(self, x):
        if self._find is None:
            self._find = _stator_finder(*self._args)
        return self._find(x)


def stator_full_period(model, a_positions: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Element-mean B [T] of ``elements`` (stator core) over a whole period.

    a_positions : (n, n_dofs) A_z solved at n positions evenly spaced over pi/3 el.
    Returns (6 n, 2, len(elements)): samples at theta_0 + k pi/3 + j dtheta, k-major.
    """
    six = sixfold_stator(model)
    solver = model.solver
    a = np.asarray(a_positions, float)
    el = np.asarray(elements, dtype=np.int64)
    if not np.isin(el, six.elements).all():
        raise DesignError(
            "elements", "outside the stator core", "sixth-period fields cover the stator core only"
        )
    local = solver.dofs[:, el]  # (nb, ne) global dofs
    grad = solver.grad_int[:, :, el]  # (nb, 2, ne)
    area = model.element_area[el]
    pos = np.searchsorted(six.dofs, local)
    blocks = []
    for k in range(6):
        if k == 0:
            vals = a[:, local]  # (n, nb, ne)
        else:
            rotated = (six.ops[k - 1] @ a.T).T  # (n, len(dofs))
            vals = rotated[:, pos]
        g = np.einsum("nie,ixe->nxe", vals, grad)
        blocks.append(np.stack([g[:, 1] / area, -g[:, 0] / area], axis=1))
    return np.concatenate(blocks, axis=0)
