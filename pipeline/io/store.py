"""Result store of a sweep: one JSON file per finished task, keyed by a content hash.

Layout under ``results/<run name>/``::

    tasks/<hash>.json     one record per task (status "ok" or "failed"), written atomically
    <run name>.nc         the gathered xarray Dataset (NetCDF4; h5netcdf or netCDF4 engine) or .zarr

The hash is the SHA-256 of the canonical design, the mesh settings, the operating point,
the task kind and the package version, so a resumed sweep recomputes nothing that
finished and a code change invalidates old results. No Dask in here.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "task_hash",
    "ResultStore",
    "check_record",
    "records_to_dataset",
    "write_dataset",
    "netcdf_engine",
]

log = logging.getLogger(__name__)


def task_hash(
    design: Any, mesh_settings: Any, operating_point: dict, kind: str, version: str
) -> str:
    """SHA-256 (hex) of the JSON-canonical task inputs.

    ``design`` and ``mesh_settings`` must already be canonical (``pipeline.io.tables.canonical``).
    """
    blob = json.dumps(
        {
            "design": design,
            "mesh": mesh_settings,
            "operating_point": operating_point,
            "kind": kind,
            "version": version,
        },
        sort_keys=True,
    ).encode()
    return hashlib.sha256(blob).hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def check_record(record: Any, key: str) -> None:
    """ValueError naming the first thing wrong with a task record read back for ``key``."""
    if not isinstance(record, dict):
        raise ValueError(f"not a JSON object but {type(record).__name__}")
    if record.get("hash") != key:
        raise ValueError(f"hash {str(record.get('hash'))[:16]} is not the file's key")
    status = record.get("status")
    if status not in ("ok", "failed"):
        raise ValueError(f"status {str(status)[:20]!r} is not ok or failed")
    if not isinstance(record.get("labels"), dict):
        raise ValueError("labels missing or not an object")
    for name, v in record["labels"].items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise ValueError(f"label {name} is not a number")
    if status == "failed":
        if not isinstance(record.get("reason"), str):
            raise ValueError("failed record without a reason")
        return
    values = record.get("values")
    if not isinstance(values, dict) or not values:
        raise ValueError("ok record without values")
    for name, entry in values.items():
        ok = (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], int | float)
            and not isinstance(entry[0], bool)
            and isinstance(entry[1], str)
            and isinstance(entry[2], str)
        )
        if not ok:
            raise ValueError(f"value {name} is not [number, units, long_name]")


class ResultStore:
    """Task records of one run under ``root`` (``results/<run name>``)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.tasks = self.root / "tasks"

    def path(self, key: str) -> Path:
        return self.tasks / f"{key}.json"

    def load(self, key: str) -> dict | None:
        """The stored record of task ``key``, or None.

        A record that does not pass :func:`check_record` (unreadable, truncated, another
        task's, "ok" without values...) is reported once, moved to ``tasks/damaged/`` and
        treated as missing, so the task is recomputed.
        """
        p = self.path(key)
        if not p.exists():
            return None
        try:
            record = json.loads(p.read_text(encoding="utf-8"))
            check_record(record, key)
            return record
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            aside = self.tasks / "damaged"
            aside.mkdir(exist_ok=True)
            stamp = time.strftime("%Y%m%dT%H%M%S")
            with contextlib.suppress(FileNotFoundError):
                os.replace(p, aside / f"{p.name}.{stamp}")
            log.warning("damaged task record %s: %s; moved to %s, recomputing", p.name, exc, aside)
            return None

    def write(self, key: str, record: dict) -> Path:
        """Write one record atomically (tmp file + ``os.replace``)."""
        p = self.path(key)
        _atomic_write_text(p, json.dumps(record, indent=1, sort_keys=True))
        return p

    def keys(self) -> list[str]:
        return sorted(p.stem for p in self.tasks.glob("*.json"))


def _long_name(name: str) -> str:
    return name.replace("_", " ")


def records_to_dataset(records: list[dict], dims: list[str], attrs: dict):
    """Gather task records into an xarray Dataset along dimension ``case``.

    Each record has ``labels`` (grid coordinates, e.g. ``stator.stack_length_mm``), ``status``,
    ``reason`` and ``values`` = {name: [value, units, long_name]}. Grid keys in ``dims`` become
    coordinates along ``case``; failed tasks are NaN in every variable.
    """
    # defer: xarray loads only where datasets are read or written
    import xarray as xr

    n = len(records)
    coords: dict[str, Any] = {"case": np.arange(n)}
    for d in dims:
        vals = [r["labels"].get(d) for r in records]
        unit = d.rsplit("_", 1)[-1] if "_" in d else ""
        coords[d] = (
            "case",
            np.array([np.nan if v is None else v for v in vals], dtype=float),
            {"units": unit if unit in ("mm", "A", "rpm", "deg", "mm2") else "1", "long_name": d},
        )
    meta: dict[str, tuple[str, str]] = {}
    for r in records:
        for name, (_, units, long_name) in (r.get("values") or {}).items():
            meta.setdefault(name, (units, long_name))
    data_vars: dict[str, Any] = {}
    for name, (units, long_name) in sorted(meta.items()):
        col = np.full(n, np.nan)
        for i, r in enumerate(records):
            v = (r.get("values") or {}).get(name)
            if v is not None:
                col[i] = v[0]
        data_vars[name] = ("case", col, {"units": units, "long_name": long_name})
    data_vars["status"] = (
        "case",
        np.array([r["status"] for r in records], dtype=str),
        {"units": "1", "long_name": "task status (ok or failed)"},
    )
    data_vars["reason"] = (
        "case",
        np.array([r.get("reason") or "" for r in records], dtype=str),
        {"units": "1", "long_name": "failure reason (exception type: message)"},
    )
    data_vars["task_hash"] = (
        "case",
        np.array([r["hash"] for r in records], dtype=str),
        {"units": "1", "long_name": "content hash of the task inputs"},
    )
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def netcdf_engine() -> str:
    """``h5netcdf`` if its h5py backend is importable, else ``netcdf4``, else ``scipy``."""

    for engine, module in (("h5netcdf", "h5py"), ("netcdf4", "netCDF4")):
        if importlib.util.find_spec(module) is not None:
            return engine
    return "scipy"


def write_dataset(ds, path: str | Path, fmt: str = "netcdf") -> Path:
    """Write ``ds`` atomically as NetCDF (h5netcdf) or Zarr; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "zarr":
        ds.to_zarr(path, mode="w")
        return path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    ds.to_netcdf(tmp, engine=netcdf_engine())
    os.replace(tmp, path)
    return path
