"""Operating strategy against closed-form optima of linear machines (pipeline.maps.strategy)."""

import dataclasses
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.constants import ALPHA_CU_20, ZERO_CELSIUS
from pipeline.errors import DesignError
from pipeline.maps.protocol import LOSS_KEYS, MachineMapProtocol
from pipeline.maps.strategy import (
    StrategyOptions,
    dq_voltage,
    field_current_limit,
    operating_strategy,
    voltage_limit,
)
from tests.linear_machine import GEN5_LIKE, IPM_LIKE, LinearMachine, example_machine

T100 = ZERO_CELSIUS + 100.0
OPT = StrategyOptions(temperatures={"winding": T100, "field": T100})


def pm(psi_m=0.08, r_s=0.0, **kw):
    """Interior-PM-like linear machine (L_q > L_d), 300 A, 500 V."""
    return example_machine(IPM_LIKE, psi_m=psi_m, r_s=r_s, **kw)


def eesm(**kw):
    """Gen5-like linear EESM (values of the order of gen5_eesm at ci level)."""
    return example_machine(GEN5_LIKE, **kw)


def mtpa(m, current):
    """Closed-form MTPA d-current of a linear PM machine (dT/d(beta) = 0 on |i| = I)."""
    dl = m.l_q - m.l_d
    return (m.psi_m - np.sqrt(m.psi_m**2 + 8 * dl**2 * current**2)) / (4 * dl)


def test_linear_machine_is_a_protocol_model_with_hand_values():
    m = eesm()
    assert isinstance(m, MachineMapProtocol)
    # hand: psi_d = 1.3e-4*100 + 4.8e-3*20 = 0.109; psi_q = 1e-4*200 = 0.02
    psi_d, psi_q, psi_f = m.flux(100.0, 200.0, 20.0)
    assert_allclose(
        [psi_d, psi_q, psi_f], [0.109, 0.02, 0.25 * 20 + 1.5 * 4.8e-3 * 100], rtol=1e-12
    )
    # hand: T = 1.5*3*(0.109*200 - 0.02*100) = 89.1 N m
    assert_allclose(m.torque(100.0, 200.0, 20.0), 89.1, rtol=1e-12)
    losses = m.losses(100.0, 200.0, 20.0, 0.0, {"winding": T100, "field": T100})
    assert tuple(losses) == LOSS_KEYS
    r100 = 2.7e-3 * (1 + ALPHA_CU_20 * 80.0)  # IEC 60028 alpha, 20 -> 100 degC
    assert_allclose(losses["stator_copper"], 1.5 * r100 * (100**2 + 200**2), rtol=1e-12)


def test_voltage_limit_and_dq_voltage_hand_computed():
    # SVPWM linear range: V_dc/sqrt(3) = 230.94 V for 400 V; x 0.95 = 219.39 V
    assert_allclose(voltage_limit(400.0, 0.95), 0.95 * 400.0 / math.sqrt(3.0), rtol=1e-15)
    # v_d = R i_d - p w psi_q = 0.01*(-100) - 4*500*0.05 = -101; v_q = 0.01*200 + 2000*0.1 = 202
    v_d, v_q = dq_voltage(0.1, 0.05, -100.0, 200.0, 500.0, 4, 0.01)
    assert_allclose([v_d, v_q], [-101.0, 202.0], rtol=1e-15)


def test_loss_minimum_at_low_speed_is_the_closed_form_mtpa():
    m = pm(r_s=0.01)  # copper loss only: min loss = min current = MTPA
    r = operating_strategy(m, OPT)
    k = 1  # 12 rad/s: voltage far from the limit
    assert np.all(r.region[k][np.isfinite(r.i_d[k])] == 1)
    current = np.hypot(r.i_d[k], r.i_q[k])
    ok = np.isfinite(current) & (np.abs(r.torque) > 0.05 * r.torque[-1])
    # 0.05 A: the local search starts within one scan node (10 A) of the optimum and ends at
    # sub-steps of 10 A / 2^16, but the loss is flat (quadratic) around the optimum, so i_d
    # may stop where the loss differs by round-off only (measured 0.008 A)
    assert_allclose(r.i_d[k][ok], mtpa(m, current[ok]), atol=0.05)
    assert_allclose(r.torque_actual[k][ok], r.torque[ok], atol=OPT.torque_tolerance * 250)


def test_corner_speed_and_maximum_torque():
    m = pm(psi_m=0.1)
    r = operating_strategy(m, OPT)
    i_d = mtpa(m, m.i_max)
    i_q = math.sqrt(m.i_max**2 - i_d**2)
    t_max = float(m.torque(i_d, i_q))
    psi = math.hypot(m.l_d * i_d + m.psi_m, m.l_q * i_q)
    w_corner = voltage_limit(500.0, 0.95) / (m.pole_pairs * psi)  # R = 0
    below = r.speed <= 0.98 * w_corner
    # 1e-5: i_q is bisected onto the current circle (to 2^-40 of i_max) and the local search
    # in i_d ends at sub-steps of 10 A / 3^7 = 0.005 A, where T is flat (quadratic) in i_d
    assert_allclose(r.torque_max[below], t_max, rtol=1e-5)
    assert_allclose(r.torque_min[below], -t_max, rtol=1e-5)
    above = r.speed >= 1.02 * w_corner
    assert np.all(r.torque_max[above] < t_max * (1 - 1e-3))
    # current-limited (MTPA) below the corner, both limits (field weakening) beyond it; the
    # label switches where |v| reaches 98 % of V_max (active_tolerance) -> [0.98 w_b, w_b]
    first_fw = r.speed[np.argmax(r.envelope_region[0] != 1)]
    dw = r.speed[1] - r.speed[0]
    assert 0.98 * w_corner - 1e-9 <= first_fw <= w_corner + dw
    assert np.all(r.envelope_region[0][above] == 2)


def test_field_weakening_envelope_on_current_circle_and_voltage_ellipse():
    m = pm(psi_m=0.1)  # psi_m / L_d = 333 A > i_max: no MTPV up to any speed
    r = operating_strategy(m, OPT)
    v_max = voltage_limit(500.0, 0.95)
    psi_mtpa = math.hypot(
        m.l_d * mtpa(m, 300.0) + 0.1, m.l_q * math.sqrt(300**2 - mtpa(m, 300) ** 2)
    )
    sel = r.speed > 1.05 * v_max / (m.pole_pairs * psi_mtpa)
    assert sel.sum() > 50
    psi = v_max / (m.pole_pairs * r.speed[sel])
    # closed form: (L_d i_d + psi_m)^2 + L_q^2 (I^2 - i_d^2) = psi^2, root with i_q real
    a = m.l_d**2 - m.l_q**2
    b = 2 * m.l_d * m.psi_m
    c = m.psi_m**2 + m.l_q**2 * m.i_max**2 - psi**2
    i_d = (-b + np.sqrt(b**2 - 4 * a * c)) / (2 * a)  # the root in [-i_max, 0] (a < 0)
    assert np.all((i_d <= 0) & (i_d >= -m.i_max))
    i_q = np.sqrt(m.i_max**2 - i_d**2)
    # 1e-4: the optimum is a corner of two limits, so T is linear (not flat) in the i_d
    # offset there: 0.005 A last sub-step (corner test) x dT/di_d ~ 1 N m/A / 200 N m ~ 3e-5
    assert_allclose(r.torque_max[sel], m.torque(i_d, i_q), rtol=1e-4)
    cur = r.envelope_currents
    psi_d, psi_q, _ = m.flux(cur["i_d"][0, sel], cur["i_q"][0, sel])
    assert_allclose(np.hypot(psi_d, psi_q), psi, rtol=1e-3)  # on the ellipse
    assert_allclose(np.hypot(cur["i_d"][0, sel], cur["i_q"][0, sel]), 300.0, rtol=1e-3)


def test_mtpv_envelope_closed_form():
    m = pm(psi_m=0.04, max_speed=3000.0)  # psi_m / L_d = 133 A < i_max: MTPV at high speed
    r = operating_strategy(m, StrategyOptions(n_speed=60, n_torque=20, temperatures={}))
    psi = voltage_limit(500.0, 0.95) / (m.pole_pairs * r.speed[-10:])
    # maximise T on psi_d^2 + psi_q^2 = psi^2: with x = cos(angle of psi),
    # 2 k psi x^2 + c x - k psi = 0, k = 1/L_q - 1/L_d, c = psi_m / L_d
    k, c = 1 / m.l_q - 1 / m.l_d, m.psi_m / m.l_d
    x = (-c + np.sqrt(c**2 + 8 * k**2 * psi**2)) / (4 * k * psi)  # the root in [-1, 1]
    assert np.all(np.abs(x) <= 1)
    psi_d, psi_q = psi * x, psi * np.sqrt(1 - x**2)
    t_ref = m.torque((psi_d - m.psi_m) / m.l_d, psi_q / m.l_q)
    assert np.all(np.hypot((psi_d - m.psi_m) / m.l_d, psi_q / m.l_q) < 0.97 * m.i_max)
    # 1e-5: the torque maximum on the ellipse is flat (quadratic) in i_d and i_q is bisected
    # onto the ellipse, as in the corner test
    assert_allclose(r.torque_max[-10:], t_ref, rtol=1e-5)
    assert np.all(r.envelope_region[0][-10:] == 3)


@pytest.mark.parametrize("machine", [pm(psi_m=0.04, max_speed=3000.0), eesm()])
def test_envelopes_monotone(machine):
    r = operating_strategy(machine, StrategyOptions(n_speed=50, n_torque=20))
    t = np.max(r.torque_max)
    # exact optimum is non-increasing in speed (the feasible set shrinks); 1e-4 T_max allows
    # the local-search resolution (see test_field_weakening_envelope_...)
    assert np.all(np.diff(r.torque_max) <= 1e-4 * t)
    assert np.all(np.diff(r.torque_min) >= -1e-4 * t)
    assert r.torque_max[-1] < 0.6 * t  # and it does fall in field weakening


def test_eesm_points_within_limits_and_unreachable_is_nan():
    m = eesm(u_f_max=60.0)  # 60 V / R_f(100 degC) = 18.9 A < 25 A: field voltage binds
    opt = StrategyOptions(n_speed=30, n_torque=30, temperatures={"winding": T100, "field": T100})
    r = operating_strategy(m, opt)
    i_f_lim = 60.0 / (2.5 * (1 + ALPHA_CU_20 * 80.0))  # hand: R_f(T) with IEC alpha
    assert_allclose(field_current_limit(m, T100), i_f_lim, rtol=1e-12)
    assert_allclose(r.i_f_limit, i_f_lim, rtol=1e-12)
    assert_allclose(r.envelope_currents["i_f"][0, :3], i_f_lim, rtol=1e-9)  # full field
    ok = np.isfinite(r.i_d)
    assert ok.sum() > 0.5 * ok.size
    assert np.all(np.hypot(r.i_d[ok], r.i_q[ok]) <= m.i_max * (1 + 1e-9))
    assert np.all(np.hypot(r.v_d[ok], r.v_q[ok]) <= r.v_max * (1 + 1e-9))
    assert np.all((r.i_f[ok] >= 0) & (r.i_f[ok] <= i_f_lim * (1 + 1e-9)))
    tt = np.broadcast_to(r.torque, r.i_d.shape)
    assert np.all(np.abs(r.torque_actual[ok] - tt[ok]) <= 1e-3 * r.torque[-1])
    beyond = (tt > r.torque_max[:, None] + 1e-9) | (tt < r.torque_min[:, None] - 1e-9)
    assert beyond.any()
    assert np.all(~ok[beyond]) and np.all(r.region[beyond] == 0)
    assert np.all(np.isnan(r.losses["stator_copper"][beyond]))


def test_bad_input():
    with pytest.raises(DesignError):
        StrategyOptions(modulation_max=1.2)
    with pytest.raises(DesignError):
        StrategyOptions(n_field=1)
    with pytest.raises(DesignError):
        LinearMachine(  # a PM machine cannot carry a field coupling
            has_field_winding=False, pole_pairs=2, l_d=1, l_q=1, r_s=0, i_max=1,
            dc_link_voltage=1, max_speed=1, m_f=1e-3,
        )
    with pytest.raises(DesignError):
        eesm(u_f_max=0.0)


def test_interpolated_map_of_a_linear_machine_gives_the_same_envelope():
    # multilinear interpolation reproduces multilinear flux and torque exactly, so a
    # MachineMap built from the linear EESM's values must give the linear model's envelope
    import xarray as xr

    from pipeline.derived import T_REF, phase_resistance_dc
    from pipeline.design import load_design
    from pipeline.maps.model import MachineMap

    design = load_design("gen5_eesm")
    lin = eesm(r_s=float(phase_resistance_dc(design, T_REF)), r_f=1.0, l_d=1.5e-4)
    axes = {
        "i_d": np.linspace(-850, 850, 5),
        "i_q": np.linspace(-850, 850, 5),
        "i_f": np.linspace(0, 25, 3),
    }
    d, q, f = np.meshgrid(*axes.values(), indexing="ij")
    psi_d, psi_q, psi_f = lin.flux(d, q, f)
    dims = tuple(axes)
    ds = xr.Dataset(
        {
            "psi_d": (dims, psi_d),
            "psi_q": (dims, psi_q),
            "psi_f": (dims, psi_f),
            "torque": (dims, lin.torque(d, q, f)),
        },
        coords=axes,
    )
    fe = MachineMap(ds, design, method="linear")
    opt = StrategyOptions(
        n_speed=12,
        n_torque=8,
        n_current=31,
        n_field=7,
        temperatures={"winding": T100, "field": T100},
    )
    # same limits on both sides: the design's ratings, field limit via R_f of the design
    lin = dataclasses.replace(lin, r_f=fe.field_resistance(T_REF))
    r_fe, r_lin = operating_strategy(fe, opt), operating_strategy(lin, opt)
    # 1e-5: both envelopes are converged to the local-search resolution (corner test)
    assert_allclose(r_fe.torque_max, r_lin.torque_max, rtol=1e-5)
    assert_allclose(r_fe.torque_min, r_lin.torque_min, rtol=1e-5)


def test_eesm_loss_minimum_against_an_independent_optimiser():
    # SLSQP (scipy) from several starts solves the same constrained problem: minimise the
    # total loss s.t. torque = target, |i| <= i_max, |v| <= V_max, 0 <= i_f <= limit
    from scipy.optimize import minimize

    m = eesm(brush_drop=1.0, mechanical=(0.05, 2e-4, 1e-7))
    opt = StrategyOptions(n_speed=30, n_torque=24, temperatures={"winding": T100, "field": T100})
    r = operating_strategy(m, opt)
    rs = m.phase_resistance(T100)
    worst = 0.0
    for k, j in [(3, 12), (10, 9), (18, 18), (25, 15), (29, 9), (29, 15)]:
        w, target = r.speed[k], r.torque[j]

        def loss(x, w=w):
            return sum(m.losses(x[0], x[1], x[2], w, opt.temperatures).values())

        def volt(x, w=w):
            psi_d, psi_q, _ = m.flux(*x)
            v_d, v_q = rs * x[0] - 3 * w * psi_q, rs * x[1] + 3 * w * psi_d
            return (r.v_max**2 - v_d**2 - v_q**2) / 1e4

        cons = [
            {"type": "eq", "fun": lambda x, t=target: (m.torque(*x) - t) / 100},
            {"type": "ineq", "fun": lambda x: (850**2 - x[0] ** 2 - x[1] ** 2) / 1e4},
            {"type": "ineq", "fun": volt},
        ]
        best = np.inf
        for i_d0 in (-400.0, 0.0, 300.0):
            for i_f0 in (5.0, 15.0, 24.0):
                res = minimize(
                    loss,
                    [i_d0, target / 2, i_f0],
                    method="SLSQP",
                    constraints=cons,
                    bounds=[(-850, 850), (-850, 850), (0, r.i_f_limit)],
                    options={"maxiter": 300, "ftol": 1e-10},
                )
                if res.success and abs(m.torque(*res.x) - target) < 0.05 and volt(res.x) > -1e-4:
                    best = min(best, res.fun)
        assert np.isfinite(best) and np.isfinite(r.i_d[k, j])
        mine = loss([r.i_d[k, j], r.i_q[k, j], r.i_f[k, j]])
        worst = max(worst, (mine - best) / best)
    # 0.1 %: the pattern search ends at sub-steps of one scan-node step / 2^16 (about 4e-4 A,
    # 3e-5 A of i_f); on the voltage boundary the loss rises linearly with the distance to
    # the optimum (measured 0.014 %); and never below the optimum by more than SLSQP's ftol
    assert -1e-6 < worst < 1e-3


def test_operating_points_match_the_grid_strategy():
    from pipeline.maps.points import operating_points

    m = eesm(brush_drop=1.0, mechanical=(0.05, 2e-4, 1e-7))
    opt = StrategyOptions(n_speed=12, n_torque=10, temperatures={"winding": T100, "field": T100})
    r = operating_strategy(m, opt)
    ss, tt = np.meshgrid(r.speed, r.torque, indexing="ij")
    p = operating_points(m, ss, tt, opt)
    ok = np.isfinite(r.i_d)
    assert np.array_equal(np.isfinite(p["i_d"]), ok)  # same reach
    total_grid = sum(r.losses[k] for k in LOSS_KEYS)
    total_pts = sum(p[k] for k in LOSS_KEYS)
    # both converge to the same optimum up to the pattern-search resolution (see the SLSQP
    # test: <= 0.1 % excess loss each; measured: identical)
    assert_allclose(total_pts[ok], total_grid[ok], rtol=1e-3)
    assert_allclose(p["torque"][ok], tt[ok], atol=1e-3 * np.max(r.torque))
    # beyond the envelope: NaN
    far = operating_points(m, [r.speed[-1]], [1.01 * r.torque_max[-1]], opt)
    assert np.isnan(far["i_d"][0]) and np.isnan(far["stator_copper"][0])


@pytest.mark.parametrize("machine", [pm(), eesm()])
def test_constant_torque_curves_closed_form(machine):
    # linear machine: T = 3/2 p i_q ((L_d - L_q) i_d + psi_m + M_f i_f), so on a constant-
    # torque curve i_q = T / (3/2 p ((L_d - L_q) i_d + psi_m + M_f i_f)) where that is
    # within the current limit (and the torque per i_q positive), NaN beyond
    from pipeline.maps.search import LimitedModel, iq_on_curves

    mm = LimitedModel(machine, OPT)
    i_d = np.array([-0.6, -0.3, 0.0, 0.1]) * machine.i_max
    i_f = np.array([0.2, 0.5, 1.0, 0.8]) * machine.i_f_max
    targets = np.array([-0.5, -0.1, 0.0, 0.05, 0.3]) * float(machine.torque(*mtpa_point(machine)))
    i_q = iq_on_curves(mm, i_d, i_f, targets, n_table=40)
    psi = (machine.l_d - machine.l_q) * i_d + machine.psi_m + machine.m_f * i_f
    ref = targets[:, None] / (1.5 * machine.pole_pairs * psi[None, :])
    reach = ref**2 + i_d[None, :] ** 2 <= machine.i_max**2
    assert reach.sum() >= 12 and (~reach).sum() >= 1
    # 1e-6 of i_max: 6 bisections of 1/39 of the limit, then a secant step on a torque that
    # is linear in i_q, exact up to round-off
    assert_allclose(i_q[reach], ref[reach], atol=1e-6 * machine.i_max)
    assert np.all(np.isnan(i_q[~reach]))


def mtpa_point(machine):
    """A point of large torque at the current limit (i_d = -i_max/2, i_f at its max)."""
    return -0.5 * machine.i_max, math.sqrt(0.75) * machine.i_max, machine.i_f_max
