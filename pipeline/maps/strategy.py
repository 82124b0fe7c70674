r"""Loss-minimising operating strategy over a (speed, torque) grid, and the envelopes.

For every mechanical speed ``omega`` and torque ``T`` the strategy picks currents
``(i_d, i_q, i_f)`` of a :class:`~pipeline.maps.protocol.MachineMapProtocol` model that
minimise the total loss subject to

* stator current   ``i_d^2 + i_q^2 <= i_max^2``                        (peak phase)
* field current    ``0 <= i_f <= min(i_f_max, u_f_max / R_f(T_f))``    (EESM; field voltage
  ``u_f = R_f(T_f) i_f`` in steady state)
* stator voltage   ``v_d^2 + v_q^2 <= V_max^2`` with the steady-state dq equations
  ``v_d = R_s i_d - omega_e psi_q``, ``v_q = R_s i_q + omega_e psi_d`` (resistive drop of
  the phase resistance incl. end windings; end-winding leakage is inside psi by the
  protocol), ``omega_e = p omega``;
* the model's own domain (``inside``): points out of reach are NaN, never extrapolated.

Voltage limit: with space-vector (or third-harmonic) modulation the largest peak phase
voltage in the linear range is ``V_dc / sqrt(3)`` (modulation index ``m = 2/sqrt(3)`` in the
sine-PWM definition ``V_peak / (V_dc/2)``). We use ``V_max = m_max V_dc / sqrt(3)`` with
``m_max = 0.95`` by default: a 5 % reserve for current-control headroom and dead-time
voltage loss (common practice: 0.9-0.97 of the linear-range limit). Over-modulation is
not used.

Method (vectorised, no per-point optimiser):

1. Candidates: a dense grid in (i_d, i_q[, i_f]) over the model domain inside the current
   and field limits (``n_current`` x ``n_current`` x ``n_field``). Flux linkages and
   torque are evaluated once.
2. Loss surrogate for the *selection* only: total loss at ``n_loss_speeds`` speeds, fitted
   per candidate in the basis ``{1, w, w^1.5, w^2, w^3}`` (copper; hysteresis, bearings;
   excess; eddy currents; windage). Exact for Bertotti iron and polynomial mechanical
   losses, a least-squares fit otherwise (e.g. Dowell's AC factor).
3. Envelope per speed: the feasible candidate of largest (smallest) torque, then a pattern
   search in (i_d, i_f) with i_q bisected onto the active limits (current circle, voltage
   ellipse, model domain), so the search slides along them.
4. Per (speed, torque level): the least-loss feasible candidate with a torque just beyond
   the level (lowering |T| through |i_q| keeps the voltage feasible), else within half or
   one torque step; then a pattern search in i_d (and i_f) with i_q held on the exact
   torque by Newton steps and the *exact* loss; the scale halves when the centre wins and
   stays while an edge wins. Points that fail restart from the envelope point. Reported
   quantities are exact model evaluations at the final currents.

Regions (:data:`REGIONS`): MTPA-like (voltage limit inactive: the loss-minimum is set by
currents alone), field weakening (voltage limit active, |v| >= (1 - ``active_tolerance``)
V_max), MTPV (on the envelope with the voltage limit active and the current limit not).
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError
from pipeline.maps.protocol import LOSS_KEYS

__all__ = [
    "REGIONS",
    "SVPWM_LINEAR_LIMIT",
    "StrategyOptions",
    "StrategyResult",
    "voltage_limit",
    "dq_voltage",
    "field_current_limit",
    "operating_strategy",
]

log = logging.getLogger(__name__)

#: Region codes of the map points.
REGIONS = {0: "out of reach", 1: "MTPA", 2: "field weakening", 3: "MTPV"}

#: Largest peak phase voltage per DC-link volt in the SVPWM linear range, 1/sqrt(3) [-].
SVPWM_LINEAR_LIMIT = 1.0 / math.sqrt(3.0)


@dataclass(frozen=True)
class StrategyOptions:
    """Numerical and physical settings of the strategy.

    n_speed, n_torque: grid sizes [-]; speeds from 0 to the model's max_speed, torques
    symmetric about zero up to the largest envelope torque. modulation_max: m_max, the
    fraction of the SVPWM linear limit V_dc/sqrt(3) [-]. n_current, n_field: candidates per
    stator-current axis and in i_f [-]. n_loss_speeds: speeds of the loss surrogate [-].
    temperatures: {"winding", "field", "magnet"} [K] (default 100 degC winding and field).
    torque_tolerance: accepted |T - T_target| relative to the largest torque [-].
    active_tolerance: a limit counts as active within this relative margin [-].
    refine_passes: passes of the pattern searches (the envelope's take 3x as many) [-].
    """

    n_speed: int = 100
    n_torque: int = 100
    modulation_max: float = 0.95
    n_current: int = 61
    n_field: int = 13
    n_loss_speeds: int = 5
    temperatures: dict = field(
        default_factory=lambda: {
            "winding": ZERO_CELSIUS + 100.0,
            "field": ZERO_CELSIUS + 100.0,
            "magnet": ZERO_CELSIUS + 80.0,
        }
    )
    torque_tolerance: float = 1e-3
    active_tolerance: float = 0.02
    refine_passes: int = 10

    def __post_init__(self) -> None:
        for name in ("n_speed", "n_torque", "n_current", "n_loss_speeds"):
            if getattr(self, name) < 3:
                raise DesignError(name, getattr(self, name), "must be >= 3")
        if self.n_field < 2 or self.refine_passes < 1:
            raise DesignError(
                "n_field, refine_passes", (self.n_field, self.refine_passes), "need >= 2, >= 1"
            )
        if self.n_loss_speeds < 5:
            raise DesignError("n_loss_speeds", self.n_loss_speeds, "must be >= 5 (5 basis terms)")
        if not 0.0 < self.modulation_max <= 1.0:
            raise DesignError("modulation_max", self.modulation_max, "must be in (0, 1]")


@dataclass(frozen=True, eq=False)
class StrategyResult:
    """Strategy over the grid: arrays (n_speed, n_torque) unless noted; NaN out of reach.

    speed (n_speed) [rad/s]; torque (n_torque) [N m]; i_d, i_q, i_f [A]; psi_d, psi_q [Wb];
    v_d, v_q [V]; u_f field voltage [V]; torque_actual [N m]; losses {LOSS_KEYS} [W];
    region codes (:data:`REGIONS`); envelope per speed: torque_max, torque_min [N m] and the
    currents there (envelope_currents[key] (2, n_speed), key i_d/i_q/i_f, row 0 motoring),
    envelope_region (2, n_speed); v_max [V]; i_f_limit [A]; r_s [ohm]; r_f [ohm].
    """

    speed: np.ndarray
    torque: np.ndarray
    i_d: np.ndarray
    i_q: np.ndarray
    i_f: np.ndarray
    psi_d: np.ndarray
    psi_q: np.ndarray
    v_d: np.ndarray
    v_q: np.ndarray
    u_f: np.ndarray
    torque_actual: np.ndarray
    losses: dict
    region: np.ndarray
    torque_max: np.ndarray
    torque_min: np.ndarray
    envelope_currents: dict
    envelope_region: np.ndarray
    v_max: float
    i_f_limit: float
    r_s: float
    r_f: float

    @property
    def loss_total(self) -> np.ndarray:
        """Sum of all loss components [W]."""
        return sum(self.losses[k] for k in LOSS_KEYS)

    def envelope_at(self, speed: ArrayLike, generating: bool = False, beyond: float = np.nan):
        """Motoring (or generating) envelope torque [N m] at ``speed`` [rad/s], interpolated
        over the grid speeds where it exists (NaN where no current meets the limits); above
        the last such speed: ``beyond``."""
        env = self.torque_min if generating else self.torque_max
        ok = np.isfinite(env)
        return np.interp(speed, self.speed[ok], env[ok], right=beyond)


def voltage_limit(dc_link_voltage: float, modulation_max: float = 0.95) -> float:
    """Peak phase voltage limit ``m_max V_dc / sqrt(3)`` [V] (SVPWM linear range)."""
    return modulation_max * dc_link_voltage * SVPWM_LINEAR_LIMIT


def dq_voltage(psi_d, psi_q, i_d, i_q, speed, pole_pairs: int, r_s: float):
    """Steady-state ``(v_d, v_q)`` [V]: ``R i_d - w_e psi_q``, ``R i_q + w_e psi_d``.

    psi [Wb], i [A], speed mechanical [rad/s], r_s phase resistance [ohm].
    """
    w_e = pole_pairs * np.asarray(speed, dtype=float)
    return r_s * np.asarray(i_d) - w_e * psi_q, r_s * np.asarray(i_q) + w_e * psi_d


def field_current_limit(model, field_temperature: float) -> float:
    """``min(i_f_max, u_f_max / R_f(T_f), model domain)`` [A]; 0 for PM."""
    if model.kind != "eesm":
        return 0.0
    limit = min(model.i_f_max, model.i_f_range[1])
    r_f = model.field_resistance(field_temperature)
    if r_f > 0.0:
        limit = min(limit, model.u_f_max / r_f)
    return float(limit)


class _Model:
    """Evaluation helpers around a protocol model with fixed temperatures and limits."""

    def __init__(self, model, options: StrategyOptions):
        self.m = model
        self.opt = options
        temps = options.temperatures
        self.temps = temps
        self.r_s = float(model.phase_resistance(temps.get("winding", ZERO_CELSIUS + 20.0)))
        self.eesm = model.kind == "eesm"
        t_f = temps.get("field", ZERO_CELSIUS + 20.0)
        self.r_f = float(model.field_resistance(t_f)) if self.eesm else 0.0
        self.i_f_lim = field_current_limit(model, t_f)
        self.v_max = voltage_limit(model.dc_link_voltage, options.modulation_max)
        self.p = model.pole_pairs

    def feasible(self, i_d, i_q, i_f, speed, psi_d=None, psi_q=None):
        """All limits at once; returns (ok, |v|). With given flux linkages the currents are
        candidates already inside the model's domain (not checked again)."""
        inside = psi_d is None
        if psi_d is None:
            psi_d, psi_q, _ = self.m.flux(i_d, i_q, i_f)
        v_d, v_q = dq_voltage(psi_d, psi_q, i_d, i_q, speed, self.p, self.r_s)
        v = np.hypot(v_d, v_q)
        tol = 1e-9
        ok = (i_d**2 + i_q**2 <= self.m.i_max**2 * (1 + tol)) & (v <= self.v_max * (1 + tol))
        ok &= (i_f >= -tol) & (i_f <= self.i_f_lim * (1 + tol) + tol)
        if inside:
            ok &= np.asarray(self.m.inside(i_d, i_q, i_f), dtype=bool)
        return ok & np.isfinite(v), v

    def total_loss(self, i_d, i_q, i_f, speed):
        losses = self.m.losses(i_d, i_q, i_f, speed, self.temps)
        return sum(np.asarray(losses[k], dtype=float) for k in LOSS_KEYS)


def _candidates(model, mm: _Model, options: StrategyOptions):
    """Dense candidate grid inside the current/field limits and the model's domain."""
    i_max = model.i_max
    d_lo, d_hi = max(model.i_d_range[0], -i_max), min(model.i_d_range[1], i_max)
    q_lo, q_hi = max(model.i_q_range[0], -i_max), min(model.i_q_range[1], i_max)
    i_d = np.linspace(d_lo, d_hi, options.n_current)
    i_q = np.linspace(q_lo, q_hi, options.n_current)
    steps = [i_d[1] - i_d[0], i_q[1] - i_q[0]]
    if mm.eesm:
        i_f = np.linspace(max(model.i_f_range[0], 0.0), mm.i_f_lim, options.n_field)
        steps.append(i_f[1] - i_f[0])
    else:
        i_f = np.zeros(1)
        steps.append(0.0)
    dd, qq, ff = (a.ravel() for a in np.meshgrid(i_d, i_q, i_f, indexing="ij"))
    keep = (dd**2 + qq**2 <= i_max**2 * (1 + 1e-12)) & np.asarray(model.inside(dd, qq, ff))
    return dd[keep], qq[keep], ff[keep], np.array(steps)


def _loss_surrogate(mm: _Model, i_d, i_q, i_f, max_speed, n_nodes):
    """Coefficients (5, n) of loss(w) in the basis {1, w, w^1.5, w^2, w^3}, w = speed/max."""
    nodes = np.linspace(0.0, 1.0, n_nodes)
    basis = np.stack([np.ones_like(nodes), nodes, nodes**1.5, nodes**2, nodes**3], axis=1)
    values = np.stack([mm.total_loss(i_d, i_q, i_f, s * max_speed) for s in nodes])
    coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
    return coef


def _basis(speed, max_speed):
    x = np.asarray(speed, dtype=float) / max_speed
    return np.stack([np.ones_like(x), x, x**1.5, x**2, x**3], axis=-1)


def _max_iq(mm: _Model, i_d, i_f, speed, sign, n_iter=22):
    """Largest feasible ``sign * i_q`` at fixed (i_d, i_f) by bisection; (i_q, valid).

    Assumes the feasible i_q form an interval containing 0 (convex voltage and current
    limits) and torque increasing with ``sign * i_q`` (true for the usual quadrant).
    """
    i_d, i_f, speed = np.broadcast_arrays(i_d, i_f, speed)
    q_range = mm.m.i_q_range[1] if sign > 0 else -mm.m.i_q_range[0]
    hi = np.minimum(np.sqrt(np.maximum(mm.m.i_max**2 - i_d**2, 0.0)), q_range)
    ok0, _ = mm.feasible(i_d, np.zeros_like(i_d), i_f, speed)
    ok_hi, _ = mm.feasible(i_d, sign * hi, i_f, speed)
    lo = np.zeros_like(hi)
    top = hi.copy()
    for _ in range(n_iter):
        mid = 0.5 * (lo + top)
        ok, _ = mm.feasible(i_d, sign * mid, i_f, speed)
        lo = np.where(ok, mid, lo)
        top = np.where(ok, top, mid)
    return sign * np.where(ok_hi, hi, lo), ok0


def _envelope(mm: _Model, cand, flux, torque_c, speeds, steps, sign):
    """Max (sign=+1) or min (sign=-1) torque per speed and its currents (4, n_speed).

    Start: the feasible candidate of largest ``sign * T`` per speed; then a pattern search
    in (i_d, i_f) with i_q at its largest feasible value (:func:`_max_iq`), so that the
    search moves along the active limits; offsets {-1, 0, 1} per axis times a scale that
    stays while the best offset is on the edge and shrinks by 3 otherwise.
    """
    m = mm.m
    i_d, i_q, i_f = cand
    x = np.full((2, speeds.size), np.nan)
    cand_best = np.full((4, speeds.size), np.nan)  # the best feasible candidate itself
    for k, w in enumerate(speeds):
        ok, _ = mm.feasible(i_d, i_q, i_f, w, *flux)
        if ok.any():
            j = int(np.argmax(np.where(ok & np.isfinite(torque_c), sign * torque_c, -np.inf)))
            x[:, k] = (i_d[j], i_f[j])
            cand_best[:, k] = (torque_c[j], i_d[j], i_q[j], i_f[j])
    rows = np.arange(speeds.size)
    valid = np.isfinite(x[0])
    x = np.where(valid, x, 0.0)
    qq, ok = _max_iq(mm, x[0], x[1], speeds, sign)
    t_best = sign * np.asarray(m.torque(x[0], qq, x[1]), dtype=float)
    t_best = np.where(ok & valid & np.isfinite(t_best), t_best, -np.inf)
    dims = 2 if mm.eesm else 1
    offsets = np.array(list(itertools.product([-1.0, 0.0, 1.0], repeat=dims)))
    if dims == 1:
        offsets = np.hstack([offsets, np.zeros((len(offsets), 1))])
    edge = np.any(np.abs(offsets[:, :dims]) == 1.0, axis=1)
    scale = np.tile(np.array([steps[0], steps[2]])[:, None], (1, speeds.size))
    for _ in range(3 * mm.opt.refine_passes):
        trial = x[:, None, :] + offsets.T[:, :, None] * scale[:, None, :]
        trial[1] = np.clip(trial[1], 0.0, mm.i_f_lim)
        qq, ok = _max_iq(mm, trial[0], trial[1], speeds[None, :], sign)
        t = sign * np.asarray(m.torque(trial[0], qq, trial[1]), dtype=float)
        t = np.where(ok & np.isfinite(t), t, -np.inf)
        k = np.argmax(t, axis=0)
        better = t[k, rows] > t_best
        t_best = np.where(better, t[k, rows], t_best)
        x = np.where(better, trial[:, k, rows], x)
        scale = np.where(better & edge[k], scale, scale / 3.0)
    best = np.full((4, speeds.size), np.nan)
    valid = np.isfinite(t_best)
    i_q_best, _ = _max_iq(mm, x[0], x[1], speeds, sign)
    best[0] = np.where(valid, sign * t_best, np.nan)
    best[1] = np.where(valid, x[0], np.nan)
    best[2] = np.where(valid, i_q_best, np.nan)
    best[3] = np.where(valid, x[1], np.nan)
    # with cross-saturation torque can fall before i_q reaches its limit: then the best
    # feasible candidate of the dense grid beats the search along the active limits
    use_cand = np.isfinite(cand_best[0]) & ~(sign * best[0] >= sign * cand_best[0])
    return np.where(use_cand, cand_best, best)


def _select(mm, cand, flux, torque_c, coef, speeds, levels, max_speed):
    """Least-loss feasible candidate per (speed, torque level) within a torque window."""
    i_d, i_q, i_f = cand
    psi_d, psi_q = flux
    d_t = levels[1] - levels[0]
    order = np.argsort(torque_c, kind="stable")
    t_sorted = torque_c[order]
    # first a window on the far side of zero (|T| >= |T_target|): lowering |T| by lowering
    # |i_q| also lowers the voltage, so the start stays feasible in field weakening; then
    # symmetric windows of half and one torque step
    sgn = np.where(levels >= 0, 1.0, -1.0)
    lo1 = np.minimum(levels, levels + sgn * d_t)
    hi1 = np.maximum(levels, levels + sgn * d_t)
    windows = [(np.searchsorted(t_sorted, lo1, "left"), np.searchsorted(t_sorted, hi1, "right"))]
    windows += [
        (
            np.searchsorted(t_sorted, levels - f * d_t, "left"),
            np.searchsorted(t_sorted, levels + f * d_t, "right"),
        )
        for f in (0.5, 1.0)
    ]
    out = np.full((speeds.size, levels.size), -1, dtype=np.int64)
    for k, w in enumerate(speeds):
        ok, _ = mm.feasible(i_d, i_q, i_f, w, psi_d, psi_q)
        loss = _basis(w, max_speed) @ coef
        loss_sorted = np.where(ok & np.isfinite(loss), loss, np.inf)[order]
        for j in range(levels.size):
            for lo, hi in windows:  # the first window that holds a feasible candidate
                if hi[j] <= lo[j]:
                    continue
                seg = loss_sorted[lo[j] : hi[j]]
                m = int(np.argmin(seg))
                if np.isfinite(seg[m]):
                    out[k, j] = order[lo[j] + m]
                    break
    return out


def _newton_iq(mm: _Model, i_d, i_q, i_f, target, h, n_iter=3):
    """Newton steps on i_q for torque = target; T and dT/di_q from T(i_q +- h), the two
    points kept inside the model's i_q range (one-sided at its edge)."""
    lo, hi = mm.m.i_q_range
    for _ in range(n_iter):
        q_p = np.minimum(i_q + h, hi)
        q_m = np.maximum(q_p - 2 * h, lo)
        t_p = np.asarray(mm.m.torque(i_d, q_p, i_f), dtype=float)
        t_m = np.asarray(mm.m.torque(i_d, q_m, i_f), dtype=float)
        dt = (t_p - t_m) / (q_p - q_m)
        t = t_m + dt * (i_q - q_m)  # linear through both points: O(h^2) at the centre
        safe = np.abs(dt) > 1e-12
        step = np.where(safe, (target - t) / np.where(safe, dt, 1.0), 0.0)
        i_q = i_q + np.clip(step, -0.25 * mm.m.i_max, 0.25 * mm.m.i_max)
    return i_q


def _refine(mm: _Model, i_d, i_q, i_f, speed, target, steps, t_tol):
    """Pattern search in i_d (and i_f) with i_q on the torque target; exact losses.

    Offsets (see code) times a per-point scale, one candidate step
    at first; the scale halves where the best offset is the centre or interior and stays
    where it lies on the edge (the optimum is further away).
    """
    h = 1e-4 * mm.m.i_max
    dims = 2 if mm.eesm else 1
    if dims == 1:
        offsets = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0]])
    else:  # a cross and the two diagonals of the usual (more i_f, less |i_d|) valley
        offsets = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1], [1, -1], [-1, 1.0]])
    edge = np.any(np.abs(offsets) == 1.0, axis=1)
    scale = np.tile(np.array([steps[0], steps[2]])[:, None], (1, i_d.size))
    i_q = _newton_iq(mm, i_d, i_q, i_f, target, h)
    best_loss = np.full(i_d.shape, np.inf)
    cols = np.arange(i_d.size)
    for _ in range(mm.opt.refine_passes):
        td = i_d[None, :] + offsets[:, 0, None] * scale[0]
        tf = i_f[None, :] + offsets[:, 1, None] * scale[1]
        tq = _newton_iq(mm, td, np.broadcast_to(i_q, td.shape), tf, target, h)
        ww = np.broadcast_to(speed, td.shape)
        ok, _ = mm.feasible(td, tq, tf, ww)
        t = np.asarray(mm.m.torque(td, tq, tf), dtype=float)
        ok &= np.abs(t - target) <= t_tol
        loss = np.full(td.shape, np.inf)
        loss[ok] = mm.total_loss(td[ok], tq[ok], tf[ok], ww[ok])
        loss[~np.isfinite(loss)] = np.inf  # NaN losses (failed map points) never win
        j = np.argmin(loss, axis=0)
        better = loss[j, cols] < best_loss
        best_loss = np.where(better, loss[j, cols], best_loss)
        i_d = np.where(better, td[j, cols], i_d)
        i_q = np.where(better, tq[j, cols], i_q)
        i_f = np.where(better, tf[j, cols], i_f)
        scale = np.where(better & edge[j], scale, scale / 2.0)
    return i_d, i_q, i_f, np.isfinite(best_loss)


def operating_strategy(model, options: StrategyOptions | None = None) -> StrategyResult:
    """Loss-minimising currents over a (speed, torque) grid, and the envelopes."""
    opt = options or StrategyOptions()
    mm = _Model(model, opt)
    if mm.eesm and mm.i_f_lim <= 0.0:
        raise DesignError("i_f limit", mm.i_f_lim, "field current limit must be > 0 for EESM")
    speeds = np.linspace(0.0, model.max_speed, opt.n_speed)
    i_d, i_q, i_f, steps = _candidates(model, mm, opt)
    if i_d.size == 0:
        raise DesignError("candidates", 0, "no current inside the model domain and limits")
    psi_d, psi_q, _ = model.flux(i_d, i_q, i_f)
    torque_c = np.asarray(model.torque(i_d, i_q, i_f), dtype=float)
    cand, flux = (i_d, i_q, i_f), (np.asarray(psi_d), np.asarray(psi_q))
    env_hi = _envelope(mm, cand, flux, torque_c, speeds, steps, +1.0)
    env_lo = _envelope(mm, cand, flux, torque_c, speeds, steps, -1.0)
    t_lim = float(np.nanmax(np.abs(np.concatenate([env_hi[0], env_lo[0]]))))
    levels = np.linspace(-t_lim, t_lim, opt.n_torque)
    coef = _loss_surrogate(mm, i_d, i_q, i_f, model.max_speed, opt.n_loss_speeds)
    pick = _select(mm, cand, flux, torque_c, coef, speeds, levels, model.max_speed)

    sp, tt = np.meshgrid(speeds, levels, indexing="ij")
    within = (tt <= env_hi[0][:, None] + 1e-12) & (tt >= env_lo[0][:, None] - 1e-12)
    t_tol = opt.torque_tolerance * t_lim
    x = np.full((3,) + sp.shape, np.nan)
    has = pick >= 0
    x[0][has], x[1][has], x[2][has] = i_d[pick[has]], i_q[pick[has]], i_f[pick[has]]
    # fall back to the envelope point (feasible, larger |T|) where no candidate was picked
    for row, env in ((tt >= 0, env_hi), (tt < 0, env_lo)):
        miss = within & ~has & row
        for a in range(3):
            x[a][miss] = np.broadcast_to(env[1 + a][:, None], sp.shape)[miss]
    sel = within & np.isfinite(x[0])
    rd, rq, rf, ok = _refine(mm, x[0][sel], x[1][sel], x[2][sel], sp[sel], tt[sel], steps, t_tol)
    # second chance from the envelope point for points whose refinement failed
    if not ok.all():
        idx = np.flatnonzero(sel)[~ok]
        env = np.where(tt.flat[idx] >= 0, 1, 0)
        e = [
            np.where(env == 1, env_hi[1 + a][idx // sp.shape[1]], env_lo[1 + a][idx // sp.shape[1]])
            for a in range(3)
        ]
        good = np.isfinite(e[0])
        if good.any():
            r2 = _refine(
                mm,
                e[0][good],
                e[1][good],
                e[2][good],
                sp.flat[idx][good],
                tt.flat[idx][good],
                steps,
                t_tol,
            )
            sub = np.flatnonzero(~ok)[good]
            rd[sub], rq[sub], rf[sub], ok[sub] = r2
    # a level within the torque tolerance of the envelope: the envelope point itself
    # (feasible by construction; Newton steps from it may cross a limit by round-off)
    if not ok.all():
        idx = np.flatnonzero(sel)[~ok]
        row = idx // sp.shape[1]
        up = tt.flat[idx] >= 0
        env_t = np.where(up, env_hi[0][row], env_lo[0][row])
        near = np.abs(env_t - tt.flat[idx]) <= t_tol
        sub = np.flatnonzero(~ok)[near]
        for a, r in enumerate((rd, rq, rf)):
            r[sub] = np.where(up[near], env_hi[1 + a][row[near]], env_lo[1 + a][row[near]])
        ok[sub] = True
    x[:] = np.nan
    flat = np.flatnonzero(sel)[ok]
    for a, r in enumerate((rd, rq, rf)):
        x[a].flat[flat] = r[ok]
    log.info(
        "%s: %d of %d map points reachable; max torque %.1f N m",
        getattr(model, "name", "model"),
        int(np.isfinite(x[0]).sum()),
        x[0].size,
        t_lim,
    )
    return _assemble(mm, speeds, levels, x, env_hi, env_lo)


def _assemble(mm: _Model, speeds, levels, x, env_hi, env_lo) -> StrategyResult:
    model, opt = mm.m, mm.opt
    i_d, i_q, i_f = x
    sp = np.broadcast_to(speeds[:, None], i_d.shape)
    valid = np.isfinite(i_d)
    z = np.where(valid, i_d, 0.0), np.where(valid, i_q, 0.0), np.where(valid, i_f, 0.0)
    psi_d, psi_q, _ = (np.asarray(a, dtype=float) for a in model.flux(*z))
    v_d, v_q = dq_voltage(psi_d, psi_q, z[0], z[1], sp, mm.p, mm.r_s)
    t_act = np.asarray(model.torque(*z), dtype=float)
    raw = model.losses(z[0], z[1], z[2], sp, opt.temperatures)
    nan = np.where(valid, 1.0, np.nan)
    losses = {
        k: np.broadcast_to(np.asarray(raw[k], dtype=float), i_d.shape) * nan for k in LOSS_KEYS
    }
    v_abs = np.hypot(v_d, v_q)
    active = 1.0 - opt.active_tolerance
    v_on = v_abs >= active * mm.v_max
    i_on = np.hypot(z[0], z[1]) >= active * model.i_max
    d_t = levels[1] - levels[0]
    top = (levels[None, :] + d_t > env_hi[0][:, None]) & (levels[None, :] > 0)
    bottom = (levels[None, :] - d_t < env_lo[0][:, None]) & (levels[None, :] < 0)
    region = np.where(v_on, 2, 1)
    region = np.where((top | bottom) & v_on & ~i_on, 3, region)
    region = np.where(valid, region, 0).astype(np.int8)

    env_region = np.zeros((2, speeds.size), dtype=np.int8)
    currents = {}
    for row, env in enumerate((env_hi, env_lo)):
        good = np.isfinite(env[0])
        e = [np.where(good, env[1 + a], 0.0) for a in range(3)]
        ok, v = mm.feasible(e[0], e[1], e[2], speeds)
        vv = v >= active * mm.v_max
        ii = np.hypot(e[0], e[1]) >= active * model.i_max
        code = np.where(vv & ii, 2, np.where(vv, 3, 1))
        env_region[row] = np.where(good, code, 0)
        for a, key in enumerate(("i_d", "i_q", "i_f")):
            currents.setdefault(key, np.full((2, speeds.size), np.nan))[row] = env[1 + a]
    return StrategyResult(
        speed=speeds,
        torque=levels,
        i_d=i_d,
        i_q=i_q,
        i_f=i_f,
        psi_d=psi_d * nan,
        psi_q=psi_q * nan,
        v_d=v_d * nan,
        v_q=v_q * nan,
        u_f=mm.r_f * i_f,
        torque_actual=t_act * nan,
        losses=losses,
        region=region,
        torque_max=env_hi[0],
        torque_min=env_lo[0],
        envelope_currents=currents,
        envelope_region=env_region,
        v_max=mm.v_max,
        i_f_limit=mm.i_f_lim,
        r_s=mm.r_s,
        r_f=mm.r_f,
    )
