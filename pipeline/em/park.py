"""Park transform, written once: peak-valued, amplitude-invariant dq quantities.

With the electrical angle theta_el [rad] of the d-axis measured from phase A's magnetic
axis, the inverse transform of (x_d, x_q) [A or Wb] is

    x_a = x_d cos(theta_el)            - x_q sin(theta_el)
    x_b = x_d cos(theta_el - 2 pi/3)   - x_q sin(theta_el - 2 pi/3)
    x_c = x_d cos(theta_el + 2 pi/3)   - x_q sin(theta_el + 2 pi/3)

and the forward transform is x_d = 2/3 sum_k x_k cos(theta_el - k 2 pi/3),
x_q = -2/3 sum_k x_k sin(theta_el - k 2 pi/3) (k = 0, 1, 2 for a, b, c). The zero-sequence
part (triplen harmonics) drops out. Amplitude invariant: a balanced set of peak value X
gives |x_d + j x_q| = X. Torque of a three-phase machine with p pole pairs:
T = 3/2 p (psi_d i_q - psi_q i_d) [N m] (e.g. Pyrhonen et al., *Design of Rotating
Electrical Machines*, 2nd ed., Wiley 2014, ch. 7; motulator's convention).
"""

from __future__ import annotations

import numpy as np

__all__ = ["abc_from_dq", "dq_from_abc", "dq_torque"]

_SHIFTS = np.array([0.0, -2.0 * np.pi / 3.0, 2.0 * np.pi / 3.0])


def abc_from_dq(x_d, x_q, theta_el) -> np.ndarray:
    """Phase values (a, b, c) [same unit as x_d] from (x_d, x_q) at ``theta_el`` [rad].

    Shapes broadcast; the phase axis is the first axis of the result (3, ...).
    """
    th = np.asarray(theta_el, float)[None, ...] + _SHIFTS.reshape((3,) + (1,) * np.ndim(theta_el))
    return np.asarray(x_d) * np.cos(th) - np.asarray(x_q) * np.sin(th)


def dq_from_abc(x_abc, theta_el) -> tuple[np.ndarray, np.ndarray]:
    """(x_d, x_q) [same unit as x_abc] from phase values ``x_abc`` (3, ...) at ``theta_el``."""
    x = np.asarray(x_abc, float)
    th = np.asarray(theta_el, float)[None, ...] + _SHIFTS.reshape((3,) + (1,) * np.ndim(theta_el))
    x_d = 2.0 / 3.0 * np.sum(x * np.cos(th), axis=0)
    x_q = -2.0 / 3.0 * np.sum(x * np.sin(th), axis=0)
    return x_d, x_q


def dq_torque(psi_d, psi_q, i_d, i_q, pole_pairs: int) -> np.ndarray:
    """Electromagnetic torque T = 3/2 p (psi_d i_q - psi_q i_d) [N m].

    psi [Wb] and i [A] peak-valued amplitude-invariant dq quantities.
    """
    return 1.5 * pole_pairs * (np.asarray(psi_d) * i_q - np.asarray(psi_q) * i_d)
