"""Materials: named, cited data files under ``geometries/reference/materials/``.

Each material is a TOML file with a ``source`` field; BH tables are CSV files beside them
(columns B [T], H [A/m], with a ``# source:`` header). Keys in the files carry their unit
(``density_kg_per_m3``); the :class:`Material` object is in SI.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.errors import DesignError
from pipeline.io.inputs import check_number, read_number_rows, read_toml

__all__ = ["Material", "MATERIALS_DIR", "load_material", "list_materials", "KINDS"]

MATERIALS_DIR = Path(__file__).resolve().parent.parent / "geometries" / "reference" / "materials"

KINDS = ("electrical_steel", "solid_steel", "magnet", "conductor", "structural", "fluid", "air")

_UNIT_KEYS = {
    # file key -> (field, scale to SI)
    "density_kg_per_m3": ("density", 1.0),
    "resistivity_ohm_m": ("resistivity", 1.0),
    "resistivity_temperature_C": ("resistivity_temperature", 1.0),
    "resistivity_temperature_coefficient_per_K": ("resistivity_alpha", 1.0),
    "lamination_thickness_mm": ("lamination_thickness", 1e-3),
    "thermal_conductivity_W_per_mK": ("thermal_conductivity", 1.0),
    "specific_heat_J_per_kgK": ("specific_heat", 1.0),
    "remanence_T": ("remanence", 1.0),
    "remanence_temperature_C": ("remanence_temperature", 1.0),
    "remanence_temperature_coefficient_per_K": ("remanence_alpha", 1.0),
    "relative_recoil_permeability": ("recoil_permeability", 1.0),
    "loss_W_per_kg_1p5T_50Hz": ("loss_1p5T_50Hz", 1.0),
    "steinmetz_kh": ("steinmetz_kh", 1.0),
    "steinmetz_alpha": ("steinmetz_alpha", 1.0),
    "steinmetz_beta": ("steinmetz_beta", 1.0),
    "steinmetz_ke": ("steinmetz_ke", 1.0),
}
_TEXT_KEYS = {"name", "kind", "source", "bh_curve", "thermal_source", "resistivity_source"}


@dataclass(frozen=True)
class Material:
    """A material in SI units.

    Attributes: ``density`` [kg/m^3], ``resistivity`` [ohm m] at ``resistivity_temperature``
    [degC] with coefficient ``resistivity_alpha`` [1/K], ``thermal_conductivity`` [W/(m K)],
    ``specific_heat`` [J/(kg K)], ``lamination_thickness`` [m], ``bh_b`` [T] / ``bh_h`` [A/m]
    (nonlinear magnetic materials), magnet ``remanence`` [T] at ``remanence_temperature``
    [degC] with coefficient ``remanence_alpha`` [1/K] and ``recoil_permeability`` [-].
    """

    name: str
    kind: str
    source: str
    density: float = math.nan
    resistivity: float = math.nan
    resistivity_temperature: float = 20.0
    resistivity_alpha: float = 0.0
    thermal_conductivity: float = math.nan
    specific_heat: float = math.nan
    lamination_thickness: float = math.nan
    remanence: float = 0.0
    remanence_temperature: float = 20.0
    remanence_alpha: float = 0.0
    recoil_permeability: float = 1.0
    loss_1p5T_50Hz: float = math.nan
    steinmetz_kh: float = math.nan
    steinmetz_alpha: float = math.nan
    steinmetz_beta: float = math.nan
    steinmetz_ke: float = math.nan
    bh_b: tuple[float, ...] = field(default=(), repr=False)
    bh_h: tuple[float, ...] = field(default=(), repr=False)
    bh_source: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        where = f"material {self.name!r}"
        if self.kind not in KINDS:
            raise DesignError(f"{where}.kind", self.kind, f"must be one of {', '.join(KINDS)}")
        if not self.source:
            raise DesignError(f"{where}.source", self.source, "every material needs a source")
        for name in ("density", "thermal_conductivity", "specific_heat"):
            value = getattr(self, name)
            if not (value > 0):
                raise DesignError(f"{where}.{name}", value, "must be a positive number")
        if self.kind in ("electrical_steel", "solid_steel"):
            b, h = np.asarray(self.bh_b), np.asarray(self.bh_h)
            if b.size < 3 or b.size != h.size:
                raise DesignError(f"{where}.bh_curve", b.size, "needs at least 3 (B, H) points")
            if b[0] != 0 or h[0] != 0 or np.any(np.diff(b) <= 0) or np.any(np.diff(h) <= 0):
                raise DesignError(
                    f"{where}.bh_curve", self.bh_source, "must start at (0, 0) and rise strictly"
                )
        if self.kind == "magnet":
            if not (0 < self.remanence < 2.0):
                raise DesignError(f"{where}.remanence_T", self.remanence, "must be in (0, 2) T")
            if not (1.0 <= self.recoil_permeability < 2.0):
                raise DesignError(
                    f"{where}.relative_recoil_permeability",
                    self.recoil_permeability,
                    "must be in [1, 2)",
                )
        if self.kind == "conductor" and not (self.resistivity > 0):
            raise DesignError(f"{where}.resistivity_ohm_m", self.resistivity, "must be positive")

    @property
    def is_nonlinear(self) -> bool:
        return len(self.bh_b) > 0

    def remanence_at(self, temperature: float) -> float:
        """Remanence [T] at ``temperature`` [degC]: Br(T) = Br0 (1 + alpha (T - T0))."""
        return self.remanence * (
            1.0 + self.remanence_alpha * (temperature - self.remanence_temperature)
        )

    def resistivity_at(self, temperature: float) -> float:
        """Resistivity [ohm m] at ``temperature`` [degC]: rho0 (1 + alpha (T - T0))."""
        return self.resistivity * (
            1.0 + self.resistivity_alpha * (temperature - self.resistivity_temperature)
        )


def _read_bh(path: Path, field: str) -> tuple[tuple[float, ...], tuple[float, ...], str]:
    """(B [T], H [A/m], source) of a BH CSV, through :func:`pipeline.io.inputs.read_number_rows`."""
    rows, comments = read_number_rows(path, field, columns=2, min_rows=3)
    source = next((c.split(":", 1)[1].strip() for c in comments if c.startswith("# source:")), "")
    b, h = zip(*rows, strict=True)
    return tuple(b), tuple(h), source


def material_from_dict(data: dict, base: Path = MATERIALS_DIR) -> Material:
    """Build a :class:`Material` from a file's table (keys with units)."""
    kwargs: dict = {}
    name = data.get("name", "?")
    for key, value in data.items():
        if key in _UNIT_KEYS:
            fname, scale = _UNIT_KEYS[key]
            check_number(f"material {name!r}.{key}", value)
            kwargs[fname] = float(value) * scale
        elif key in _TEXT_KEYS:
            if not isinstance(value, str):
                raise DesignError(f"material {name!r}.{key}", value, "must be a string")
            if key == "bh_curve":
                kwargs["bh_b"], kwargs["bh_h"], kwargs["bh_source"] = _read_bh(
                    base / value, f"material {name!r}.bh_curve"
                )
            elif key in ("thermal_source", "resistivity_source"):
                kwargs.setdefault("notes", ())
                kwargs["notes"] = kwargs["notes"] + (f"{key}: {value}",)
            else:
                kwargs[key] = value
        else:
            raise DesignError(f"material {name!r}.{key}", value, "unknown key")
    for required in ("name", "kind", "source"):
        if required not in kwargs:
            raise DesignError(f"material {name!r}.{required}", None, "is required")
    return Material(**kwargs)


@lru_cache(maxsize=64)
def load_material(name: str) -> Material:
    """Load the material called ``name`` from ``geometries/reference/materials/``."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", name):
        raise DesignError("material", name, "a material name: letters, digits, '_-.', <= 64")
    path = MATERIALS_DIR / f"{name}.toml"
    if not path.exists():
        raise DesignError(
            "material", name, f"unknown material; known: {', '.join(list_materials())}"
        )
    return material_from_dict(read_toml(path, f"material {name!r}"))


def list_materials() -> list[str]:
    return sorted(p.stem for p in MATERIALS_DIR.glob("*.toml"))


def replace(material: Material, **changes) -> Material:
    """A validated copy of ``material`` with ``changes`` (SI field names)."""
    return dataclasses.replace(material, **changes)
