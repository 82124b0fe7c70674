"""Lumped network alone (closed forms) and coupled to the FE model (Bessel closed form)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import i0, i1

from pipeline.errors import DesignError
from pipeline.thermal.lumped import (
    FixedTemperatureLink,
    Link,
    Node,
    RegionCoupling,
    SurfaceCoupling,
    ThermalNetwork,
    solve_coupled_fixed_point,
    solve_coupled_steady,
    solve_coupled_transient,
)
from pipeline.thermal.meshes import concentric_mesh
from pipeline.thermal.solver import assemble_thermal


def test_series_chain_steady():
    """50 W through 1/2 + 1/4 + 1/5 K/W in series to 300 K (hand: 310, 322.5, 347.5 K)."""
    net = ThermalNetwork(
        nodes=(Node("a", power=50.0), Node("b"), Node("c")),
        links=(Link("a", "b", 2.0), Link("b", "c", 4.0)),
        fixed=(FixedTemperatureLink("c", 5.0, 300.0),),
    )
    assert_allclose(net.solve_steady(), [347.5, 322.5, 310.0], rtol=1e-12)  # exact algebra


def test_single_node_rc_exponential():
    """C dT/dt = P - G (T - T_amb): T = T_amb + P/G (1 - exp(-t G / C))."""
    net = ThermalNetwork(
        nodes=(Node("w", capacity=1000.0, power=100.0),),
        fixed=(FixedTemperatureLink("w", 2.0, 300.0),),
    )
    times, T = net.solve_transient(dt=5.0, t_end=2000.0, T0=[300.0])
    exact = 300.0 + 50.0 * (1.0 - np.exp(-times / 500.0))
    # BDF2 with dt = tau/100: global error about (dt/tau)^2/3 = 3e-5 of the 50 K rise
    assert np.max(np.abs(T[:, 0] - exact)) < 1e-4 * 50.0


def test_two_node_transient_against_eigen_solution():
    """Two capacities, link G12, node 2 to ambient G2; heat P1 into node 1. Closed form by
    the eigenvalues of the 2x2 system, written out with the quadratic formula."""
    C1, C2, G12, G2, P1, Ta = 400.0, 1500.0, 3.0, 6.0, 60.0, 290.0
    net = ThermalNetwork(
        nodes=(Node("1", C1, P1), Node("2", C2)),
        links=(Link("1", "2", G12),),
        fixed=(FixedTemperatureLink("2", G2, Ta),),
    )
    times, T = net.solve_transient(dt=1.0, t_end=1500.0, T0=[Ta, Ta])
    # A = -C^-1 G; steady T2 = Ta + P1/G2, T1 = T2 + P1/G12
    a, b, c, d = -G12 / C1, G12 / C1, G12 / C2, -(G12 + G2) / C2
    tr, det = a + d, a * d - b * c
    lam = 0.5 * (tr + np.array([1.0, -1.0]) * np.sqrt(tr**2 - 4 * det))
    vecs = np.array([[b, b], [lam[0] - a, lam[1] - a]])  # eigenvectors as columns
    x_inf = np.array([Ta + P1 / G2 + P1 / G12, Ta + P1 / G2])
    coef = np.linalg.solve(vecs, np.array([Ta, Ta]) - x_inf)
    exact = x_inf + (vecs @ (coef[:, None] * np.exp(lam[:, None] * times))).T
    # BDF2, dt = 1 s against time constants of 50-400 s: error below 1e-4 of the 30 K rise
    assert np.max(np.abs(T - exact)) < 1e-4 * (x_inf[0] - Ta)


def test_network_validation():
    with pytest.raises(DesignError):
        ThermalNetwork(nodes=(Node("a"),), links=(Link("a", "b", 1.0),))
    with pytest.raises(DesignError):
        Link("a", "b", -1.0)


# --- FE + network ----------------------------------------------------------------------
R, K, Q, H, T_INF, LENGTH, G, P_N = 0.05, 5.0, 2e5, 300.0, 320.0, 0.2, 2.0, 100.0


@pytest.fixture(scope="module")
def disc_system():
    mesh = concentric_mesh([0.0, R], 0.0025)
    return assemble_thermal(mesh, K, Q, robin=[("circle_1", H, T_INF)], rho_c=3.5e6)


def coupled_closed_form(area):
    """Disc with source q, convection outside, every point exchanging g (T - T_n) with one
    node that receives P_n and has no other path (g = G / (L A)):
    T = T_n + q/g + a I0(m r), m = sqrt(g/k); node: G (T_mean - T_n) = -P_n;
    Robin at R fixes T_n (derived by hand)."""
    g = G / (LENGTH * area)
    m = np.sqrt(g / K)
    a = (-P_N / G - Q / g) * m * R / (2 * i1(m * R))
    t_n = T_INF - Q / g - a * i0(m * R) - K * a * m * i1(m * R) / H
    return t_n, (lambda r: t_n + Q / g + a * i0(m * r))


def network_one_node():
    return ThermalNetwork(nodes=(Node("end_winding", capacity=50.0, power=P_N),))


def test_region_coupling_monolithic_against_bessel_solution(disc_system):
    net = network_one_node()
    sol = solve_coupled_steady(
        disc_system, net, [RegionCoupling("end_winding", "layer_0", G)], LENGTH
    )
    area = disc_system.element_area.sum()  # area of the meshed polygon
    t_n, profile = coupled_closed_form(area)
    rise = t_n - T_INF
    # P1, h = R/20: 0.1 % of the rise (measured about 2e-4)
    assert_allclose(sol.T_net[0], t_n, atol=1e-3 * rise)
    r = np.hypot(*disc_system.basis.doflocs)
    assert np.max(np.abs(sol.T_fe - profile(r))) < 1e-3 * rise
    # the node's loss goes into the FE: coupling heat = -P_n (exact by the node equation)
    assert_allclose(sol.coupling_heat, [-P_N], rtol=1e-9)


def test_fixed_point_agrees_with_monolithic(disc_system):
    net = network_one_node()
    couplings = [RegionCoupling("end_winding", "layer_0", G)]
    mono = solve_coupled_steady(disc_system, net, couplings, LENGTH)
    fp = solve_coupled_fixed_point(disc_system, net, couplings, LENGTH, tol=1e-10)
    # the same linear system solved two ways: agreement to the fixed-point tolerance
    assert_allclose(fp.T_net, mono.T_net, atol=1e-8)
    assert np.max(np.abs(fp.T_fe - mono.T_fe)) < 1e-8
    assert fp.iterations > 1


def test_surface_coupling_energy_balance(disc_system):
    """Node at the outer face (e.g. end-cap air) linked to ambient: all heat (q A L + P_n)
    leaves by Robin and the node's fixed link."""
    net = ThermalNetwork(
        nodes=(Node("cap", power=P_N),), fixed=(FixedTemperatureLink("cap", 1.5, 300.0),)
    )
    sol = solve_coupled_steady(disc_system, net, [SurfaceCoupling("cap", "circle_1", 4.0)], LENGTH)
    Hj, bj = disc_system.robin[0]
    robin_w = LENGTH * (np.sum(Hj @ sol.T_fe) - np.sum(bj))
    fixed_w = 1.5 * (sol.T_net[0] - 300.0)
    generated = Q * disc_system.element_area.sum() * LENGTH + P_N
    assert_allclose(robin_w + fixed_w, generated, rtol=1e-9)  # direct solve: round-off


def test_coupled_transient_reaches_steady(disc_system):
    net = network_one_node()
    couplings = [RegionCoupling("end_winding", "layer_0", G)]
    steady = solve_coupled_steady(disc_system, net, couplings, LENGTH)
    times, T_fe, T_net = solve_coupled_transient(
        disc_system, net, couplings, LENGTH, dt=200.0, t_end=4e4, T0_fe=T_INF,
        T0_net=T_INF, save_every=50,
    )  # fmt: skip
    # slowest time constant about rho c A / (h P) = 290 s: after 40000 s nothing is left
    assert_allclose(T_net[-1], steady.T_net, atol=1e-6)
    assert np.max(np.abs(T_fe[-1] - steady.T_fe)) < 1e-6
