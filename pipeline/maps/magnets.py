r"""Magnet temperature of flux and loss maps: one default, validation, the temperature axis.

The remanence of the magnets is linear in temperature,
``Br(T) = Br_ref (1 + alpha (T - T_ref))`` (:func:`pipeline.derived.magnet_remanence`;
NdFeB ``alpha`` about -0.1 %/K), so every map of a PM design is solved at a stated magnet
temperature: a single one (a scalar coordinate ``magnet_temperature`` [K] of the Dataset)
or several (a dimension ``magnet_temperature``, ascending).

Between two solved temperatures a map variable is interpolated linearly in T
(:func:`at_magnet_temperature`). This is right to first order: the magnets' source term is
linear in Br, hence in T, and the fields follow it exactly where the iron is linear; where
the iron saturates, flux grows less than proportionally with Br, so the flux is a weakly
concave function of T and the linear interpolant errs by O((dT)^2 d2psi/dT2)
(``tests/test_maps_flux.py`` measures it on the Prius ci mesh). Outside the solved
temperatures nothing is extrapolated: :class:`DesignError` names the range.

EESM designs have no magnets: their maps carry no magnet temperature, and asking for one is
an error.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError

__all__ = [
    "map_temperatures",
    "DEFAULT_MAGNET_TEMPERATURE",
    "MAGNET_TEMPERATURE_RANGE_C",
    "magnet_temperatures",
    "map_magnet_temperatures",
    "at_magnet_temperature",
]

#: Magnet temperature of maps and of the efficiency stage when none is stated [K] (80 degC:
#: a warm but not hot rotor of a water-jacketed traction machine; the one default of
#: ``edrive map``, :class:`pipeline.maps.efficiency.EfficiencyOptions` and the flux map, so
#: that ``efficiency.nc``'s stated magnet temperature is the solved one).
DEFAULT_MAGNET_TEMPERATURE = ZERO_CELSIUS + 80.0

#: Accepted magnet temperatures [degC]: -40 degC (automotive cold start, AEC-Q ambient
#: minimum) to 200 degC (above the 180 degC maximum operating temperature of EH/AH-grade
#: sintered NdFeB; the linear Br(T) model is not meant beyond it).
MAGNET_TEMPERATURE_RANGE_C = (-40.0, 200.0)

#: Matching tolerance of a requested and a solved magnet temperature [K]
_TOL = 1e-6


def magnet_temperatures(design, temperatures=None, field: str = "magnet_temperature_C"):
    """Validated, ascending magnet temperatures [K] of a map of ``design``.

    ``temperatures`` [K]: a number or a sequence; None: (:data:`DEFAULT_MAGNET_TEMPERATURE`,)
    for PM designs. EESM designs: () (no magnets); any temperature given: DesignError.
    """
    if not design.topology.HAS_MAGNETS:
        if temperatures is not None:
            raise DesignError(field, _c(temperatures), f"{design.name} has no magnets")
        return ()
    if temperatures is None:
        return (DEFAULT_MAGNET_TEMPERATURE,)
    t = np.atleast_1d(np.asarray(temperatures, float))
    lo, hi = MAGNET_TEMPERATURE_RANGE_C
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)):
        raise DesignError(field, _c(temperatures), "one or more finite temperatures")
    if np.any(t - ZERO_CELSIUS < lo) or np.any(t - ZERO_CELSIUS > hi):
        raise DesignError(field, _c(temperatures), f"within {lo:g} to {hi:g} degC")
    if t.size > 1 and not np.all(np.diff(t) > 0):
        raise DesignError(field, _c(temperatures), "strictly ascending")
    return tuple(float(x) for x in t)


def _c(temperatures) -> object:
    """Temperatures [K] as degC for an error message (rounded)."""
    t = np.atleast_1d(np.asarray(temperatures, float)) - ZERO_CELSIUS
    v = [round(float(x), 2) for x in t]
    return v[0] if len(v) == 1 else v


def map_magnet_temperatures(ds) -> tuple[float, ...]:
    """Magnet temperatures [K] a map Dataset was solved at: its ``magnet_temperature``
    coordinate (scalar or axis); () when it records none (EESM or an unlabelled map)."""
    if "magnet_temperature" not in ds.coords:
        return ()
    return tuple(float(x) for x in np.atleast_1d(ds["magnet_temperature"].values))


def at_magnet_temperature(ds, temperature: float):
    """The map at magnet temperature [K]: the solved slice, or linear interpolation between
    the two solved temperatures around it (module docstring); a scalar coordinate
    ``magnet_temperature`` in the result. Not among / between the solved ones: DesignError."""
    nodes = map_magnet_temperatures(ds)
    t = float(temperature)
    if not nodes:
        raise DesignError(
            "magnet_temperature",
            round(t - ZERO_CELSIUS, 2),
            "the map records no magnet temperature (EESM, or a map made before magnet "
            "temperatures were recorded: recompute it with `edrive map`)",
        )
    lo, hi = nodes[0], nodes[-1]
    if not (math.isfinite(t) and lo - _TOL <= t <= hi + _TOL):
        span = (
            f"{lo - ZERO_CELSIUS:g} degC"
            if len(nodes) == 1
            else (f"{lo - ZERO_CELSIUS:g} to {hi - ZERO_CELSIUS:g} degC")
        )
        raise DesignError(
            "magnet_temperature",
            round(t - ZERO_CELSIUS, 2),
            f"the map is solved at {span} only; recompute it with `edrive map DESIGN "
            "--magnet-axis-C ...` covering this temperature",
        )
    if "magnet_temperature" not in ds.dims:
        return ds
    axis = np.asarray(nodes)
    k = int(np.clip(np.searchsorted(axis, t, side="right") - 1, 0, axis.size - 2))
    w = float(np.clip((t - axis[k]) / (axis[k + 1] - axis[k]), 0.0, 1.0))
    a = ds.isel(magnet_temperature=k, drop=True)
    b = ds.isel(magnet_temperature=k + 1, drop=True)
    out = a.copy()
    for name in ds.data_vars:
        if "magnet_temperature" not in ds[name].dims:
            continue
        if name == "solved":  # solved at both ends only
            out[name] = np.minimum(a[name], b[name])
        else:
            out[name] = (1.0 - w) * a[name] + w * b[name]
        out[name].attrs = ds[name].attrs
    out = out.assign_coords(magnet_temperature=((), t, ds["magnet_temperature"].attrs))
    out.attrs = dict(ds.attrs)
    out.attrs["magnet_temperature_interpolated"] = (
        "solved"
        if w in (0.0, 1.0)
        else f"linear in T between {axis[k]:.2f} K and {axis[k + 1]:.2f} K (weight {w:.4f})"
    )
    return out


def map_temperatures(design, magnet_temperature_C=None, magnet_axis_C=None):
    """(magnet temperatures [K] to solve a map at, the temperature [K] it is read at) from
    the ``--magnet-temperature-C`` / ``--magnet-axis-C`` values; ((), None) for an EESM
    (either given: DesignError)."""
    d = design
    axis, single = magnet_axis_C, magnet_temperature_C
    if not d.topology.HAS_MAGNETS:
        if axis is not None or single is not None:
            flag = "--magnet-axis-C" if axis is not None else "--magnet-temperature-C"
            raise DesignError(flag, axis or single, f"{d.name} has no magnets")
        return (), None
    t = DEFAULT_MAGNET_TEMPERATURE if single is None else ZERO_CELSIUS + single
    magnet_temperatures(d, t, "--magnet-temperature-C")
    if axis is None:
        return (t,), t
    nodes = magnet_temperatures(d, [ZERO_CELSIUS + x for x in axis], "--magnet-axis-C")
    if len(nodes) < 2 or not nodes[0] <= t <= nodes[-1]:
        raise DesignError(
            "--magnet-axis-C",
            list(axis),
            f">= 2 temperatures around --magnet-temperature-C = {t - ZERO_CELSIUS:g} degC",
        )
    return nodes, t
