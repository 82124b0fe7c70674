"""Thermal model of a machine cross-section with its housing, water jacket and 3D paths.

The 2D finite-element section (:mod:`pipeline.thermal.solver`, P1, per unit length times
the stack length L) is coupled monolithically to a lumped network
(:mod:`pipeline.thermal.lumped`) for what a cross-section misses. Assumptions:

- **Sector**: the smallest sector of the EM mesh (one pole) is solved; its cut lines pass
  through tooth centres, channel gaps and interpolar axes, which are mirror lines of the
  geometry, so for losses that are uniform per region (as mapped here) the cut lines are
  exactly adiabatic. The network is scaled to one sector (powers, capacities and
  conductances / n_sectors); whole-machine numbers are sector numbers x n_sectors.
- **Materials**: laminations in-plane ``k_iron x stacking factor`` (parallel mixture);
  stranded slots by Rayleigh's square array across the wires with the (unmeshed) slot liner
  in series across the slot width; hairpin slots orthotropic (radial / tangential) from the
  insulated bar cell, meshed liner of its own; field coils by Rayleigh; airgap layers at
  the Becker-Kaye effective conductivity at the operating speed; stator-housing contact as
  a thin layer ``R'' = gap / k_air`` on a split interface (nodes doubled along
  ``stator_outer``, joined by ``int h_c [T] [v] ds``; :mod:`pipeline.thermal.interface`).
  Parameters not in the design file: :mod:`pipeline.thermal.parameters`. The rotor has no
  dedicated cooling unless the design's ``housing.shaft_cooling_conductance_W_per_K`` (default of
  ``ThermalParameters.shaft_cooling_conductance``) is > 0.
- **Cooling**: the design's cooling models (:mod:`pipeline.thermal.cooling`; by default
  the water jacket of ``[housing]``) add their nodes, links, fixed coolant temperatures and
  couplings to the network; the heat through their fixed-temperature links is the heat to
  coolant. Water jacket: ``n_channels`` axial channels joined in series by U-turns in the
  end caps, h from Gnielinski; the coolant is a network node at the jacket's mean
  temperature (every channel sees it: the channel-to-channel rise is not resolved), tied
  to the inlet temperature by ``2 m_dot c_p`` (linear rise: heat to coolant = m_dot c_p
  (T_out - T_in)); inverter losses raise the jacket inlet by ``P_inv / (m_dot c_p)``.
  Gearbox losses enter the housing through a flange conductance.
- **Network** (per machine, both ends together): end windings (T-equivalent axial path to
  the slot copper, Mellor et al. 1991: ``G = 12 k_ax A / (L + l_end)``; convection to the
  end-space air), end-space air (to end caps + housing bore overhang and to the rotor end
  faces, ``h = k1 (1 + k2 v^k3)``, Schubert's coefficients in Staton & Cavagnino 2008),
  end caps (radial conduction to the housing), bearings (to the caps, and along the shaft),
  gearbox, coolant.

Losses (:data:`pipeline.maps.protocol.LOSS_KEYS`, whole machine [W]) are mapped as: stator
copper over the coil sides by volume, split slot / end winding by conductor length
(:func:`pipeline.derived.slot_length_share`, as the resistance); field copper
over the field coils (their end turns included: no separate rotor end-turn node); iron
over teeth (``r < bore + slot depth``), yoke, rotor; magnets; mechanical split into windage
(:func:`pipeline.derived.windage_loss`, into the airgap) and bearings; brushes into
the bearing node (slip rings sit at the shaft end).

References: J. Mellor, D. Roberts, D. Turner, IEE Proc. B 138 (1991) 205,
doi:10.1049/ip-b.1991.0025; D. Staton, A. Cavagnino, IEEE Trans. Ind. Electron. 55 (2008)
3509, doi:10.1109/TIE.2008.922604; D. Staton, A. Boglietti, A. Cavagnino, IEEE Trans.
Energy Convers. 20 (2005) 620, doi:10.1109/TEC.2005.847979.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from skfem import MeshTri

from geometries import names
from pipeline.constants import ZERO_CELSIUS
from pipeline.derived import end_turn_length, mid_slot_radius, slot_length_share, windage_loss
from pipeline.design import Design
from pipeline.errors import ConvergenceError, DesignError
from pipeline.losses import LOSS_KEYS
from pipeline.materials import load_material
from pipeline.thermal import correlations as corr
from pipeline.thermal.coolant import air_properties
from pipeline.thermal.cooling import WaterJacket, cooling_models
from pipeline.thermal.interface import interface_matrix, split_interface
from pipeline.thermal.lumped import (
    FixedTemperatureLink,
    Link,
    Node,
    RegionCoupling,
    SurfaceCoupling,
    ThermalNetwork,
    coupling_operators,
)
from pipeline.thermal.parameters import (
    Cooling,
    ThermalLimits,
    ThermalParameters,
    winding_conductivity,
)
from pipeline.thermal.solver import Orthotropic, assemble_thermal, factorize
from pipeline.thermal.state import ThermalState, TransientResult

__all__ = [
    "LOSS_KEYS",
    "ThermalParameters",
    "Cooling",
    "ThermalLimits",
    "MachineThermalModel",
    "ThermalState",
    "TransientResult",
    "split_interface",
    "interface_matrix",
    "winding_conductivity",
]

log = logging.getLogger(__name__)

#: Mass of one bearing with its seat [kg] (assumed; a 6xxx ball bearing of 50-60 mm bore
#: weighs 0.2-0.4 kg, SKF catalogue)
BEARING_MASS = 0.5

#: Mean temperature [K] above which the coupled iteration stops as a thermal runaway (the
#: loss growth with temperature outpaces the cooling; no steady state exists in practice).
RUNAWAY_TEMPERATURE = ZERO_CELSIUS + 600.0


def _elements(mesh: MeshTri, prefix: str) -> NDArray:
    idx = [v for k, v in mesh.subdomains.items() if k.startswith(prefix)]
    return np.unique(np.concatenate(idx)) if idx else np.zeros(0, dtype=np.int64)


class MachineThermalModel:
    """Thermal model of ``design`` on its sector mesh (:func:`pipeline.mesh.get_mesh`).

    ``steady(losses, speed, cooling)``, ``transient(...)`` and ``coupled(loss_fn, ...)``
    solve it; the monolithic FE + network matrix is factorised once per (speed, cooling).
    """

    def __init__(self, design: Design, machine_mesh, params: ThermalParameters | None = None):
        self.design = design
        self.params = params or ThermalParameters(
            shaft_cooling_conductance=design.housing.shaft_cooling_conductance
        )
        self.n_sectors = machine_mesh.n_sectors
        self.length = design.stack_length
        #: the design's cooling models (:mod:`pipeline.thermal.cooling`)
        self.cooling = cooling_models(design)
        raw = machine_mesh.mesh
        coolant = [k for k in raw.subdomains if k.startswith("coolant_")]
        self.mesh, pin, pout = split_interface(raw, coolant, names.STATOR_OUTER, names.HOUSING)
        self._iface = (pin, pout)
        m = self.mesh
        self.regions = {
            "coils": _elements(m, "coil_"),
            "field": _elements(m, "field_"),
            "magnets": _elements(m, "magnet_"),
            "rotor": _elements(m, names.ROTOR_CORE),
            "shaft": _elements(m, names.SHAFT),
            "housing": _elements(m, names.HOUSING),
            "airgap": np.concatenate(
                [
                    _elements(m, n)
                    for n in (names.AIRGAP_ROTOR, names.AIRGAP_BAND, names.AIRGAP_STATOR)
                ]
            ),
        }
        stator = _elements(m, names.STATOR_CORE)
        centre = m.p[:, m.t].mean(axis=1)
        r = np.hypot(*centre)
        r_teeth = design.stator.bore_radius + design.stator.slot.depth
        self.regions["teeth"] = stator[r[stator] < r_teeth]
        self.regions["yoke"] = stator[r[stator] >= r_teeth]
        self.area = self._areas()
        self.walls = np.unique(
            np.concatenate([v for k, v in m.boundaries.items() if k.startswith("coolant_wall_")])
        )
        self._k, self._rho_c, self._k_axial = self._materials()
        self._cache: dict = {}

    # --- geometry and materials --------------------------------------------------------
    def _areas(self) -> dict[str, float]:
        p, t = self.mesh.p, self.mesh.t
        a = 0.5 * np.abs(
            (p[0, t[1]] - p[0, t[0]]) * (p[1, t[2]] - p[1, t[0]])
            - (p[0, t[2]] - p[0, t[0]]) * (p[1, t[1]] - p[1, t[0]])
        )
        self.element_area = a
        return {k: float(a[v].sum()) for k, v in self.regions.items()}

    def _materials(self):
        d, prm, m = self.design, self.params, self.mesh
        ne = m.t.shape[1]
        k1, k2, rc = np.full(ne, np.nan), np.full(ne, np.nan), np.full(ne, np.nan)
        air = load_material("air")

        def put(elems, k_r, k_t=None, rho_c=None):
            k1[elems], k2[elems] = k_r, k_r if k_t is None else k_t
            rc[elems] = rho_c

        def lam(mat_name, sf):
            mat = load_material(mat_name)
            k_in, _ = corr.lamination_conductivity(
                mat.thermal_conductivity, air.thermal_conductivity, sf
            )
            return float(k_in), sf * mat.density * mat.specific_heat

        def rho_c(mat):
            return mat.density * mat.specific_heat

        k, c = lam(d.stator.material, d.stator.stacking_factor)
        put(self.regions["teeth"], k, rho_c=c)
        put(self.regions["yoke"], k, rho_c=c)
        k, c = lam(d.rotor.material, d.rotor.stacking_factor)
        put(self.regions["rotor"], k, rho_c=c)
        put(
            self.regions["shaft"],
            load_material(d.rotor.shaft_material).thermal_conductivity,
            rho_c=rho_c(load_material(d.rotor.shaft_material)),
        )
        hs = load_material(d.housing.material)
        put(self.regions["housing"], hs.thermal_conductivity, rho_c=rho_c(hs))
        cu = load_material(d.winding.material)
        slot_coil_area = self.area["coils"] * self.n_sectors / d.stator.n_slots
        k_r, k_t, k_ax = winding_conductivity(d, slot_coil_area, prm)
        copper_area = d.winding.n_layers * d.winding.turns_per_coil * d.winding.conductor_area
        fill = copper_area / slot_coil_area
        self.winding_fill = fill
        put(self.regions["coils"], k_r, k_t, fill * rho_c(cu) + (1 - fill) * prm.impregnation_rho_c)
        liner = _elements(m, names.SLOT_LINER)
        put(liner, prm.liner_conductivity, rho_c=prm.impregnation_rho_c)
        put(_elements(m, names.SLOT_OPENING), prm.wedge_conductivity, rho_c=prm.impregnation_rho_c)
        put(_elements(m, names.ROTOR_POCKET), air.thermal_conductivity, rho_c=rho_c(air))
        put(self.regions["airgap"], air.thermal_conductivity, rho_c=rho_c(air))
        n_sides = len([k for k in m.subdomains if k.startswith("field_")])
        side_area = self.area["field"] / n_sides if n_sides else 0.0
        for region, (k_reg, c_reg) in d.rotor.thermal_regions(side_area, prm).items():
            if self.regions[region].size:  # the rotor topology's magnets / field coils
                put(self.regions[region], k_reg, rho_c=c_reg)
        if np.any(np.isnan(k1)):
            missing = sorted(k for k, v in m.subdomains.items() if np.any(np.isnan(k1[v])))
            raise DesignError("thermal materials", missing, "regions without a conductivity")
        return (k1, k2), rc, k_ax

    # --- lengths and network -----------------------------------------------------------
    @property
    def end_length(self) -> float:
        """End connection length of a coil, one side [m] (:func:`pipeline.derived.end_turn_length`,
        the length of the resistance, so the loss split matches it)."""
        return end_turn_length(self.design)

    @property
    def slot_fraction(self) -> float:
        """Share of the stator copper (and its loss) in the slots [-]: L / (L + l_end)."""
        return slot_length_share(self.design)

    def airgap_conductivity(self, speed: float, temperature: float) -> float:
        """Becker-Kaye effective airgap conductivity [W/(m K)] at speed [rad/s]."""
        air = air_properties(temperature)
        return float(
            corr.airgap_effective_conductivity(
                speed,
                self.design.rotor.outer_radius,
                self.design.stator.bore_radius,
                air.conductivity,
                air.kinematic_viscosity,
            )
        )

    def coolant_side(self, cooling: Cooling) -> dict:
        """Coolant mass flow [kg/s], c_p [J/(kg K)], channel h [W/(m^2 K)] of the design's
        water jacket (:meth:`pipeline.thermal.cooling.WaterJacket.coolant_side`)."""
        jacket = next((c for c in self.cooling if isinstance(c, WaterJacket)), WaterJacket())
        return jacket.coolant_side(self, cooling)

    def _network(self, speed: float, cooling: Cooling):
        d, prm, ns = self.design, self.params, self.n_sectors
        st, w, hs, rot = d.stator, d.winding, d.housing, d.rotor
        cu = load_material(w.material)
        al = load_material(hs.material)
        steel = load_material(rot.shaft_material)
        l_end = self.end_length
        overhang = max(w.end_winding_length, 1e-3)
        r_mid = mid_slot_radius(d)
        copper_area = st.n_slots * w.n_layers * w.turns_per_coil * w.conductor_area
        coil_area = self.area["coils"] * ns
        k1, k2, k3 = prm.end_space_k
        h_es = k1 * (1.0 + k2 * (abs(speed) * rot.outer_radius) ** k3)
        a_ew = 2 * 2 * math.pi * r_mid * (2 * overhang + st.slot.depth)
        a_caps = 2 * math.pi * (st.outer_radius**2 - rot.shaft_radius**2) + 2 * (
            2 * math.pi * st.outer_radius * overhang
        )
        a_rotor_ends = 2 * math.pi * (rot.outer_radius**2 - rot.shaft_radius**2)
        r_cap = 0.5 * (rot.shaft_radius + st.outer_radius)
        g_cap = (
            2
            * 2
            * math.pi
            * al.thermal_conductivity
            * prm.end_cap_thickness
            / math.log(st.outer_radius / r_cap)
        )
        g_bearing = 2 * prm.bearing_conductance
        g_shaft = (
            2
            * steel.thermal_conductivity
            * math.pi
            * rot.shaft_radius**2
            / (self.length / 2 + overhang + prm.end_cap_thickness)
        )
        terms = [(c, c.terms(self, speed, cooling)) for c in self.cooling]
        nodes = (
            *(Node(n, cap) for _, t in terms for n, cap in t.nodes),
            Node("end_winding", 2 * copper_area * l_end * cu.density * cu.specific_heat / ns),
            Node("end_air", 0.0),
            Node(
                "end_caps",
                2
                * math.pi
                * st.outer_radius**2
                * prm.end_cap_thickness
                * al.density
                * al.specific_heat
                / ns,
            ),  # two discs
            Node("bearings", 2 * BEARING_MASS * steel.specific_heat / ns),
            Node("gearbox", prm.gearbox_capacity / ns),
        )
        links = (
            Link("end_winding", "end_air", h_es * a_ew / ns),
            Link("end_air", "end_caps", h_es * a_caps / ns),
            Link("bearings", "end_caps", g_bearing / ns),
            *(Link(a, b, g) for _, t in terms for a, b, g in t.links),
        )
        fixed = tuple(FixedTemperatureLink(n, g, temp) for _, t in terms for n, g, temp in t.fixed)
        network = ThermalNetwork(nodes, links, fixed)
        couplings = [
            *(SurfaceCoupling(n, self.walls, g) for _, t in terms for n, g in t.walls),
            RegionCoupling(
                "end_winding",
                self.regions["coils"],
                12 * self._k_axial * coil_area / (self.length + l_end) / ns,
            ),
            RegionCoupling("end_air", self.regions["rotor"], h_es * a_rotor_ends / ns),
            RegionCoupling("end_caps", self.regions["housing"], g_cap / ns),
            RegionCoupling("bearings", self.regions["shaft"], g_shaft / ns),
            RegionCoupling("gearbox", self.regions["housing"], prm.gearbox_conductance / ns),
            *(RegionCoupling(n, self.regions[r], g) for _, t in terms for n, r, g in t.regions),
        ]
        return network, couplings, {"cooling": terms, "h_end_space": h_es}

    def wall_length(self) -> float:
        """Length [m] of the coolant-channel walls in the sector mesh."""
        f = self.mesh.facets[:, self.walls]
        return float(np.linalg.norm(self.mesh.p[:, f[0]] - self.mesh.p[:, f[1]], axis=0).sum())

    # --- operator ----------------------------------------------------------------------
    def operator(self, speed: float, cooling: Cooling) -> dict:
        """Assembled and factorised monolithic operator at speed [rad/s] (cached)."""
        key = (round(float(speed), 9), cooling)
        if key in self._cache:
            return self._cache[key]
        if len(self._cache) > 8:
            self._cache.clear()
        k_r, k_t = (a.copy() for a in self._k)
        k_gap = self.airgap_conductivity(speed, cooling.inlet_temperature + 40.0)
        k_r[self.regions["airgap"]] = k_t[self.regions["airgap"]] = k_gap
        robin = []
        if self.params.ambient_h > 0:
            robin.append(
                (names.OUTER_BOUNDARY, self.params.ambient_h, self.params.ambient_temperature)
            )
        system = assemble_thermal(self.mesh, Orthotropic(k_r, k_t), robin=robin, rho_c=self._rho_c)
        network, couplings, extra = self._network(speed, cooling)
        N = system.basis.N
        h_c = 1.0 / float(corr.interface_gap_resistance(self.params.interface_gap))
        iface = interface_matrix(self.mesh.p, *self._iface, h_c, N)
        G, b_net = network.conductance_matrix()
        C_ff, C_fn, C_nn, weights = coupling_operators(system, network, couplings)
        L = self.length
        A = sp.bmat([[L * (system.stiffness + iface) + C_ff, C_fn], [C_fn.T, G + C_nn]]).tocsc()
        M = sp.block_diag([L * system.capacity, sp.diags(network.capacities)]).tocsc()
        b0 = np.concatenate([L * (system.load - system.source_load), b_net])
        op = {
            "system": system,
            "network": network,
            "A": A,
            "M": M,
            "b0": b0,
            "solve": factorize(A),
            "weights": weights,
            "k_airgap": k_gap,
            **extra,
            "steps": {},
        }
        self._cache[key] = op
        return op

    # --- losses ------------------------------------------------------------------------
    def loss_vector(
        self, losses: Mapping[str, float], speed: float, op: dict, cooling: Cooling
    ) -> tuple[NDArray, dict]:
        """Right-hand side [W per sector] of ``losses`` (whole machine [W]) and the split."""
        for key, value in losses.items():
            if key not in LOSS_KEYS:
                raise DesignError("loss key", key, f"must be one of {LOSS_KEYS}")
            if not (np.isfinite(value) and value >= 0):
                raise DesignError(f"losses[{key}]", value, "must be a finite number >= 0 W")
        get = lambda k: float(losses.get(k, 0.0))  # noqa: E731
        ns, L = self.n_sectors, self.length
        q = np.zeros(self.mesh.t.shape[1])
        split = {}

        def spread(region: str, power: float) -> None:
            if power <= 0:
                return
            if self.area[region] <= 0:
                raise DesignError("losses", region, "loss given for a region the design lacks")
            q[self.regions[region]] += power / (ns * L * self.area[region])

        p_cu = get("stator_copper")
        split["slot_copper"] = p_cu * self.slot_fraction
        split["end_winding"] = p_cu - split["slot_copper"]
        spread("coils", split["slot_copper"])
        spread("field", get("field_copper"))
        spread("teeth", get("iron_stator_teeth"))
        spread("yoke", get("iron_stator_yoke"))
        spread("rotor", get("iron_rotor"))
        spread("magnets", get("magnet"))
        d = self.design
        p_mech = get("mechanical")
        wind = float(windage_loss(d, speed)) if speed > 0 else 0.0
        split["windage"] = min(wind, p_mech)
        split["bearings"] = p_mech - split["windage"] + get("brushes")
        spread("airgap", split["windage"])
        system, network = op["system"], op["network"]
        power = np.zeros(len(network.nodes))
        power[network.index("end_winding")] = split["end_winding"] / ns
        power[network.index("bearings")] = split["bearings"] / ns
        power[network.index("gearbox")] = cooling.gearbox_loss / ns
        rhs = op["b0"] + np.concatenate([L * (system.source_matrix @ q), power])
        return rhs, split

    # --- results -----------------------------------------------------------------------
    def _dofs(self, region: str) -> NDArray:
        return np.unique(self.mesh.t[:, self.regions[region]])

    def _mean(self, T: NDArray, region: str) -> float:
        el = self.regions[region]
        return float(
            np.sum(T[self.mesh.t[:, el]].mean(axis=0) * self.element_area[el])
            / self.element_area[el].sum()
        )

    def _state(self, x, op, losses, cooling, rate=None, iterations=0) -> ThermalState:
        N = op["system"].basis.N
        T_fe, T_net = x[:N], x[N:]
        names_ = op["network"].names
        t_ew = float(T_net[names_.index("end_winding")])
        hot = {"winding_slot": float(T_fe[self._dofs("coils")].max()), "end_winding": t_ew}
        hot["winding"] = max(hot["winding_slot"], t_ew)
        means = {
            "winding": self.slot_fraction * self._mean(T_fe, "coils")
            + (1 - self.slot_fraction) * t_ew
        }
        for key, region in (("field", "field"), ("magnet", "magnets")):
            if self.regions[region].size:
                hot[key] = float(T_fe[self._dofs(region)].max())
                means[key] = self._mean(T_fe, region)
        ns, t_net = self.n_sectors, dict(zip(names_, (float(t) for t in T_net), strict=True))
        to_coolant, coolant = 0.0, {}
        for model, terms in op["cooling"]:  # the heat through a model's fixed-temperature links
            heat = ns * sum(g * (t_net[n] - temp) for n, g, temp in terms.fixed)
            to_coolant += heat
            coolant.update(model.report(t_net, heat, terms))
        to_ambient = 0.0
        for Hj, bj in op["system"].robin:
            to_ambient += ns * self.length * float(np.sum(Hj @ T_fe) - np.sum(bj))
        rhs, _ = self.loss_vector(losses, op.get("speed", 0.0), op, cooling)
        generated = ns * float(np.sum(rhs - op["b0"]))
        stored = 0.0 if rate is None else ns * float(np.sum(op["M"] @ rate))
        balance = {
            "generated": generated,
            "to_coolant": to_coolant,
            "to_ambient": to_ambient,
            "stored": stored,
            "imbalance": generated - to_coolant - to_ambient - stored,
        }
        coolant.update(k_airgap=op["k_airgap"], h_end_space=op["h_end_space"])
        return ThermalState(
            T_fe, T_net, names_, hot, means, balance, coolant, dict(losses), iterations
        )

    # --- solves ------------------------------------------------------------------------
    def steady(
        self, losses: Mapping[str, float], speed: float, cooling: Cooling | None = None
    ) -> ThermalState:
        """Steady temperatures for whole-machine losses [W] at speed [rad/s]."""
        cooling = cooling or Cooling()
        op = self.operator(speed, cooling)
        op["speed"] = speed
        rhs, _ = self.loss_vector(losses, speed, op, cooling)
        return self._state(op["solve"](rhs), op, losses, cooling)

    def coupled(
        self,
        loss_fn: Callable[[dict], Mapping[str, float]],
        speed: float,
        cooling: Cooling | None = None,
        start_temperature: float | None = None,
        tol: float = 1e-4,
        max_iter: int = 50,
    ) -> ThermalState:
        """Steady state with temperature-dependent losses ``loss_fn({winding, field,
        magnet} [K]) -> losses [W]``, by fixed-point iteration from a uniform
        ``start_temperature`` [K] (default: coolant inlet). Converged when the largest
        change of the mean temperatures, relative to their rise above the inlet, and the
        relative change of the total loss are below ``tol``; ConvergenceError otherwise."""
        cooling = cooling or Cooling()
        t0 = cooling.inlet_temperature if start_temperature is None else start_temperature
        temps = {k: float(t0) for k in ("winding", "field", "magnet")}
        history, total_prev = [], None
        for it in range(1, max_iter + 1):
            losses = dict(loss_fn(temps))
            state = self.steady(losses, speed, cooling)
            rise = max(max(state.means.values()) - cooling.inlet_temperature, 1.0)
            dT = max(abs(state.means[k] - temps[k]) for k in state.means) / rise
            total = sum(losses.values())
            dP = abs(total - total_prev) / max(total, 1e-12) if total_prev is not None else 1.0
            history.append(max(dT, dP))
            if max(state.means.values()) > RUNAWAY_TEMPERATURE:
                raise ConvergenceError(
                    f"EM-thermal coupling: thermal runaway (mean temperature above "
                    f"{RUNAWAY_TEMPERATURE - ZERO_CELSIUS:.0f} degC at iteration {it})",
                    history,
                )
            temps.update(state.means)
            total_prev = total
            if history[-1] < tol:
                return ThermalState(**{**state.__dict__, "iterations": it})
        raise ConvergenceError(f"EM-thermal coupling: no convergence in {max_iter}", history)

    def transient(
        self,
        losses: Mapping[str, float] | Callable[[dict], Mapping[str, float]],
        speed: float,
        cooling: Cooling | None = None,
        *,
        t_end: float,
        dt: float = 1.0,
        initial: ThermalState | float | None = None,
        limits: ThermalLimits | None = None,
        stop_at_limit: bool = False,
    ) -> TransientResult:
        """Implicit-Euler transient over t_end [s] with step dt [s] from ``initial`` (a
        state, or a uniform temperature [K]; default the coolant inlet). ``losses`` is a
        dict [W] or a ``loss_fn(mean temperatures)`` evaluated at the start of each step
        (losses lag one step; the conduction is implicit)."""
        cooling = cooling or Cooling()
        limits = limits or ThermalLimits()
        if not (t_end > 0 and dt > 0):
            raise DesignError("transient time", (t_end, dt), "t_end and dt must be > 0 s")
        op = self.operator(speed, cooling)
        op["speed"] = speed
        if dt not in op["steps"]:
            op["steps"][dt] = factorize((op["M"] / dt + op["A"]).tocsc())
        step = op["steps"][dt]
        n = op["A"].shape[0]
        if isinstance(initial, ThermalState):
            x = np.concatenate([initial.T_fe, initial.T_net])
        else:
            x = np.full(n, cooling.inlet_temperature if initial is None else float(initial))
        state = self._state(x, op, {}, cooling)
        times, hist, bal = [0.0], {k: [v] for k, v in state.hot_spots.items()}, []
        t_limit, limiting = math.inf, ""
        for i in range(1, int(round(t_end / dt)) + 1):
            loss = losses(state.means) if callable(losses) else losses
            rhs, _ = self.loss_vector(loss, speed, op, cooling)
            x_new = step(op["M"] @ x / dt + rhs)
            rate = (x_new - x) / dt
            state = self._state(x_new, op, loss, cooling, rate=rate)
            x = x_new
            times.append(i * dt)
            for k, v in state.hot_spots.items():
                hist[k].append(v)
            bal.append(
                [state.balance[k] for k in ("generated", "to_coolant", "to_ambient", "stored")]
            )
            if math.isinf(t_limit):
                for part in ("winding", "field", "magnet"):
                    if part in state.hot_spots and state.hot_spots[part] >= getattr(limits, part):
                        prev = hist[part][-2]
                        frac = (getattr(limits, part) - prev) / max(
                            state.hot_spots[part] - prev, 1e-12
                        )
                        t_limit, limiting = (i - 1 + frac) * dt, part
                        break
                if stop_at_limit and not math.isinf(t_limit):
                    break
        bal_arr = np.array(bal) if bal else np.zeros((0, 4))
        return TransientResult(
            times=np.array(times),
            hot_spots={k: np.array(v) for k, v in hist.items()},
            balance={
                k: bal_arr[:, j]
                for j, k in enumerate(("generated", "to_coolant", "to_ambient", "stored"))
            },
            final=state,
            time_to_limit=t_limit,
            limiting=limiting,
        )
