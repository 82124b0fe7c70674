"""Limits and local search of the operating strategy (:mod:`pipeline.maps.strategy`).

The voltage, current and field limits around a :class:`~pipeline.maps.protocol.MachineMapProtocol`
model (:class:`LimitedModel`), the candidate grid, the loss surrogate in speed, the torque
envelopes and the local pattern search with i_q held on the exact torque. Used by the grid
strategy (:func:`pipeline.maps.strategy.operating_strategy`) and by arbitrary points
(:func:`pipeline.maps.points.operating_points`); the method is described in
:mod:`pipeline.maps.strategy`.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from pipeline.constants import ZERO_CELSIUS
from pipeline.maps.protocol import LOSS_KEYS

#: Largest peak phase voltage per DC-link volt in the SVPWM linear range, 1/sqrt(3) [-].
SVPWM_LINEAR_LIMIT = 1.0 / math.sqrt(3.0)

__all__ = [
    "SVPWM_LINEAR_LIMIT",
    "LimitedModel",
    "candidates",
    "dq_voltage",
    "field_current_limit",
    "grid_starts",
    "iq_on_curves",
    "loss_surrogate",
    "pattern_search",
    "refine_point",
    "speed_basis",
    "torque_envelope",
    "voltage_limit",
]


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
    if not model.has_field_winding:
        return 0.0
    limit = min(model.i_f_max, model.i_f_range[1])
    r_f = model.field_resistance(field_temperature)
    if r_f > 0.0:
        limit = min(limit, model.u_f_max / r_f)
    return float(limit)


class LimitedModel:
    """Evaluation helpers around a protocol model with fixed temperatures and limits."""

    def __init__(self, model, options):
        self.m = model
        self.opt = options
        temps = options.temperatures
        self.temps = temps
        self.r_s = float(model.phase_resistance(temps.get("winding", ZERO_CELSIUS + 20.0)))
        self.eesm = bool(model.has_field_winding)
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


def _axes(model, mm: LimitedModel, options):
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


def candidates(model, mm: LimitedModel, options):
    """Dense candidate grid inside the current/field limits and the model's domain."""
    i_d, i_q, i_f, steps = _axes(model, mm, options)
    dd, qq, ff = (a.ravel() for a in np.meshgrid(i_d, i_q, i_f, indexing="ij"))
    keep = (dd**2 + qq**2 <= model.i_max**2 * (1 + 1e-12)) & np.asarray(model.inside(dd, qq, ff))
    return dd[keep], qq[keep], ff[keep], steps


def loss_surrogate(mm: LimitedModel, i_d, i_q, i_f, max_speed, n_nodes):
    """Coefficients (5, n) of loss(w) in the basis {1, w, w^1.5, w^2, w^3}, w = speed/max."""
    nodes = np.linspace(0.0, 1.0, n_nodes)
    basis = np.stack([np.ones_like(nodes), nodes, nodes**1.5, nodes**2, nodes**3], axis=1)
    values = np.stack([mm.total_loss(i_d, i_q, i_f, s * max_speed) for s in nodes])
    coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
    return coef


def speed_basis(speed, max_speed):
    x = np.asarray(speed, dtype=float) / max_speed
    return np.stack([np.ones_like(x), x, x**1.5, x**2, x**3], axis=-1)


def _max_iq(mm: LimitedModel, i_d, i_f, speed, sign, n_iter=22):
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


def torque_envelope(mm: LimitedModel, cand, flux, torque_c, speeds, steps, sign):
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


def iq_on_curves(mm: LimitedModel, i_d, i_f, targets, n_table: int, n_bisect: int = 6):
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


def _scan_nodes(mm: LimitedModel):
    """(i_d, i_f) nodes [A] of the constant-torque scan: the candidate axes (inside the
    model's i_d and i_f ranges by construction), flattened."""
    i_d, _, i_f, _ = _axes(mm.m, mm, mm.opt)
    dd, ff = np.meshgrid(i_d, i_f, indexing="ij")
    return dd.ravel(), ff.ravel()


def _curve_points(mm: LimitedModel, targets):
    """Scan points on the constant-torque curves: i_d, i_q, i_f, psi_d, psi_q (n_targets,
    n_nodes) [A, Wb]; NaN where a node cannot reach the target."""
    i_d, i_f = _scan_nodes(mm)
    i_q = iq_on_curves(mm, i_d, i_f, np.asarray(targets, float), 2 * mm.opt.n_current)
    dd, ff = (np.broadcast_to(a, i_q.shape) for a in (i_d, i_f))
    ok = np.isfinite(i_q)
    psi_d, psi_q = np.full(i_q.shape, np.nan), np.full(i_q.shape, np.nan)
    psi_d[ok], psi_q[ok], _ = mm.m.flux(dd[ok], i_q[ok], ff[ok])
    return dd, i_q, ff, psi_d, psi_q


def _voltage_ok(mm: LimitedModel, pts, speed):
    """Voltage limit at the scan points ``pts`` (from :func:`_curve_points`), speed [rad/s]."""
    i_d, i_q, _, psi_d, psi_q = pts
    v_d, v_q = dq_voltage(psi_d, psi_q, i_d, i_q, speed, mm.p, mm.r_s)
    return np.hypot(v_d, v_q) <= mm.v_max * (1 + 1e-9)  # False where NaN


def grid_starts(mm: LimitedModel, speeds, levels):
    """Least-loss scan point per (speed, level) (3, n_speed, n_level) [A], NaN if none is
    feasible. The scan is speed-free; the loss surrogate ranks it at every speed."""
    pts = _curve_points(mm, levels)
    ok = np.isfinite(pts[1])
    coef = np.full((5,) + ok.shape, np.nan)
    coef[:, ok] = loss_surrogate(
        mm, pts[0][ok], pts[1][ok], pts[2][ok], mm.m.max_speed, mm.opt.n_loss_speeds
    )
    x = np.full((3, speeds.size, levels.size), np.nan)
    for k, w in enumerate(speeds):
        loss = np.einsum("c,cij->ij", speed_basis(w, mm.m.max_speed), coef)
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


def _point_starts(mm: LimitedModel, speed, target, chunk: int = 200_000):
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


def _newton_iq(mm: LimitedModel, i_d, i_q, i_f, target, h, n_iter=3):
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


def pattern_search(mm: LimitedModel, i_d, i_q, i_f, speed, target, steps, t_tol):
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


def refine_point(mm: LimitedModel, i_d, i_q, i_f, speed, target, steps, t_tol):
    """Loss minimum at (speed [rad/s], target [N m]) points from starts (i_d, i_q, i_f) [A]:
    the start competes with the best scan point of :func:`_point_starts` (exact losses),
    then :func:`pattern_search` from the better one. Returns (i_d, i_q, i_f, ok)."""
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
    return pattern_search(mm, *start, speed, target, steps, t_tol)
