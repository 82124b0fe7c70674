"""Nonlinear magnetisation curves: reluctivity nu(B^2) of soft-magnetic steel.

The curve is given as a table of flux density B [T] against field strength H [A/m]
(isotropic, anhysteretic, e.g. the FEMM or SyR-e material libraries). It is interpolated
by a monotone piecewise cubic Hermite spline H(B) (Fritsch & Carlson, SIAM J. Numer. Anal.
17 (1980) 238, doi:10.1137/0717021) whose slope at the last table point is set to the
vacuum value 1/MU_0 (limited to keep the cubic monotone); beyond the table the curve is
continued by the straight line

    H(B) = H_max + (B - B_max) / MU_0,

so that dH/dB -> 1/MU_0 in deep saturation (Silvester & Ferrari, Finite Elements for
Electrical Engineers, 3rd ed., CUP 1996, ch. 5). The A_z formulation needs the reluctivity
as a function of b2 = |B|^2:

    nu(b2)      = H(B) / B                                  [m/H]
    dnu/db2(b2) = (B H'(B) - H(B)) / (2 B^3)                [m/(H T^2)]

with B = sqrt(b2). The Newton Jacobian of the A_z problem has, at each point, the
eigenvalues nu (across B) and nu + 2 b2 dnu/db2 = dH/dB (along B); both are positive for a
strictly increasing H(B), so the Jacobian is SPD.

Near B = 0, nu(b2) = H'(0) + O(sqrt(b2)), so dnu/db2 ~ 1/sqrt(b2) while the term that
enters the Jacobian, 2 b2 dnu/db2 = H' - nu, tends to zero; ``dnu_db2`` returns 0 for
B below ``_B_TINY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicHermiteSpline, PchipInterpolator

from pipeline.constants import MU_0
from pipeline.errors import DesignError

__all__ = ["BHCurve"]

#: Below this flux density [T] the derivative dnu/db2 is returned as 0 (its product with
#: b2, the only combination the Jacobian uses, vanishes there).
_B_TINY = 1e-9


@dataclass(frozen=True, eq=False)
class BHCurve:
    """Anhysteretic B-H curve of an isotropic soft-magnetic material.

    Parameters
    ----------
    b : table of flux density [T], strictly increasing, starting at 0.
    h : table of field strength [A/m], strictly increasing, starting at 0.
    name : label used in messages and logs.
    """

    b: np.ndarray
    h: np.ndarray
    name: str = "bh"
    _spline: CubicHermiteSpline = field(init=False, repr=False)
    _lookup: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        b = np.asarray(self.b, dtype=float)
        h = np.asarray(self.h, dtype=float)
        if b.ndim != 1 or b.shape != h.shape or b.size < 3:
            raise DesignError(f"{self.name}.b", b.shape, "B and H tables of equal length >= 3")
        if b[0] != 0.0 or h[0] != 0.0:
            raise DesignError(f"{self.name}.b[0]", (b[0], h[0]), "table must start at (0 T, 0 A/m)")
        if np.any(np.diff(b) <= 0) or np.any(np.diff(h) <= 0):
            raise DesignError(f"{self.name}.b", "table", "B [T] and H [A/m] strictly increasing")
        if not np.all(np.isfinite(b)) or not np.all(np.isfinite(h)):
            raise DesignError(f"{self.name}.b", "table", "finite values")
        b.setflags(write=False)
        h.setflags(write=False)
        slopes = PchipInterpolator(b, h).derivative()(b)
        last_secant = (h[-1] - h[-2]) / (b[-1] - b[-2])
        # Continuous slope into the 1/MU_0 extrapolation, kept within the Fritsch-Carlson
        # box (slope <= 3 x secant) so the last cubic stays monotone.
        slopes[-1] = min(1.0 / MU_0, 3.0 * last_secant)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "h", h)
        spline = CubicHermiteSpline(b, h, slopes, extrapolate=False)
        object.__setattr__(self, "_spline", spline)
        object.__setattr__(self, "_coefficients", np.ascontiguousarray(spline.c.T))
        object.__setattr__(self, "_lookup", _PieceLookup(b))

    @property
    def initial_reluctivity(self) -> float:
        """dH/dB at B = 0 [m/H]."""
        return float(self._spline(0.0, 1))

    def field_strength(self, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """H(B) [A/m] and dH/dB [m/H] for B >= 0 [T]."""
        b = np.asarray(b, dtype=float)
        bmax = self.b[-1]
        # Horner on the spline's local cubic coefficients (faster than PPoly.__call__).
        k = self._lookup(b)
        t = np.minimum(b, bmax)
        t -= self.b[k]
        c = self._coefficients[k]  # (..., 4): one gather for the four coefficients
        c0, c1, c2, c3 = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
        h = ((c0 * t + c1) * t + c2) * t + c3
        dh = (3.0 * c0 * t + 2.0 * c1) * t + c2
        beyond = b > bmax
        if beyond.any():
            h = np.where(beyond, self.h[-1] + (b - bmax) / MU_0, h)
            dh = np.where(beyond, 1.0 / MU_0, dh)
        return h, dh

    def flux_density(self, h: np.ndarray, tol: float = 1e-12) -> np.ndarray:
        """Inverse curve B(H) [T] for H >= 0 [A/m], by Newton iteration on H(B) = h."""
        shape = np.shape(h)
        h = np.atleast_1d(np.asarray(h, dtype=float))
        b = np.interp(h, self.h, self.b, right=np.nan)
        beyond = np.isnan(b)
        b[beyond] = self.b[-1] + (h[beyond] - self.h[-1]) * MU_0
        for _ in range(50):
            hb, dh = self.field_strength(b)
            step = (hb - h) / dh
            b = np.maximum(b - step, 0.0)
            if np.all(np.abs(step) <= tol * np.maximum(b, 1.0)):
                break
        return b.reshape(shape)

    def nu(self, b2: np.ndarray) -> np.ndarray:
        """Reluctivity nu = H(B)/B [m/H] as a function of b2 = B^2 [T^2]."""
        b = np.sqrt(np.asarray(b2, dtype=float))
        h, dh = self.field_strength(b)
        small = b < _B_TINY
        return np.where(small, dh, h / np.where(small, 1.0, b))

    def nu_and_derivative(self, b2: np.ndarray, out=None) -> tuple[np.ndarray, np.ndarray]:
        """nu(b2) [m/H] and dnu/db2 [m/(H T^2)] in one evaluation of the spline (written
        into the pair of arrays ``out`` if given)."""
        b = np.sqrt(np.asarray(b2, dtype=float))
        h, dh = self.field_strength(b)
        small = b < _B_TINY
        nu, dnu = (np.empty_like(b), np.empty_like(b)) if out is None else out
        if small.any():
            bs = np.where(small, 1.0, b)
            nu[...] = np.where(small, dh, h / bs)
            dnu[...] = np.where(small, 0.0, (bs * dh - h) / (2.0 * bs**3))
        else:
            np.divide(h, b, out=nu)
            np.divide(b * dh - h, 2.0 * b * b * b, out=dnu)
        return nu, dnu

    def dnu_db2(self, b2: np.ndarray) -> np.ndarray:
        """Derivative of the reluctivity with respect to b2 = B^2 [m/(H T^2)]."""
        return self.nu_and_derivative(b2)[1]


class _PieceLookup:
    """Index k of the table interval [b_k, b_k+1) holding each B (clipped to the first and
    last interval), the same as ``searchsorted(b, B, 'right') - 1`` but by a uniform grid:
    a cell of the grid is no wider than the narrowest interval, so it holds at most one
    knot and the grid's guess is off by at most one (corrected by two comparisons). A few
    times faster than the binary search, which was a tenth of a Newton step at fine."""

    _MAX_CELLS = 1 << 16

    def __init__(self, knots: np.ndarray):
        self.knots = knots
        self.last = knots.size - 2
        width = float(np.min(np.diff(knots)))
        n = int(np.ceil(knots[-1] / width)) + 1
        self.grid = None
        if n <= self._MAX_CELLS:  # else: binary search
            self.inv_width = 1.0 / width
            self.grid = np.searchsorted(knots, np.arange(n + 1) * width, side="right") - 1
            np.clip(self.grid, 0, self.last, out=self.grid)
            self.cells = n

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.grid is None:
            k = np.searchsorted(self.knots, x, side="right") - 1
            return np.clip(k, 0, self.last, out=k)
        j = (x * self.inv_width).astype(np.int64)
        np.clip(j, 0, self.cells, out=j)
        k = self.grid[j]
        k += (x >= self.knots[k + 1]) & (k < self.last)
        k -= (x < self.knots[k]) & (k > 0)
        return k
