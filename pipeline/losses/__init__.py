"""Loss models: iron, copper (stator, field, brushes), magnet eddy currents, mechanical.

Pure functions in SI; see each module's docstring for equations and references.
"""

from pipeline.losses import copper, iron, magnet, mechanical

__all__ = ["copper", "iron", "magnet", "mechanical"]
