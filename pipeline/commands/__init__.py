"""The command layer: argparse, printing, the results folder layout and file and picture
writing for the ``edrive`` verbs (see docs/architecture.md for the layer order). Library
modules never import from here."""

from __future__ import annotations

import json

__all__ = ["emit", "add_where_arguments"]


def emit(args, summary: dict, lines: list[str]) -> None:
    """Print ``summary`` as JSON with ``--json``, else the human-readable ``lines``."""
    if args.json:
        print(json.dumps(summary, indent=1, sort_keys=True))
    else:
        print("\n".join(lines))


def add_where_arguments(parser) -> None:
    """``--scheduler ADDR|synchronous`` or ``--cluster FILE``: where the tasks of a verb run
    (default: a local Dask cluster; :mod:`pipeline.cluster`). One spelling for every verb."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="existing Dask scheduler, e.g. tcp://host:8786, or 'synchronous' (every task in "
        "this process, no cluster: debugging, no Dask client)",
    )
    where.add_argument(
        "--cluster", metavar="FILE", help="dask-jobqueue YAML (workflows/cluster/*.yaml)"
    )
