"""Analytic end-winding leakage inductance of a distributed stator winding.

The 2D model has no end windings; their leakage flux is added to the phase flux linkage
as ``psi_x += L_ew i_x`` (self term; it adds L_ew to both L_d and L_q and leaves the dq
torque unchanged).

Formula: I. Boldea and S. A. Nasar, *The Induction Machine Handbook*, CRC Press 2002,
ch. 6 / 15 (stator leakage, eq. 15.75 with the end-connection permeance of eq. 15.79):

    L_ew = 2 MU_0 L N_s^2 / (p q) * lambda_ec,   lambda_ec = 0.34 q / L (l_ec - 0.64 beta tau_p)

so that L_ew = 0.68 MU_0 N_s^2 (l_ec - 0.64 beta tau_p) / p  [H]   (the stack length cancels)

with N_s series turns per phase, p pole pairs, l_ec the length of one end connection of a
coil (one side; both machine ends are in the 0.34 coefficient), beta the coil pitch over
the pole pitch and tau_p the pole pitch at the bore. The coefficient is the handbook's
value for two-layer windings; it is used for single-layer windings too (an approximation:
the single-layer end connections of one phase group are bunched, which the handbook
accounts for with a larger coefficient but a larger subtraction too).

The end connection length l_ec is the one of the phase resistance,
:func:`pipeline.derived.end_turn_length` (semicircle over the coil span at mid-slot radius
plus the straight extension ``winding.end_winding_length`` on both legs), so that the
leakage and the resistance see one end winding.
"""

from __future__ import annotations

import math

from pipeline.constants import MU_0
from pipeline.derived import end_turn_length
from pipeline.design import Design
from pipeline.winding import winding_layout

__all__ = ["end_winding_inductance", "design_end_winding_inductance"]


def end_winding_inductance(
    series_turns: float, pole_pairs: int, end_length: float, pitch_ratio: float, pole_pitch: float
) -> float:
    """L_ew = 0.68 MU_0 N_s^2 (l_ec - 0.64 beta tau_p) / p [H] (Boldea and Nasar, eq. 15.79).

    series_turns N_s [-]; end_length l_ec of one end connection [m]; pitch_ratio beta [-];
    pole_pitch tau_p [m]. Zero if l_ec < 0.64 beta tau_p (outside the formula's range).
    """
    return max(
        0.0, 0.68 * MU_0 * series_turns**2 * (end_length - 0.64 * pitch_ratio * pole_pitch)
    ) / (pole_pairs)


def design_end_winding_inductance(design: Design) -> float:
    """Per-phase end-winding leakage inductance [H] of ``design`` (see module docstring)."""

    st, w = design.stator, design.winding
    layout = winding_layout(design)
    p = design.pole_pairs
    slots_per_pole = st.n_slots / design.n_poles
    l_ec = end_turn_length(design)
    tau_p = math.pi * st.bore_radius / p
    return end_winding_inductance(
        layout.series_turns, p, l_ec, w.coil_pitch / slots_per_pole, tau_p
    )
