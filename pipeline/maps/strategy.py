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
   (:mod:`pipeline.maps.points`) go through :func:`refine_point`: the same scan with exact
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

import logging
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError
from pipeline.maps.protocol import LOSS_KEYS
from pipeline.maps.search import (
    SVPWM_LINEAR_LIMIT,
    LimitedModel,
    candidates,
    dq_voltage,
    field_current_limit,
    grid_starts,
    pattern_search,
    torque_envelope,
    voltage_limit,
)

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


def operating_strategy(model, options: StrategyOptions | None = None) -> StrategyResult:
    """Loss-minimising currents over a (speed, torque) grid, and the envelopes."""
    opt = options or StrategyOptions()
    mm = LimitedModel(model, opt)
    if mm.eesm and mm.i_f_lim <= 0.0:
        raise DesignError("i_f limit", mm.i_f_lim, "field current limit must be > 0 for EESM")
    speeds = np.linspace(0.0, model.max_speed, opt.n_speed)
    i_d, i_q, i_f, steps = candidates(model, mm, opt)
    if i_d.size == 0:
        raise DesignError("candidates", 0, "no current inside the model domain and limits")
    psi_d, psi_q, _ = model.flux(i_d, i_q, i_f)
    torque_c = np.asarray(model.torque(i_d, i_q, i_f), dtype=float)
    cand, flux = (i_d, i_q, i_f), (np.asarray(psi_d), np.asarray(psi_q))
    env_hi = torque_envelope(mm, cand, flux, torque_c, speeds, steps, +1.0)
    env_lo = torque_envelope(mm, cand, flux, torque_c, speeds, steps, -1.0)
    t_lim = float(np.nanmax(np.abs(np.concatenate([env_hi[0], env_lo[0]]))))
    levels = np.linspace(-t_lim, t_lim, opt.n_torque)
    x = grid_starts(mm, speeds, levels)

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
    rd, rq, rf, ok = pattern_search(
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
            r2 = pattern_search(
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


def _assemble(mm: LimitedModel, speeds, levels, x, env_hi, env_lo) -> StrategyResult:
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
