"""Loss-minimising currents at arbitrary (speed, torque) points (cycles, thermal points).

The same method and limits as :func:`pipeline.maps.strategy.operating_strategy`, for a list
of points instead of a grid: candidates evaluated once, per point the least-loss feasible
candidate (loss surrogate) with ``|T| >= |T_target|`` within ``window`` of the largest
candidate torque (else the nearest feasible torque beyond the target), then the pattern
search with exact losses; points not reached that way start from the envelope point of
their speed. A point whose torque cannot be reached within the limits is NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pipeline.maps.protocol import LOSS_KEYS
from pipeline.maps.search import (
    LimitedModel,
    candidates,
    dq_voltage,
    loss_surrogate,
    refine_point,
    speed_basis,
    torque_envelope,
)
from pipeline.maps.strategy import StrategyOptions

__all__ = ["operating_points"]


def operating_points(
    model,
    speed: ArrayLike,
    torque: ArrayLike,
    options: StrategyOptions | None = None,
    window: float = 0.02,
) -> dict[str, np.ndarray]:
    """Currents [A], flux linkages [Wb], voltages [V], torque [N m] and losses [W] at points.

    speed mechanical [rad/s] and torque [N m] broadcast against each other; window: the
    start candidate's torque band relative to the largest candidate torque [-]. Returns
    arrays of the broadcast shape under i_d, i_q, i_f, psi_d, psi_q, v_d, v_q, torque and
    the :data:`LOSS_KEYS`; NaN where out of reach.
    """
    opt = options or StrategyOptions()
    mm = LimitedModel(model, opt)
    w, t = np.broadcast_arrays(np.asarray(speed, float), np.asarray(torque, float))
    shape = w.shape
    w, t = w.ravel(), t.ravel()
    i_d, i_q, i_f, steps = candidates(model, mm, opt)
    psi_d, psi_q, _ = (np.asarray(a, float) for a in model.flux(i_d, i_q, i_f))
    t_c = np.asarray(model.torque(i_d, i_q, i_f), dtype=float)
    coef = loss_surrogate(mm, i_d, i_q, i_f, model.max_speed, opt.n_loss_speeds)
    t_max = float(np.nanmax(np.abs(t_c)))
    band = window * t_max
    start = np.full(w.size, -1)
    for k in range(w.size):
        if not abs(w[k]) <= model.max_speed * (1 + 1e-12):
            continue
        ok, _ = mm.feasible(i_d, i_q, i_f, w[k], psi_d, psi_q)
        ok &= np.isfinite(t_c)
        beyond = np.sign(t[k] or 1.0) * (t_c - t[k])  # >= 0 on the far side of the target
        near = ok & (beyond >= 0)
        if not near.any():
            continue
        pick = near & (beyond <= band)
        if pick.any():
            loss = speed_basis(w[k], model.max_speed) @ coef[:, pick]
            start[k] = np.flatnonzero(pick)[
                int(np.argmin(np.where(np.isfinite(loss), loss, np.inf)))
            ]
        else:  # the nearest feasible torque beyond the target
            start[k] = np.flatnonzero(near)[int(np.argmin(beyond[near]))]
    out = {k: np.full(w.size, np.nan) for k in ("i_d", "i_q", "i_f")}
    has = start >= 0
    if has.any():
        s = start[has]
        t_tol = opt.torque_tolerance * t_max
        rd, rq, rf, ok = refine_point(mm, i_d[s], i_q[s], i_f[s], w[has], t[has], steps, t_tol)
        idx = np.flatnonzero(has)[ok]
        out["i_d"][idx], out["i_q"][idx], out["i_f"][idx] = rd[ok], rq[ok], rf[ok]
    # not reached from a candidate: start from the envelope point of that speed (or take it
    # when the target is the envelope torque itself)
    miss = np.flatnonzero(~np.isfinite(out["i_d"]) & (np.abs(w) <= model.max_speed * (1 + 1e-12)))
    if miss.size:
        t_tol = opt.torque_tolerance * t_max
        cand, flux = (i_d, i_q, i_f), (psi_d, psi_q)
        env = {
            +1.0: torque_envelope(mm, cand, flux, t_c, w[miss], steps, +1.0),
            -1.0: torque_envelope(mm, cand, flux, t_c, w[miss], steps, -1.0),
        }
        up = t[miss] >= 0
        e = [np.where(up, env[1.0][a], env[-1.0][a]) for a in range(4)]
        reach = np.isfinite(e[0]) & (np.abs(t[miss]) <= np.abs(e[0]) + t_tol)
        if reach.any():
            sel = miss[reach]
            r = refine_point(mm, e[1][reach], e[2][reach], e[3][reach], w[sel], t[sel], steps, t_tol)
            at_env = np.abs(e[0][reach] - t[sel]) <= t_tol
            for a, key in enumerate(("i_d", "i_q", "i_f")):
                val = np.where(r[3], r[a], np.where(at_env, e[1 + a][reach], np.nan))
                out[key][sel] = val
    valid = np.isfinite(out["i_d"])
    z = [np.where(valid, out[k], 0.0) for k in ("i_d", "i_q", "i_f")]
    nan = np.where(valid, 1.0, np.nan)
    p_d, p_q, _ = (np.asarray(a, float) for a in model.flux(*z))
    v_d, v_q = dq_voltage(p_d, p_q, z[0], z[1], w, mm.p, mm.r_s)
    out.update(psi_d=p_d * nan, psi_q=p_q * nan, v_d=v_d * nan, v_q=v_q * nan)
    out["torque"] = np.asarray(model.torque(*z), dtype=float) * nan
    losses = model.losses(z[0], z[1], z[2], w, opt.temperatures)
    out.update({k: np.asarray(losses[k], dtype=float) * nan for k in LOSS_KEYS})
    return {k: v.reshape(shape) for k, v in out.items()}
