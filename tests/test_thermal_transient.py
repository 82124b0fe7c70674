"""Verification of the transient solver: lumped-capacitance limit, time-stepping order
against the exact solution of the semi-discrete system, heat balance closure."""

import numpy as np
import pytest
import scipy.linalg as la
from numpy.testing import assert_allclose

from pipeline.thermal.meshes import concentric_mesh
from pipeline.thermal.solver import assemble_thermal, solve_transient, time_integrate
from pipeline.verification.thermal_cases import lumped_cooling

RADIUS, RHO_C, H, T_INF, T0 = 0.02, 3.5e6, 50.0, 300.0, 400.0


@pytest.fixture(scope="module")
def disc():
    return concentric_mesh([0.0, RADIUS], 0.004)


def test_lumped_capacitance_exponential_small_biot():
    """Bi = h R / (2 k) = 5e-5: the disc cools as T_inf + (T0 - T_inf) exp(-t / tau),
    tau = rho c A / (h P) = rho c R / (2 h) (lumped capacitance, e.g. Incropera sec. 5.1)."""
    times, mean, exact, tau = lumped_cooling(RADIUS, RHO_C, H, T_INF, T0, k=10000.0, size=0.004)
    # tau of the meshed polygon (its area and perimeter differ from the circle's by 0.5 %)
    assert_allclose(tau, RHO_C * RADIUS / (2 * H), rtol=1e-2)
    assert_allclose(times[-1], 2 * tau, rtol=1e-12)
    # Remaining errors: Biot correction O(Bi) = 5e-5 and BDF2 with step tau/100, about
    # (dt/tau)^2 / 3 = 3e-5 of the excess: 1e-4 of the initial excess bounds them.
    assert np.max(np.abs(mean - exact)) < 1e-4 * (T0 - T_INF)


@pytest.mark.parametrize(
    ("method", "order"), [("euler", 1.0), ("crank-nicolson", 2.0), ("bdf2", 2.0)]
)
def test_time_stepping_order_against_matrix_exponential(disc, method, order):
    """Exact semi-discrete reference x(t) = x_inf + expm(-M^-1 K t)(x0 - x_inf)."""
    system = assemble_thermal(disc, 20.0, 2e6, robin=[("circle_1", 2000.0, T_INF)], rho_c=RHO_C)
    M, K, b = system.capacity.toarray(), system.stiffness.toarray(), system.load
    x_inf = np.linalg.solve(K, b)
    x0 = np.full(system.basis.N, T_INF)  # heating from ambient: compatible, smooth start
    t_end = 20.0
    x_exact = x_inf + la.expm(-np.linalg.solve(M, K) * t_end) @ (x0 - x_inf)
    errors = []
    steps = (20, 40, 80)
    for n in steps:
        _, states, _ = time_integrate(
            system.capacity, system.stiffness, lambda t: b, x0, t_end / n, n, method
        )
        errors.append(np.max(np.abs(states[-1] - x_exact)))
    rates = -np.diff(np.log(errors)) / np.diff(np.log(steps))
    # asymptotic orders 1 (Euler) and 2 (CN, BDF2); measured 0.98-0.99, 2.00, 2.01-2.03
    assert_allclose(rates, order, atol=0.1)


@pytest.mark.parametrize("method", ["euler", "crank-nicolson", "bdf2"])
def test_transient_heat_balance_closes_with_time_varying_source(disc, method):
    """Every step: generated = convected + stored (scheme-consistent), to round-off."""
    nelems = disc.t.shape[1]

    def q(t):
        return np.full(nelems, 1e6 * (1.0 + np.sin(t / 10.0)))

    sol = solve_transient(
        disc, 20.0, RHO_C, q, robin=[("circle_1", 500.0, T_INF)], dt=2.0, t_end=100.0,
        T0=T_INF, method=method, save_every=10,
    )  # fmt: skip
    scale = np.max(np.abs(sol.generated))
    # direct solves: imbalance is round-off, 1e-9 of the generated heat
    assert np.max(np.abs(sol.imbalance)) < 1e-9 * scale
    # generated heat follows q(t) times the mesh area at the balance times
    area = sol.system.element_area.sum()
    expected = 1e6 * (1.0 + np.sin(sol.balance_times / 10.0)) * area
    if method == "crank-nicolson":  # CN balances the mean of the two step ends
        t = sol.balance_times
        expected = 0.5e6 * area * (2 + np.sin((t - 1) / 10.0) + np.sin((t + 1) / 10.0))
    assert_allclose(sol.generated, expected, rtol=1e-12)
    assert len(sol.times) == 6  # t = 0 and every 10th step of 50


def test_transient_reaches_the_steady_solution(disc):
    """After 20 time constants the transient equals the steady state of the same problem."""
    from pipeline.thermal.solver import solve_steady

    steady = solve_steady(disc, 20.0, 2e6, robin=[("circle_1", 500.0, T_INF)])
    tau = RHO_C * RADIUS / (2 * 500.0)
    sol = solve_transient(
        disc, 20.0, RHO_C, 2e6, robin=[("circle_1", 500.0, T_INF)], dt=tau / 5,
        t_end=20 * tau, T0=T_INF, save_every=100,
    )  # fmt: skip
    rise = steady.T.max() - T_INF
    # exp(-20) = 2e-9 of the rise remains
    assert np.max(np.abs(sol.T[-1] - steady.T)) < 1e-6 * rise
