"""Writing the efficiency stage: ``efficiency.nc`` and its pictures.

:func:`pipeline.maps.efficiency.compute_efficiency` computes; this module writes, for the
command layer (``edrive map``) and for design studies.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.io.store import write_dataset
from pipeline.maps.efficiency import EfficiencyResult, compute_efficiency
from pipeline.reports.maps import efficiency_figures

__all__ = ["write_efficiency", "run_efficiency_stage"]


def write_efficiency(result: EfficiencyResult, out_dir) -> dict:
    """Write ``efficiency.nc`` and the PNGs of ``result`` into ``out_dir``; the summary with
    the paths added (``dataset``, ``pictures``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds_path = write_dataset(result.dataset, out / "efficiency.nc")
    pngs = efficiency_figures(result.dataset, result.cycle, out, title=result.title)
    return {**result.summary, "dataset": str(ds_path), "pictures": [str(p) for p in pngs]}


def run_efficiency_stage(machine_map, design, out_dir, options=None) -> dict:
    """:func:`~pipeline.maps.efficiency.compute_efficiency`, then :func:`write_efficiency`."""
    return write_efficiency(compute_efficiency(machine_map, design, options), out_dir)
