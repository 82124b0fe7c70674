"""Meshed cross-sections: named groups arrive, areas match closed forms, sector x n = full,
the cache reuses its files, and the sliding interface and periodic boundaries are usable."""

import math

import numpy as np
import pytest

from geometries import names
from geometries.areas import analytic_areas, mesh_area_by_kind
from pipeline.design import list_designs, load_design
from pipeline.mesh import get_mesh
from pipeline.winding import winding_layout

DESIGNS = list_designs()


@pytest.fixture(scope="module")
def meshes():
    out = {}
    for name in DESIGNS:
        d = load_design(name)
        out[name] = (d, get_mesh(d, "ci", sector=True), get_mesh(d, "ci", sector=False))
    return out


@pytest.mark.parametrize("name", DESIGNS)
@pytest.mark.parametrize("model", ["sector", "full"])
def test_region_areas_match_closed_forms(meshes, name, model):
    d, sector, full = meshes[name]
    mm = sector if model == "sector" else full
    ref = analytic_areas(d, mm.n_sectors)
    got = mesh_area_by_kind(mm.areas())
    for kind, area in ref.items():
        if kind == "copper":
            continue
        # straight-edged triangles on arcs: the chord error of a circle meshed with 48
        # segments is (2 pi/48)^2/6 = 0.29 %, below the 0.5 % the issue asks for
        assert got[kind] == pytest.approx(area, rel=5e-3), kind


@pytest.mark.parametrize("name", DESIGNS)
def test_sector_times_count_equals_full(meshes, name):
    d, sector, full = meshes[name]
    a_sector = mesh_area_by_kind(sector.areas())
    a_full = mesh_area_by_kind(full.areas())
    for kind in a_full:
        # both meshes approximate the same arcs with the same sizes: differences are chord
        # errors of at most a few 1e-4
        assert sector.n_sectors * a_sector[kind] == pytest.approx(a_full[kind], rel=2e-3), kind
    total = sum(a_full.values())
    assert total == pytest.approx(math.pi * d.housing.outer_radius**2, rel=1e-3)


@pytest.mark.parametrize("name", DESIGNS)
def test_every_expected_group_arrives(meshes, name):
    d, sector, full = meshes[name]
    layout = winding_layout(d)
    for mm in (sector, full):
        n = mm.n_sectors
        sub = set(mm.mesh.subdomains)
        expected = {
            names.STATOR_CORE,
            names.ROTOR_CORE,
            names.SHAFT,
            names.HOUSING,
            names.AIRGAP_ROTOR,
            names.AIRGAP_BAND,
            names.AIRGAP_STATOR,
            names.SLOT_OPENING,
        }
        for k in range(d.stator.n_slots // n):
            for layer in range(d.winding.n_layers):
                expected.add(names.coil_name(k, layer, layout.label(k, layer)))
        for k in range(d.housing.n_channels // n):
            expected.add(names.coolant_name(k))
        if d.kind == "eesm":
            for p in range(d.n_poles // n):
                s = 1 if p % 2 == 0 else -1
                expected |= {names.field_name(p, s), names.field_name(p, -s)}
        else:
            expected.add(names.ROTOR_POCKET)
            for p in range(d.n_poles // n):
                expected |= {names.magnet_name(p, 0), names.magnet_name(p, 1)}
        if d.winding.conductor == "hairpin":
            expected.add(names.SLOT_LINER)
        assert sub == expected
        bnd = set(mm.mesh.boundaries)
        needed = {names.OUTER_BOUNDARY, names.SLIDING_INTERFACE, names.STATOR_OUTER}
        needed |= {names.coolant_wall_name(k) for k in range(d.housing.n_channels // n)}
        if n > 1:
            needed |= {*names.PERIODIC["stator"], *names.PERIODIC["rotor"]}
        assert needed <= bnd, needed - bnd
        # every element belongs to exactly one region
        counts = np.zeros(mm.mesh.t.shape[1], dtype=int)
        for idx in mm.mesh.subdomains.values():
            counts[idx] += 1
        assert np.all(counts == 1)


@pytest.mark.parametrize("name", DESIGNS)
def test_sliding_interface_nodes_are_uniform(meshes, name):
    d, sector, full = meshes[name]
    for mm in (sector, full):
        m = mm.mesh
        nodes = np.unique(m.facets[:, m.boundaries[names.SLIDING_INTERFACE]])
        r = np.hypot(*m.p[:, nodes])
        assert np.allclose(r, mm.info["radii"]["sliding"], rtol=1e-9)
        ang = np.sort(np.mod(np.arctan2(m.p[1, nodes], m.p[0, nodes]), 2 * math.pi))
        n_seg = mm.info["interface_segments"]
        expected_nodes = n_seg + 1 if mm.n_sectors > 1 else n_seg
        assert nodes.size == expected_nodes
        # node pitch constant to round-off: rotor steps of one pitch map nodes onto nodes
        assert np.ptp(np.diff(ang)) < 1e-9
        # a step of 360/24 electrical degrees is a whole number of node pitches
        assert mm.info["interface_segments_per_period"] % 24 == 0
        # airgap: at least three element layers across (rotor side, band, stator side)
        assert {names.AIRGAP_ROTOR, names.AIRGAP_BAND, names.AIRGAP_STATOR} <= set(m.subdomains)


@pytest.mark.parametrize("name", DESIGNS)
def test_periodic_boundary_nodes_pair_up(meshes, name):
    d, sector, _ = meshes[name]
    m = sector.mesh
    angle = sector.info["sector_angle"]
    c, s = math.cos(angle), math.sin(angle)
    for side in ("stator", "rotor"):
        master, slave = names.PERIODIC[side]
        pm = m.p[:, np.unique(m.facets[:, m.boundaries[master]])]
        ps = m.p[:, np.unique(m.facets[:, m.boundaries[slave]])]
        rotated = np.array([[c, -s], [s, c]]) @ pm
        assert pm.shape == ps.shape
        # gmsh copies the master mesh onto the slave: positions agree to round-off
        d2 = ((rotated[:, :, None] - ps[:, None, :]) ** 2).sum(axis=0)
        assert np.sqrt(d2.min(axis=1)).max() < 1e-9


def test_cache_reuses_and_keys_on_content(tmp_path, monkeypatch):
    monkeypatch.setenv("EDRIVE_MESH_DIR", str(tmp_path))
    d = load_design("prius_2004")
    first = get_mesh(d, "ci")
    second = get_mesh(d, "ci")
    assert first.built and not second.built and first.path == second.path
    assert first.mesh.t.shape == second.mesh.t.shape
    changed = get_mesh(d.with_changes({"stator.stack_length": 0.1}), "ci")
    assert changed.built and changed.key != first.key
    assert len(list(tmp_path.glob("*.msh"))) == 2 and len(list(tmp_path.glob("*.json"))) == 2
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temporaries


def test_fine_level_is_finer_in_the_airgap():
    d = load_design("prius_2004")
    ci, fine = get_mesh(d, "ci"), get_mesh(d, "fine")
    assert fine.info["interface_segments"] >= 2 * ci.info["interface_segments"]
    assert fine.mesh.t.shape[1] > 2 * ci.mesh.t.shape[1]
