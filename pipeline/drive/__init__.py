"""Drive unit beyond the motor: inverter and gearbox losses, vehicle model, drive cycles."""

from pipeline.drive import cycle, gearbox, inverter, vehicle

__all__ = ["cycle", "gearbox", "inverter", "vehicle"]
