"""The study file (``compute = "study"``): read, validate, and turn into design variants.

::

    name = "gen5_design_study_ci"
    design = "gen5_eesm"          # reference name or a design TOML path (relative to this file)
    level = "ci"
    compute = "study"

    [sampling]                    # method: "grid" (uses [design_grid]) | "sobol" | "lhs"
    method = "sobol"              # (use [design_bounds] = {"key" = [low, high]})
    n = 4                         # samples (sobol / lhs)
    seed = 14                     # recorded in study.nc

    [design_bounds]
    "stator.stack_length_mm" = [160.0, 200.0]
    "rotor.field_turns" = [70, 90]          # integer fields: whole numbers, bounds inclusive

    [[design_list]]               # optional explicit variants, after the sampled ones
    "rotor.shoe_width_mm" = 57.0
    newton_tolerance = 1e-8       # optional per variant: Newton relative residual of its map

    [map]                         # per variant: grid from its ratings (pipeline.maps.flux.default_grid)
    n_id = 3
    n_iq = 3
    n_if = 2
    positions = 6

    [efficiency]                  # pipeline.maps.efficiency.EfficiencyOptions fields
    n_speed = 20
    n_torque = 20

    [thermal]
    rtol = 0.02                   # bisection tolerance of the S1 and 30 s torques [-]

Everything is checked before any task starts; a malformed file raises one
:class:`~pipeline.errors.WorkflowError` line naming the key. A variant that the design
rejects (:class:`~pipeline.errors.DesignError`) is kept with its reason and runs nothing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.design import load_design
from pipeline.errors import DesignError, WorkflowError, shorten
from pipeline.io.inputs import read_toml
from pipeline.io.tables import canonical
from pipeline.maps.efficiency import EfficiencyOptions
from pipeline.maps.flux import FLUX_POSITIONS, default_grid
from pipeline.study.sampling import METHODS, grid_samples, qmc_samples
from pipeline.workflow import (
    MAX_CPU_HOURS,
    SECONDS_PER_POSITION,
    check_value,
    read_workflow_table,
    resolve_field,
)

__all__ = ["StudySpec", "Variant", "load_study", "is_study_file", "DEFAULT_NEWTON_TOLERANCE"]

TOP_KEYS = {
    "name",
    "design",
    "level",
    "compute",
    "description",
    "sampling",
    "design_grid",
    "design_bounds",
    "design_list",
    "map",
    "efficiency",
    "thermal",
}
MAP_KEYS = {"n_id", "n_iq", "n_if", "positions"}
#: efficiency options a study may set (pipeline.maps.efficiency.EfficiencyOptions)
EFFICIENCY_KEYS = {
    "n_speed": int,
    "n_torque": int,
    "n_current": int,
    "n_field": int,
    "cycle_exact": bool,
    "vehicle": str,
    "modulation_max": float,
    "current_waveform": str,
}
#: Newton relative-residual tolerance of run_case (pipeline.em.machine.run_case default)
DEFAULT_NEWTON_TOLERANCE = 1e-8
#: CPU seconds of one variant's post-processing (efficiency stage, S1 and 30 s torques,
#: KPIs) with the CI study's settings: 5.1 + 1.7 + 0.6 s measured on this machine for
#: gen5_eesm ci (20 x 20 efficiency grid), rounded up
SECONDS_PER_VARIANT_POST = 10.0


def _wf(key: str, value: object, rule: str) -> WorkflowError:
    return WorkflowError(f"{key} = {shorten(value)}: {rule}")


@dataclass(frozen=True)
class Variant:
    """One design variant: ``labels`` in the file's units, the design (None if rejected)."""

    index: int
    labels: dict
    design: Any
    error: str | None = None
    newton_tolerance: float = DEFAULT_NEWTON_TOLERANCE
    origin: str = "sampled"  # or "list"


@dataclass(frozen=True)
class StudySpec:
    name: str
    path: Path | None
    base: Any
    level: str
    method: str
    n: int
    seed: int | None
    inputs: list[str]
    variants: list[Variant] = field(repr=False)
    map_sizes: dict = field(default_factory=dict)
    efficiency: dict = field(default_factory=dict)
    thermal_rtol: float = 0.02
    description: str = ""

    def efficiency_options(self):

        return EfficiencyOptions(**self.efficiency)

    def grid(self, design):
        """The flux-map grid of ``design`` (from its own ratings)."""

        return default_grid(design, **self.map_sizes)

    def fingerprint(self) -> dict:
        """What a variant's post-processing depends on besides its design and map."""
        return {
            "efficiency": canonical(self.efficiency),
            "thermal_rtol": self.thermal_rtol,
            "level": self.level,
        }


def is_study_file(path: str | Path) -> bool:
    """True if ``path`` is a readable TOML whose ``compute`` is ``"study"``."""

    try:
        return read_toml(path, "workflow").get("compute") == "study"
    except DesignError:
        return False


def _table(table: dict, key: str, known: set[str] | None = None) -> dict:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise _wf(key, value, "must be a table")
    for k in value:
        if known is not None and k not in known:
            raise _wf(f"{key}.{k}", value[k], f"unknown key; expected one of {sorted(known)}")
    return value


def _sampling(table: dict) -> tuple[str, int, int | None]:
    s = _table(table, "sampling", {"method", "n", "seed"})
    method = s.get("method", "grid")
    if method not in METHODS:
        raise _wf("sampling.method", method, f"must be one of {list(METHODS)}")
    n, seed = s.get("n", 0), s.get("seed")
    if method != "grid":
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise _wf("sampling.n", n, "a whole number >= 1 of samples")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise _wf(
                "sampling.seed", seed, "a whole number >= 0 (recorded; same seed, same points)"
            )
    return method, int(n), seed


def _map_sizes(table: dict) -> dict:
    m = _table(table, "map", MAP_KEYS)
    for k, v in m.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise _wf(f"map.{k}", v, "a whole number >= 1")
    return dict(m)


def _efficiency(table: dict) -> dict:
    e = _table(table, "efficiency", set(EFFICIENCY_KEYS))
    for k, v in e.items():
        tp = EFFICIENCY_KEYS[k]
        ok = isinstance(v, tp) and not (tp is not bool and isinstance(v, bool))
        if tp is float:
            ok = isinstance(v, int | float) and not isinstance(v, bool)
        if not ok:
            raise _wf(f"efficiency.{k}", v, f"must be of type {tp.__name__}")
    try:

        EfficiencyOptions(**e).strategy_options()
    except DesignError as exc:
        raise WorkflowError(f"efficiency: {exc}") from None
    return dict(e)


def _samples(table: dict, method: str, n: int, seed, resolve) -> list[dict]:
    if method == "grid":
        if "design_bounds" in table:
            raise _wf("design_bounds", "...", "sampling.method = grid uses [design_grid]")
        grid = _table(table, "design_grid")
        axes = {}
        for k, vals in grid.items():
            vals = vals if isinstance(vals, list) else [vals]
            if not vals:
                raise _wf(f"design_grid.{k}", vals, "empty grid")
            for v in vals:
                check_value(k, v, resolve(k)[2])
            axes[k] = vals
        return grid_samples(axes) if axes else []
    if "design_grid" in table:
        raise _wf("design_grid", "...", f"sampling.method = {method} uses [design_bounds]")
    bounds = _table(table, "design_bounds")
    if not bounds:
        raise _wf("design_bounds", bounds, f"sampling.method = {method} needs bounds")
    ints = set()
    for k, b in bounds.items():
        if not (isinstance(b, list) and len(b) == 2):
            raise _wf(f"design_bounds.{k}", b, "must be [low, high]")
        tp = resolve(k)[2]
        for v in b:
            check_value(k, v, tp)
        if not b[0] < b[1]:
            raise _wf(f"design_bounds.{k}", b, "low < high")
        if tp is int:
            ints.add(k)
    return qmc_samples({k: tuple(b) for k, b in bounds.items()}, n, method, seed, frozenset(ints))


def _variant(base, index: int, labels: dict, resolve, tol: float, origin: str) -> Variant:
    changes = {}
    for k, v in labels.items():
        path, scale, tp = resolve(k)
        changes[path] = v * scale if tp is float else v
    try:
        design = base.with_changes(changes) if changes else base
        return Variant(index, labels, design, None, tol, origin)
    except DesignError as exc:
        return Variant(index, labels, None, f"DesignError: {exc}", tol, origin)


def load_study(path: str | Path, *, allow_large: bool = False) -> StudySpec:
    """Read and validate a study file; every variant is constructed (and checked) here."""

    path = Path(path)
    table = read_workflow_table(path, TOP_KEYS)
    if table.get("compute") != "study":
        raise _wf("compute", table.get("compute"), 'must be "study" for a study file')
    name = table.get("name")
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise _wf("name", name, "is required: letters, digits, '-' and '_'")
    level = table.get("level", "ci")
    if level not in ("ci", "fine"):
        raise _wf("level", level, "must be ci or fine")
    dref = table.get("design")
    if not isinstance(dref, str) or not dref:
        raise _wf("design", dref, "is required (a string)")
    if dref.endswith(".toml") and not Path(dref).is_absolute():
        dref = str(path.parent / dref)
    try:
        base = load_design(dref)
    except DesignError as exc:
        raise WorkflowError(f"design: {exc}") from None
    resolved: dict = {}

    def resolve(k: str):
        if k not in resolved:
            resolved[k] = resolve_field(base, k)
        return resolved[k]

    method, n, seed = _sampling(table)
    samples = _samples(table, method, n, seed, resolve)
    listed = table.get("design_list", [])
    if not isinstance(listed, list):
        raise _wf("design_list", listed, "must be an array of tables")
    variants = [
        _variant(base, i, s, resolve, DEFAULT_NEWTON_TOLERANCE, "sampled")
        for i, s in enumerate(samples)
    ]
    for j, entry in enumerate(listed):
        where = f"design_list[{j}]"
        if not isinstance(entry, dict) or not entry:
            raise _wf(where, entry, "must be a non-empty table")
        entry = dict(entry)
        tol = entry.pop("newton_tolerance", DEFAULT_NEWTON_TOLERANCE)
        if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 < tol < 1:
            raise _wf(f"{where}.newton_tolerance", tol, "a relative residual in (0, 1)")
        for k, v in entry.items():
            check_value(k, v, resolve(k)[2])
        variants.append(_variant(base, len(variants), entry, resolve, float(tol), "list"))
    if not variants:
        raise _wf("sampling", method, "no variants: give samples or a [[design_list]]")
    thermal = _table(table, "thermal", {"rtol"})
    rtol = thermal.get("rtol", 0.02)
    if isinstance(rtol, bool) or not isinstance(rtol, int | float) or not 0 < rtol < 0.5:
        raise _wf("thermal.rtol", rtol, "a relative tolerance in (0, 0.5)")
    spec = StudySpec(
        name=name,
        path=path.resolve(),
        base=base,
        level=level,
        method=method,
        n=n,
        seed=seed,
        inputs=list(dict.fromkeys(k for v in variants for k in v.labels)),
        variants=variants,
        map_sizes=_map_sizes(table),
        efficiency=_efficiency(table),
        thermal_rtol=float(rtol),
        description=str(table.get("description", "")),
    )
    try:
        spec.grid(base)
    except DesignError as exc:
        raise WorkflowError(f"map: {exc}") from None
    hours = estimate_cpu_hours(spec)
    if hours > MAX_CPU_HOURS and not allow_large:
        raise _wf(
            "study",
            f"{len(variants)} variants",
            f"about {hours:.3g} CPU hours (limit {MAX_CPU_HOURS:g}); confirm with --allow-large",
        )
    return spec


def estimate_cpu_hours(spec: StudySpec) -> float:
    """Estimated CPU hours [h]: map points x positions x
    :data:`pipeline.workflow.SECONDS_PER_POSITION` plus :data:`SECONDS_PER_VARIANT_POST`
    per variant."""

    grid = spec.grid(spec.base)
    points = math.prod(grid.shape)
    positions = grid.positions or FLUX_POSITIONS
    n = len(spec.variants)
    seconds = n * (points * positions * SECONDS_PER_POSITION[spec.level] + SECONDS_PER_VARIANT_POST)
    return seconds / 3600.0


def replace_variants(spec: StudySpec, variants: list[Variant]) -> StudySpec:
    """``spec`` with other variants (tests, reruns of a subset)."""
    return dataclasses.replace(spec, variants=variants)
