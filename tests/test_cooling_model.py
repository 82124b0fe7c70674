"""Cooling-model extension point: an end-winding oil spray defined and registered here only.

The spray is written against :class:`pipeline.thermal.cooling.CoolingModel`, selected by a
``[[cooling]]`` table of the design file next to the water jacket, and solved by the
unchanged machine thermal model; its oil node obeys the closed-form heat balance of a
mixed coolant node, and the machine's energy balance closes with the spray counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pipeline.design import DESIGNS_DIR, design_from_toml, load_design
from pipeline.errors import DesignError
from pipeline.io.tables import unit_field
from pipeline.mesh import get_mesh
from pipeline.thermal.cooling import (
    COOLING_MODELS,
    CoolingModel,
    CoolingTerms,
    WaterJacket,
    cooling_models,
    register_cooling,
)
from pipeline.thermal.machine import MachineThermalModel
from pipeline.thermal.parameters import Cooling


@register_cooling
@dataclass(frozen=True)
class EndWindingSpray(CoolingModel):
    """Oil sprayed on both end windings: conductance h A [W/K] from the end-winding node to
    an oil node at the oil's mean temperature, tied to the oil inlet by 2 m_dot c_p (the
    jacket's linear-rise model). Oil: ATF, about 850 kg/m^3 and 2000 J/(kg K) (typical
    automatic-transmission-fluid values at 70-90 degC, assumed for the test)."""

    KIND = "end_winding_spray"
    conductance: float = unit_field("W_per_K")
    oil_inlet_temperature: float = 343.15  # [K]
    flow_rate: float = unit_field("lpm", 2.0 * 1e-3 / 60)
    oil_density: float = 850.0
    oil_specific_heat: float = 2000.0

    def __post_init__(self):
        for name in ("conductance", "flow_rate", "oil_density", "oil_specific_heat"):
            if not getattr(self, name) > 0:
                raise DesignError(f"cooling.{name}", getattr(self, name), "must be > 0")

    @property
    def capacity_rate(self) -> float:  # m_dot c_p [W/K]
        return self.oil_density * self.flow_rate * self.oil_specific_heat

    def terms(self, model, speed, cooling):
        ns = model.n_sectors
        return CoolingTerms(
            nodes=(("spray_oil", 0.0),),
            links=(("end_winding", "spray_oil", self.conductance / ns),),
            fixed=(("spray_oil", 2 * self.capacity_rate / ns, self.oil_inlet_temperature),),
        )

    def report(self, temperatures, heat, terms):
        return {
            "spray_heat": heat,
            "spray_mean": temperatures["spray_oil"],
            "spray_outlet": self.oil_inlet_temperature + heat / self.capacity_rate,
        }


SPRAY_TOML = """
[[cooling]]
kind = "water_jacket"

[[cooling]]
kind = "end_winding_spray"
conductance_W_per_K = 40.0
flow_rate_lpm = 2.0
"""

LOSSES = {"stator_copper": 3000.0, "iron_stator_teeth": 400.0, "iron_stator_yoke": 300.0,
          "iron_rotor": 50.0, "magnet": 30.0, "mechanical": 100.0}  # fmt: skip
SPEED = 500.0  # [rad/s]


def _designs_text() -> str:
    return (DESIGNS_DIR / "prius_2004.toml").read_text() + SPRAY_TOML


def _designs():
    return load_design("prius_2004"), design_from_toml(_designs_text(), "prius_2004 + spray")


def test_cooling_table_selects_registered_models_and_existing_files_keep_the_jacket():
    base, spray = _designs()
    assert COOLING_MODELS["end_winding_spray"] is EndWindingSpray
    assert cooling_models(base) == (WaterJacket(),)  # no [[cooling]]: the jacket
    kinds = [type(c) for c in cooling_models(spray)]
    assert kinds == [WaterJacket, EndWindingSpray]
    assert spray.cooling[1].flow_rate == pytest.approx(2.0e-3 / 60, rel=1e-12)
    assert base.content_hash() != spray.content_hash()  # the cooling is part of the design
    with pytest.raises(DesignError, match=r"cooling\.conductance.*must be > 0"):
        design_from_toml(_designs_text().replace("40.0", "-1.0"))
    with pytest.raises(DesignError, match=r"cooling\[0\]\.kind.*must be one of"):
        design_from_toml(_designs_text().replace('"water_jacket"', '"oil_mist"'))


def test_end_winding_spray_closes_the_oil_and_machine_heat_balance():
    base, spray = _designs()
    mesh = get_mesh(base, "ci")
    cooling = Cooling(inverter_loss=300.0)
    without = MachineThermalModel(base, mesh).steady(LOSSES, SPEED, cooling)
    state = MachineThermalModel(spray, mesh).steady(LOSSES, SPEED, cooling)
    sp = spray.cooling[1]
    t_ew = state.T_net[state.node_names.index("end_winding")]
    t_oil = state.coolant["spray_mean"]
    q_spray = state.coolant["spray_heat"]
    # oil node (massless, steady): what the end windings give, h A (T_ew - T_oil), is what
    # the oil carries, 2 m_dot c_p (T_oil - T_in): closed form to round-off
    assert q_spray == pytest.approx(sp.conductance * (t_ew - t_oil), rel=1e-9)
    assert q_spray == pytest.approx(2 * sp.capacity_rate * (t_oil - sp.oil_inlet_temperature),
                                    rel=1e-9)  # fmt: skip
    assert state.coolant["spray_outlet"] - sp.oil_inlet_temperature == pytest.approx(
        q_spray / sp.capacity_rate, rel=1e-12
    )
    # machine: losses in = jacket + spray + ambient (the monolithic solve: round-off)
    bal = state.balance
    assert bal["generated"] == pytest.approx(sum(LOSSES.values()), rel=1e-9)
    assert abs(bal["imbalance"]) < 1e-6 * bal["generated"]
    jacket = state.coolant["outlet"] - state.coolant["jacket_inlet"]
    q_jacket = jacket * state.coolant["mass_flow"] * MachineThermalModel(
        spray, mesh
    ).coolant_side(cooling)["specific_heat"]
    assert q_jacket + q_spray == pytest.approx(bal["to_coolant"], rel=1e-9)
    # the spray takes heat (the end windings are hotter than the 70 degC oil) and so
    # cools the end windings and unloads the jacket (measured: 1773 W of 3880 W to the
    # spray, end winding 205.6 -> 130.0 degC)
    assert q_spray > 0
    assert state.hot_spots["end_winding"] < without.hot_spots["end_winding"]
    assert q_jacket < without.balance["to_coolant"]
