"""Model versus measurement: Prius 2004 open-circuit back-EMF (ORNL/TM-2004/247 Table 3.4).

The measured values are line-to-line rms voltages (all harmonics) of the open-circuit
motor at each listed speed (``geometries/reference/measurements/ornl_prius_2004_back_emf.csv``).
The model's line-to-line EMF comes from one open-circuit case (i = 0) whose flux linkage
is speed independent: E(n) = n/n_0 E(n_0). The magnet temperature of the test is not
stated in the report; 20 degC is the default.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.em.machine import run_case

__all__ = [
    "MEASUREMENTS_DIR",
    "load_prius_back_emf",
    "prius_back_emf_comparison",
    "format_comparison",
]

MEASUREMENTS_DIR = (
    Path(__file__).resolve().parent.parent.parent / "geometries" / "reference" / "measurements"
)


def load_prius_back_emf() -> np.ndarray:
    """Structured array (speed_rpm, frequency_Hz, v_rms_V, v_peak_V) of the ORNL table."""
    path = MEASUREMENTS_DIR / "ornl_prius_2004_back_emf.csv"
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and ln[0] != "#"]
    return np.genfromtxt(lines, delimiter=",", names=True)


def prius_back_emf_comparison(
    level: str = "ci",
    magnet_temperature_C: float = 20.0,
    positions: int = 12,
    design="prius_2004",
) -> dict:
    """Computed versus measured line-to-line rms back-EMF at every listed speed.

    Returns a dict of equal-length arrays: ``speed_rpm``, ``computed_V`` (line-to-line rms,
    all harmonics), ``computed_fundamental_V`` (its fundamental, rms), ``measured_V``,
    ``error`` ((computed - measured) / measured [-]), ``computed_peak_V`` and
    ``measured_peak_V`` (line-to-line peak); plus scalars ``psi_fundamental_Wb``
    (peak phase flux linkage fundamental of the model), ``measured_psi_fundamental_Wb``
    (the one the measured rms implies, sqrt(2/3) V_rms / omega_el, harmonics neglected),
    ``thd_line`` [-] and ``level``, ``magnet_temperature_C``.
    """

    meas = load_prius_back_emf()
    speeds = np.asarray(meas["speed_rpm"], float)
    n0 = 1000.0
    res = run_case(
        design, 0.0, 0.0, positions=positions, level=level, speed_rpm=n0,
        magnet_temperature_C=magnet_temperature_C,
    )  # fmt: skip
    emf = res.back_emf()
    computed = emf.line_rms * speeds / n0
    fund = emf.line_fundamental_rms * speeds / n0
    measured = np.asarray(meas["v_rms_V"], float)
    omega_el = res.pole_pairs * speeds * 2 * np.pi / 60.0
    return {
        "speed_rpm": speeds,
        "computed_V": computed,
        "computed_fundamental_V": fund,
        "measured_V": measured,
        "error": (computed - measured) / measured,
        "computed_peak_V": float(np.max(np.abs(emf.e_line))) * speeds / n0,
        "measured_peak_V": np.asarray(meas["v_peak_V"], float),
        "psi_fundamental_Wb": emf.psi_fundamental,
        "measured_psi_fundamental_Wb": float(np.mean(np.sqrt(2.0 / 3.0) * measured / omega_el)),
        "thd_line": emf.thd_line,
        "level": level,
        "magnet_temperature_C": float(magnet_temperature_C),
    }


def format_comparison(table: dict) -> str:
    """Plain-text table of :func:`prius_back_emf_comparison`."""
    lines = [
        f"Prius 2004 back-EMF, line-to-line rms [{table['level']}, magnets at "
        f"{table['magnet_temperature_C']:g} degC]",
        f"{'speed_rpm':>10} {'computed_V':>11} {'fund_V':>8} {'measured_V':>11} {'error_%':>8}",
    ]
    for n, c, f, m, e in zip(
        table["speed_rpm"],
        table["computed_V"],
        table["computed_fundamental_V"],
        table["measured_V"],
        table["error"],
        strict=True,
    ):
        lines.append(f"{n:10.0f} {c:11.1f} {f:8.1f} {m:11.1f} {100 * e:8.1f}")
    lines.append(
        f"psi_1 model {table['psi_fundamental_Wb']:.4f} Wb, implied by measurement "
        f"{table['measured_psi_fundamental_Wb']:.4f} Wb (rms-based)"
    )
    return "\n".join(lines)
