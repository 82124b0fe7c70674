"""Golden values of the reference designs at the ``ci`` mesh level: compute, store, compare.

One JSON file per design under ``tests/golden/`` (or ``$EDRIVE_GOLDEN_DIR``) holds the
operating points, every quantity's value, unit and absolute tolerance with the reason for
it, and the code version and date that produced them. A regression check recomputes the
quantities and reports each against its golden value.

Quantities (SI):

- ``area.<kind>`` [m^2]: region areas of the ci sector mesh summed by kind
  (:func:`geometries.areas.mesh_area_by_kind`) and scaled to the full machine;
- ``<point>.torque_mean``, ``<point>.torque_pp`` [N m] (Arkkio, mean and peak-to-peak over
  the positions), ``<point>.psi_d``, ``psi_q``, ``psi_f`` [Wb] (means over the positions)
  at each operating point, solved at ``POSITIONS`` rotor positions over 60 electrical
  degrees;
- further quantities from :mod:`pipeline.validation.extra` when their models exist.

Tolerances are measured, not guessed (:func:`measure_spread`): the same quantities are
recomputed on meshes that differ from the golden one without any change of physics or
nominal resolution (the full machine instead of the sector, and the sector with the
mesh-size growth away from the airgap changed by +-10 %). The spread over these variants is
what a gmsh version or platform change can do to a ci result; the tolerance is
``SPREAD_FACTOR`` times it, but never below a floor of ``REL_FLOOR`` of the quantity's
scale (so that round-off and solver tolerances never fail a check).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geometries.areas import mesh_area_by_kind
from geometries.settings import LEVELS, MeshSettings
from pipeline.constants import ZERO_CELSIUS
from pipeline.design import Design, load_design
from pipeline.em.machine import run_case
from pipeline.errors import WorkflowError
from pipeline.mesh import get_mesh
from pipeline.validation.extra import EXTRA_PREFIX, EXTRA_UNITS, extra_quantities, loss_point
from pipeline.version import __version__

__all__ = [
    "DESIGNS",
    "POSITIONS",
    "SPREAD_FACTOR",
    "REL_FLOOR",
    "OperatingPoint",
    "Check",
    "golden_dir",
    "code_version",
    "default_operating_points",
    "compute_quantities",
    "measure_spread",
    "build_golden",
    "read_golden",
    "write_golden",
    "compare",
    "check_design",
]

log = logging.getLogger(__name__)

DESIGNS = ("gen5_eesm", "prius_2004", "zoe_eesm")
#: rotor positions per operating point over 60 electrical degrees (few: CI speed)
POSITIONS = 6
#: tolerance = SPREAD_FACTOR x measured mesh spread ...
SPREAD_FACTOR = 3.0
#: ... but at least REL_FLOOR of the quantity's scale
REL_FLOOR = {"area": 1e-4, "torque_mean": 2e-3, "torque_pp": 2e-3, "psi": 2e-3, "psi_f": 2e-3,
             "loss": 2e-3, "efficiency_em": 1e-4, "hot_spot": 5e-3, "default": 1e-3}  # fmt: skip

_REPO = Path(__file__).resolve().parents[2]


def golden_dir() -> Path:
    """Folder of the golden files: ``$EDRIVE_GOLDEN_DIR`` or ``tests/golden`` of the checkout."""
    env = os.environ.get("EDRIVE_GOLDEN_DIR")
    return Path(env) if env else _REPO / "tests" / "golden"


def code_version() -> dict:
    """Package version and ``git describe --always --dirty`` (if in a git checkout)."""
    out = {"package": __version__}
    try:
        git = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=_REPO,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if git.returncode == 0:
            out["git"] = git.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return out


@dataclass(frozen=True)
class OperatingPoint:
    """A named current point: i_d, i_q peak phase current [A], i_f field current [A]."""

    name: str
    i_d: float
    i_q: float
    i_f: float = 0.0


def default_operating_points(design: Design) -> list[OperatingPoint]:
    """No-load and a load point at round fractions of the design's current ratings.

    PM: open circuit, and (i_d, i_q) = (-0.3, 0.6) I_max (field weakening side, where an IPM
    gains reluctance torque). EESM: no load at 0.8 I_f,max, and (0, 0.6) I_max at I_f,max
    (i_d < 0 would oppose the field of a salient-pole rotor with L_d > L_q). Rounded to 5 A
    and stored in the golden file, so a later change of the ratings does not move the check.
    """
    r = design.ratings
    i_max = r.max_phase_current

    def rnd(x):
        return float(5 * round(x / 5))

    if design.topology.HAS_FIELD_WINDING:
        i_f = r.max_field_current
        return [
            OperatingPoint("no_load", 0.0, 0.0, rnd(0.8 * i_f) if i_f >= 5 else 0.8 * i_f),
            OperatingPoint("load", 0.0, rnd(0.6 * i_max), float(i_f)),
        ]
    return [
        OperatingPoint("open_circuit", 0.0, 0.0),
        OperatingPoint("load", rnd(-0.3 * i_max), rnd(0.6 * i_max)),
    ]


def _family(name: str) -> str:
    """Tolerance family: area, torque_mean, torque_pp, psi (stator d/q), psi_f, or the name."""
    if name.startswith("area."):
        return "area"
    leaf = name.rsplit(".", 1)[-1]
    if leaf in ("psi_d", "psi_q"):
        return "psi"
    for prefix in ("loss", "hot_spot"):
        if leaf.startswith(prefix):
            return prefix
    return leaf


def _units(name: str) -> str:
    fam = _family(name)
    if fam == "area":
        return "m^2"
    if fam.startswith("torque"):
        return "N m"
    if fam.startswith("psi"):
        return "Wb"

    return EXTRA_UNITS.get(fam, "")


def compute_quantities(
    design: Design | str | Path,
    points: list[OperatingPoint] | None = None,
    level="ci",
    sector: bool = True,
    positions: int = POSITIONS,
    extra: bool = True,
    point: dict | None = None,
) -> dict[str, float]:
    """All golden quantities of ``design`` (SI, see the module docstring).

    ``level`` is a level name or a :class:`geometries.settings.MeshSettings` (used by
    :func:`measure_spread`); ``sector=False`` uses the full machine; ``extra`` adds the
    continuous-point quantities of :mod:`pipeline.validation.extra` at ``point`` (default
    :func:`pipeline.validation.extra.loss_point`; sector models only).
    """

    d = load_design(design) if isinstance(design, str | Path) else design
    points = default_operating_points(d) if points is None else points
    if isinstance(level, MeshSettings):
        level = dataclasses.replace(level, sector=sector)
    mm = get_mesh(d, level, sector=sector)
    out: dict[str, float] = {}
    for kind, area in sorted(mesh_area_by_kind(mm.areas()).items()):
        out[f"area.{kind}"] = area * mm.n_sectors
    for op in points:
        res = run_case(d, op.i_d, op.i_q, op.i_f, positions=positions, level=level, sector=sector)
        out[f"{op.name}.torque_mean"] = res.mean_torque
        out[f"{op.name}.torque_pp"] = float(np.ptp(res.torque))
        out[f"{op.name}.psi_d"] = float(np.mean(res.psi_d))
        out[f"{op.name}.psi_q"] = float(np.mean(res.psi_q))
        if d.topology.HAS_FIELD_WINDING:
            out[f"{op.name}.psi_f"] = float(np.mean(res.psi_f))
    if extra and sector:

        out.update(extra_quantities(d, level, sector, point))
    return out


def _spread_variants():
    """Mesh variants with the same physics and nominal resolution as ``ci``: the full
    machine, and the sector with the size growth away from the airgap 10 % lower and higher
    (every node moves; the airgap and the interface pitch stay). A change of the airgap
    aspect by a few per cent left the mesh unchanged, so it is not used."""

    ci = LEVELS["ci"]
    return [
        ("full machine", ci, False),
        ("sector, growth x0.9", dataclasses.replace(ci, growth=0.9 * ci.growth), True),
        ("sector, growth x1.1", dataclasses.replace(ci, growth=1.1 * ci.growth), True),
    ]


def measure_spread(
    design: Design, points: list[OperatingPoint], base: dict[str, float], point=None
) -> tuple[dict[str, float], dict[str, str]]:
    """Largest |variant - base| per quantity over :func:`_spread_variants` and which variant
    (the continuous-point quantities over the sector variants only)."""
    spread: dict[str, float] = {}
    worst = {k: "" for k in base}
    for label, settings, sector in _spread_variants():
        vals = compute_quantities(design, points, settings, sector=sector, point=point)
        for k, v in vals.items():
            if k in base and abs(v - base[k]) >= spread.get(k, 0.0):
                spread[k] = abs(v - base[k])
                worst[k] = label
    return spread, worst  # quantities no variant produced are absent from ``spread``


def _scale(name: str, values: dict[str, float], coolant_C: float = 65.0) -> float:
    """The magnitude a quantity's floor refers to: its own for areas and extra quantities,
    else the largest of its family in the design (a torque or psi_q that vanishes at no load
    is judged against the load value)."""
    fam = _family(name)
    if fam in ("torque_mean", "torque_pp", "psi", "psi_f"):
        return max(abs(v) for k, v in values.items() if _family(k) == fam)
    if fam == "hot_spot":  # the rise above the coolant

        return abs(values[name] - ZERO_CELSIUS - coolant_C)
    return abs(values[name])


def build_golden(
    design: Design | str, points: list[OperatingPoint] | None = None, spread: bool = True
) -> dict:
    """Compute a design's golden table (values, measured spread, tolerances, provenance)."""

    d = load_design(design) if isinstance(design, str | Path) else design
    points = default_operating_points(d) if points is None else points
    point = loss_point(d)
    values = compute_quantities(d, points, point=point)
    if spread:
        sp, worst = measure_spread(d, points, values, point)
    else:
        sp, worst = {}, {}
    quantities = {}
    for name, v in values.items():
        rel_floor = REL_FLOOR.get(_family(name), REL_FLOOR["default"])
        scale = _scale(name, values, point["coolant_C"])
        floor = rel_floor * scale
        if name not in sp:
            tol = floor
            why = f"floor {rel_floor:g} of scale {scale:.4g} (mesh spread not measured)"
        elif SPREAD_FACTOR * sp[name] >= floor:
            tol = SPREAD_FACTOR * sp[name]
            why = (
                f"{SPREAD_FACTOR:g} x mesh spread {sp[name]:.3g} ({worst[name]}): "
                "gmsh/platform noise at ci level"
            )
        else:
            tol = floor
            why = (
                f"floor {rel_floor:g} of scale {scale:.4g} (mesh spread {sp[name]:.2g} is smaller)"
            )
        quantities[name] = {"value": v, "unit": _units(name), "tolerance": tol, "basis": why}
    return {
        "design": d.name,
        "design_hash": d.content_hash(),
        "level": "ci",
        "mesh_settings": dataclasses.asdict(LEVELS["ci"]),
        "positions": POSITIONS,
        "operating_points": [dataclasses.asdict(p) for p in points],
        "loss_point": point,
        "code_version": code_version(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "tolerance_rule": (
            f"tolerance = max({SPREAD_FACTOR:g} x spread, floor); spread = largest change "
            "over meshes of the same physics and resolution: "
            + "; ".join(label for label, _, _ in _spread_variants())
        ),
        "quantities": quantities,
    }


def golden_path(name: str) -> Path:
    return golden_dir() / f"{name}.json"


def read_golden(name: str) -> dict:
    """The stored golden table of design ``name``."""
    path = golden_path(name)
    if not path.exists():
        raise WorkflowError(f"no golden file {path}; create it with `edrive validate --update-golden`")  # fmt: skip
    return json.loads(path.read_text())


def write_golden(table: dict) -> Path:
    """Write a golden table atomically; returns the path."""
    path = golden_path(table["design"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(table, indent=1, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class Check:
    """One quantity against its golden value: golden, now [SI], tolerance [SI]."""

    design: str
    quantity: str
    unit: str
    golden: float
    now: float
    tolerance: float
    basis: str = ""

    @property
    def change(self) -> float:
        return self.now - self.golden

    @property
    def relative_change(self) -> float:
        return self.change / abs(self.golden) if self.golden else math.nan

    @property
    def passed(self) -> bool:
        return bool(math.isfinite(self.now) and abs(self.change) <= self.tolerance)

    def message(self) -> str:
        if not math.isfinite(self.now):
            return (
                f"{self.design} {self.quantity}: golden {self.golden:.6g} {self.unit}, now not "
                "computed (its model failed or is gone) [FAIL]"
            )
        rel = self.relative_change
        pct = f"{100 * rel:+.3f} %" if math.isfinite(rel) else "n/a"
        return (
            f"{self.design} {self.quantity}: golden {self.golden:.6g} {self.unit}, now "
            f"{self.now:.6g} {self.unit}, change {self.change:+.4g} {self.unit} ({pct}), "
            f"tolerance +-{self.tolerance:.3g} {self.unit} "
            f"[{'ok' if self.passed else 'FAIL'}] ({self.basis})"
        )


def compare(golden: dict, values: dict[str, float]) -> list[Check]:
    """Checks of ``values`` against a golden table; a quantity missing now is a failure
    (now = nan); new quantities without a golden value are not checked."""
    out = []
    for name, q in golden["quantities"].items():
        out.append(
            Check(
                golden["design"],
                name,
                q["unit"],
                float(q["value"]),
                float(values.get(name, math.nan)),
                float(q["tolerance"]),
                q.get("basis", ""),
            )
        )
    return out


def check_design(
    design: Design | str | Path, golden: dict | None = None, extra: bool = True
) -> list[Check]:
    """Recompute a design's golden quantities at its stored operating points and compare.

    ``design`` may be a perturbed copy (a path to a design TOML): it is compared with the
    golden file of its ``name``. ``extra=False`` leaves out the continuous-point (loss,
    efficiency, hot-spot) quantities.
    """

    d = load_design(design) if isinstance(design, str | Path) else design
    golden = read_golden(d.name) if golden is None else golden
    if not extra:
        q = {k: v for k, v in golden["quantities"].items() if not k.startswith(EXTRA_PREFIX)}
        golden = {**golden, "quantities": q}
    points = [OperatingPoint(**p) for p in golden["operating_points"]]
    if int(golden.get("positions", POSITIONS)) != POSITIONS:
        log.warning("golden file made with %s positions, now %d", golden["positions"], POSITIONS)
    values = compute_quantities(
        d,
        points,
        positions=int(golden.get("positions", POSITIONS)),
        extra=extra and "loss_point" in golden,
        point=golden.get("loss_point"),
    )
    return compare(golden, values)
