"""What the machine thermal model asks of a cooling: the :class:`CoolingModel` interface,
its registry, and the water jacket as its first implementation.

A cooling model is a frozen dataclass in SI (one ``[[cooling]]`` table of the design,
``kind = KIND``; a design without one is cooled by the :class:`WaterJacket` of its
``[housing]``), validated on construction (:meth:`CoolingModel.check` against the rest of
the design runs when the design is built). For the thermal model
(:class:`pipeline.thermal.machine.MachineThermalModel`) it states, per sector of the
mesh, its terms of the lumped network (:class:`CoolingTerms`): nodes, links between nodes,
conductances to a fixed coolant temperature (the heat through them is the heat the coolant
takes away) and couplings to the FE model (coolant walls, regions); then it reports its
coolant state (:meth:`CoolingModel.report`). Plain data, so this module loads no FE code.

A new cooling (oil spray on the end windings, a rotor shaft lance, ...) is one class and
``register_cooling(NewCooling)``; nodes of the machine network it may couple to:
``end_winding``, ``end_air``, ``end_caps``, ``bearings``, ``gearbox`` (and its own); FE
regions: ``coils``, ``field``, ``magnets``, ``rotor``, ``shaft``, ``housing``, ``teeth``,
``yoke``, ``airgap``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pipeline.errors import DesignError
from pipeline.io.tables import register_kind
from pipeline.thermal import correlations as corr
from pipeline.thermal.coolant import water_glycol_properties

__all__ = [
    "CoolingModel",
    "CoolingTerms",
    "WaterJacket",
    "COOLING_MODELS",
    "register_cooling",
    "cooling_models",
]


@dataclass(frozen=True)
class CoolingTerms:
    """A cooling model's terms of the machine network, per sector (powers, capacities and
    conductances of the whole machine / n_sectors).

    nodes: (name, capacity [J/K]); links: (node a, node b, G [W/K]); fixed: (node, G [W/K],
    temperature [K]) to a fixed coolant temperature; walls: (node, G [W/K]) spread over the
    coolant-channel walls of the mesh (``coolant_wall_*``); regions: (node, FE region, G
    [W/K]) spread over the region; state: whatever :meth:`CoolingModel.report` needs."""

    nodes: tuple[tuple[str, float], ...] = ()
    links: tuple[tuple[str, str, float], ...] = ()
    fixed: tuple[tuple[str, float, float], ...] = ()
    walls: tuple[tuple[str, float], ...] = ()
    regions: tuple[tuple[str, str, float], ...] = ()
    state: dict = field(default_factory=dict)


class CoolingModel(ABC):
    """Base of every cooling model (subclasses are frozen dataclasses)."""

    #: the ``kind`` of its ``[[cooling]]`` table and the registry key
    KIND: ClassVar[str]

    @classmethod
    def kinds(cls) -> dict[str, type]:
        """Registered cooling models by ``KIND`` (how :mod:`pipeline.io.tables` reads them)."""
        return dict(COOLING_MODELS)

    def check(self, design) -> None:
        """DesignError if this cooling does not fit ``design`` (called by the Design)."""
        return None

    @abstractmethod
    def terms(self, model, speed: float, cooling) -> CoolingTerms:
        """Network terms for thermal model ``model`` (its ``design``, ``n_sectors``,
        ``length`` [m], ``params``, ``wall_length()`` [m]) at speed [rad/s] and operating
        conditions ``cooling`` (:class:`~pipeline.thermal.parameters.Cooling`)."""

    def report(self, temperatures: Mapping[str, float], heat: float, terms: CoolingTerms) -> dict:
        """Coolant state for :attr:`ThermalState.coolant` from the network node
        temperatures [K] and the heat [W, whole machine] this model's coolant took."""
        return {f"{self.KIND}_heat": heat}


#: registered cooling models by KIND
COOLING_MODELS: dict[str, type[CoolingModel]] = {}


def register_cooling(cls: type[CoolingModel]) -> type[CoolingModel]:
    """Register a cooling model class under its ``KIND`` (usable as a decorator)."""
    return register_kind(COOLING_MODELS, CoolingModel, cls, "cooling model")


@register_cooling
@dataclass(frozen=True)
class WaterJacket(CoolingModel):
    """Water-glycol jacket: the ``[housing]`` channels, joined in series by U-turns in the
    end caps (``ThermalParameters.channel_passes`` sets another grouping), h from
    Gnielinski (developing flow restarting in each pass, heated length = stack length) at
    the inlet temperature's properties. The coolant is one node at the jacket's mean
    temperature, tied to the inlet by ``2 m_dot c_p`` (linear rise); inverter losses enter
    upstream (series cooling, inverter first) and raise the jacket inlet by
    ``P_inv / (m_dot c_p)``. A hollow-shaft lance (``housing.shaft_cooling_conductance``)
    ties the shaft to the same coolant node."""

    KIND = "water_jacket"

    def coolant_side(self, model, cooling) -> dict[str, Any]:
        """Coolant mass flow [kg/s], c_p [J/(kg K)], channel h [W/(m^2 K)] (Gnielinski)."""
        hs = model.design.housing
        fl = water_glycol_properties(cooling.inlet_temperature)
        m_dot = float(fl.density) * cooling.flow_rate
        passes = model.params.channel_passes or hs.n_channels
        if hs.n_channels % passes:
            raise DesignError("channel_passes", passes, f"must divide n_channels {hs.n_channels}")
        branches = hs.n_channels // passes
        r0, r1 = hs.channel_inner_radius, hs.channel_inner_radius + hs.channel_height
        perimeter = 2 * hs.channel_height + (r0 + r1) * hs.channel_angle
        h = float(
            corr.coolant_heat_transfer_coefficient(
                m_dot / branches,
                hs.channel_area(),
                perimeter,
                fl.density,
                fl.viscosity,
                fl.conductivity,
                fl.specific_heat,
                heated_length=model.length,
            )
        )
        return {"mass_flow": m_dot, "specific_heat": float(fl.specific_heat), "h": h}

    def terms(self, model, speed: float, cooling) -> CoolingTerms:
        hs, ns = model.design.housing, model.n_sectors
        cool = self.coolant_side(model, cooling)
        capacity = (
            float(
                water_glycol_properties(cooling.inlet_temperature).density * cool["specific_heat"]
            )
            * hs.channel_area()
            * hs.n_channels
            * model.length
            / ns
        )
        m_c = cool["mass_flow"] * cool["specific_heat"]
        t_in = cooling.inlet_temperature + cooling.inverter_loss / m_c
        g_in = 2 * cool["mass_flow"] * cool["specific_heat"]
        regions = ()
        shaft = model.params.shaft_cooling_conductance
        if shaft > 0:
            regions = (("coolant", "shaft", shaft / ns),)
        return CoolingTerms(
            nodes=(("coolant", capacity),),
            fixed=(("coolant", g_in / ns, t_in),),
            walls=(("coolant", cool["h"] * model.length * model.wall_length() / 1.0),),
            regions=regions,
            state={**cool, "t_in": t_in},
        )

    def report(self, temperatures: Mapping[str, float], heat: float, terms: CoolingTerms) -> dict:
        s = terms.state
        m_c = s["mass_flow"] * s["specific_heat"]
        return {
            "h": s["h"],
            "mass_flow": s["mass_flow"],
            "jacket_inlet": s["t_in"],
            "mean": float(temperatures["coolant"]),
            "outlet": s["t_in"] + heat / m_c,
        }


def cooling_models(design) -> tuple[CoolingModel, ...]:
    """The design's cooling models: its ``[[cooling]]`` tables, or the water jacket."""
    return tuple(getattr(design, "cooling", ())) or (WaterJacket(),)
