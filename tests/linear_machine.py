r"""Linear machine model: constant inductances, closed-form flux, torque and losses.

Implements :class:`pipeline.maps.protocol.MachineMapProtocol` for tests (closed-form
optima) and quick studies. Peak-valued, amplitude-invariant dq quantities
(:mod:`pipeline.em.park`)::

    psi_d = L_d i_d + psi_m + M_f i_f        psi_q = L_q i_q
    psi_f = L_f i_f + 3/2 M_f i_d            (field flux linkage, EESM)
    T     = 3/2 p (psi_d i_q - psi_q i_d)

(``psi_m`` for PM machines, ``M_f i_f`` for EESM; the 3/2 in ``psi_f`` is the mutual
coupling seen from the field with amplitude-invariant stator currents.)

Losses [W] (simple terms, each documented in :class:`LinearMachine`)::

    stator_copper = 3/2 R_s(T_w) (i_d^2 + i_q^2)
    field_copper  = R_f(T_f) i_f^2
    brushes       = U_b |i_f| + k_bf omega
    iron_*        = share_* (k_h f_e + k_e f_e^2) (|psi_dq| / psi_ref)^2,  f_e = p omega/(2 pi)
    magnet        = k_m f_e^2 (|i_dq| / i_max)^2        (PM eddy currents, PM only)
    mechanical    = a omega + b omega^2 + c omega^3
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError
from pipeline.losses.copper import resistance_at_temperature
from pipeline.maps.protocol import LOSS_KEYS

__all__ = ["LinearMachine"]

_T_REF = ZERO_CELSIUS + 20.0


@dataclass(frozen=True)
class LinearMachine:
    """Constant-parameter dq machine [SI].

    has_field_winding: an EESM (field current axis) or not (PM); pole_pairs [-]; l_d, l_q [H]; psi_m PM flux linkage [Wb];
    m_f stator-field mutual inductance [H] and l_f field self-inductance [H] (EESM);
    r_s phase resistance and r_f field resistance at ``temperature_ref`` [ohm];
    i_max peak phase current limit [A]; i_f_max [A]; u_f_max field supply voltage [V];
    dc_link_voltage [V]; max_speed [rad/s]; iron_hysteresis k_h [W/Hz] and iron_eddy k_e
    [W/Hz^2] at flux linkage psi_ref [Wb], split by iron_shares (teeth, yoke, rotor);
    magnet_eddy k_m [W/Hz^2] at i_max; brush_drop U_b [V] (both brushes);
    brush_friction k_bf [W s]; mechanical (a [W s], b [W s^2], c [W s^3]).
    """

    has_field_winding: bool
    pole_pairs: int
    l_d: float
    l_q: float
    r_s: float
    i_max: float
    dc_link_voltage: float
    max_speed: float
    psi_m: float = 0.0
    m_f: float = 0.0
    l_f: float = 0.0
    r_f: float = 0.0
    i_f_max: float = 0.0
    u_f_max: float = 0.0
    temperature_ref: float = _T_REF
    iron_hysteresis: float = 0.0
    iron_eddy: float = 0.0
    psi_ref: float = 1.0
    iron_shares: tuple[float, float, float] = (0.5, 0.35, 0.15)
    magnet_eddy: float = 0.0
    brush_drop: float = 0.0
    brush_friction: float = 0.0
    mechanical: tuple[float, float, float] = (0.0, 0.0, 0.0)
    name: str = "linear"
    i_d_range: tuple[float, float] = field(init=False)
    i_q_range: tuple[float, float] = field(init=False)
    i_f_range: tuple[float, float] = field(init=False)

    def __post_init__(self) -> None:
        positive = ("l_d", "l_q", "i_max", "dc_link_voltage", "max_speed", "psi_ref")
        for name in positive:
            value = getattr(self, name)
            if not (value > 0.0 and math.isfinite(value)):
                raise DesignError(name, value, "must be > 0")
        if self.pole_pairs < 1:
            raise DesignError("pole_pairs", self.pole_pairs, "must be >= 1")
        if self.r_s < 0.0 or self.r_f < 0.0:
            raise DesignError("r_s, r_f", (self.r_s, self.r_f), "must be >= 0 [ohm]")
        if self.has_field_winding:
            for name in ("m_f", "l_f", "r_f", "i_f_max", "u_f_max"):
                if not getattr(self, name) > 0.0:
                    raise DesignError(name, getattr(self, name), "must be > 0 for an EESM")
        elif self.m_f or self.i_f_max:
            raise DesignError("m_f, i_f_max", (self.m_f, self.i_f_max), "must be 0 for PM")
        if abs(sum(self.iron_shares) - 1.0) > 1e-9:
            raise DesignError("iron_shares", self.iron_shares, "must sum to 1")
        object.__setattr__(self, "i_d_range", (-self.i_max, self.i_max))
        object.__setattr__(self, "i_q_range", (-self.i_max, self.i_max))
        object.__setattr__(self, "i_f_range", (0.0, self.i_f_max))

    def flux(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0):
        """(psi_d, psi_q, psi_f) [Wb] from currents [A]."""
        i_d, i_q, i_f = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (i_d, i_q, i_f)))
        psi_d = self.l_d * i_d + self.psi_m + self.m_f * i_f
        psi_q = self.l_q * i_q
        psi_f = self.l_f * i_f + 1.5 * self.m_f * i_d
        return psi_d, psi_q, psi_f

    def torque(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0) -> np.ndarray:
        """Torque ``3/2 p (psi_d i_q - psi_q i_d)`` [N m]."""
        psi_d, psi_q, _ = self.flux(i_d, i_q, i_f)
        return 1.5 * self.pole_pairs * (psi_d * np.asarray(i_q) - psi_q * np.asarray(i_d))

    def phase_resistance(self, temperature: float) -> float:
        """Phase resistance at ``temperature`` [K] [ohm] (copper, IEC 60028 alpha)."""
        return float(resistance_at_temperature(self.r_s, temperature, self.temperature_ref))

    def field_resistance(self, temperature: float) -> float:
        """Field resistance at ``temperature`` [K] [ohm] (0 for PM)."""
        return float(resistance_at_temperature(self.r_f, temperature, self.temperature_ref))

    def losses(
        self,
        i_d: ArrayLike,
        i_q: ArrayLike,
        i_f: ArrayLike,
        speed: ArrayLike,
        temperatures: dict | None = None,
    ) -> dict[str, np.ndarray]:
        """Loss components [W] (module docstring) at mechanical speed [rad/s]."""
        temps = temperatures or {}
        i_d, i_q, i_f, w = np.broadcast_arrays(
            *(np.asarray(x, dtype=float) for x in (i_d, i_q, i_f, speed))
        )
        w = np.abs(w)
        r_s = self.phase_resistance(temps.get("winding", self.temperature_ref))
        r_f = self.field_resistance(temps.get("field", self.temperature_ref))
        psi_d, psi_q, _ = self.flux(i_d, i_q, i_f)
        f_e = self.pole_pairs * w / (2.0 * np.pi)
        iron = (self.iron_hysteresis * f_e + self.iron_eddy * f_e**2) * (
            (psi_d**2 + psi_q**2) / self.psi_ref**2
        )
        a, b, c = self.mechanical
        out = {
            "stator_copper": 1.5 * r_s * (i_d**2 + i_q**2),
            "field_copper": r_f * i_f**2,
            "brushes": self.brush_drop * np.abs(i_f) + self.brush_friction * w,
            "iron_stator_teeth": self.iron_shares[0] * iron,
            "iron_stator_yoke": self.iron_shares[1] * iron,
            "iron_rotor": self.iron_shares[2] * iron,
            "magnet": self.magnet_eddy * f_e**2 * (i_d**2 + i_q**2) / self.i_max**2,
            "mechanical": a * w + b * w**2 + c * w**3,
        }
        assert tuple(out) == LOSS_KEYS
        return out

    def inside(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0) -> np.ndarray:
        """True inside the current box of the model (no extrapolation beyond it)."""
        i_d, i_q, i_f = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (i_d, i_q, i_f)))
        tol = 1e-9 * self.i_max
        ok = (np.abs(i_d) <= self.i_max + tol) & (np.abs(i_q) <= self.i_max + tol)
        return ok & (i_f >= -tol) & (i_f <= self.i_f_max + tol)


#: Example parameter sets for tests and benchmarks (not reference data).
#: ``GEN5_LIKE``: a linear EESM of the order of ``gen5_eesm`` at ``ci`` level (L_d, L_q, M_f
#: from a rough fit to a few ``edrive case`` runs; R_s, R_f from the winding formulas).
GEN5_LIKE = dict(
    has_field_winding=True,
    pole_pairs=3,
    l_d=1.3e-4,
    l_q=1.0e-4,
    m_f=4.8e-3,
    l_f=0.25,
    r_s=2.7e-3,
    r_f=2.5,
    i_max=850.0,
    i_f_max=25.0,
    u_f_max=200.0,
    dc_link_voltage=400.0,
    max_speed=14000 * np.pi / 30,
    iron_hysteresis=1.5,
    iron_eddy=2e-3,
    psi_ref=0.12,
)
#: ``IPM_LIKE``: an interior-PM-like machine (L_q > L_d), 300 A, 500 V.
IPM_LIKE = dict(
    has_field_winding=False,
    pole_pairs=4,
    l_d=0.3e-3,
    l_q=0.8e-3,
    psi_m=0.08,
    r_s=0.02,
    i_max=300.0,
    dc_link_voltage=500.0,
    max_speed=1200.0,
)


def example_machine(base: dict, **changes) -> LinearMachine:
    """A :class:`LinearMachine` from an example set (:data:`GEN5_LIKE`, :data:`IPM_LIKE`)
    with ``changes`` applied."""
    return LinearMachine(**(base | changes))
