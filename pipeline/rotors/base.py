"""What the rest of the pipeline asks of a rotor: the :class:`RotorTopology` interface and
its registry.

A topology is a frozen dataclass in SI (its ``[rotor]`` table, ``kind = KIND``), validated
on construction, that also answers:

- **geometry**: :meth:`RotorTopology.add_regions` draws its regions through the builder's
  :class:`Canvas` (``geometries/builder.py`` calls it; no gmsh import here) and records its
  sources in the mesh metadata: ``info["field_coils"]`` (label -> pole, current sign) and
  ``info["magnets"]`` (label -> pole, magnetisation direction), which is all the EM solver
  reads (:mod:`pipeline.em.machine`);
- **excitation** (maps, strategy, losses): :attr:`HAS_FIELD_WINDING` (an ``i_f`` axis,
  field copper and brush losses, ``ratings.max_field_current``), :attr:`HAS_MAGNETS` (a
  magnet-temperature axis, magnet eddy losses, ``magnet_material``);
- **thermal**: :meth:`RotorTopology.thermal_regions` gives the conductivity and heat
  capacity of its non-iron rotor regions (magnets, field coils);
- **materials**: :meth:`RotorTopology.material_names` for the design's material checks.

The rotor iron (``rotor_core``), the shaft and the stacking factor are common to all.
A new topology is one module with a subclass and ``register_topology(NewRotor)``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar, Protocol

import numpy as np

from pipeline.errors import DesignError
from pipeline.io.tables import register_kind

__all__ = [
    "RotorTopology",
    "Canvas",
    "register_topology",
    "topology_of",
    "TOPOLOGIES",
    "check_positive",
    "check_non_negative",
]


def check_positive(where: str, **values: float) -> None:
    """DesignError for the first value that is not a finite positive number."""
    for name, value in values.items():
        if not (value > 0) or not math.isfinite(value):
            raise DesignError(f"{where}.{name}", value, "must be a positive number")


def check_non_negative(where: str, **values: float) -> None:
    """DesignError for the first value that is not a finite number >= 0."""
    for name, value in values.items():
        if not (value >= 0) or not math.isfinite(value):
            raise DesignError(f"{where}.{name}", value, "must be zero or positive")


class Canvas(Protocol):
    """What the gmsh builder offers a rotor: plane surfaces (returning OCC tags) and ``add``
    to name a surface with a region kind's priority (``"rotor"``, ``"pocket"``,
    ``"field"``, ``"magnet"``: where primitives overlap the higher priority wins,
    magnet > field > pocket > shaft > rotor core)."""

    def polygon(self, points: np.ndarray) -> int: ...

    def surface(self, path: list) -> int:
        """``path``: (vertex, arc centre of the edge to the next vertex or None)."""
        ...

    def disk(self, radius: float) -> int: ...

    def add(self, kind: str, label: str, tag: int) -> None: ...


class RotorTopology(ABC):
    """Base of every rotor topology (subclasses are frozen dataclasses).

    Every subclass has at least the fields ``source``, ``n_poles``, ``outer_radius``,
    ``shaft_radius`` [m], ``stacking_factor``, ``material``, ``shaft_material`` and
    ``pole_axis_offset`` [rad]."""

    #: topology name: the ``kind`` of the ``[rotor]`` table and the registry key
    KIND: ClassVar[str]
    #: short machine label in listings and dataset attributes ("eesm", "ipm", ...):
    #: a display name only, code asks the flags below
    LABEL: ClassVar[str]
    #: a wound field (``i_f``, field copper and brush losses, ``max_field_current``); the
    #: class then has ``field_turns`` (per pole, poles in series), ``field_conductor_area``
    #: [m^2] and ``field_material``
    HAS_FIELD_WINDING: ClassVar[bool] = False
    #: permanent magnets (magnet temperature, magnet eddy losses); the class then has
    #: ``magnet_material``, ``magnet_width`` [m] (one piece across its magnetisation: the
    #: eddy-current strip) and ``magnet_remanence`` [T] or None (the material's)
    HAS_MAGNETS: ClassVar[bool] = False
    #: windage roughness factor k [-] of the rotor surface (J. Saari, *Thermal analysis of
    #: high-speed induction machines*, Acta Polytechnica Scandinavica El 90, 1998: k = 1 for
    #: a smooth cylinder, 2.5 for a slotted / axially grooved surface); a closed lamination
    #: cylinder is smooth
    WINDAGE_ROUGHNESS: ClassVar[float] = 1.0

    n_poles: int
    outer_radius: float
    shaft_radius: float
    pole_axis_offset: float

    @classmethod
    def kinds(cls) -> dict[str, type]:
        """Registered topologies by ``KIND`` (how :mod:`pipeline.io.tables` reads a table)."""
        return dict(TOPOLOGIES)

    @property
    def pole_pitch(self) -> float:
        """Mechanical pole pitch [rad]."""
        return 2 * math.pi / self.n_poles

    def pole_angle(self, k: int) -> float:
        """Angle [rad] of pole k's axis in the rotor frame (pole k north for even k)."""
        return (k + 0.5) * 2 * math.pi / self.n_poles + self.pole_axis_offset

    def check_poles(self, where: str = "rotor") -> None:
        if not isinstance(self.n_poles, int) or self.n_poles < 2 or self.n_poles % 2:
            raise DesignError(f"{where}.n_poles", self.n_poles, "must be an even integer >= 2")

    @abstractmethod
    def add_regions(self, canvas: Canvas, poles: range, info: dict) -> None:
        """Draw the rotor core (region ``rotor_core``) and this topology's own regions for
        ``poles`` (the poles of the meshed sector), and record the sources in ``info``
        (``"field_coils"``: label -> {"pole", "sign"}; ``"magnets"``: label -> {"pole",
        "direction": [x, y] unit vector, signed by polarity}). The shaft is drawn by the
        builder."""

    def material_names(self) -> dict[str, str]:
        """Design material slots of this rotor beyond ``rotor.material`` and
        ``rotor.shaft_material`` (``"rotor.magnet_material"`` -> name, ...)."""
        return {}

    def thermal_regions(self, field_side_area: float, params) -> dict[str, tuple[float, float]]:
        """Conductivity [W/(m K)] and volumetric heat capacity [J/(m^3 K)] of this rotor's
        non-iron regions for the thermal model: keys ``"magnets"`` (regions ``magnet_*``)
        and ``"field"`` (regions ``field_*``; ``field_side_area`` [m^2] is one meshed coil
        side, ``params`` the :class:`~pipeline.thermal.parameters.ThermalParameters`)."""
        return {}

    def areas(self) -> dict[str, float]:
        """Closed-form areas [m^2] of the whole rotor's regions, independent of gmsh (the
        reference of the mesh checks in ``geometries/areas.py``): ``rotor_core`` and any of
        ``magnet``, ``rotor_pocket``, ``field`` (the air between them and the sliding
        interface is the rest)."""
        raise NotImplementedError(f"{type(self).__name__} states no closed-form areas")


#: registered topologies by KIND
TOPOLOGIES: dict[str, type[RotorTopology]] = {}


def register_topology(cls: type[RotorTopology]) -> type[RotorTopology]:
    """Register a rotor topology class under its ``KIND`` (usable as a decorator)."""
    return register_kind(TOPOLOGIES, RotorTopology, cls, "rotor topology")


def topology_of(obj) -> type[RotorTopology]:
    """The topology class of a design or a rotor."""
    rotor = getattr(obj, "rotor", obj)
    if not isinstance(rotor, RotorTopology):
        raise DesignError("rotor", type(rotor).__name__, "is not a registered rotor topology")
    return type(rotor)
