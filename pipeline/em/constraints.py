"""Linear constraints of the A_z problem through one reduction operator T.

Every constraint used here ties one degree of freedom (dof) to another, or to a
prescribed value:

* Dirichlet: A_i = g_i (g_i = 0 on a flux-parallel outer boundary);
* periodic (s = +1) and anti-periodic (s = -1) sector boundaries: A_slave = s A_master;
* the sliding interface between rotor and stator: A_rotor(j) = s^w A_stator(j + k).

All ties are merged by a union-find with signs, so chains (a rotor node tied to a stator
node that is itself a periodic slave) and redundant but consistent ties are resolved
automatically; a tie that contradicts itself (A = -A, e.g. the apex of an anti-periodic
sector) forces the component to zero. The result is A = T a + g with T sparse
(n_full x n_reduced), at most one entry +-1 per row; the reduced system is T^T K T.

Sliding interface (rotor motion without re-meshing). The mesh has a circle or circular arc
(centred at the origin) where rotor-side and stator-side regions meet, with N uniformly
spaced nodes per full circle (or per sector arc). :func:`split_sliding_interface`
duplicates the interface nodes for the rotor-side elements, so the rotor mesh becomes a
separate piece that stays in its own frame. For a rotation of the rotor by k node pitches
(angle k * 2 pi/N counter-clockwise for a full circle) rotor-side dof j is tied to
stator-side dof j + k. On a sector of angle alpha the index wraps modulo N and each wrap
multiplies by the periodicity sign s (s = -1 for an anti-periodic sector). This is valid
because A_z is a scalar and the Laplacian is rotation invariant; magnet remanence vectors
stay given in the rotor frame. P1 and P2 (facet dofs at the chord midpoints, which are
uniformly spaced too) are supported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree
from skfem import MeshTri
from skfem.assembly import Basis

from pipeline.errors import MeshError

__all__ = [
    "Constraints",
    "build_constraints",
    "boundary_dofs",
    "periodic_ties",
    "split_sliding_interface",
    "SlidingInterface",
    "sliding_interface",
]

Ties = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class Constraints:
    """A = T a + offset with T given by ``col`` and ``sign`` (one +-1 per row or none).

    Attributes
    ----------
    col : (n_full,) reduced index of each full dof, -1 where A is fixed to ``offset``.
    sign : (n_full,) +1 or -1 (0 where col == -1).
    offset : (n_full,) prescribed part g [Wb/m] (non-zero only on fixed dofs).
    n_reduced : number of unknowns after reduction.
    """

    col: np.ndarray
    sign: np.ndarray
    offset: np.ndarray
    n_reduced: int

    @property
    def n_full(self) -> int:
        return int(self.col.size)

    @property
    def key(self) -> str:
        """Content hash of (col, sign): equal keys give the same reduced sparsity pattern."""
        h = hashlib.sha1(self.col.tobytes())
        h.update(self.sign.tobytes())
        return h.hexdigest()

    @property
    def T(self) -> csr_matrix:
        """Reduction operator, sparse (n_full x n_reduced)."""
        rows = np.flatnonzero(self.col >= 0)
        return csr_matrix(
            (self.sign[rows].astype(float), (rows, self.col[rows])),
            shape=(self.n_full, self.n_reduced),
        )

    def expand(self, a: np.ndarray) -> np.ndarray:
        """Full vector A = T a + offset [Wb/m] from the reduced vector a."""
        free = self.col >= 0
        out = self.offset.copy()
        out[free] += self.sign[free] * a[self.col[free]]
        return out

    def reduce(self, r: np.ndarray) -> np.ndarray:
        """T^T r for a full vector r (e.g. a residual)."""
        free = self.col >= 0
        return np.bincount(self.col[free], self.sign[free] * r[free], minlength=self.n_reduced)

    def restrict(self, a_full: np.ndarray) -> np.ndarray:
        """Reduced vector a whose expansion matches a_full on the free dofs (warm starts)."""
        free = np.flatnonzero(self.col >= 0)
        a = np.zeros(self.n_reduced)
        a[self.col[free]] = self.sign[free] * (a_full[free] - self.offset[free])
        return a


def build_constraints(
    n_dofs: int,
    dirichlet: np.ndarray | None = None,
    ties: Iterable[Ties] = (),
    dirichlet_values: np.ndarray | None = None,
) -> Constraints:
    """Merge Dirichlet dofs and signed ties into one :class:`Constraints`.

    Parameters
    ----------
    n_dofs : number of dofs of the full problem.
    dirichlet : indices of dofs with prescribed A_z.
    ties : iterable of (slaves, masters, signs) arrays meaning A_slave = sign * A_master.
    dirichlet_values : prescribed A_z [Wb/m] on ``dirichlet`` (default 0).
    """
    parent: dict[int, int] = {}
    rel: dict[int, int] = {}  # A_i = rel[i] * A_parent[i]
    zero: set[int] = set()

    def find(i: int) -> tuple[int, int]:
        path = []
        s = 1
        while parent.get(i, i) != i:
            path.append(i)
            s *= rel[i]
            i = parent[i]
        root = i
        # path compression
        acc = s
        for p in path:
            r_old = rel[p]
            parent[p] = root
            rel[p] = acc
            acc *= r_old
        return root, s

    for slaves, masters, signs in ties:
        slaves = np.asarray(slaves, dtype=np.int64).ravel()
        masters = np.asarray(masters, dtype=np.int64).ravel()
        signs = np.broadcast_to(np.asarray(signs, dtype=np.int64), slaves.shape)
        for a, b, s in zip(slaves.tolist(), masters.tolist(), signs.tolist(), strict=True):
            ra, sa = find(a)
            rb, sb = find(b)
            if ra == rb:
                if sa != s * sb:
                    zero.add(ra)
                continue
            parent[ra] = rb
            rel[ra] = sa * s * sb
            if ra in zero:
                zero.add(rb)

    roots = np.arange(n_dofs)
    rels = np.ones(n_dofs, dtype=np.int64)
    for i in list(parent):
        r, s = find(i)
        roots[i] = r
        rels[i] = s
    root_zero = np.zeros(n_dofs, dtype=bool)
    if zero:
        zero_roots = {find(z)[0] for z in zero}
        root_zero[list(zero_roots)] = True

    root_value = np.zeros(n_dofs)
    if dirichlet is not None and len(dirichlet):
        dirichlet = np.asarray(dirichlet, dtype=np.int64)
        values = (
            np.zeros(dirichlet.size)
            if dirichlet_values is None
            else np.broadcast_to(np.asarray(dirichlet_values, dtype=float), dirichlet.shape)
        )
        r = roots[dirichlet]
        root_value[r] = rels[dirichlet] * values
        check = rels[dirichlet] * root_value[r]
        if not np.allclose(check, values, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(values).max())):
            raise MeshError("Dirichlet values contradict the periodic/sliding ties")
        root_zero[r] = True

    fixed = root_zero[roots]
    free_roots = np.unique(roots[~fixed])
    col_of_root = np.full(n_dofs, -1, dtype=np.int64)
    col_of_root[free_roots] = np.arange(free_roots.size)
    col = col_of_root[roots]
    sign = np.where(fixed, 0, rels).astype(np.int8)
    offset = np.where(fixed, rels * root_value[roots], 0.0)
    return Constraints(col=col, sign=sign, offset=offset, n_reduced=int(free_roots.size))


def boundary_dofs(basis: Basis, *names: str) -> np.ndarray:
    """All dofs (nodal and, for P2, facet) on the named boundaries of ``basis.mesh``."""
    facets = np.concatenate([np.asarray(basis.mesh.boundaries[n]) for n in names])
    return np.unique(basis.get_dofs(facets).all())


def _rotate(xy: np.ndarray, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([c * xy[0] - s * xy[1], s * xy[0] + c * xy[1]])


def periodic_ties(
    basis: Basis, master: str, slave: str, angle: float, sign: int, tol: float = 1e-6
) -> Ties:
    """Ties A_slave = sign * A_master between two sector boundaries.

    A slave dof at position x must match the master dof at rot(-angle) x, i.e. the slave
    boundary is the master boundary rotated counter-clockwise by ``angle`` [rad].
    ``sign`` = +1 periodic, -1 anti-periodic. ``tol`` is relative to the model size.
    """
    md = boundary_dofs(basis, master)
    sd = boundary_dofs(basis, slave)
    xm = basis.doflocs[:, md]
    xs = _rotate(basis.doflocs[:, sd], -angle)
    scale = np.abs(basis.doflocs).max()
    dist, idx = cKDTree(xm.T).query(xs.T)
    if md.size != sd.size or np.any(dist > tol * scale):
        raise MeshError(
            f"periodic boundaries {master!r}/{slave!r} do not match under a rotation by "
            f"{angle} rad (max mismatch {dist.max():.3g} m, {md.size} vs {sd.size} dofs)"
        )
    return sd, md[idx], np.full(sd.size, int(sign))


def _facet_keys(facets: np.ndarray, n: int) -> np.ndarray:
    lo = np.minimum(facets[0], facets[1]).astype(np.int64)
    hi = np.maximum(facets[0], facets[1]).astype(np.int64)
    return lo * n + hi


def split_sliding_interface(
    mesh: MeshTri, interface: str = "sliding_interface", rotor_elements: np.ndarray | None = None
) -> MeshTri:
    """Duplicate the interface nodes for the rotor-side elements.

    Parameters
    ----------
    mesh : P1 triangle mesh with a named boundary ``interface`` (a circle or arc centred at
        the origin) shared by rotor-side and stator-side elements.
    rotor_elements : indices of rotor-side elements; default: elements whose centroid lies
        inside the interface radius.

    Returns
    -------
    A mesh with the same elements and subdomains, the rotor side detached along the
    interface, and the interface named ``interface + '_stator'`` and ``interface + '_rotor'``
    (one facet set per side). Other named boundaries are carried over.
    """
    if interface not in (mesh.boundaries or {}):
        raise MeshError(f"mesh has no boundary named {interface!r}")
    f_old = np.asarray(mesh.boundaries[interface])
    iface_nodes = np.unique(mesh.facets[:, f_old])
    radius = np.hypot(*mesh.p[:, iface_nodes]).mean()
    if rotor_elements is None:
        centroid = mesh.p[:, mesh.t].mean(axis=1)
        rotor_elements = np.flatnonzero(np.hypot(*centroid) < radius)
    is_rotor = np.zeros(mesh.t.shape[1], dtype=bool)
    is_rotor[np.asarray(rotor_elements)] = True

    n = mesh.p.shape[1]
    new_id = np.arange(n)
    new_id[iface_nodes] = n + np.arange(iface_nodes.size)
    t = mesh.t.copy()
    t[:, is_rotor] = new_id[t[:, is_rotor]]
    p = np.hstack([mesh.p, mesh.p[:, iface_nodes]])

    f2t = mesh.f2t
    if np.any(f2t[1, f_old] < 0) or np.any(is_rotor[f2t[0, f_old]] == is_rotor[f2t[1, f_old]]):
        raise MeshError(f"boundary {interface!r} does not separate rotor and stator elements")

    def remap(facets: np.ndarray, elems: np.ndarray) -> np.ndarray:
        nodes = mesh.facets[:, facets]
        return np.where(is_rotor[elems], new_id[nodes], nodes)

    pairs: dict[str, np.ndarray] = {}
    for name, fac in mesh.boundaries.items():
        fac = np.asarray(fac)
        if name == interface:
            e0, e1 = f2t[0, fac], f2t[1, fac]
            stator_e = np.where(is_rotor[e0], e1, e0)
            rotor_e = np.where(is_rotor[e0], e0, e1)
            pairs[name + "_stator"] = remap(fac, stator_e)
            pairs[name + "_rotor"] = remap(fac, rotor_e)
        else:
            pairs[name] = remap(fac, f2t[0, fac])

    out = MeshTri(p, t, _subdomains=dict(mesh.subdomains or {}))
    m = p.shape[1]
    keys = _facet_keys(out.facets, m)
    order = np.argsort(keys)
    boundaries = {}
    for name, nodes in pairs.items():
        k = _facet_keys(nodes, m)
        pos = np.searchsorted(keys, k, sorter=order)
        boundaries[name] = order[np.minimum(pos, keys.size - 1)]
        if np.any(keys[boundaries[name]] != k):
            raise MeshError(f"could not carry boundary {name!r} over the split")
    return MeshTri(p, out.t, _boundaries=boundaries, _subdomains=dict(mesh.subdomains or {}))


@dataclass(frozen=True, eq=False)
class SlidingInterface:
    """Interface dofs of both sides, sorted by angle, uniformly spaced.

    Attributes
    ----------
    stator_dofs, rotor_dofs : dof indices sorted by increasing angle (same positions).
    n_span : number of dof intervals per span (full circle or sector arc).
    dofs_per_pitch : dof intervals per node pitch (1 for P1, 2 for P2).
    span : angle of the interface [rad] (2 pi for a full circle).
    full_circle : whether the interface is a closed circle.
    radius : interface radius [m].
    """

    stator_dofs: np.ndarray
    rotor_dofs: np.ndarray
    n_span: int
    dofs_per_pitch: int
    span: float
    full_circle: bool
    radius: float

    @property
    def n_pitches(self) -> int:
        """Node pitches per span (N)."""
        return self.n_span // self.dofs_per_pitch

    @property
    def pitch(self) -> float:
        """Node pitch [rad]: the rotor rotation of one step k -> k + 1."""
        return self.span / self.n_pitches

    def rotation_angle(self, k: int) -> float:
        """Counter-clockwise rotor rotation [rad] for step count k."""
        return k * self.pitch

    def ties(self, k: int, antiperiodic: bool = False) -> Ties:
        """Ties A_rotor(j) = s^w A_stator(j + k) for a rotor rotated by k node pitches.

        ``antiperiodic`` selects s = -1 per wrap around a sector arc (ignored for a full
        circle, where wrapping is plain periodicity).
        """
        shift = int(k) * self.dofs_per_pitch
        j = np.arange(self.rotor_dofs.size) + shift
        m = np.mod(j, self.n_span)
        wraps = np.floor_divide(j, self.n_span)
        if self.full_circle or not antiperiodic:
            signs = np.ones(j.size, dtype=np.int64)
        else:
            signs = np.where(wraps % 2 == 0, 1, -1)
        return self.rotor_dofs, self.stator_dofs[m], signs


def _sorted_by_angle(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Order (by angle) and unwrapped angles of points on an arc/circle; full-circle flag."""
    ang = np.mod(np.arctan2(xy[1], xy[0]), 2 * np.pi)
    order = np.argsort(ang)
    a = ang[order]
    gaps = np.diff(np.append(a, a[0] + 2 * np.pi))
    big = int(np.argmax(gaps))
    full = gaps[big] < 1.5 * np.median(gaps)
    if not full:
        order = np.roll(order, -(big + 1))
        a = np.unwrap(ang[order])
    return order, a, bool(full)


def sliding_interface(
    basis: Basis,
    stator: str = "sliding_interface_stator",
    rotor: str = "sliding_interface_rotor",
    rtol: float = 1e-5,
) -> SlidingInterface:
    """Collect and check the two sides of a split sliding interface (see module doc)."""
    sd = boundary_dofs(basis, stator)
    rd = boundary_dofs(basis, rotor)
    if sd.size != rd.size:
        raise MeshError(f"sliding interface sides differ: {sd.size} vs {rd.size} dofs")
    so, sa, full = _sorted_by_angle(basis.doflocs[:, sd])
    ro, ra, full_r = _sorted_by_angle(basis.doflocs[:, rd])
    gaps = np.diff(sa)
    step = 2 * np.pi / sd.size if full else np.median(gaps)
    if full != full_r or not np.allclose(
        np.mod(sa - ra + np.pi, 2 * np.pi) - np.pi, 0, atol=rtol * step
    ):
        raise MeshError("rotor and stator sides of the sliding interface do not coincide")
    if not np.allclose(gaps, step, rtol=rtol, atol=0):
        raise MeshError(
            f"sliding interface dofs are not uniformly spaced (gaps {gaps.min():.6g}.."
            f"{gaps.max():.6g} rad); mesh the interface with a transfinite curve"
        )
    n_span = sd.size if full else sd.size - 1
    nodes = np.unique(basis.mesh.facets[:, np.asarray(basis.mesh.boundaries[stator])])
    n_nodes_span = nodes.size if full else nodes.size - 1
    if n_span % n_nodes_span:
        raise MeshError("sliding interface: dofs per node pitch is not an integer")
    return SlidingInterface(
        stator_dofs=sd[so],
        rotor_dofs=rd[ro],
        n_span=int(n_span),
        dofs_per_pitch=int(n_span // n_nodes_span),
        span=float(2 * np.pi if full else step * n_span),
        full_circle=full,
        radius=float(np.hypot(*basis.mesh.p[:, nodes]).mean()),
    )
