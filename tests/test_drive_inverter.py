"""Inverter loss model vs hand computation and direct numerical averaging over a period."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pipeline.constants import ZERO_CELSIUS
from pipeline.drive.inverter import (
    SIC_1200V_450A,
    InverterParameters,
    casanellas_conduction,
    inverter_loss,
    modulation_index,
    switching_loss,
)
from pipeline.errors import DesignError


def test_casanellas_hand_computed():
    # V0 = 1 V, r = 2 mOhm, I = 300 A, m = 0.8, cos phi = 0.85:
    # 300 (1/(2 pi) + 0.68/8) + 0.002*9e4 (1/8 + 0.68/(3 pi)) = 73.2465 + 35.4870 = 108.7335 W
    assert_allclose(casanellas_conduction(300.0, 0.8, 0.85, 1.0, 2e-3), 108.73353, rtol=1e-7)


@pytest.mark.parametrize("m, phi", [(0.9, 0.3), (0.5, -0.8), (1.0, 0.0)])
def test_casanellas_equals_period_average(m, phi):
    # Independent derivation: average the instantaneous device loss over one period,
    # upper switch conducting i > 0 with duty (1 + m sin th)/2, its diode i < 0 with duty
    # (1 - m sin th)/2 (lower switch off). Midpoint rule on 200k points: error < 1e-9.
    v0, r, i_pk = 1.2, 3e-3, 250.0
    th = (np.arange(200000) + 0.5) * 2 * np.pi / 200000
    i = i_pk * np.sin(th - phi)
    duty = 0.5 * (1 + m * np.sin(th))
    p_switch = np.mean(np.where(i > 0, duty * (v0 * i + r * i**2), 0.0))
    p_diode = np.mean(np.where(i < 0, duty * (v0 * -i + r * i**2), 0.0))
    c = math.cos(phi)
    assert_allclose(casanellas_conduction(i_pk, m, c, v0, r, "switch"), p_switch, rtol=1e-8)
    # the upper diode conducts when the lower switch is off: duty of the upper device
    assert_allclose(casanellas_conduction(i_pk, m, c, v0, r, "diode"), p_diode, rtol=1e-8)


def test_switching_loss_hand_and_average():
    # 10 kHz / pi * 19.5 mJ * (450/450) * (600/600) = 62.0704 W per switch position
    assert_allclose(switching_loss(450.0, 600.0, 10e3, SIC_1200V_450A), 62.0704, rtol=1e-5)
    # average of f_sw E_ref |i|/I_ref V/V_ref over the half period a device switches
    th = (np.arange(100000) + 0.5) * np.pi / 100000
    e = 19.5e-3 * (300.0 * np.sin(th) / 450.0) * (800.0 / 600.0)
    avg = 10e3 * np.mean(e) / 2  # the device switches during half of the period
    assert_allclose(switching_loss(300.0, 800.0, 10e3, SIC_1200V_450A), avg, rtol=1e-8)


def test_sic_synchronous_rectification_total():
    # Channel conducts both directions: 6 x R(T) I^2 / 4 regardless of m, cos phi.
    # R(125 C) = 2.6 mOhm (1 + 0.0045 * 100) = 3.77 mOhm; I = 400 A -> 6*3.77e-3*4e4 = 904.8 W
    t_j = ZERO_CELSIUS + 125.0
    for m, c in ((0.2, 1.0), (0.95, 0.3)):
        losses = inverter_loss(SIC_1200V_450A, 400.0, m, c, 800.0, 10e3, t_j)
        assert_allclose(losses.switch_conduction + losses.diode_conduction, 904.8, rtol=1e-12)
    # switching: 6 * 1e4/pi * 19.5e-3 * (400/450) * (800/600) = 441.390 W
    assert_allclose(losses.switching, 441.390, rtol=1e-5)
    assert_allclose(losses.total, 904.8 + 441.390, rtol=1e-5)


def test_modulation_index_and_validation():
    assert_allclose(modulation_index(400.0, 800.0), 1.0, rtol=1e-15)  # V_ph = V_dc/2
    with pytest.raises(DesignError):
        InverterParameters(
            r_ds_on_25=-1e-3, r_ds_on_tc=0, e_on_ref=0, e_off_ref=0, v_ref=1, i_ref=1
        )
