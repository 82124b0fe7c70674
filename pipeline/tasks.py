"""Built-in task kinds of sweeps and maps: ``mesh`` and ``case`` (no Dask in here).

A task kind is ``function(design, level, operating_point) -> {name: [value, units, long_name]}``
(scalars, JSON-serialisable); :mod:`pipeline.sweep` fans them out and
:mod:`pipeline.io.store` keeps each result under a content hash of its inputs. Any task can
be re-run alone: ``case_task(load_design("prius_2004"), "ci", {"i_q_A": 200.0})``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from geometries.areas import analytic_areas, mesh_area_by_kind
from pipeline.em.machine import run_case
from pipeline.mesh import get_mesh


# --- task registry ---------------------------------------------------------------------
@dataclass(frozen=True)
class TaskKind:
    """A task kind: ``function(design, level, operating_point) -> {name: [value, units, long_name]}``.

    ``needs_mesh``: the sweep builds the design's mesh (once per distinct mesh) before the
    task runs; the task then gets it from the cache with ``get_mesh(design, level)``.
    """

    name: str
    function: Callable[[Any, str, dict], dict]
    needs_mesh: bool = True


TASKS: dict[str, TaskKind] = {}


def register_task(name: str, needs_mesh: bool = True) -> Callable:
    """Decorator registering a task kind under ``name`` (one function per kind)."""

    def deco(fn: Callable) -> Callable:
        TASKS[name] = TaskKind(name, fn, needs_mesh)
        return fn

    return deco


def registered_kinds() -> dict[str, TaskKind]:
    """All registered task kinds: the built-in ones of this module and those of the modules
    imported so far (:mod:`pipeline.maps.flux`, :mod:`pipeline.calibration.observables`)."""
    return TASKS


__all__ = [
    "TaskKind",
    "TASKS",
    "register_task",
    "registered_kinds",
    "mesh_task",
    "case_task",
    "case_values",
    "DEFAULT_POSITIONS",
]

#: rotor positions over 60 el. deg per operating point: the mean torque of prius_2004 and
#: gen5_eesm (ci) moves by < 0.02 % from 12 to 24 positions (benchmarks/bench_maps.py)
DEFAULT_POSITIONS = 12


@register_task("mesh")
def mesh_task(design, level: str, operating_point: dict) -> dict:
    """Mesh of one design: node/element counts, area per region kind [m^2], worst relative
    area error against :func:`geometries.areas.analytic_areas` [-]."""

    mm = get_mesh(design, level=level, sector=True)
    by_kind = mesh_area_by_kind(mm.areas())
    exact = analytic_areas(design, mm.n_sectors)
    # "copper" is a derived figure, not a mesh region: compare the kinds the mesh has
    errors = {k: abs(by_kind[k] - v) / v for k, v in exact.items() if v > 0 and k in by_kind}
    worst = max(errors, key=errors.get)
    out: dict[str, list] = {
        "n_nodes": [int(mm.mesh.p.shape[1]), "1", "number of mesh nodes"],
        "n_elements": [int(mm.mesh.t.shape[1]), "1", "number of triangles"],
        "n_sectors": [mm.n_sectors, "1", "sectors in the full machine"],
        "area_error_max": [errors[worst], "1", f"worst relative area error vs analytic ({worst})"],
    }
    for kind, a in sorted(by_kind.items()):
        out[f"area_{kind}"] = [a, "m2", f"mesh area of {kind} in one sector"]
    return out


def case_values(res) -> dict:
    """Scalars of a :class:`~pipeline.em.machine.CaseResult` as {name: [value, units, long_name]}."""

    def f(x) -> float:
        x = float(x)
        return x if math.isfinite(x) else math.nan

    out = {
        "torque": [res.mean_torque, "N m", "mean electromagnetic torque (Arkkio)"],
        "torque_dq": [f(np.mean(res.dq_torque)), "N m", "mean 3/2 p (psi_d i_q - psi_q i_d)"],
        "torque_ripple": [f(res.ripple), "1", "torque peak-to-peak over |mean|"],
        "torque_peak_to_peak": [f(np.ptp(res.torque)), "N m", "torque peak-to-peak"],
        "psi_d": [f(np.mean(res.psi_d)), "Wb", "d-axis flux linkage (peak, mean over positions)"],
        "psi_q": [f(np.mean(res.psi_q)), "Wb", "q-axis flux linkage (peak, mean over positions)"],
        "psi_f": [f(np.mean(res.psi_f)), "Wb", "field winding flux linkage (mean)"],
        "newton_iterations_mean": [f(np.mean(res.iterations)), "1", "Newton steps per position"],
        "newton_iterations_max": [int(np.max(res.iterations)), "1", "most Newton steps"],
        "solve_time": [f(np.sum(res.solve_time)), "s", "wall time of all position solves"],
        "positions_solved": [int(res.torque.size), "1", "rotor positions solved"],
    }
    if res.speed_rpm is not None:
        v_d, v_q = res.voltages_dq()
        out["v_d"] = [v_d, "V", "d-axis voltage -omega_el psi_q (no resistance)"]
        out["v_q"] = [v_q, "V", "q-axis voltage omega_el psi_d (no resistance)"]
    return out


def case_kwargs(operating_point: dict) -> dict:
    speed = operating_point.get("speed_rpm")
    return {
        "i_d": float(operating_point.get("i_d_A", 0.0)),
        "i_q": float(operating_point.get("i_q_A", 0.0)),
        "i_f": float(operating_point.get("i_f_A", 0.0)),
        "positions": int(operating_point.get("positions", DEFAULT_POSITIONS)),
        "span_el": float(operating_point.get("span_el_rad", math.pi / 3)),
        "speed_rpm": None if speed is None else float(speed),
        "magnet_temperature_C": float(operating_point.get("magnet_temperature_C", 20.0)),
    }


@register_task("case")
def case_task(design, level: str, operating_point: dict) -> dict:
    """One operating point over rotor positions (:func:`pipeline.em.machine.run_case`).

    Operating point keys: i_d_A, i_q_A, i_f_A [A], speed_rpm [rpm], positions (over
    span_el_rad, default pi/3 = 60 el. deg; default :data:`DEFAULT_POSITIONS`),
    magnet_temperature_C [degC] (default 20, as ``run_case``). Returns
    :func:`case_values`.
    """

    return case_values(run_case(design, level=level, **case_kwargs(operating_point)))
