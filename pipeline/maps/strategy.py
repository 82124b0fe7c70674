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

Method (vectorised over all points; a per-point scipy optimiser, e.g. SLSQP at ~50
model calls per point, would take minutes for a 100 x 100 map instead of seconds):

1. Candidates: a dense grid in (i_d, i_q[, i_f]) over the model domain inside the current
   and field limits (``n_current`` x ``n_current`` x ``n_field``), for the envelopes.
2. Envelope per speed: the feasible candidate of largest (smallest) torque, then a pattern
   search in (i_d, i_f) with i_q bisected onto the active limits (current circle, voltage
   ellipse, model domain), so the search slides along them.
3. Constant-torque scan: for every torque level and every node (i_d, i_f) of the candidate
   axes, i_q on the exact torque (least |i_q|; tabulated torque brackets it, bisection and
   a secant step solve it). Torque and flux do not depend on speed, so this is done once;
   per speed only the voltage limit and the loss change.
4. Loss surrogate to rank the scan points at every speed: total loss at ``n_loss_speeds``
   speeds, fitted per point in the basis ``{1, w, w^1.5, w^2, w^3}`` (copper; hysteresis,
   bearings; excess; eddy currents; windage). Exact for Bertotti iron and polynomial
   mechanical losses, a least-squares fit otherwise (e.g. Dowell's AC factor).
5. Per (speed, level): from the least-loss feasible scan point, a pattern search in i_d
   (and i_f) with i_q held on the exact torque by Newton steps and the *exact* loss; the
   scale starts at one node step, halves when the centre wins and stays while an edge
   wins (``refine_passes`` passes: 5.8 A / 2^16 on the Prius). Levels without a feasible
   scan point (next to the envelope) start from the envelope point. Reported quantities
   are exact model evaluations at the final currents. Arbitrary (speed, torque) points
   (:mod:`pipeline.maps.points`) go through :func:`_refine`: the same scan with exact
   losses at each point's speed, then the same pattern search.

Why the scan (issue 13, bands in field weakening, 3500-6000 rpm, |T| < 100 N m): the
strategy used to start from the least-surrogate-loss *grid candidate* whose torque lay in a
one-step window just beyond the level. At low torque in field weakening the constant-torque
curves run almost along i_d and |i_q| is below one candidate step (10.8 A on the Prius), so
the window held only candidates of one i_q row, deep inside the voltage ellipse (-120 A)
while the optimum sits on the ellipse (-50 A at 5000 rpm, 35 N m); the pattern search could
travel at most ``refine_passes`` candidate steps (58 A) and stopped short, at up to 3x the
optimal loss, on a row chosen by the discretisation: copper and teeth losses jumped from
row to row. A start on the constant-torque curve itself, the best of a scan along the whole
curve, is within one node of the optimum, so the local search converges to it and the
answer follows the level continuously. What remains is the model's own: its loss
coefficients are interpolated linearly, so the loss has slope kinks (not jumps) at map
nodes and, being mirrored, at i_q = 0.

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
    stator-current axis and in i_f, whose i_d and i_f axes are also the nodes of the
    constant-torque scan [-]. n_loss_speeds: speeds of the loss surrogate [-].
    temperatures: {"winding", "field", "magnet"} [K] (default 100 degC winding and field).
    torque_tolerance: accepted |T - T_target| relative to the largest torque [-].
    active_tolerance: a limit counts as active within this relative margin [-].
    refine_passes: passes of the pattern searches (the envelope's take 2x as many); 16
    halvings take the start scale (one node step) to 2^-16 of it [-].
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
    refine_passes: int = 16

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


def _axes(model, mm: _Model, options: StrategyOptions):
    """Candidate axes i_d, i_q, i_f [A] over the model domain within the current and field
    limits, and their steps (d_i_d, d_i_q, d_i_f) [A] (d_i_f = 0 for PM)."""
    i_max = model.i_max
    d_lo, d_hi = max(model.i_d_range[0], -i_max), min(model.i_d_range[1], i_max)
    q_lo, q_hi = max(model.i_q_range[0], -i_max), min(model.i_q_range[1], i_max)
    i_d = np.linspace(d_lo, d_hi, options.n_current)
    i_q = np.linspace(q_lo, q_hi, options.n_current)
    if mm.eesm:
        i_f = np.linspace(max(model.i_f_range[0], 0.0), mm.i_f_lim, options.n_field)
    else:
        i_f = np.zeros(1)
    d_f = i_f[1] - i_f[0] if i_f.size > 1 else 0.0
    return i_d, i_q, i_f, np.array([i_d[1] - i_d[0], i_q[1] - i_q[0], d_f])


def _candidates(model, mm: _Model, options: StrategyOptions):
    """Dense candidate grid inside the current/field limits and the model's domain."""
    i_d, i_q, i_f, steps = _axes(model, mm, options)
    dd, qq, ff = (a.ravel() for a in np.meshgrid(i_d, i_q, i_f, indexing="ij"))
    keep = (dd**2 + qq**2 <= model.i_max**2 * (1 + 1e-12)) & np.asarray(model.inside(dd, qq, ff))
    return dd[keep], qq[keep], ff[keep], steps


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
    for _ in range(2 * mm.opt.refine_passes):
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


def _iq_on_curves(mm: _Model, i_d, i_f, targets, n_table: int, n_bisect: int = 6):
    """i_q [A] of least |i_q| with ``T(i_d, i_q, i_f) = target`` at every (target, node).

    i_d, i_f (n_nodes,) [A]; targets (n_targets,) [N m]. Returns (n_targets, n_nodes), NaN
    where the target lies beyond the node's reach (current limit, model domain). The torque
    is tabulated at ``n_table`` values of ``sign(T) i_q`` from 0 to the limit (speed-free,
    once per node); its running maximum brackets the first crossing of the target, which
    bisection and a last secant step then solve (torque need not be monotone in i_q).
    """
    m = mm.m
    cap = np.sqrt(np.maximum(m.i_max**2 - i_d**2, 0.0))
    u = np.linspace(0.0, 1.0, n_table)
    out = np.full((targets.size, i_d.size), np.nan)
    for sign in (1.0, -1.0):
        rows = np.flatnonzero(np.where(targets >= 0.0, 1.0, -1.0) == sign)
        if rows.size == 0:
            continue
        lim = np.clip(cap, 0.0, max(m.i_q_range[1] if sign > 0 else -m.i_q_range[0], 0.0))

        def f(x, dd, ff, ll, goal, sign=sign):  # >= 0 once the target is reached
            return sign * np.asarray(m.torque(dd, sign * ll * x, ff), dtype=float) - goal

        table = sign * np.asarray(m.torque(i_d[:, None], sign * lim[:, None] * u, i_f[:, None]))
        table = np.fmax.accumulate(np.where(np.isfinite(table), table, -np.inf), axis=1)
        goal = sign * targets[rows]
        k = np.stack([np.searchsorted(t, goal) for t in table], axis=1)  # (rows, nodes)
        r, n = np.nonzero(k < n_table)
        kk = k[r, n]
        a = u[np.maximum(kk - 1, 0)]
        b = u[kk]
        args = (i_d[n], i_f[n], lim[n], goal[r])
        for _ in range(n_bisect):
            c = 0.5 * (a + b)
            up = f(c, *args) >= 0.0
            a, b = np.where(up, a, c), np.where(up, c, b)
        fa, fb = f(a, *args), f(b, *args)
        den = np.where(fb > fa, fb - fa, 1.0)
        x = np.clip(np.where(fb > fa, a - fa * (b - a) / den, b), a, b)
        scale = np.max(np.where(np.isfinite(table), np.abs(table), 0.0))
        hit = np.abs(f(x, *args)) <= mm.opt.torque_tolerance * scale  # e.g. T(i_q=0) != 0
        out[rows[r[hit]], n[hit]] = sign * lim[n[hit]] * x[hit]
    return out


def _scan_nodes(mm: _Model):
    """(i_d, i_f) nodes [A] of the constant-torque scan: the candidate axes (inside the
    model's i_d and i_f ranges by construction), flattened."""
    i_d, _, i_f, _ = _axes(mm.m, mm, mm.opt)
    dd, ff = np.meshgrid(i_d, i_f, indexing="ij")
    return dd.ravel(), ff.ravel()


def _curve_points(mm: _Model, targets):
    """Scan points on the constant-torque curves: i_d, i_q, i_f, psi_d, psi_q (n_targets,
    n_nodes) [A, Wb]; NaN where a node cannot reach the target."""
    i_d, i_f = _scan_nodes(mm)
    i_q = _iq_on_curves(mm, i_d, i_f, np.asarray(targets, float), 2 * mm.opt.n_current)
    dd, ff = (np.broadcast_to(a, i_q.shape) for a in (i_d, i_f))
    ok = np.isfinite(i_q)
    psi_d, psi_q = np.full(i_q.shape, np.nan), np.full(i_q.shape, np.nan)
    psi_d[ok], psi_q[ok], _ = mm.m.flux(dd[ok], i_q[ok], ff[ok])
    return dd, i_q, ff, psi_d, psi_q


def _voltage_ok(mm: _Model, pts, speed):
    """Voltage limit at the scan points ``pts`` (from :func:`_curve_points`), speed [rad/s]."""
    i_d, i_q, _, psi_d, psi_q = pts
    v_d, v_q = dq_voltage(psi_d, psi_q, i_d, i_q, speed, mm.p, mm.r_s)
    return np.hypot(v_d, v_q) <= mm.v_max * (1 + 1e-9)  # False where NaN


def _grid_starts(mm: _Model, speeds, levels):
    """Least-loss scan point per (speed, level) (3, n_speed, n_level) [A], NaN if none is
    feasible. The scan is speed-free; the loss surrogate ranks it at every speed."""
    pts = _curve_points(mm, levels)
    ok = np.isfinite(pts[1])
    coef = np.full((5,) + ok.shape, np.nan)
    coef[:, ok] = _loss_surrogate(
        mm, pts[0][ok], pts[1][ok], pts[2][ok], mm.m.max_speed, mm.opt.n_loss_speeds
    )
    x = np.full((3, speeds.size, levels.size), np.nan)
    for k, w in enumerate(speeds):
        loss = np.einsum("c,cij->ij", _basis(w, mm.m.max_speed), coef)
        x[:, k] = _least(pts, np.where(_voltage_ok(mm, pts, w), loss, np.inf))
    return x


def _least(pts, loss):
    """Per row of ``loss`` (n_rows, n_nodes) [W] the scan point (i_d, i_q, i_f) of least
    loss (3, n_rows) [A]; NaN where no loss is finite."""
    loss = np.where(np.isfinite(loss), loss, np.inf)
    j = np.argmin(loss, axis=1)
    rows = np.arange(j.size)
    has = np.isfinite(loss[rows, j])
    return np.stack([np.where(has, p[rows, j], np.nan) for p in pts[:3]])


def _point_starts(mm: _Model, speed, target, chunk: int = 200_000):
    """Least exact-loss scan point per (speed, target) pair (3, n) [A]; NaN if none."""
    x = np.full((3, target.size), np.nan)
    n_nodes = _scan_nodes(mm)[0].size
    step = max(1, chunk // max(n_nodes, 1))
    for s in range(0, target.size, step):
        sl = slice(s, s + step)
        pts = _curve_points(mm, target[sl])
        w = np.broadcast_to(speed[sl, None], pts[1].shape)
        ok = _voltage_ok(mm, pts, w)
        loss = np.full(ok.shape, np.inf)
        loss[ok] = mm.total_loss(pts[0][ok], pts[1][ok], pts[2][ok], w[ok])
        x[:, sl] = _least(pts, loss)
    return x


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


def _pattern_search(mm: _Model, i_d, i_q, i_f, speed, target, steps, t_tol):
    """Local pattern search in i_d (and i_f) with i_q on the torque target; exact losses.

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


def _refine(mm: _Model, i_d, i_q, i_f, speed, target, steps, t_tol):
    """Loss minimum at (speed [rad/s], target [N m]) points from starts (i_d, i_q, i_f) [A]:
    the start competes with the best scan point of :func:`_point_starts` (exact losses),
    then :func:`_pattern_search` from the better one. Returns (i_d, i_q, i_f, ok)."""
    speed, target = (np.broadcast_to(np.asarray(a, float), i_d.shape) for a in (speed, target))
    x = _point_starts(mm, speed.ravel(), target.ravel())
    q0 = _newton_iq(mm, i_d, i_q, i_f, target, 1e-4 * mm.m.i_max)
    ok0, _ = mm.feasible(i_d, q0, i_f, speed)
    ok0 &= np.abs(np.asarray(mm.m.torque(i_d, q0, i_f), dtype=float) - target) <= t_tol
    loss0 = np.where(ok0, mm.total_loss(i_d, q0, i_f, speed), np.inf)
    loss_s = np.full(i_d.shape, np.inf)
    has = np.isfinite(x[0])
    loss_s[has] = mm.total_loss(x[0][has], x[1][has], x[2][has], speed[has])
    use = loss_s < np.where(np.isfinite(loss0), loss0, np.inf)
    start = [np.where(use, x[a], v) for a, v in enumerate((i_d, i_q, i_f))]
    return _pattern_search(mm, *start, speed, target, steps, t_tol)


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
    x = _grid_starts(mm, speeds, levels)

    sp, tt = np.meshgrid(speeds, levels, indexing="ij")
    within = (tt <= env_hi[0][:, None] + 1e-12) & (tt >= env_lo[0][:, None] - 1e-12)
    t_tol = opt.torque_tolerance * t_lim
    has = np.isfinite(x[0])
    # no scan point feasible (next to the envelope): start from the envelope point
    for row, env in ((tt >= 0, env_hi), (tt < 0, env_lo)):
        miss = within & ~has & row
        for a in range(3):
            x[a][miss] = np.broadcast_to(env[1 + a][:, None], sp.shape)[miss]
    sel = within & np.isfinite(x[0])
    rd, rq, rf, ok = _pattern_search(
        mm, x[0][sel], x[1][sel], x[2][sel], sp[sel], tt[sel], steps, t_tol
    )
    # second chance from the envelope point for points whose search failed
    if not ok.all():
        idx = np.flatnonzero(sel)[~ok]
        row = idx // sp.shape[1]
        up = tt.flat[idx] >= 0
        e = [np.where(up, env_hi[1 + a][row], env_lo[1 + a][row]) for a in range(3)]
        good = np.isfinite(e[0])
        if good.any():
            r2 = _pattern_search(
                mm, *(a[good] for a in e), sp.flat[idx][good], tt.flat[idx][good], steps, t_tol
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
