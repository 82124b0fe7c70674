"""Mesh settings: a level name and the factors that turn design dimensions into sizes.

Sizes are never absolute: every length comes from the design (airgap, slot pitch, magnet
thickness), scaled by the level's factors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from pipeline.errors import DesignError

__all__ = ["MeshSettings", "LEVELS", "mesh_settings", "BUILDER_VERSION"]

#: bump when the builder's output changes for the same inputs (keys the mesh cache)
BUILDER_VERSION = "2"  # 2: stator mesh periodic under pi/3 el. (issue 16)


@dataclass(frozen=True)
class MeshSettings:
    """How finely to mesh [-].

    ``gap_layers``: element layers across the airgap (three sub-layers: rotor side, torque
    band, stator side, each ``gap_layers / 3`` thick elements). ``gap_aspect``: tangential
    size over radial size at the airgap. ``slot_pitch_divisions``: elements per slot pitch
    in the teeth. ``growth``: size increase per unit distance from the airgap [-].
    ``positions_multiple``: sliding-interface segments per electrical period are a multiple of
    this, so that rotor steps of 360/n electrical degrees land on nodes for every n dividing it.
    ``curvature_divisions``: elements per full circle on curved boundaries (48 keeps the
    chord-area error of a circle below (2 pi/48)^2/6 = 0.29 %).
    ``sector``: mesh the smallest (anti-)periodic sector instead of the full machine.
    """

    level: str = "ci"
    gap_layers: int = 3
    gap_aspect: float = 2.0
    slot_pitch_divisions: float = 3.0
    growth: float = 0.25
    positions_multiple: int = 144
    curvature_divisions: int = 48
    sector: bool = True

    def __post_init__(self):
        if not isinstance(self.gap_layers, int) or self.gap_layers < 3 or self.gap_layers % 3:
            raise DesignError("mesh.gap_layers", self.gap_layers, "must be a multiple of 3, >= 3")
        for name in ("gap_aspect", "slot_pitch_divisions", "growth"):
            v = getattr(self, name)
            if not (v > 0 and math.isfinite(v)):
                raise DesignError(f"mesh.{name}", v, "must be a positive number")
        if not isinstance(self.positions_multiple, int) or self.positions_multiple < 1:
            raise DesignError(
                "mesh.positions_multiple", self.positions_multiple, "must be a positive integer"
            )


LEVELS = {
    "ci": MeshSettings(
        level="ci", gap_layers=3, gap_aspect=2.5, slot_pitch_divisions=3.0, growth=0.3
    ),
    "fine": MeshSettings(
        level="fine",
        gap_layers=6,
        gap_aspect=1.5,
        slot_pitch_divisions=6.0,
        growth=0.15,
        curvature_divisions=96,
    ),
}


def mesh_settings(level: str, sector: bool = True) -> MeshSettings:
    """The named level's settings (``ci`` or ``fine``), sector or full machine."""
    if level not in LEVELS:
        raise DesignError("level", level, f"must be one of {', '.join(LEVELS)}")

    return replace(LEVELS[level], sector=sector)
