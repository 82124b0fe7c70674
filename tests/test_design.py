"""Design model: reference designs load, winding layouts and factors against textbook values,
and bad input gives one-line errors naming field, value and rule."""

import math
import re
from pathlib import Path

import numpy as np
import pytest

from pipeline.design import DESIGNS_DIR, design_from_toml, list_designs, load_design
from pipeline.errors import DesignError
from pipeline.winding import winding_factor, winding_layout


def kd_kp(q: int, pitch_ratio: float, harmonic: int = 1) -> float:
    """Textbook integral-slot winding factor: distribution x pitch factor.

    k_d = sin(n q a / 2) / (q sin(n a / 2)) with a = 60/q electrical degrees,
    k_p = sin(n (y / tau_p) 90 deg). Pyrhonen et al., Design of Rotating Electrical
    Machines, 2nd ed. (2014), eqs. 2.29-2.32.
    """
    a = math.radians(60.0 / q)
    kd = math.sin(harmonic * q * a / 2) / (q * math.sin(harmonic * a / 2))
    kp = math.sin(harmonic * pitch_ratio * math.pi / 2)
    return abs(kd * kp)


@pytest.mark.parametrize(
    ("name", "q", "pitch_ratio", "published"),
    [
        # Prius: q = 2, full pitch: k_w1 = 0.9659 (sin 30 / (2 sin 15))
        ("prius_2004", 2, 1.0, 0.9659),
        # Zoe: q = 4, pitch 10/12: 0.9577 x 0.9659 = 0.9250
        ("zoe_eesm", 4, 10 / 12, 0.9250),
        # gen5: q = 3, pitch 8/9: 0.9598 x 0.9848 = 0.9452
        ("gen5_eesm", 3, 8 / 9, 0.9452),
    ],
)
def test_winding_factors_match_textbook(name, q, pitch_ratio, published):
    layout = winding_layout(load_design(name))
    for n in (1, 5, 7, 11, 13):
        # the star-of-slots sum equals k_d k_p exactly for integral-slot windings:
        # only floating-point round-off separates them
        assert winding_factor(layout, n) == pytest.approx(kd_kp(q, pitch_ratio, n), abs=1e-12)
    # published four-digit values: rounding of the last digit
    assert winding_factor(layout) == pytest.approx(published, abs=5e-5)


def test_layouts_are_balanced_and_antiperiodic():
    for name in list_designs():
        d = load_design(name)
        layout = winding_layout(d)
        counts = [np.sum(layout.phase == ph) for ph in range(3)]
        assert counts[0] == counts[1] == counts[2] == d.stator.n_slots * d.winding.n_layers / 3
        # every slot and layer holds equal numbers of go and return sides per phase
        for ph in range(3):
            assert layout.conductors(ph).sum() == 0
        n_sectors, anti = d.symmetry
        assert anti, name  # all three references have one-pole anti-periodic sectors
        assert n_sectors == d.n_poles


def test_series_turns_match_sources():
    # ORNL/TM-2010/253: 72 series turns per phase for the 2004 Prius
    assert winding_layout(load_design("prius_2004")).series_turns == 72
    # pyleecan Renault_Zoe: 48 slots x 2 layers x 10 turns / (2 x 3 x 4 paths) = 40
    assert winding_layout(load_design("zoe_eesm")).series_turns == 40


def test_with_changes_revalidates():
    d = load_design("gen5_eesm")
    longer = d.with_changes({"stator.stack_length": 0.2})
    assert longer.stack_length == 0.2 and d.stack_length == 0.18
    assert longer.content_hash() != d.content_hash()
    with pytest.raises(DesignError, match="stator.stack_length"):
        d.with_changes({"stator.stack_length": -0.1})
    with pytest.raises(DesignError, match="unknown design field"):
        d.with_changes({"stator.stack_lenght": 0.2})


def _edit(name: str, pattern: str, replacement: str) -> str:
    text = (DESIGNS_DIR / f"{name}.toml").read_text()
    new, n = re.subn(pattern, replacement, text, count=1, flags=re.M)
    assert n == 1, pattern
    return new


BAD = [
    # (design, regex to replace, replacement, expected field, expected rule fragment)
    (
        "gen5_eesm",
        r"^body_height_mm = 18.6",
        "body_height_mm = 39.0",
        "stator.slot.body_height_mm",
        "deeper than the yoke",
    ),
    (
        "prius_2004",
        r"^outer_radius_mm = 80.25",
        "outer_radius_mm = 80.95",
        "rotor.outer_radius_mm",
        "airgap must be positive",
    ),
    ("prius_2004", r"^web_width_mm = 1.5", "web_width_mm = 0.0", "rotor.web_width_mm", "overlap"),
    (
        "prius_2004",
        r"^apex_depth_mm = 17.75",
        "apex_depth_mm = 12.0",
        "rotor.apex_depth_mm",
        "reaches the rotor surface",
    ),
    ("prius_2004", r"^magnet_width_mm = 18.9", "magnet_width_mm = 40.0", "rotor.", "rotor"),
    (
        "gen5_eesm",
        r"^field_turns = 80",
        "field_turns = 300",
        "rotor.field_turns",
        "does not fit between poles",
    ),
    (
        "zoe_eesm",
        r"^coil_clearance_mm = 0.5",
        "coil_clearance_mm = -1.0",
        "rotor.coil_clearance_mm",
        "zero or positive",
    ),
    ("zoe_eesm", r"^n_poles = 4", "n_poles = 6", "rotor.n_poles", "does not match the winding"),
    (
        "zoe_eesm",
        r"^stack_length_mm = 170.0",
        "stack_length_mm = -170.0",
        "stator.stack_length_mm",
        "positive",
    ),
    ("zoe_eesm", r"^n_slots = 48\n", "", "stator.n_slots", "is required"),
    (
        "zoe_eesm",
        r'^material = "m400_50a_pyleecan"',
        'material = "unobtainium"',
        "material",
        "unknown material",
    ),
    (
        "zoe_eesm",
        r'^material = "m400_50a_pyleecan"',
        'material = "copper"',
        "stator.material",
        "is a conductor",
    ),
    ("zoe_eesm", r"^n_slots = 48", "n_slots = 48 48", "zoe", "syntax error"),
    (
        "zoe_eesm",
        r"^n_slots = 48",
        "n_slots = 48\nslot_count = 48",
        "stator.slot_count",
        "unknown key",
    ),
    ("zoe_eesm", r"^n_slots = 48", 'n_slots = "48"', "stator.n_slots", "must be an integer"),
    (
        "gen5_eesm",
        r"^n_channels = 18",
        "n_channels = 20",
        "housing.n_channels",
        "multiple of the machine's 6",
    ),
    (
        "gen5_eesm",
        r"^bar_height_mm = 4.2",
        "bar_height_mm = 5.5",
        "winding.bar_height_mm",
        "bars need",
    ),
    ("prius_2004", r"^coil_pitch = 6", "coil_pitch = 5", "winding.coil_pitch", "full pitch"),
    (
        "gen5_eesm",
        r"^width_bottom_mm = 4.4",
        "width_bottom_mm = 14.0",
        "stator.slot.width_bottom_mm",
        "leaves no tooth",
    ),
]


@pytest.mark.parametrize(("name", "pattern", "replacement", "field", "rule"), BAD)
def test_bad_design_gives_one_line_error(name, pattern, replacement, field, rule):
    text = _edit(name, pattern, replacement)
    with pytest.raises(DesignError) as info:
        design_from_toml(text, f"{name}.toml")
    message = str(info.value)
    assert "\n" not in message.strip()
    assert field in message and rule in message, message


def test_bad_design_never_reaches_gmsh(tmp_path, monkeypatch):
    import geometries.builder

    def forbidden(*args, **kwargs):  # pragma: no cover - must not run
        raise AssertionError("gmsh started for an invalid design")

    monkeypatch.setattr(geometries.builder, "build", forbidden)
    path = tmp_path / "bad.toml"
    path.write_text(_edit("gen5_eesm", r"^field_turns = 80", "field_turns = 300"))
    from pipeline.cli import main

    assert main(["mesh", str(path)]) == 2
    assert not list(Path(tmp_path).glob("*.msh"))
