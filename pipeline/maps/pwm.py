r"""PWM (carrier-band) losses of a design at the operating points of a machine model.

Glue between the ripple spectrum (:mod:`pipeline.drive.pwm`), the loss formulas
(:mod:`pipeline.losses.pwm`) and a design: per operating point (i_d, i_q, i_f, v_d, v_q,
speed) the incremental inductances from the model's flux linkages, the carrier-band ripple,
and the extra losses under :data:`PWM_LOSS_KEYS` [W]. They are added *after* the strategy
has chosen the currents (they are not part of the loss minimisation: at a given point they
depend on the voltage and the incremental inductances, which barely differ between the
candidate currents of similar loss).

Flux paths. For a finite-element map the efficiency stage takes them from three
magnetostatic solves of the design (:func:`fe_flux_paths`: r.m.s. |Delta B| per region per
unit Delta psi_d and Delta psi_q at a light-load point). On the Prius (ci) these confirm the
stator estimate below to 1-8 % (teeth, yoke) and the rotor's to 30 %, but give the magnets
about a third of the circuit value (the bridges and the pole shoe carry much of the d-axis
ripple flux around the magnets): 1.36 T/Wb instead of 4.53 T/Wb, a factor 11 in the magnet
loss (tests/test_pwm_losses.py). Analytic models use the estimate.

Magnetic-circuit estimate (:func:`pwm_loss_data`). A flux-linkage change
``Delta psi`` (peak phase, amplitude-invariant) is a change of the fundamental flux per pole
``Delta Phi = Delta psi / (N_s k_w1)`` (N_s series turns per path, k_w1 fundamental winding
factor). It passes

* the stator yoke (both directions from the pole): ``B_y = Phi / (2 h_y L k_st)``;
* the teeth: a sinusoidal gap flux density of peak ``B_g = p Phi / (D L)`` (D bore
  diameter) gives a tooth the peak flux ``B_g tau_s L`` through its width at mid-slot depth:
  ``B_t = pi p Phi / (Q w_t L k_st)``;
* the rotor iron: taken at the gap flux density ``B_g / k_st`` (the ripple field enters the
  rotor surface with about the gap value; its path below the surface spreads out, so this
  is an upper estimate for the deeper iron);
* the magnets (d axis only, V rotor: two magnets of width w_m per pole in series with the
  d-axis flux): ``B_m = Phi_d / (2 w_m L)``.

The rotor and the magnets see only the part of the ripple flux that crosses the gap,
``Delta psi - L_sigma Delta i`` with the slot-leakage inductance L_sigma
(:func:`slot_leakage_inductance`); the stator regions see all of it (slot leakage closes
through the teeth and, partly, the yoke: an upper estimate for the yoke).
The ripple flux vector of band k has the mean square ``<|Delta psi_k|^2>``; a stator
region sees its projection on a phase axis, whose mean square is half that: the
peak-equivalent (sinusoid of equal mean square) is ``sqrt(<|Delta psi_k|^2>)``; the d-axis
ripple seen by the magnets has the peak-equivalent ``sqrt(2 <Delta psi_d,k^2>)``. End-winding
leakage flux is counted as if it crossed the gap (an upper estimate for rotor and magnets).
The stator sees the bands at ``k f_c``, the rotor at ``k f_c +- f_1``, taken as ``k f_c``.
EESM: the ripple induced in the field circuit is not modelled.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from geometries.areas import analytic_areas
from pipeline.constants import MU_0, ZERO_CELSIUS
from pipeline.derived import conductor_resistivity, slot_length_share
from pipeline.design import Design
from pipeline.drive.pwm import MODULATIONS, RippleSpectrum, incremental_inductance, ripple_spectrum
from pipeline.em.machine import run_case
from pipeline.errors import DesignError
from pipeline.losses import copper
from pipeline.losses.pwm import (
    bar_reduced_height,
    ripple_copper_loss,
    ripple_iron_loss,
    ripple_magnet_loss,
    round_wire_layers,
    round_wire_reduced_height,
)
from pipeline.maps.losses import iron_loss_model
from pipeline.materials import load_material
from pipeline.winding import winding_factor, winding_layout

__all__ = [
    "PWM_LOSS_KEYS",
    "IronRegion",
    "PwmLossData",
    "slot_leakage_inductance",
    "pwm_loss_data",
    "losses_from_spectrum",
    "pwm_losses",
    "DEFAULT_SWITCHING_FREQUENCY",
    "WAVEFORMS",
    "PwmSettings",
    "pwm_settings",
    "pwm_extra",
    "FE_REFERENCE",
    "fe_flux_paths",
    "with_fe_paths",
]

#: Loss components of the carrier-band ripple [W].
PWM_LOSS_KEYS = (
    "pwm_copper",
    "pwm_iron_stator_teeth",
    "pwm_iron_stator_yoke",
    "pwm_iron_rotor",
    "pwm_magnet",
)


@dataclass(frozen=True)
class IronRegion:
    """Ripple data of an iron region: mass [kg], flux density per flux linkage [T/Wb]
    (module docstring), Bertotti k_h, alpha, k_e, k_a (:func:`iron_loss_model`), lamination
    thickness [m] and resistivity [ohm m]."""

    mass: float
    b_per_psi: float
    k_h: float
    alpha: float
    k_e: float
    k_a: float
    thickness: float
    resistivity: float


@dataclass(frozen=True)
class PwmLossData:
    """Design-derived constants of the PWM losses [SI].

    conductor "stranded" or "hairpin"; conductor_size: wire diameter or bar height [m];
    spacing: wire pitch [m] (stranded) or bar / slot width ratio [-] (hairpin); n_layers:
    conductor layers in the slot height [-]; slot_share: slot part of the turn length [-];
    rho_20 [ohm m], alpha_20 [1/K] of the winding; iron: region key -> :class:`IronRegion`;
    magnet: (width [m], length [m], volume [m^3], conductivity [S/m], mu_r [-], B per d-axis
    flux linkage [T/Wb]) or None; slot_leakage: slot-leakage inductance [H]
    (:func:`slot_leakage_inductance`); fe_paths: finite-element flux paths
    (:func:`fe_flux_paths`), used instead of the magnetic-circuit ones when given.
    """

    conductor: str
    conductor_size: float
    spacing: float
    n_layers: float
    slot_share: float
    rho_20: float
    alpha_20: float
    iron: dict
    magnet: tuple | None
    slot_leakage: float = 0.0
    fe_paths: dict | None = None


def _tooth_width(design: Design) -> float:
    """Tooth width at mid-slot depth [m]."""
    st, slot = design.stator, design.stator.slot
    r = st.bore_radius + slot.opening_height + slot.wedge_height + 0.5 * slot.body_height
    return 2.0 * r * math.sin(math.pi / st.n_slots) - 0.5 * (slot.width_top + slot.width_bottom)


def slot_leakage_inductance(design: Design) -> float:
    """Slot-leakage inductance of a phase [H] (= its dq value, amplitude-invariant).

    ``L_u = (4 m / Q) mu_0 L N_s^2 lambda_u`` with the slot permeance factor
    ``lambda_u = h_body / (3 b_body) + h_wedge / b_wedge + h_open / b_open`` (conductors over
    the body of mean width b_body; mean widths of the wedge and opening)
    (J. Pyrhonen, T. Jokinen, V. Hrabovcova, *Design of Rotating Electrical Machines*, Wiley
    2008, sec. 4.3, full-pitch factors; short-pitch corrections neglected).
    """
    st, slot = design.stator, design.stator.slot
    b_body = 0.5 * (slot.width_top + slot.width_bottom)
    lam = slot.body_height / (3.0 * b_body) + slot.opening_height / slot.opening_width
    if slot.wedge_height > 0:
        lam += slot.wedge_height / (0.5 * (slot.opening_width + slot.width_top))
    n_s = winding_layout(design).series_turns
    return 4.0 * 3.0 / st.n_slots * MU_0 * design.stack_length * n_s**2 * lam


def _region(material: str, mass: float, b_per_psi: float) -> IronRegion:
    model = iron_loss_model(material)
    mat = load_material(material)
    fit = model.bertotti
    return IronRegion(
        mass=mass,
        b_per_psi=b_per_psi,
        k_h=fit.k_h,
        alpha=fit.alpha,
        k_e=fit.k_e,
        k_a=fit.k_a,
        thickness=mat.lamination_thickness,
        resistivity=mat.resistivity,
    )


@lru_cache(maxsize=16)
def pwm_loss_data(design: Design) -> PwmLossData:
    """Masses, flux paths and conductor data of ``design`` for :func:`pwm_losses`."""
    st, w, rotor = design.stator, design.winding, design.rotor
    length = design.stack_length
    layout = winding_layout(design)
    phi_per_psi = 1.0 / (layout.series_turns * winding_factor(layout, 1))
    p = design.pole_pairs
    d_bore = 2.0 * st.bore_radius
    areas = analytic_areas(design)
    r_yoke = st.outer_radius - st.yoke_thickness
    yoke_area = math.pi * (st.outer_radius**2 - r_yoke**2)
    teeth_area = areas["stator_core"] - yoke_area
    k_st, k_rt = st.stacking_factor, rotor.stacking_factor
    dens_s = iron_loss_model(st.material).density
    dens_r = iron_loss_model(rotor.material).density
    b_gap = p * phi_per_psi / (d_bore * length)
    iron = {
        "pwm_iron_stator_teeth": _region(
            st.material,
            dens_s * teeth_area * length * k_st,
            math.pi * p * phi_per_psi / (st.n_slots * _tooth_width(design) * length * k_st),
        ),
        "pwm_iron_stator_yoke": _region(
            st.material,
            dens_s * yoke_area * length * k_st,
            phi_per_psi / (2.0 * st.yoke_thickness * length * k_st),
        ),
        "pwm_iron_rotor": _region(
            rotor.material, dens_r * areas["rotor_core"] * length * k_rt, b_gap / k_rt
        ),
    }
    magnet = None
    if design.topology.HAS_MAGNETS:
        mag = load_material(rotor.magnet_material)
        magnet = (
            rotor.magnet_width,
            length,
            areas["magnet"] * length,
            1.0 / mag.resistivity,
            mag.recoil_permeability,
            phi_per_psi / (2.0 * rotor.magnet_width * length),
        )
    rho_20, alpha = conductor_resistivity(w.material)
    slot = st.slot
    if w.conductor == "hairpin":
        size = w.bar_height
        spacing = w.bar_width / min(slot.width_top, slot.width_bottom)
        n_layers = float(w.n_layers * w.turns_per_coil)
    else:
        size = w.wire_diameter
        n_wires = w.n_layers * w.turns_per_coil * w.strands_in_hand
        spacing, n_layers = round_wire_layers(
            w.wire_diameter, n_wires, slot.body_area(), slot.body_height
        )
    return PwmLossData(
        conductor=w.conductor,
        conductor_size=size,
        spacing=spacing,
        n_layers=n_layers,
        slot_share=slot_length_share(design),
        rho_20=rho_20,
        alpha_20=alpha,
        iron=iron,
        magnet=magnet,
        slot_leakage=slot_leakage_inductance(design),
    )


def _reduced_height(data: PwmLossData, frequency, temperature) -> np.ndarray:
    rho = copper.resistivity(temperature, data.rho_20, data.alpha_20)
    if data.conductor == "hairpin":
        return bar_reduced_height(frequency, data.conductor_size, data.spacing, rho)
    return round_wire_reduced_height(frequency, data.conductor_size, data.spacing, rho)



def _region_ripple_loss(reg, b_peak, f):
    """:func:`ripple_iron_loss` of one iron region's data ``reg`` at ripple flux density
    ``b_peak`` [T] and carrier-band frequencies ``f`` [Hz]."""
    return ripple_iron_loss(
        b_peak, f, reg.mass, reg.k_h, reg.alpha, reg.k_e, reg.k_a, reg.thickness, reg.resistivity
    )

def losses_from_spectrum(
    data: PwmLossData, spectrum: RippleSpectrum, r_dc: ArrayLike, winding_temperature: float
) -> dict[str, np.ndarray]:
    """PWM loss components [W] (:data:`PWM_LOSS_KEYS`) from a ripple spectrum; r_dc: phase
    DC resistance at the winding temperature [ohm]; winding_temperature [K]."""
    f = spectrum.frequency
    if data.fe_paths is not None:
        return _losses_fe_paths(data, spectrum, r_dc, winding_temperature)
    xi = _reduced_height(data, f, winding_temperature)
    out = {
        "pwm_copper": ripple_copper_loss(
            0.5 * spectrum.current_ms, xi, data.n_layers, r_dc, data.slot_share
        )
    }
    rms_psi = np.sqrt(np.maximum(spectrum.psi_ms, 0.0))
    rms_gap = np.sqrt(np.maximum(spectrum.gap_psi_ms, 0.0))
    for key, reg in data.iron.items():
        out[key] = _region_ripple_loss(
            reg, reg.b_per_psi * (rms_gap if key == "pwm_iron_rotor" else rms_psi), f
        )
    if data.magnet is None:
        out["pwm_magnet"] = np.zeros_like(out["pwm_copper"])
    else:
        width, length, volume, sigma, mu_r, b_per_psi = data.magnet
        b_m = b_per_psi * np.sqrt(2.0 * np.maximum(spectrum.gap_psi_d_ms, 0.0))
        out["pwm_magnet"] = ripple_magnet_loss(b_m, f, width, length, volume, sigma, mu_r)
    return out


#: Light-load reference point of :func:`fe_flux_paths` in units of the current limits
#: (i_d, i_q, i_f): the PWM losses matter most at light load, where the iron is least
#: saturated (incremental fields largest); steps of 5 % of I_max.
FE_REFERENCE = (-0.03, 0.1, 0.5)
FE_STEP = 0.05


def fe_flux_paths(
    design: Design, level: str = "ci", magnet_temperature: float = 353.15
) -> dict[str, tuple[float, float]]:
    """Finite-element flux paths: per region the r.m.s. over the region's area of the change
    of |B| per unit change of psi_d and of psi_q, ``(g_d, g_q)`` [T/Wb].

    Three magnetostatic solves (one rotor position) at :data:`FE_REFERENCE` and one step of
    :data:`FE_STEP` I_max in i_d and in i_q; ``g = rms|Delta B| / |Delta psi|`` with the
    flux-linkage change of the same solves (end-winding leakage included, as in the map).
    Regions: the iron regions of :data:`PWM_LOSS_KEYS` and ``magnets`` (|Delta B|, both
    components; IPM only). A band with ``<Delta psi_d^2>``, ``<Delta psi_q^2>`` then has the
    region's mean square ``g_d^2 <Delta psi_d^2> + g_q^2 <Delta psi_q^2>`` and the
    peak-equivalent ``sqrt(2 x that)``. magnet_temperature [K].
    """

    r = design.ratings
    i_f_max = r.max_field_current if design.topology.HAS_FIELD_WINDING else 0.0
    i_d, i_q = FE_REFERENCE[0] * r.max_phase_current, FE_REFERENCE[1] * r.max_phase_current
    i_f = FE_REFERENCE[2] * i_f_max
    h = FE_STEP * r.max_phase_current
    temp_c = magnet_temperature - ZERO_CELSIUS
    cases = [
        run_case(
            design,
            i_d + dd,
            i_q + dq,
            i_f,
            positions=1,
            level=level,
            magnet_temperature_C=temp_c,
            keep_fields=True,
        )
        for dd, dq in ((0.0, 0.0), (h, 0.0), (0.0, h))
    ]
    ex = cases[0].extras
    area = np.asarray(ex["element_area"], float)
    b0 = np.asarray(ex["b_elements"], float)[0]
    names = dict(
        zip(("stator_teeth", "stator_yoke", "rotor_core"), PWM_LOSS_KEYS[1:4], strict=True)
    )
    if design.topology.HAS_MAGNETS:
        names["magnets"] = "pwm_magnet"
    out = {key: [0.0, 0.0] for key in names.values()}
    for axis, case in enumerate(cases[1:]):
        d_psi = math.hypot(
            float(np.mean(case.psi_d) - np.mean(cases[0].psi_d)),
            float(np.mean(case.psi_q) - np.mean(cases[0].psi_q)),
        )
        db = np.asarray(case.extras["b_elements"], float)[0] - b0
        mag2 = db[0] ** 2 + db[1] ** 2
        for region, key in names.items():
            idx = np.asarray(ex["regions"][region])
            a = area[idx]
            out[key][axis] = math.sqrt(float(a @ mag2[idx] / a.sum())) / d_psi
    return {k: (v[0], v[1]) for k, v in out.items()}


def _losses_fe_paths(data: PwmLossData, spectrum: RippleSpectrum, r_dc, winding_temperature):
    """:func:`losses_from_spectrum` with the finite-element flux paths (all regions see the
    whole ripple flux; the paths already carry the leakage)."""
    f = spectrum.frequency
    xi = _reduced_height(data, f, winding_temperature)
    out = {
        "pwm_copper": ripple_copper_loss(
            0.5 * spectrum.current_ms, xi, data.n_layers, r_dc, data.slot_share
        )
    }
    ms_d = np.maximum(spectrum.psi_d_ms, 0.0)
    ms_q = np.maximum(spectrum.psi_ms - spectrum.psi_d_ms, 0.0)

    def b_peak(key):
        g_d, g_q = data.fe_paths[key]
        return np.sqrt(2.0 * (g_d**2 * ms_d + g_q**2 * ms_q))

    for key, reg in data.iron.items():
        out[key] = _region_ripple_loss(reg, b_peak(key), f)
    if data.magnet is None or "pwm_magnet" not in data.fe_paths:
        out["pwm_magnet"] = np.zeros_like(out["pwm_copper"])
    else:
        width, length, volume, sigma, mu_r, _ = data.magnet
        out["pwm_magnet"] = ripple_magnet_loss(
            b_peak("pwm_magnet"), f, width, length, volume, sigma, mu_r
        )
    return out


def pwm_losses(
    model,
    design: Design,
    i_d: ArrayLike,
    i_q: ArrayLike,
    i_f: ArrayLike,
    v_d: ArrayLike,
    v_q: ArrayLike,
    speed: ArrayLike,
    carrier_frequency: float,
    modulation: str = "svpwm",
    winding_temperature: float = 293.15,
    fe_paths: dict | None = None,
) -> tuple[dict[str, np.ndarray], RippleSpectrum]:
    """PWM loss components [W] and the ripple spectrum at operating points.

    model: machine model (flux linkages for the incremental inductances, phase resistance,
    DC-link voltage, pole pairs); design: for :func:`pwm_loss_data`; currents [A], voltages
    [V] peak phase dq, speed mechanical [rad/s] (broadcast); carrier_frequency [Hz];
    modulation (:data:`pipeline.drive.pwm.MODULATIONS`); winding_temperature [K];
    fe_paths: :func:`fe_flux_paths` of the design (None: the magnetic-circuit paths).
    NaN where the currents are NaN or outside the model.
    """
    i_d, i_q, i_f, v_d, v_q, speed = np.broadcast_arrays(
        *(np.asarray(x, float) for x in (i_d, i_q, i_f, v_d, v_q, speed))
    )
    ok = np.isfinite(i_d) & np.isfinite(i_q) & np.isfinite(i_f)
    l_inc = np.full(i_d.shape + (2, 2), np.nan)
    if ok.any():
        l_inc[ok] = incremental_inductance(model, i_d[ok], i_q[ok], i_f[ok])
    f_1 = model.pole_pairs * np.abs(speed) / (2.0 * math.pi)
    data = pwm_loss_data(design)
    if fe_paths is not None:
        data = dataclasses.replace(data, fe_paths=fe_paths)
    spectrum = ripple_spectrum(
        l_inc,
        v_d,
        v_q,
        model.dc_link_voltage,
        carrier_frequency,
        modulation,
        f_1,
        data.slot_leakage,
    )
    r_dc = model.phase_resistance(winding_temperature)
    return losses_from_spectrum(data, spectrum, r_dc, winding_temperature), spectrum


#: Carrier frequency when neither the options nor the design give one [Hz] (a model without
#: a design, or a design without an ``[inverter]`` table): 10 kHz, the efficiency stage's
#: former default.
DEFAULT_SWITCHING_FREQUENCY = 10e3

#: Phase-current waveforms of the efficiency stage.
WAVEFORMS = ("inverter-fed", "sinusoidal")


@dataclass(frozen=True)
class PwmSettings:
    """Inverter settings of an efficiency map: carrier frequency [Hz], modulation scheme,
    current waveform (:data:`WAVEFORMS`) and where they come from."""

    switching_frequency: float
    modulation: str
    current_waveform: str
    source: str
    fe_paths: dict | None = None


def pwm_settings(
    design,
    switching_frequency: float | None = None,
    modulation: str | None = None,
    current_waveform: str | None = None,
) -> PwmSettings:
    """Settings from the options where given, else from the design's ``[inverter]`` table
    (inverter-fed by default when it has one, sinusoidal otherwise), else the defaults
    (:data:`DEFAULT_SWITCHING_FREQUENCY`, SVPWM). Inverter-fed needs a :class:`Design`."""

    inv = getattr(design, "inverter", None)
    wave = current_waveform or ("inverter-fed" if inv is not None else "sinusoidal")
    if wave not in WAVEFORMS:
        raise DesignError("current_waveform", wave, f"must be one of {', '.join(WAVEFORMS)}")
    if wave == "inverter-fed" and not isinstance(design, Design):
        raise DesignError(
            "current_waveform", wave, "needs a design (conductors, flux paths); use sinusoidal"
        )
    mod = modulation or (inv.modulation if inv is not None else "svpwm")
    if mod not in MODULATIONS:
        raise DesignError("modulation", mod, f"must be one of {', '.join(MODULATIONS)}")
    if switching_frequency is not None:
        f_sw = float(switching_frequency)
    else:
        f_sw = inv.switching_frequency if inv is not None else DEFAULT_SWITCHING_FREQUENCY
    if not f_sw > 0:
        raise DesignError("switching_frequency", f_sw, "must be > 0 [Hz]")
    given = [
        n
        for n, v in (("switching frequency", switching_frequency), ("modulation", modulation))
        if v is not None
    ]
    parts = [f"options: {', '.join(given)}"] if given else []
    if inv is not None and len(given) < 2:
        parts.append(f"design [inverter]: {inv.source}")
    elif inv is None and len(given) < 2:
        parts.append("defaults (no [inverter] table)")
    return PwmSettings(f_sw, mod, wave, "; ".join(parts))


def pwm_extra(
    model, design, i_d, i_q, i_f, v_d, v_q, speed, settings: PwmSettings, winding_temperature: float
) -> dict[str, np.ndarray]:
    """PWM loss components [W] (:data:`PWM_LOSS_KEYS`) and ``phase_current_ripple_rms``
    [A] at operating points (arrays broadcast), for an inverter-fed efficiency map."""
    losses, spectrum = pwm_losses(
        model,
        design,
        i_d,
        i_q,
        i_f,
        v_d,
        v_q,
        speed,
        settings.switching_frequency,
        settings.modulation,
        winding_temperature,
        settings.fe_paths,
    )
    return {**losses, "phase_current_ripple_rms": spectrum.phase_current_rms}


def with_fe_paths(settings: PwmSettings, design, model, magnet_temperature: float):
    """``settings`` with :func:`fe_flux_paths` when the model is a finite-element map of
    ``design`` (its dataset names the mesh level) and the waveform is inverter-fed;
    unchanged otherwise (analytic models keep the magnetic-circuit paths)."""
    attrs = getattr(getattr(model, "dataset", None), "attrs", None) or {}
    level = attrs.get("mesh_level") or attrs.get("level")
    if settings.current_waveform != "inverter-fed" or not level or not isinstance(design, Design):
        return settings
    paths = fe_flux_paths(design, str(level), magnet_temperature)
    return dataclasses.replace(settings, fe_paths=paths, source=settings.source + "; FE flux paths")
