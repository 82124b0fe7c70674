"""TOML reading with errors that name the file and the line (through :mod:`pipeline.io.inputs`)."""

from __future__ import annotations

from pathlib import Path

from pipeline.io import inputs

__all__ = ["read_toml", "loads_toml"]


def loads_toml(text: str, origin: str = "<string>") -> dict:
    """Parse TOML text; a syntax error or runaway nesting becomes a one-line :class:`DesignError`."""
    return inputs.loads_toml(text, origin)


def read_toml(path: str | Path, field: str | None = None) -> dict:
    """Read a TOML file (regular, UTF-8, size-limited) and parse it."""
    return inputs.read_toml(path, field)
