"""A thin-layer (contact) interface inside a P1 mesh: doubled nodes joined by a conductance.

:func:`split_interface` doubles the nodes of a named boundary for the elements of one side
(and drops subdomains, e.g. coolant channels modelled by their walls);
:func:`interface_matrix` is the P1 matrix of ``int h_c [u][v] ds`` over the interface, with
``[u]`` the jump across it, so the heat crossing is ``h_c (T_in - T_out)`` per unit area
(``h_c = 1 / R''``, :func:`pipeline.thermal.correlations.interface_gap_resistance`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from skfem import MeshTri

__all__ = ["split_interface", "interface_matrix"]


def split_interface(
    mesh: MeshTri, drop: list[str], interface: str, outer: str
) -> tuple[MeshTri, NDArray, NDArray]:
    """Drop the subdomains ``drop`` and double the nodes of boundary ``interface`` for the
    elements of subdomain ``outer``.

    Returns (mesh, facets_in, facets_out): the new mesh (subdomains kept, boundaries
    rebuilt from their node pairs; ``interface`` stays on the inner side and
    ``interface + '_outer'`` names its twin) and, per interface segment, the node pairs of
    the inner and of the outer side (2 x n each).
    """
    keep = np.ones(mesh.t.shape[1], dtype=bool)
    for name in drop:
        keep[mesh.subdomains[name]] = False
    iface_nodes = np.unique(mesh.facets[:, mesh.boundaries[interface]])
    outer_el = np.zeros(mesh.t.shape[1], dtype=bool)
    outer_el[mesh.subdomains[outer]] = True
    n = mesh.p.shape[1]
    twin = np.arange(n)
    twin[iface_nodes] = n + np.arange(iface_nodes.size)
    t = mesh.t.copy()
    t[:, outer_el] = twin[t[:, outer_el]]
    p = np.hstack([mesh.p, mesh.p[:, iface_nodes]])
    # compact: drop elements and unused nodes
    t = t[:, keep]
    used = np.unique(t)
    new_id = -np.ones(p.shape[1], dtype=np.int64)
    new_id[used] = np.arange(used.size)
    el_id = -np.ones(mesh.t.shape[1], dtype=np.int64)
    el_id[keep] = np.arange(keep.sum())
    subdomains = {k: el_id[v][el_id[v] >= 0] for k, v in mesh.subdomains.items() if np.any(keep[v])}
    new = MeshTri(p[:, used], new_id[t], _subdomains=subdomains)
    lookup = {tuple(sorted(f)): i for i, f in enumerate(new.facets.T)}

    def remap(facets: NDArray, to_outer: NDArray) -> NDArray:
        nodes = mesh.facets[:, facets]
        nodes = np.where(to_outer[None, :], twin[nodes], nodes)
        return new_id[nodes]

    boundaries = {}
    for name, facets in mesh.boundaries.items():
        owner = mesh.f2t[0, facets]
        other = mesh.f2t[1, facets]
        if name == interface:
            boundaries[name] = remap(facets, np.zeros(facets.size, bool))
            boundaries[name + "_outer"] = remap(facets, np.ones(facets.size, bool))
            continue
        side = np.where(keep[owner], owner, other)
        nodes = remap(facets, outer_el[side])
        boundaries[name] = nodes
    out = {}
    for name, nodes in boundaries.items():
        idx = [lookup.get(tuple(sorted(pair))) for pair in nodes.T]
        idx = np.array([i for i in idx if i is not None], dtype=np.int64)
        if idx.size:
            out[name] = idx
    new = MeshTri(new.p, new.t, _subdomains=subdomains, _boundaries=out)
    pairs_in = new_id[mesh.facets[:, mesh.boundaries[interface]]]
    pairs_out = new_id[twin[mesh.facets[:, mesh.boundaries[interface]]]]
    return new, pairs_in, pairs_out


def interface_matrix(p: NDArray, pairs_in: NDArray, pairs_out: NDArray, h: float, n: int):
    """P1 matrix of int h [u][v] ds over the interface segments [W/(m K)]."""
    length = np.linalg.norm(p[:, pairs_in[0]] - p[:, pairs_in[1]], axis=0)
    local = np.array([[2.0, 1.0], [1.0, 2.0]]) / 6.0
    rows, cols, vals = [], [], []
    for sa, a in ((1.0, pairs_in), (-1.0, pairs_out)):
        for sb, b in ((1.0, pairs_in), (-1.0, pairs_out)):
            for i in range(2):
                for j in range(2):
                    rows.append(a[i])
                    cols.append(b[j])
                    vals.append(sa * sb * h * length * local[i, j])
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
