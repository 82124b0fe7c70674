"""Loss models: iron, copper (stator, field, brushes), magnet eddy currents, mechanical.

Pure functions in SI; see each module's docstring for equations and references.
"""

from pipeline.losses import copper, iron, magnet, mechanical

__all__ = ["LOSS_KEYS", "copper", "iron", "magnet", "mechanical"]

#: Loss components every model returns (zeros where a component does not exist).
LOSS_KEYS = (
    "stator_copper",  # DC x AC factor, rho(T), incl. end windings
    "field_copper",  # EESM rotor winding, rho(T)
    "brushes",  # slip rings: electrical (brush drop) + friction
    "iron_stator_teeth",
    "iron_stator_yoke",
    "iron_rotor",
    "magnet",  # PM eddy currents
    "mechanical",  # bearings + windage
)
