"""Verification geometries now live in :mod:`pipeline.verification.em_geometries` (so that
``edrive validate`` can run them); re-exported here for the tests and benchmarks."""

from pipeline.verification.em_geometries import (  # noqa: F401
    M19_B,
    M19_H,
    TORQUE_BENCHMARK,
    __all__,  # noqa: F401
    conductor_in_iron,
    gmsh_session,
    magnet_in_bore,
    pm_ring_sector,
    replicate_sector,
    round_conductor,
    torque_benchmark,
)
