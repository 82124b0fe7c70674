"""The command layer: argparse, printing, the results folder layout and file and picture
writing for the ``edrive`` verbs (see docs/architecture.md for the layer order). Library
modules never import from here."""

from __future__ import annotations

import json

__all__ = ["emit"]


def emit(args, summary: dict, lines: list[str]) -> None:
    """Print ``summary`` as JSON with ``--json``, else the human-readable ``lines``."""
    if args.json:
        print(json.dumps(summary, indent=1, sort_keys=True))
    else:
        print("\n".join(lines))
