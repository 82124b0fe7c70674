"""Flux-map grids: the current nodes of a map (:class:`FluxGrid`), the default grid from a
design's ratings, a grid from a TOML ``[grid]`` table, the held-out check points between
nodes, and adaptive refinement where the cubic interpolation errs most
(:mod:`pipeline.maps.flux` solves them)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from pipeline.errors import DesignError

__all__ = [
    "grid_for",
    "DEFAULT_SIZES",
    "FluxGrid",
    "default_grid",
    "grid_from_table",
    "held_out_points",
    "REFINE_VARIABLES",
    "refine_grid",
]


#: default grid sizes (n_id, n_iq, n_if) without and with a field winding; n_iq counts
#: i_q >= 0 when the symmetry is used
DEFAULT_SIZES = {False: (15, 15, 1), True: (11, 11, 6)}


@dataclass(frozen=True)
class FluxGrid:
    """Grid nodes [A] (ascending), rotor positions per point (None: :data:`FLUX_POSITIONS`
    or, with losses, :data:`LOSS_POSITIONS`) and whether i_q < 0 is mirrored."""

    i_d: tuple[float, ...]
    i_q: tuple[float, ...]
    i_f: tuple[float, ...] = (0.0,)
    positions: int | None = None
    mirror_iq: bool = True

    def __post_init__(self):
        for name in ("i_d", "i_q", "i_f"):
            v = np.asarray(getattr(self, name), float)
            if v.ndim != 1 or v.size < 1 or not np.all(np.isfinite(v)):
                raise DesignError(f"grid.{name}_A", list(v), "a non-empty list of finite currents")
            if v.size > 1 and not np.all(np.diff(v) > 0):
                raise DesignError(f"grid.{name}_A", list(v), "strictly ascending")
        if len(self.i_d) < 2 or len(self.i_q) < 2:
            raise DesignError("grid", (len(self.i_d), len(self.i_q)), ">= 2 nodes in i_d and i_q")
        if min(self.i_f) < 0:
            raise DesignError("grid.i_f_A", min(self.i_f), "field current >= 0 [A]")
        if self.mirror_iq and min(self.i_q) < 0:
            raise DesignError("grid.i_q_A", min(self.i_q), ">= 0 when i_q < 0 is mirrored")
        if self.positions is not None and (
            not isinstance(self.positions, int) or self.positions < 1
        ):
            raise DesignError("grid.positions", self.positions, "a whole number >= 1")

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.i_d), len(self.i_q), len(self.i_f))

    def solved_points(self) -> list[tuple[float, float, float]]:
        return [(d, q, f) for d in self.i_d for q in self.i_q for f in self.i_f]


def _axis(lo: float, hi: float, n: int) -> tuple[float, ...]:
    return tuple(float(x) for x in np.round(np.linspace(lo, hi, n), 9))


def default_grid(
    design,
    n_id: int | None = None,
    n_iq: int | None = None,
    n_if: int | None = None,
    positions: int | None = None,
    id_margin: float = 0.1,
    mirror_iq: bool = True,
) -> FluxGrid:
    """Grid from the ratings: i_d in [-I, m I] with a node at 0, i_q in [0, I] (or [-I, I]),
    i_f in [0, I_f]; I = ``max_phase_current`` [A] peak, m = ``id_margin``."""
    wound = design.topology.HAS_FIELD_WINDING
    d_id, d_iq, d_if = DEFAULT_SIZES[bool(wound)]
    n_id, n_iq, n_if = n_id or d_id, n_iq or d_iq, n_if or d_if
    if n_id < 3 or n_iq < 2 or n_if < 1:
        raise DesignError("grid", (n_id, n_iq, n_if), "at least 3 x 2 (x 1) nodes")
    if not 0 <= id_margin < 1:
        raise DesignError("id_margin", id_margin, "0 <= margin < 1 (fraction of I_max)")
    i_max = design.ratings.max_phase_current
    n_pos = round(id_margin * (n_id - 1))  # nodes above zero (none on very coarse grids)
    h = i_max / (n_id - 1 - n_pos)  # i_d = 0 is a node
    i_d = _axis(-i_max, n_pos * h, n_id)
    i_q = _axis(0.0 if mirror_iq else -i_max, i_max, n_iq)
    if wound:
        i_f_max = design.ratings.max_field_current
        if not i_f_max > 0:
            raise DesignError("ratings.max_field_current_A", i_f_max, "> 0 for an EESM map")
        i_f = _axis(0.0, i_f_max, n_if) if n_if > 1 else (i_f_max,)
    else:
        i_f = (0.0,)
    return FluxGrid(i_d, i_q, i_f, positions, bool(mirror_iq))


def grid_from_table(design, table: dict) -> FluxGrid:
    """Grid from a TOML ``[grid]`` table: ``i_d_A``/``i_q_A``/``i_f_A`` as a list of nodes or
    ``{from = A, to = A, n = N}``, ``positions``, ``mirror_iq`` (bool); missing axes default."""
    known = {"i_d_A", "i_q_A", "i_f_A", "positions", "mirror_iq"}
    for k in table:
        if k not in known:
            raise DesignError(
                f"grid.{k}", table[k], f"unknown key; expected one of {sorted(known)}"
            )
    mirror = table.get("mirror_iq", True)
    if not isinstance(mirror, bool):
        raise DesignError("grid.mirror_iq", mirror, "true or false")
    base = default_grid(design, positions=table.get("positions"), mirror_iq=mirror)
    axes = {}
    for k in ("i_d_A", "i_q_A", "i_f_A"):
        v = table.get(k)
        if v is None:
            axes[k] = getattr(base, k[:-2])
        elif isinstance(v, dict):
            try:
                axes[k] = _axis(float(v["from"]), float(v["to"]), int(v["n"]))
            except (KeyError, TypeError, ValueError):
                raise DesignError(f"grid.{k}", v, "{from = A, to = A, n = N}") from None
        elif isinstance(v, list) and all(isinstance(x, int | float) for x in v):
            axes[k] = tuple(float(x) for x in v)
        else:
            raise DesignError(f"grid.{k}", v, "a list of currents [A] or {from, to, n}")
    if not design.topology.HAS_FIELD_WINDING and axes["i_f_A"] != (0.0,):
        raise DesignError("grid.i_f_A", list(axes["i_f_A"]), f"{design.name} has no field winding")
    return FluxGrid(axes["i_d_A"], axes["i_q_A"], axes["i_f_A"], base.positions, mirror)


def held_out_points(design, grid: FluxGrid, n: int = 6, seed: int = 1) -> list[tuple]:
    """``n`` cell centres of the grid (i_q > 0, |i| <= 0.95 I_max), chosen reproducibly."""
    rng = np.random.default_rng(seed)
    mid = [(np.asarray(a[:-1]) + np.asarray(a[1:])) / 2 for a in (grid.i_d, grid.i_q)]
    i_fs = np.asarray(grid.i_f)
    mid_f = (i_fs[:-1] + i_fs[1:]) / 2 if i_fs.size > 1 else i_fs
    cand = [
        (d, q, f)
        for d in mid[0]
        for q in mid[1]
        for f in mid_f
        if q > 0 and math.hypot(d, q) <= 0.95 * design.ratings.max_phase_current
    ]
    if not cand:
        return []
    pick = rng.choice(len(cand), size=min(n, len(cand)), replace=False)
    return [tuple(float(x) for x in cand[i]) for i in sorted(pick)]


#: variables whose interpolation error drives :func:`refine_grid`
REFINE_VARIABLES = ("torque", "psi_d", "psi_q")


def _fourth_derivative(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fourth-derivative estimates 4! f[x_k, ..., x_k+4] per 5-node window k (last axis)."""
    d = y
    for order in range(1, 5):
        d = (d[..., 1:] - d[..., :-1]) / (x[order:] - x[:-order])
    return 24.0 * d


def refine_grid(
    ds, grid: FluxGrid, n_splits: int, variables: tuple[str, ...] = REFINE_VARIABLES
) -> tuple[FluxGrid, list[dict]]:
    """Split the ``n_splits`` grid intervals where the map interpolates worst.

    The map is read by cubic interpolation, whose error in an interval of width h is
    about (5/384) h^4 |f^(4)| (the complete cubic spline bound; C. de Boor, *A Practical
    Guide to Splines*, rev. ed., Springer 2001, ch. V). Indicator of an interval along one
    axis: that bound with f^(4) from the divided differences of the two most central
    5-node windows holding the interval, the largest over all grid lines along the axis
    and over ``variables`` (each scaled by its largest |value| in the map). It peaks where
    torque or saturation bends fastest. Axes with fewer than 5 nodes are not refined; i_q
    intervals are taken on i_q >= 0 when i_q < 0 is mirrored. A split inserts the midpoint
    as a node, so it adds a whole plane of points (n_iq x n_if for an i_d split). Returns
    the refined grid and the splits ``{"axis", "lo", "hi", "indicator"}`` (largest first).
    """
    if n_splits < 1:
        return grid, []
    names = [v for v in variables if v in ds]
    if not names:
        raise DesignError("refine", variables, "the map has none of these variables")
    cands = []
    for axis, nodes in (("i_d", grid.i_d), ("i_q", grid.i_q), ("i_f", grid.i_f)):
        x = np.asarray(nodes, float)
        if x.size < 5 or axis not in ds.dims:
            continue
        h = np.diff(x)
        j = np.arange(x.size - 1)
        windows = [np.clip(j - 2, 0, x.size - 5), np.clip(j - 1, 0, x.size - 5)]
        worst = np.zeros(x.size - 1)
        for name in names:
            da = ds[name].sel({axis: x})
            scale = float(np.nanmax(np.abs(da.values)))
            if not scale > 0:
                continue
            lines = np.moveaxis(da.values, da.dims.index(axis), -1).reshape(-1, x.size)
            lines = lines[np.all(np.isfinite(lines), axis=1)]
            if not lines.size:
                continue
            d4 = np.abs(_fourth_derivative(x, lines)).max(axis=0)  # per window
            bound = 5.0 / 384.0 * h**4 * np.maximum(d4[windows[0]], d4[windows[1]])
            worst = np.maximum(worst, bound / scale)
        cands += [
            {"axis": axis, "lo": float(x[k]), "hi": float(x[k + 1]), "indicator": float(worst[k])}
            for k in j
        ]
    cands.sort(key=lambda c: -c["indicator"])
    splits = [c for c in cands[:n_splits] if c["indicator"] > 1e-12]
    axes = {"i_d": list(grid.i_d), "i_q": list(grid.i_q), "i_f": list(grid.i_f)}
    for c in splits:
        axes[c["axis"]].append(round(0.5 * (c["lo"] + c["hi"]), 9))
    new = {k: tuple(sorted(set(v))) for k, v in axes.items()}
    return dataclasses.replace(grid, i_d=new["i_d"], i_q=new["i_q"], i_f=new["i_f"]), splits


def grid_for(d, grid, positions=None, iq_both_signs: bool = False) -> FluxGrid:
    """The grid of a map: ``grid`` a :class:`FluxGrid` (as is), a ``[grid]`` table (dict), or
    None / N / (n_id, n_iq[, n_if]) node counts for :func:`default_grid`; ``positions`` and
    ``iq_both_signs`` (no mirroring of i_q < 0) as on the command line."""
    if isinstance(grid, FluxGrid):
        return grid
    if isinstance(grid, dict):
        table = dict(grid)
        if positions is not None:
            table["positions"] = positions
        if iq_both_signs:
            table["mirror_iq"] = False
        return grid_from_table(d, table)
    n = [] if grid is None else [grid] * 3 if isinstance(grid, int) else list(grid)
    if len(n) > 3 or not all(isinstance(x, int) and x >= 2 for x in n):
        raise DesignError("grid", grid, "one to three whole numbers >= 2 (i_d, i_q, i_f)")
    n += [None] * (3 - len(n))
    if not d.topology.HAS_FIELD_WINDING:
        n[2] = None
    return default_grid(d, n[0], n[1], n[2], positions=positions, mirror_iq=not iq_both_signs)
