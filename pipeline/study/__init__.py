"""Design studies: many variants of one design, each with its flux and loss map, efficiency
maps, WLTC energy, thermal ratings, masses and cost, run as one task graph on a Dask cluster.

Layers: :mod:`~pipeline.study.sampling` (which variants), :mod:`~pipeline.study.kpis`
(pure functions: masses, cost, shear stress, current density), :mod:`~pipeline.study.spec`
(the study TOML, validated), :mod:`~pipeline.study.run` (the task graph, caching, progress),
:mod:`~pipeline.study.outputs` (study.nc, ranked CSV, Pareto fronts, pictures). Command:
``edrive sweep workflows/gen5_design_study_ci.toml`` (``compute = "study"``).
"""

from pipeline.study.run import StudySummary, run_study
from pipeline.study.spec import StudySpec, load_study

__all__ = ["StudySpec", "load_study", "run_study", "StudySummary"]
