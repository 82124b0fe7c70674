"""The machine-model interface that efficiency maps, thermal limits and drive cycles read.

Two implementations: :class:`pipeline.maps.model.MachineMap` (interpolated from finite-element
flux and loss maps) and :class:`tests.linear_machine.LinearMachine` (constant inductances,
closed-form optima; for tests). Everything is SI: currents [A] peak phase values in the
amplitude-invariant dq frame (``pipeline.em.park``), field current [A], flux linkages [Wb]
peak phase, torque [N m], mechanical speed [rad/s], temperatures [K], losses [W].

Array arguments broadcast against each other (numpy rules); results have the broadcast shape.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from pipeline.losses import LOSS_KEYS

__all__ = ["LOSS_KEYS", "TEMPERATURE_KEYS", "MachineMapProtocol"]


#: Temperatures a model reads [K]; a missing key means the model's reference temperature.
TEMPERATURE_KEYS = ("winding", "field", "magnet")


@runtime_checkable
class MachineMapProtocol(Protocol):
    """What a machine model offers to the strategy, efficiency, thermal and cycle code."""

    name: str  # design name
    has_field_winding: bool  # a wound field (i_f axis): RotorTopology.HAS_FIELD_WINDING
    pole_pairs: int
    i_max: float  # stator current limit, peak phase [A]
    i_f_max: float  # field current limit [A] (0 for PM)
    u_f_max: float  # field supply voltage limit [V] (0 for PM)
    dc_link_voltage: float  # [V]
    max_speed: float  # [rad/s] mechanical
    i_d_range: tuple[float, float]  # domain of the model [A]
    i_q_range: tuple[float, float]
    i_f_range: tuple[float, float]  # (0, 0) for PM

    def flux(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0):
        """(psi_d, psi_q, psi_f) [Wb], end-winding leakage included; psi_f = 0 for PM."""

    def torque(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0) -> np.ndarray:
        """Mean electromagnetic torque [N m] (finite-element Arkkio torque for a map)."""

    def losses(
        self,
        i_d: ArrayLike,
        i_q: ArrayLike,
        i_f: ArrayLike,
        speed: ArrayLike,
        temperatures: dict | None = None,
    ) -> dict[str, np.ndarray]:
        """Loss components [W] under :data:`LOSS_KEYS` at mechanical speed [rad/s]."""

    def phase_resistance(self, temperature: float) -> float:
        """DC phase resistance incl. end windings at ``temperature`` [K] [ohm]."""

    def field_resistance(self, temperature: float) -> float:
        """Field-winding resistance at ``temperature`` [K] [ohm] (0 for PM)."""

    def inside(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0) -> np.ndarray:
        """True where (i_d, i_q, i_f) lies inside the model's domain (no extrapolation)."""
