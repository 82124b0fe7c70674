"""Verification cases with closed-form answers, runnable without the test suite.

- :mod:`pipeline.verification.em_geometries` small gmsh geometries (round conductor,
  magnet in a bore, conductor in a saturating ring, FEMM torque benchmark, PM ring sector)
- :mod:`pipeline.verification.em_cases` magnetostatic cases and their exact answers
- :mod:`pipeline.verification.thermal_cases` conduction cases and their exact answers

The tests (``tests/test_em_*.py``, ``tests/test_thermal_*.py``) assert on these numbers;
``edrive validate`` reports them.
"""
