"""Which design variants a study runs: a full grid, or n points of a scrambled Sobol or Latin
hypercube design within bounds (:mod:`scipy.stats.qmc`), seeded and recorded.

Every sample is a dict ``{"table.field_unit": value}`` in the units of the workflow file
(e.g. ``"stator.stack_length_mm": 172.5``). Values are rounded (:data:`DECIMALS` decimals of
the file's unit, integers for integer fields) so that a variant's content hash, hence its
cached map points, does not depend on the last bits of a float.

Sobol points are a sequence: with the same seed, the first n of a 2n-point design are the n
points of the n-point design, so a rerun with more samples reuses every finished variant.
A Latin hypercube is not: its n points change with n (stated in docs/cluster.md).

References: I. M. Sobol', USSR Comput. Math. Math. Phys. 7 (1967) 86-112; scrambling:
A. B. Owen, "Scrambling Sobol' and Niederreiter-Xing points", J. Complexity 14 (1998)
466-489; M. D. McKay, R. J. Beckman, W. J. Conover, Technometrics 21 (1979) 239-245.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from pipeline.errors import DesignError

__all__ = ["METHODS", "DECIMALS", "grid_samples", "qmc_samples", "unit_samples"]

#: sampling methods of a study's ``[sampling] method``
METHODS = ("grid", "sobol", "lhs")
#: decimals kept of a sampled float in the workflow file's unit (mm: 0.1 um)
DECIMALS = 4


def grid_samples(axes: dict[str, list]) -> list[dict]:
    """Cartesian product of ``{"key": [values]}`` (first key slowest)."""
    keys = list(axes)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes.values())]


def unit_samples(method: str, n: int, dimensions: int, seed: int) -> np.ndarray:
    """(n, dimensions) points in [0, 1)^d: scrambled Sobol or Latin hypercube, seeded."""
    # defer: this scipy submodule loads only on this path
    from scipy.stats import qmc

    if method not in ("sobol", "lhs"):
        raise DesignError("sampling.method", method, "must be sobol or lhs for unit samples")
    if not isinstance(n, int) or n < 1:
        raise DesignError("sampling.n", n, "a whole number >= 1")
    if method == "sobol":
        engine = qmc.Sobol(d=dimensions, scramble=True, seed=seed)
        with warnings.catch_warnings():  # n not a power of 2: balance warning, points valid
            warnings.simplefilter("ignore", UserWarning)
            return engine.random(n)
    return qmc.LatinHypercube(d=dimensions, seed=seed).random(n)


def qmc_samples(
    bounds: dict[str, tuple[float, float]],
    n: int,
    method: str,
    seed: int,
    integer: frozenset[str] = frozenset(),
) -> list[dict]:
    """``n`` samples within ``bounds`` ``{"key": (low, high)}`` (workflow-file units);
    keys in ``integer`` are rounded to whole numbers (bounds inclusive)."""
    keys = list(bounds)
    lo = np.array([bounds[k][0] for k in keys], float)
    hi = np.array([bounds[k][1] for k in keys], float)
    u = unit_samples(method, n, len(keys), seed)
    out = []
    for row in u:
        sample = {}
        for k, a, b, x in zip(keys, lo, hi, row, strict=True):
            if k in integer:  # each whole number in [a, b] gets an equal share of [0, 1)
                sample[k] = int(min(b, np.floor(a + x * (b - a + 1))))
            else:
                sample[k] = round(float(a + x * (b - a)), DECIMALS)
        out.append(sample)
    return out
