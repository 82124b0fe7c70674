"""Artefact-free efficiency maps (issue 13, item 5): the strategy's answers are loss minima
and its total loss has no jumps between neighbouring torque rows.

Model: a real Prius 2004 flux and loss map at ``ci`` level, 8 x 8 nodes (i_d -325..25 A,
i_q 0..325 A, i_q < 0 mirrored) and 6 rotor positions per point (half the default: the loss
coefficients move by a few %, which does not matter here, the tests ask whether the
strategy finds the minimum of the model it is given), computed once for the module on two
local workers (15-25 s on an idle 2-core machine). The old strategy (grid candidates
picked by a loss surrogate in a one-step torque window, then a pattern search of at most
``refine_passes`` candidate steps) fails both tests on this map: worst loss jump 78 %,
SLSQP finds up to 44 % less loss (3 of the 20 points above 0.5 %).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize

from pipeline.design import load_design
from pipeline.maps.flux import FluxGrid, compute_flux_map
from pipeline.maps.model import MachineMap
from pipeline.maps.strategy import StrategyOptions, dq_voltage, operating_strategy

#: Torque rows kept clear of the envelope by the jump test [-] (see :func:`loss_jumps`).
ENVELOPE_MARGIN_ROWS = 2


def loss_jumps(loss, torque, torque_max, torque_min, margin=ENVELOPE_MARGIN_ROWS):
    """Jump of the total loss between neighbouring torque rows, relative [-].

    loss (n_speed, n_torque) [W] on the ascending, evenly spaced ``torque`` rows [N m];
    torque_max, torque_min (n_speed) [N m]. Returns (n_speed, n_torque - 5): entry j is the
    jump between rows j + 2 and j + 3, NaN where it is not assessed.

    Jump: with differences ``D_i = L_{i+1} - L_i``, each side predicts ``D_j`` by linear
    extrapolation of its two differences, ``p_l = 2 D_{j-1} - D_{j-2}`` and
    ``p_r = 2 D_{j+1} - D_{j+2}``; the jump is how far ``D_j`` lies outside
    ``[min(p_l, p_r), max(p_l, p_r)]``, divided by the largest loss of the six rows. Both
    predictions are exact for a quadratic trend, and a slope kink (the MTPA / field-weakening
    transition, or a node of the linearly interpolated loss map) leaves ``D_j`` between
    them, so only a step counts: a step ``s`` on a quadratic trend gives exactly ``s`` /
    max loss (checked by :func:`test_jump_measure_sees_steps_not_kinks`).

    Away from the envelope: all six rows j-2 .. j+3 are reachable, lie at least ``margin``
    torque steps inside the envelope at that speed (where the loss rises steeply and the
    region turns to MTPV) and on one side of T = 0 (the map's loss is even in T with a
    slope kink at i_q = 0: the loss coefficients are interpolated linearly between the
    mirrored nodes, so the two-sided extrapolation straddles two kinks there).
    """
    loss = np.asarray(loss, dtype=float)
    d_t = torque[1] - torque[0]
    inside = np.isfinite(loss)
    inside &= torque[None, :] <= torque_max[:, None] - margin * d_t
    inside &= torque[None, :] >= torque_min[:, None] + margin * d_t
    window = np.lib.stride_tricks.sliding_window_view
    ok = np.all(window(inside, 6, axis=1), axis=-1)
    sign = window(np.sign(torque), 6)
    ok &= (np.all(sign > 0, axis=-1) | np.all(sign < 0, axis=-1))[None, :]
    d = np.diff(loss, axis=1)
    p_l = 2.0 * d[:, 1:-3] - d[:, :-4]
    p_r = 2.0 * d[:, 3:-1] - d[:, 4:]
    mid = d[:, 2:-2]
    excess = np.maximum(np.maximum(mid - np.maximum(p_l, p_r), np.minimum(p_l, p_r) - mid), 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(ok, excess / np.max(window(loss, 6, axis=1), axis=-1), np.nan)


def optimiser_gain(model, result, options, k, j):
    """Relative loss reduction [-] that SLSQP finds from the map's answer at grid point
    (speed k, torque j), under the strategy's constraints: torque = target (accepted within
    ``torque_tolerance`` x the largest torque level), |i_dq| <= i_max, |v_dq| <= V_max with
    the steady-state dq voltage and the result's R_s, i_f in [0, i_f limit] (EESM), the
    model domain as bounds. Returns (gain, whether SLSQP ended inside the constraints);
    gain 0 where it did not (SLSQP's own ``success`` is often False here: from a start that
    is already optimal its line search stalls on finite-difference gradients)."""
    w, target = result.speed[k], result.torque[j]
    eesm = model.has_field_winding
    t_tol = options.torque_tolerance * result.torque[-1]

    def currents(x):
        return (x[0], x[1], x[2]) if eesm else (x[0], x[1], 0.0)

    def loss(x):
        return float(
            sum(np.asarray(v) for v in model.losses(*currents(x), w, options.temperatures).values())
        )

    def voltage_margin(x):  # >= 0 inside the voltage limit
        i_d, i_q, i_f = currents(x)
        psi_d, psi_q, _ = model.flux(i_d, i_q, i_f)
        v_d, v_q = dq_voltage(psi_d, psi_q, i_d, i_q, w, model.pole_pairs, result.r_s)
        return float(1.0 - (v_d**2 + v_q**2) / result.v_max**2)

    def torque_error(x):
        return float(model.torque(*currents(x))) - target

    x0 = [result.i_d[k, j], result.i_q[k, j]] + ([result.i_f[k, j]] if eesm else [])
    bounds = [model.i_d_range, model.i_q_range] + ([(0.0, result.i_f_limit)] if eesm else [])
    res = minimize(
        loss,
        x0,
        method="SLSQP",
        bounds=bounds,
        constraints=[
            {"type": "eq", "fun": lambda x: torque_error(x) / result.torque[-1]},
            {"type": "ineq", "fun": lambda x: 1.0 - (x[0] ** 2 + x[1] ** 2) / model.i_max**2},
            {"type": "ineq", "fun": voltage_margin},
        ],
        options={"maxiter": 200, "ftol": 1e-12},
    )
    x = res.x
    feasible = (
        abs(torque_error(x)) <= t_tol
        and voltage_margin(x) >= -1e-9
        and x[0] ** 2 + x[1] ** 2 <= model.i_max**2 * (1 + 1e-9)
        and bool(np.all(model.inside(*currents(x))))
    )
    l0 = loss(x0)
    return ((l0 - res.fun) / l0 if feasible else 0.0), feasible


@pytest.fixture(scope="module")
def prius(tmp_path_factory):
    """(model, options, strategy result) of a coarse Prius ci map (module docstring)."""
    from distributed import Client

    from pipeline.sweep import local_cluster

    design = load_design("prius_2004")
    grid = FluxGrid(
        i_d=tuple(np.linspace(-325.0, 25.0, 8)),
        i_q=tuple(np.linspace(0.0, 325.0, 8)),
        positions=6,
    )
    with local_cluster(n_workers=2, dashboard=False) as lc, Client(lc) as client:
        fm = compute_flux_map(
            design, "ci", grid, tmp_path_factory.mktemp("prius_map"), client=client, n_held_out=0
        )
    assert fm.failed == 0
    model = MachineMap(fm.dataset, design)
    options = StrategyOptions()
    return model, options, operating_strategy(model, options)


def test_jump_measure_sees_steps_not_kinks():
    # independent reference: a hand-made column, quadratic trend + a 30 W step between
    # rows 9 and 10, and the same trend with a slope kink (V shape) inside another interval
    torque = np.linspace(-95.0, 95.0, 20)
    trend = 500.0 + 3.0 * torque + 0.05 * torque**2
    env = np.array([200.0]), np.array([-200.0])
    kink = trend + 4.0 * np.abs(torque - 52.0)
    step = trend + 30.0 * (torque > 0.5 * (torque[13] + torque[14]))
    jumps = loss_jumps(np.stack([trend, kink, step]), torque, *(np.repeat(e, 3) for e in env))
    assert np.nanmax(jumps[:2]) < 1e-12  # quadratic trend and kink: no jump (round-off)
    j = 13 - 2  # entry j: rows j + 2, j + 3
    assert_allclose(jumps[2, j], 30.0 / np.max(step[j : j + 6]), rtol=1e-9)  # exact for a step
    assert np.sum(jumps[2] > 1e-9) == 1
    assert np.isnan(jumps[0, 7])  # rows 7..12 straddle T = 0: not assessed


def test_no_loss_jumps_between_torque_rows(prius):
    model, options, r = prius
    jumps = loss_jumps(r.loss_total, r.torque, r.torque_max, r.torque_min)
    assessed = np.isfinite(jumps)
    assert assessed.sum() > 3000  # most of the 100 x 100 map is assessed (4541 measured)
    # the limit: no jump larger than 2 % (measured worst 1.0 %: the slope kinks of
    # the linearly interpolated loss coefficients; the old strategy: 78 %)
    assert np.nanmax(jumps) < 0.02


def test_continuous_optimiser_finds_no_lower_loss(prius):
    model, options, r = prius
    reach = np.argwhere(np.isfinite(r.i_d))
    rng = np.random.default_rng(13)
    points = reach[rng.choice(len(reach), 20, replace=False)]
    gains, compared = [], 0
    for k, j in points:
        gain, feasible = optimiser_gain(model, r, options, k, j)
        gains.append(gain)
        compared += feasible
    assert compared >= 18  # a real comparison: SLSQP ends feasible (20 of 20 measured)
    # the limit 0.5 % (measured worst 0.012 %: the pattern search ends within
    # 5.8 A / 2^16 of the optimum; the old strategy: 44 %)
    assert max(gains) < 0.005
