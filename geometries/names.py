"""One vocabulary of physical-group names, shared by builders, solvers and tests."""

from __future__ import annotations

__all__ = [
    "STATOR_CORE",
    "ROTOR_CORE",
    "SHAFT",
    "HOUSING",
    "AIRGAP_ROTOR",
    "AIRGAP_BAND",
    "AIRGAP_STATOR",
    "SLOT_OPENING",
    "SLOT_LINER",
    "ROTOR_POCKET",
    "OUTER_BOUNDARY",
    "SLIDING_INTERFACE",
    "STATOR_OUTER",
    "PERIODIC",
    "coil_name",
    "field_name",
    "magnet_name",
    "coolant_name",
    "coolant_wall_name",
]

STATOR_CORE = "stator_core"
ROTOR_CORE = "rotor_core"
SHAFT = "shaft"
HOUSING = "housing"
#: air between the rotor and the sliding interface (with the interpolar air of a salient rotor)
AIRGAP_ROTOR = "airgap_rotor"
#: stationary airgap layer just outside the sliding interface: Arkkio's torque band
AIRGAP_BAND = "airgap_band"
AIRGAP_STATOR = "airgap_stator"
SLOT_OPENING = "slot_opening"
SLOT_LINER = "slot_liner"
ROTOR_POCKET = "rotor_pocket"

OUTER_BOUNDARY = "outer_boundary"
SLIDING_INTERFACE = "sliding_interface"
STATOR_OUTER = "stator_outer"
#: boundary pairs of a sector model: (master at angle 0, slave at the sector angle)
PERIODIC = {
    "stator": ("periodic_stator_master", "periodic_stator_slave"),
    "rotor": ("periodic_rotor_master", "periodic_rotor_slave"),
}


def coil_name(slot: int, layer: int, label: str) -> str:
    """Stator coil side, e.g. ``coil_A+_s03_l0`` (phase and current sign, slot, layer)."""
    return f"coil_{label}_s{slot:02d}_l{layer}"


def field_name(pole: int, sign: int) -> str:
    """Rotor field-coil side of ``pole``; ``sign`` is the current direction (+z) for i_f > 0."""
    return f"field_p{pole}_{'+' if sign > 0 else '-'}"


def magnet_name(pole: int, index: int) -> str:
    return f"magnet_p{pole}_{index}"


def coolant_name(k: int) -> str:
    return f"coolant_{k}"


def coolant_wall_name(k: int) -> str:
    return f"coolant_wall_{k}"
