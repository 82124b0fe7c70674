"""Calibration data files: measurements with a role, and the parameters to fit.

A data file (TOML) names the design it belongs to, the mesh level, its source, the
measurements and the parameters::

    design = "prius_2004"
    level = "ci"
    source = "ORNL/TM-2004/247 and ORNL/TM-2004/185"

    [[parameter]]
    path = "rotor.magnet_remanence_T"    # a numeric design field, in the design file's units
    lower = 1.05
    upper = 1.35
    start = 1.24                          # optional: default the design's value
    reason = "sintered NdFeB grades N30..N45 at 20 degC"

    [[measurement]]
    name = "back_emf_1000rpm"
    kind = "back_emf"                    # see KINDS
    role = "calibration"                 # or "validation": one of the two, never both
    speed_rpm = 1000.0
    magnet_temperature_C = 25.0
    value = 85.7                         # in KINDS[kind].unit
    uncertainty = 2.6                    # one standard deviation, same unit
    unit = "V"
    source = "ORNL/TM-2004/247 Table 3.4"

Measurement kinds (:data:`KINDS`) and their conditions:

* ``back_emf``: open-circuit line-to-line rms voltage (all harmonics) [V] at ``speed_rpm``
  and ``magnet_temperature_C``;
* ``locked_rotor_torque``: torque [N m] at rest with a DC ``current_dc_A`` through the
  stated ``connection`` (``"a_to_bc"``: into phase A, out of B and C in parallel, the MMF
  on phase A's axis with amplitude ``I``; ``"a_to_b"``: into A, out of B, amplitude
  ``2 I / sqrt(3)``), at ``position_el_deg`` (the current angle from the d-axis) or
  ``position = "peak"`` (the largest torque over rotor positions; with
  ``position_step_el_deg`` the largest of the readings at multiples of that step, as a peak
  read off a measured curve is), ``magnet_temperature_C``;
* ``no_load_loss``: spinning open-circuit loss [W] (iron, magnets, bearings, windage) at
  ``speed_rpm`` and ``magnet_temperature_C``;
* ``phase_resistance``: DC phase resistance [ohm] at ``temperature_C``;
* ``stator_lamination_mass``: mass of the stator lamination stack [kg] (teardown).

Everything is checked before any solve; a bad file gives a one-line
:class:`~pipeline.errors.DesignError` naming the field, the value and the rule. Refused:
unknown keys or kinds, a role other than ``calibration`` or ``validation``, the same
measurement (kind and conditions) marked both ways, more parameters than independent
calibration measurements, bounds that exclude the start value, unknown parameter paths.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from pipeline.design import load_design
from pipeline.errors import DesignError
from pipeline.io.inputs import read_text
from pipeline.io.tables import UNIT_SCALE
from pipeline.io.toml import loads_toml
from pipeline.materials import load_material

__all__ = [
    "KINDS",
    "CONNECTIONS",
    "MeasurementKind",
    "Measurement",
    "Parameter",
    "CalibrationData",
    "load_calibration_data",
    "calibration_data_from_toml",
    "resolve_parameter",
]

#: DC locked-rotor connections: MMF amplitude per ampere of DC current [-] and the
#: phase-current pattern (a, b, c) per ampere
CONNECTIONS = {
    "a_to_bc": (1.0, (1.0, -0.5, -0.5)),
    "a_to_b": (2.0 / math.sqrt(3.0), (1.0, -1.0, 0.0)),
}


@dataclass(frozen=True)
class MeasurementKind:
    """What a measurement kind needs: its unit and its condition keys (required, optional)."""

    unit: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


KINDS = {
    "back_emf": MeasurementKind("V", ("speed_rpm",), ("magnet_temperature_C",)),
    "locked_rotor_torque": MeasurementKind(
        "Nm",
        ("current_dc_A", "connection"),
        ("position_el_deg", "position", "position_step_el_deg", "magnet_temperature_C"),
    ),
    "no_load_loss": MeasurementKind("W", ("speed_rpm",), ("magnet_temperature_C",)),
    "phase_resistance": MeasurementKind("ohm", ("temperature_C",)),
    "stator_lamination_mass": MeasurementKind("kg", ()),
}

_MEASUREMENT_KEYS = {"name", "kind", "role", "value", "uncertainty", "unit", "source", "note"}
_PARAMETER_KEYS = {"path", "lower", "upper", "start", "reason"}
_TOP_KEYS = {"design", "level", "source", "description", "measurement", "parameter"}
#: default magnet temperature of a measurement that does not state one [degC]
ROOM_TEMPERATURE_C = 20.0


@dataclass(frozen=True)
class Measurement:
    """One measured value: ``value`` +- ``uncertainty`` (one standard deviation) in the kind's
    unit, under ``conditions`` (SI-free edge units as named: rpm, A, degC, el. deg)."""

    name: str
    kind: str
    role: str
    value: float
    uncertainty: float
    conditions: tuple[tuple[str, object], ...]
    source: str

    @property
    def unit(self) -> str:
        return KINDS[self.kind].unit

    def condition(self, key: str, default=None):
        return dict(self.conditions).get(key, default)

    @property
    def identity(self) -> tuple:
        """Kind and conditions: two rows with the same identity are the same measurement."""
        return (self.kind, self.conditions)


@dataclass(frozen=True)
class Parameter:
    """A design field to fit: ``path`` in file units (``rotor.web_width_mm``), the SI
    ``field`` path and ``scale`` (file unit -> SI), bounds and start in file units."""

    path: str
    field: str
    scale: float
    lower: float
    upper: float
    start: float
    reason: str


@dataclass(frozen=True)
class CalibrationData:
    """A validated data file: design name, level, source, measurements, parameters, hash."""

    design: str
    level: str
    source: str
    measurements: tuple[Measurement, ...]
    parameters: tuple[Parameter, ...]
    sha256: str
    path: str = "<string>"

    def rows(self, role: str) -> tuple[Measurement, ...]:
        return tuple(m for m in self.measurements if m.role == role)


def resolve_parameter(design, path: str) -> tuple[str, float, float]:
    """``"rotor.web_width_mm"`` -> (SI field path, scale to SI, current value in file units).

    A field that is None in the design (e.g. ``rotor.magnet_remanence_T`` when the material
    gives it) starts from the value the model uses: the material's remanence."""
    *heads, last = path.split(".")
    obj = design
    for h in heads:
        if not dataclasses.is_dataclass(obj) or h not in {f.name for f in dataclasses.fields(obj)}:
            raise DesignError(f"parameter.path = {path}", h, "unknown design table")
        obj = getattr(obj, h)
        if not dataclasses.is_dataclass(obj):
            raise DesignError(f"parameter.path = {path}", h, "unknown design table")
    for f in dataclasses.fields(obj):
        unit = f.metadata.get("unit")
        key = f"{f.name}_{unit}" if unit else f.name
        if key != last:
            continue
        scale = UNIT_SCALE[unit] if unit else 1.0
        value = getattr(obj, f.name)
        if value is None and f.name == "magnet_remanence":

            value = load_material(obj.magnet_material).remanence
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DesignError("parameter.path", path, "only numeric design fields can be fitted")
        return ".".join([*heads, f.name]), scale, float(value) / scale
    known = sorted(
        f"{f.name}_{f.metadata['unit']}" if f.metadata.get("unit") else f.name
        for f in dataclasses.fields(obj)
        if not f.metadata.get("provenance")
    )
    raise DesignError("parameter.path", path, f"unknown design field; expected one of {known}")


def _number(where: str, value, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DesignError(where, value, "must be a finite number")
    if positive and not value > 0:
        raise DesignError(where, value, "must be > 0")
    return float(value)


def _measurement(i: int, row: object) -> Measurement:
    where = f"measurement[{i}]"
    if not isinstance(row, dict):
        raise DesignError(where, row, "must be a table")
    kind = row.get("kind")
    if kind not in KINDS:
        raise DesignError(f"{where}.kind", kind, f"must be one of {', '.join(KINDS)}")
    spec = KINDS[kind]
    allowed = _MEASUREMENT_KEYS | set(spec.required) | set(spec.optional)
    for key in row:
        if key not in allowed:
            raise DesignError(f"{where}.{key}", row[key], f"unknown key for kind {kind}")
    for key in ("value", "uncertainty", "unit", "role", "source"):
        if key not in row:
            raise DesignError(f"{where}.{key}", None, "is required")
    role = row["role"]
    if role not in ("calibration", "validation"):
        raise DesignError(
            f"{where}.role", role, "must be 'calibration' or 'validation' (one of the two)"
        )
    if row["unit"] != spec.unit:
        raise DesignError(f"{where}.unit", row["unit"], f"{kind} is measured in {spec.unit}")
    conditions = {}
    for key in spec.required:
        if key not in row:
            raise DesignError(f"{where}.{key}", None, f"is required for kind {kind}")
    for key in (*spec.required, *spec.optional):
        if key not in row:
            continue
        v = row[key]
        if key == "connection":
            if v not in CONNECTIONS:
                raise DesignError(f"{where}.connection", v, f"must be one of {', '.join(CONNECTIONS)}")
        elif key == "position":
            if v != "peak":
                raise DesignError(f"{where}.position", v, "must be 'peak' (or give position_el_deg)")
        else:
            v = _number(f"{where}.{key}", v,
                        positive=key in ("speed_rpm", "current_dc_A", "position_step_el_deg"))  # fmt: skip
            if key.endswith("temperature_C") and not -50.0 <= v <= 250.0:
                raise DesignError(f"{where}.{key}", v, "must be in [-50, 250] degC")
        conditions[key] = v
    if kind == "locked_rotor_torque" and (
        ("position" in conditions) == ("position_el_deg" in conditions)
    ):
        raise DesignError(where, kind, "give exactly one of position = 'peak' and position_el_deg")
    name = row.get("name", f"{kind}_{i}")
    if not isinstance(name, str) or not name:
        raise DesignError(f"{where}.name", name, "must be a non-empty string")
    return Measurement(
        name=name,
        kind=kind,
        role=role,
        value=_number(f"{where}.value", row["value"]),
        uncertainty=_number(f"{where}.uncertainty", row["uncertainty"], positive=True),
        conditions=tuple(sorted(conditions.items())),
        source=str(row["source"]),
    )


def _parameter(i: int, row: object, design) -> Parameter:
    where = f"parameter[{i}]"
    if not isinstance(row, dict):
        raise DesignError(where, row, "must be a table")
    for key in row:
        if key not in _PARAMETER_KEYS:
            raise DesignError(f"{where}.{key}", row[key], f"unknown key; expected {sorted(_PARAMETER_KEYS)}")
    for key in ("path", "lower", "upper", "reason"):
        if key not in row:
            raise DesignError(f"{where}.{key}", None, "is required (bounds need a reason)")
    path = row["path"]
    if not isinstance(path, str):
        raise DesignError(f"{where}.path", path, "must be a string")
    field, scale, current = resolve_parameter(design, path)
    lo, hi = _number(f"{where}.lower", row["lower"]), _number(f"{where}.upper", row["upper"])
    if not lo < hi:
        raise DesignError(f"{where}.upper", hi, f"must exceed lower = {lo:g}")
    start = _number(f"{where}.start", row["start"]) if "start" in row else current
    if not lo <= start <= hi:
        raise DesignError(
            f"{where}.start" if "start" in row else f"{where}.lower",
            start if "start" in row else lo,
            f"bounds [{lo:g}, {hi:g}] exclude the start value {start:g} of {path}",
        )
    reason = row["reason"]
    if not isinstance(reason, str) or not reason.strip():
        raise DesignError(f"{where}.reason", reason, "say why the bounds are defensible")
    return Parameter(path, field, scale, lo, hi, start, reason)


def calibration_data_from_toml(text: str, design=None, origin: str = "<string>") -> CalibrationData:
    """Parse and validate a calibration data file (``design``: the Design, else the file's)."""

    table = loads_toml(text, origin)
    for key in table:
        if key not in _TOP_KEYS:
            raise DesignError(key, table[key], f"unknown key; expected one of {sorted(_TOP_KEYS)}")
    if design is None:
        if "design" not in table:
            raise DesignError("design", None, "is required (or pass the design)")
        design = load_design(table["design"])
    level = table.get("level", "ci")
    if level not in ("ci", "fine"):
        raise DesignError("level", level, "must be ci or fine")
    rows = table.get("measurement", [])
    if not isinstance(rows, list) or not rows:
        raise DesignError("measurement", rows, "needs at least one [[measurement]] table")
    meas = tuple(_measurement(i, r) for i, r in enumerate(rows))
    names = [m.name for m in meas]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise DesignError("measurement.name", dup, "names must be unique")
    roles: dict[tuple, str] = {}
    for m in meas:
        other = roles.setdefault(m.identity, m.role)
        if other != m.role:
            raise DesignError(
                f"measurement {m.name}.role", m.role,
                "the same measurement (kind and conditions) is marked both calibration and validation",
            )  # fmt: skip
    params_rows = table.get("parameter", [])
    if not isinstance(params_rows, list):
        raise DesignError("parameter", params_rows, "must be a list of [[parameter]] tables")
    params = tuple(_parameter(i, r, design) for i, r in enumerate(params_rows))
    paths = [p.field for p in params]
    if len(set(paths)) != len(paths):
        raise DesignError("parameter.path", paths, "each parameter once")
    n_cal = len({m.identity for m in meas if m.role == "calibration"})
    if len(params) > n_cal:
        raise DesignError(
            "parameter", len(params),
            f"more parameters than independent calibration measurements ({n_cal})",
        )  # fmt: skip
    return CalibrationData(
        design=design.name,
        level=level,
        source=str(table.get("source", "")),
        measurements=meas,
        parameters=params,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        path=origin,
    )


def load_calibration_data(path: str | Path, design=None) -> CalibrationData:
    """Read and validate a calibration data file (see the module docstring)."""

    text = read_text(path, "--data")  # size, regular file, UTF-8: one-line errors
    return calibration_data_from_toml(text, design, str(path))
