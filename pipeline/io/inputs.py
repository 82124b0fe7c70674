"""The input layer: every file the project reads goes through here first.

Designs, materials, BH and loss tables, workflows, grid and vehicle files, loss JSON and
cluster YAML are read with :func:`read_text` (a regular, readable, UTF-8 file below a size
limit), parsed with :func:`read_toml` / :func:`read_json` / :func:`read_yaml` (syntax errors
and nesting beyond :data:`MAX_DEPTH` refused) and checked with :func:`check_keys` and
:func:`check_number` (unknown keys named, types, finite numbers, bounds). Every refusal is
a one-line :class:`~pipeline.errors.DesignError` ``field = value: rule`` with the value cut
to :data:`~pipeline.errors.MAX_VALUE_CHARS` characters; the command layer turns it into
exit code 2 (issue 17).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import tomllib

from pipeline.errors import DesignError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_DEPTH",
    "read_text",
    "loads_toml",
    "read_toml",
    "read_json",
    "read_yaml",
    "check_depth",
    "check_keys",
    "check_number",
    "check_table",
    "read_number_rows",
]

#: largest input file [bytes]. The largest file the project ships (a BH or loss table, a
#: design) is below 20 kB; 4 MiB is 200 times that and still parses in well under a second,
#: while a 50 MB paste is refused before it is read.
MAX_FILE_BYTES = 4 * 1024 * 1024

#: deepest nesting of tables/arrays [-]. Legitimate inputs nest at most 4 deep (a workflow's
#: ``[[design_list]]`` entry, a design's ``[rotor]`` table with a list); 32 leaves room and
#: stays far below the parsers' recursion limit (about 1000 frames).
MAX_DEPTH = 32


def read_text(path: str | Path, field: str, max_bytes: int | None = None) -> str:
    """The text of ``path``: an existing regular file, at most ``max_bytes`` (default
    :data:`MAX_FILE_BYTES`), UTF-8."""
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    path = Path(path)
    where = str(path)
    try:
        exists, regular = path.exists(), path.is_file()
        size = path.stat().st_size if regular else 0
    except OSError as exc:  # a name too long, a permission problem on a parent folder
        raise DesignError(field, where, f"cannot be read ({exc.strerror or exc})") from None
    if not exists:
        raise DesignError(field, where, "file does not exist")
    if not regular:
        raise DesignError(field, where, "is not a regular file (a directory or a device?)")
    if size > max_bytes:
        raise DesignError(
            field, where, f"file is {size} bytes; the limit is {max_bytes} bytes for an input"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DesignError(field, where, f"cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DesignError(
            field,
            where,
            f"is not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})",
        ) from None


def check_depth(obj: Any, field: str, limit: int = MAX_DEPTH) -> None:
    """Refuse tables/arrays nested deeper than ``limit`` (iterative, no recursion)."""
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        if depth > limit:
            raise DesignError(field, f"depth {depth}", f"nesting deeper than {limit} levels")
        stack.extend((c, depth + 1) for c in children)


def loads_toml(text: str, field: str) -> dict:
    """Parse TOML text; syntax errors and runaway nesting become one-line errors."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DesignError(field, "TOML", f"syntax error: {exc}") from None
    except RecursionError:
        raise DesignError(field, "TOML", f"nesting deeper than {MAX_DEPTH} levels") from None
    check_depth(table, field)
    return table


def read_toml(path: str | Path, field: str | None = None) -> dict:
    """Read and parse a TOML file through :func:`read_text`."""
    field = field or str(path)
    return loads_toml(read_text(path, field), field)


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def read_json(path: str | Path, field: str) -> Any:
    """Read and parse a JSON file; NaN/Infinity literals and runaway nesting refused."""
    text = read_text(path, field)
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise DesignError(field, str(path), f"nesting deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise DesignError(field, str(path), f"not valid JSON ({exc})") from None
    check_depth(data, field)
    return data


def read_yaml(path: str | Path, field: str) -> Any:
    """Read and parse a YAML file (safe loader); syntax errors and runaway nesting refused."""
    # defer: YAML loads only for cluster files
    import yaml

    text = read_text(path, field)
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise DesignError(field, str(path), f"nesting deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DesignError(field, str(path), f"not valid YAML ({first})") from None
    check_depth(data, field)
    return data


def check_table(value: Any, field: str) -> dict:
    """``value`` itself, if it is a table (mapping)."""
    if not isinstance(value, dict):
        raise DesignError(field, value, f"must be a table, not {type(value).__name__}")
    return value


def check_keys(table: Any, field: str, known: set[str] | dict, required: tuple = ()) -> dict:
    """Refuse a non-table, unknown keys (named, with the known ones) and missing required keys."""
    check_table(table, field)
    for key in table:
        if key not in known:
            raise DesignError(
                f"{field}.{key}", table[key], f"unknown key; expected one of {sorted(known)}"
            )
    for key in required:
        if key not in table:
            raise DesignError(f"{field}.{key}", None, "is required")
    return table


def check_number(
    field: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    integer: bool = False,
    lo_open: bool = False,
    why: str = "",
) -> float | int:
    """A finite number (an integer if ``integer``) in ``[lo, hi]`` (``(lo, hi]`` if ``lo_open``).

    Booleans are refused (``true`` is an int in Python, not a quantity); ``why`` is appended
    to the rule, for the reason behind a bound.
    """
    tail = f" ({why})" if why else ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DesignError(field, value, f"must be {'an integer' if integer else 'a number'}{tail}")
    if integer and not isinstance(value, int):
        raise DesignError(field, value, f"must be an integer{tail}")
    if not math.isfinite(value):
        raise DesignError(field, value, "must be a finite number")
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise DesignError(field, value, f"must be {'>' if lo_open else '>='} {lo:g}{tail}")
    if hi is not None and value > hi:
        raise DesignError(field, value, f"must be <= {hi:g}{tail}")
    return value


def read_number_rows(
    path: str | Path, field: str, columns: int, min_rows: int = 1
) -> tuple[list[tuple[float, ...]], list[str]]:
    """Rows of ``columns`` finite numbers from a comma-separated table.

    Lines starting with ``#`` are comments (returned, for ``# source:`` headers); one header
    line of column names (its first cell not a number) is allowed before the data. A row
    with the wrong number of cells, a non-numeric cell or a NaN/inf, or fewer than
    ``min_rows`` data rows, is refused naming the line.
    """
    text = read_text(path, field)
    comments, rows, header_seen = [], [], False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            comments.append(line)
            continue
        cells = [c.strip() for c in line.split(",")]
        if not rows and not header_seen and not _is_number(cells[0]):
            header_seen = True
            continue
        where = f"{field} line {number}"
        if len(cells) != columns:
            raise DesignError(where, line, f"needs {columns} comma-separated numbers")
        if not all(_is_number(c) for c in cells):
            raise DesignError(where, line, "every cell must be a finite number")
        rows.append(tuple(float(c) for c in cells))
    if len(rows) < min_rows:
        raise DesignError(field, str(path), f"has {len(rows)} data rows; needs >= {min_rows}")
    return rows, comments


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
