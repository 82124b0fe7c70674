"""Convert between frozen dataclasses (SI) and TOML tables (keys carry their unit).

A dataclass field declares the unit its file key uses with ``field(metadata={"unit": "mm"})``;
the key in the file is then ``<name>_mm`` and the value is scaled to SI on reading. Nested
dataclasses are sub-tables. Unknown, missing or mistyped keys raise a one-line
:class:`~pipeline.errors.DesignError` naming the key.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

from pipeline.errors import DesignError

__all__ = [
    "UNIT_SCALE",
    "from_table",
    "to_table",
    "unit_field",
    "canonical",
    "register_kind",
]

#: file unit suffix -> factor to SI
UNIT_SCALE = {
    "mm": 1e-3,
    "m": 1.0,
    "deg": math.pi / 180.0,
    "rpm": 2.0 * math.pi / 60.0,
    "kW": 1e3,
    "W": 1.0,
    "Nm": 1.0,
    "V": 1.0,
    "A": 1.0,
    "mm2": 1e-6,
    "C": 1.0,
    "lpm": 1e-3 / 60.0,
    "W_per_K": 1.0,
    "T": 1.0,
}


#: largest length a design file may give [m]: no electric-drive dimension approaches 10 m
#: (the reference machines are below 0.3 m); a larger value is a unit mistake, and 1e308 mm
#: would carry inf into torque and losses (issue 17)
MAX_LENGTH = 10.0


def unit_field(unit: str, default: Any = dataclasses.MISSING, **kwargs) -> Any:
    """A dataclass field whose file key is ``<name>_<unit>``."""
    if default is dataclasses.MISSING:
        return dataclasses.field(metadata={"unit": unit}, **kwargs)
    return dataclasses.field(default=default, metadata={"unit": unit}, **kwargs)


def _key(f: dataclasses.Field) -> str:
    unit = f.metadata.get("unit")
    return f"{f.name}_{unit}" if unit else f.name


def _resolve(cls) -> dict:
    return typing.get_type_hints(cls)


def _convert(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) or _is_registry(tp):
        if not isinstance(value, dict):
            raise DesignError(where, value, "must be a table")
        return from_table(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        # a union of dataclasses is resolved by the table's "kind" key
        if all(dataclasses.is_dataclass(a) for a in args):
            kinds = {a.KIND: a for a in args}
            kind = value.get("kind") if isinstance(value, dict) else None
            if kind not in kinds:
                raise DesignError(f"{where}.kind", kind, f"must be one of {', '.join(kinds)}")
            return from_table(kinds[kind], value, where)
        return _convert(value, args[0], where)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DesignError(where, value, "must be a number")
        if not math.isfinite(value):
            raise DesignError(where, value, "must be a finite number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise DesignError(where, value, "must be an integer")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise DesignError(where, value, "must be true or false")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise DesignError(where, value, "must be a string")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise DesignError(where, value, "must be a list")
        (inner, *_) = typing.get_args(tp)
        return tuple(_convert(v, inner, f"{where}[{i}]") for i, v in enumerate(value))
    return value


def _is_registry(cls) -> bool:
    """An extension-point base (rotor topology, cooling model): a class with its own
    ``kinds()`` registry; a table names its implementation by ``kind``."""
    return isinstance(cls, type) and "kinds" in vars(cls)


def from_table(cls, table: dict, where: str = ""):
    """Build dataclass ``cls`` from a TOML table whose keys carry their unit (for an
    extension-point base, the registered class named by the table's ``kind``)."""
    if _is_registry(cls):
        kinds = cls.kinds()
        kind = table.get("kind") if isinstance(table, dict) else None
        if kind not in kinds:
            raise DesignError(f"{where}.kind".lstrip("."), kind, f"must be one of {', '.join(kinds)}")
        cls = kinds[kind]
    hints = _resolve(cls)
    fields = {_key(f): f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in table.items():
        if key == "kind" and hasattr(cls, "KIND"):
            continue
        if key not in fields:
            raise DesignError(
                f"{where}.{key}".lstrip("."),
                value,
                f"unknown key; expected one of {sorted(fields)}",
            )
        f = fields[key]
        v = _convert(value, hints[f.name], f"{where}.{key}".lstrip("."))
        unit = f.metadata.get("unit")
        if unit and v is not None:
            v = v * UNIT_SCALE[unit]
            if unit in ("mm", "m") and abs(v) > MAX_LENGTH:
                raise DesignError(
                    f"{where}.{key}".lstrip("."), value, f"must be <= {MAX_LENGTH:g} m (unit typo?)"
                )
        kwargs[f.name] = v
    for key, f in fields.items():
        if (
            f.name not in kwargs
            and f.default is dataclasses.MISSING
            and (f.default_factory is dataclasses.MISSING)
        ):
            raise DesignError(f"{where}.{key}".lstrip("."), None, "is required")
    return cls(**kwargs)


def _omitted(obj, f: dataclasses.Field) -> bool:
    """A field marked ``omit_default`` at its default: not written, not hashed (so adding
    such a field changes no existing file or content hash)."""
    return bool(f.metadata.get("omit_default")) and getattr(obj, f.name) == f.default


def to_table(obj) -> dict:
    """The inverse of :func:`from_table` (values back in file units)."""
    out: dict = {}
    if hasattr(obj, "KIND"):
        out["kind"] = obj.KIND
    for f in dataclasses.fields(obj):
        if not f.init or _omitted(obj, f):
            continue
        v = getattr(obj, f.name)
        unit = f.metadata.get("unit")
        if dataclasses.is_dataclass(v):
            v = to_table(v)
        elif isinstance(v, tuple) and v and all(dataclasses.is_dataclass(x) for x in v):
            v = [to_table(x) for x in v]  # an array of tables
        elif unit and v is not None:
            v = v / UNIT_SCALE[unit]
        if v is not None:
            out[_key(f)] = list(v) if isinstance(v, tuple) else v
    return out


def canonical(obj) -> Any:
    """A JSON-ready, order-stable representation (for content hashes)."""
    if dataclasses.is_dataclass(obj):
        d = {"__kind__": getattr(obj, "KIND", type(obj).__name__)}
        for f in dataclasses.fields(obj):
            if f.metadata.get("provenance") or _omitted(obj, f):  # provenance: not a value
                continue
            d[f.name] = canonical(getattr(obj, f.name))
        return d
    if isinstance(obj, float):
        return float(f"{obj:.12g}")
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, dict):
        return {k: canonical(obj[k]) for k in sorted(obj)}
    return obj


def register_kind(registry: dict, base: type, cls: type, what: str) -> type:
    """Put ``cls`` (a subclass of ``base``) into ``registry`` under its ``KIND`` (letters,
    digits and underscores; one class per kind); the registries of the extension points
    (rotor topologies, cooling models) that :func:`from_table` reads tables through."""
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"{cls!r} is not a {base.__name__} subclass")
    kind = getattr(cls, "KIND", None)
    if not isinstance(kind, str) or not kind.replace("_", "").isalnum():
        raise ValueError(f"{cls.__name__}.KIND must be letters, digits and underscores")
    known = registry.get(kind)
    if known is not None and known is not cls:
        raise ValueError(f"{what} {kind!r} is already registered by {known.__name__}")
    registry[kind] = cls
    return cls
