"""Winding layout (phase, sign, layer per slot), winding factors and machine symmetry.

The layout follows the star of slots: slot k at mechanical angle
``theta_k = (k + 1/2) 2 pi / Q`` has electrical angle ``alpha_k = p theta_k``; its top
layer joins the 60-degree phase belt sequence A+, C-, B+, A-, C+, B- counted from slot 0
(a positive-sequence current then turns the field in +theta). In a double-layer winding the
bottom layer of slot ``k + y`` (coil pitch y) returns the coil whose go side is in slot k.

Winding factor of electrical harmonic n (e.g. Pyrhonen, Jokinen, Hrabovcova, *Design of
Rotating Electrical Machines*, 2nd ed., Wiley 2014, sec. 2.9):
``k_w,n = |sum_k c_k exp(j n alpha_k)| / sum_k |c_k|`` with c_k the signed coil sides of
phase A in slot k; for integral-slot windings this equals k_d k_p with
``k_d = sin(q n a/2) / (q sin(n a/2))`` and ``k_p = sin(n y/tau_p * pi/2)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.errors import DesignError

__all__ = ["WindingLayout", "winding_layout", "winding_factor", "machine_symmetry", "PHASES"]

PHASES = ("A", "B", "C")
#: 60-degree belts in order of increasing electrical angle: (phase index, sign)
_BELTS = ((0, +1), (2, -1), (1, +1), (0, -1), (2, +1), (1, -1))


@dataclass(frozen=True)
class WindingLayout:
    """Phase index (0=A, 1=B, 2=C) and sign (+1 go, -1 return) per (slot, layer)."""

    phase: np.ndarray  # (Q, L) int
    sign: np.ndarray  # (Q, L) int
    slot_angles: np.ndarray  # (Q,) [rad], mechanical
    pole_pairs: int
    turns_per_coil: int
    parallel_paths: int

    @property
    def n_slots(self) -> int:
        return self.phase.shape[0]

    @property
    def n_layers(self) -> int:
        return self.phase.shape[1]

    def conductors(self, phase: int) -> np.ndarray:
        """Signed coil sides of ``phase`` per slot (sum over layers), shape (Q,)."""
        return np.where(self.phase == phase, self.sign, 0).sum(axis=1)

    @property
    def series_turns(self) -> float:
        """Series turns per phase N_s = Q L N_c / (2 m a) [-]."""
        return self.n_slots * self.n_layers * self.turns_per_coil / (2 * 3 * self.parallel_paths)

    def phase_axis(self, phase: int = 0) -> float:
        """Mechanical angle [rad] of the phase's magnetic axis (fundamental MMF maximum)."""
        s = np.sum(self.conductors(phase) * np.exp(1j * self.pole_pairs * self.slot_angles))
        # MMF of a conductor distribution peaks 90 el. degrees behind the conductor phasor
        return float(np.angle(s * np.exp(-1j * math.pi / 2))) / self.pole_pairs

    def label(self, slot: int, layer: int) -> str:
        """Coil-side name, e.g. ``A+``."""
        return PHASES[self.phase[slot, layer]] + ("+" if self.sign[slot, layer] > 0 else "-")


def winding_factor(layout: WindingLayout, harmonic: int = 1, phase: int = 0) -> float:
    """Winding factor k_w of electrical ``harmonic`` for ``phase`` [-]."""
    c = layout.conductors(phase)
    alpha = harmonic * layout.pole_pairs * layout.slot_angles
    return float(abs(np.sum(c * np.exp(1j * alpha))) / np.sum(np.abs(c)))


def _layout(n_slots: int, pole_pairs: int, n_layers: int, coil_pitch: int):
    theta = (np.arange(n_slots) + 0.5) * 2 * math.pi / n_slots
    alpha = pole_pairs * (theta - theta[0])
    belt = np.floor((np.mod(alpha, 2 * math.pi) + 1e-9) / (math.pi / 3)).astype(int) % 6
    phase = np.zeros((n_slots, n_layers), dtype=int)
    sign = np.zeros((n_slots, n_layers), dtype=int)
    for k in range(n_slots):
        ph, sg = _BELTS[belt[k]]
        phase[k, 0], sign[k, 0] = ph, sg
        if n_layers == 2:
            j = (k + coil_pitch) % n_slots
            phase[j, 1], sign[j, 1] = ph, -sg
    return theta, phase, sign


def winding_layout(design) -> WindingLayout:
    """Derive the layout from the design; raises DesignError if it is not balanced."""
    q_slots, p = design.stator.n_slots, design.pole_pairs
    w = design.winding
    full_pitch = q_slots / (2 * p)
    if w.coil_pitch > q_slots // 2:
        raise DesignError(
            "winding.coil_pitch", w.coil_pitch, f"must be at most n_slots/2 = {q_slots // 2}"
        )
    if w.n_layers == 1 and w.coil_pitch != full_pitch:
        raise DesignError(
            "winding.coil_pitch",
            w.coil_pitch,
            f"a single-layer winding needs full pitch n_slots/n_poles = {full_pitch:g}",
        )
    theta, phase, sign = _layout(q_slots, p, w.n_layers, w.coil_pitch)
    layout = WindingLayout(phase, sign, theta, p, w.turns_per_coil, w.parallel_paths)
    phasors = []
    for ph in range(3):
        c = layout.conductors(ph)
        phasors.append(np.sum(c * np.exp(1j * p * theta)))
        if np.abs(c).sum() == 0:
            break
    counts = [int(np.abs(np.where(phase == ph, 1, 0)).sum()) for ph in range(3)]
    mags = np.abs(phasors) if len(phasors) == 3 else np.zeros(3)
    balanced = (
        len(set(counts)) == 1
        and mags.min() > 1e-6 * max(1, counts[0])
        and abs(sum(phasors)) < 1e-6 * max(1.0, mags.max())
        and np.ptp(mags) < 1e-6 * mags.max()
    )
    if not balanced:
        t = math.gcd(q_slots, p)
        raise DesignError(
            "rotor.n_poles",
            design.n_poles,
            f"does not match the winding: {q_slots} slots, {2 * p} poles, 3 phases give no balanced "
            f"winding (needs n_slots/(3*gcd(n_slots, pole_pairs)) = {q_slots / (3 * t):g} to be an integer "
            f"and a non-zero fundamental)",
        )
    if design.n_poles % w.parallel_paths:
        raise DesignError(
            "winding.parallel_paths",
            w.parallel_paths,
            f"must divide the number of poles {design.n_poles}",
        )
    return layout


def machine_symmetry(design) -> tuple[int, bool]:
    """Smallest sector: (sectors in the full machine, anti-periodic?).

    With t = gcd(Q, p) the machine repeats t times (periodic); it is anti-periodic over
    half of that when p/t is odd and the layout of slot k + Q/(2t) is the negated layout of
    slot k (Salminen 2004, 'Fractional slot permanent magnet motors for low speed
    applications', LUT, ch. 2; the usual machine-periodicity rule). The housing's cooling
    channels must repeat with the sector.
    """
    layout = winding_layout(design)
    q_slots, p = design.stator.n_slots, design.pole_pairs
    t = math.gcd(q_slots, p)
    n_sectors, anti = t, False
    if (p // t) % 2 == 1 and q_slots % (2 * t) == 0:
        shift = q_slots // (2 * t)
        rolled_phase = np.roll(layout.phase, -shift, axis=0)
        rolled_sign = np.roll(layout.sign, -shift, axis=0)
        if np.array_equal(rolled_phase, layout.phase) and np.array_equal(rolled_sign, -layout.sign):
            n_sectors, anti = 2 * t, True
    if design.housing.n_channels % n_sectors:
        raise DesignError(
            "housing.n_channels",
            design.housing.n_channels,
            f"must be a multiple of the machine's {n_sectors} symmetry sectors",
        )
    return n_sectors, anti
