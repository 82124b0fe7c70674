"""Shared fixtures: a private mesh cache and results folder per test session."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep tests hermetic: meshes and results go to a temporary folder."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EDRIVE_MESH_DIR", str(tmp_path_factory.mktemp("meshes")))
    mp.setenv("EDRIVE_RESULTS_DIR", str(tmp_path_factory.mktemp("results")))
    yield
    mp.undo()
