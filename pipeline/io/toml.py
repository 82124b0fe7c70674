"""TOML reading with errors that name the file and the line."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.errors import DesignError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["read_toml", "loads_toml"]


def loads_toml(text: str, origin: str = "<string>") -> dict:
    """Parse TOML text; a syntax error becomes a one-line :class:`DesignError`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(origin, "TOML", f"syntax error: {exc}") from None


def read_toml(path: str | Path) -> dict:
    path = Path(path)
    return loads_toml(path.read_text(), origin=str(path))
