"""Where generated files go: the results directory (``EDRIVE_RESULTS_DIR`` or ``results/``)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["RESULTS", "results_dir"]

#: default results directory: ``results/`` beside the package
RESULTS = Path(__file__).resolve().parent.parent.parent / "results"


def results_dir() -> Path:
    """The results directory: ``$EDRIVE_RESULTS_DIR`` if set, else :data:`RESULTS`."""
    env = os.environ.get("EDRIVE_RESULTS_DIR")
    return Path(env) if env else RESULTS
