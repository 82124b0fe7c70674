"""Rotor topologies: the :class:`~pipeline.rotors.base.RotorTopology` interface, its
registry and one module per topology (salient-pole wound rotor, V-shaped interior
magnets). Importing this package registers the built-in topologies."""

from pipeline.rotors.base import (
    TOPOLOGIES,
    Canvas,
    RotorTopology,
    register_topology,
    topology_of,
)
from pipeline.rotors.salient_pole import SalientPoleRotor
from pipeline.rotors.v_magnet import VMagnetRotor

#: any registered rotor (the type of ``Design.rotor``)
Rotor = RotorTopology

__all__ = [
    "Canvas",
    "RotorTopology",
    "Rotor",
    "SalientPoleRotor",
    "VMagnetRotor",
    "TOPOLOGIES",
    "register_topology",
    "topology_of",
]
