"""States of the machine thermal model (:class:`pipeline.thermal.machine.MachineThermalModel`):
a steady or transient-end state and a transient history."""

from __future__ import annotations

from dataclasses import dataclass, field

from numpy.typing import NDArray

__all__ = ["ThermalState", "TransientResult"]


@dataclass(frozen=True, eq=False)
class ThermalState:
    """A steady (or transient end) state.

    T_fe: nodal temperatures of the sector [K]; T_net: node temperatures [K] (names in
    ``node_names``); hot_spots [K] (winding incl. end winding, end_winding, field, magnet;
    absent keys do not exist); means [K] (winding, field, magnet) for the loss models;
    balance [W] (whole machine): generated, to_coolant (machine share), to_ambient, stored,
    imbalance; coolant: outlet temperature [K], h [W/(m^2 K)], mass flow [kg/s].
    """

    T_fe: NDArray
    T_net: NDArray
    node_names: tuple[str, ...]
    hot_spots: dict
    means: dict
    balance: dict
    coolant: dict
    losses: dict = field(default_factory=dict)
    iterations: int = 0


@dataclass(frozen=True, eq=False)
class TransientResult:
    """Transient: times [s], hot-spot histories [K] (dict of arrays), balance histories
    [W] (generated, to_coolant, to_ambient, stored), the final state and the time the
    first limit was reached [s] (inf if not within the run) with the limiting part."""

    times: NDArray
    hot_spots: dict
    balance: dict
    final: ThermalState
    time_to_limit: float
    limiting: str
