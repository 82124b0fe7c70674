"""Prius 2004 open-circuit back-EMF: model vs ORNL, sensitivities and the data's own spread.

Run: ``python benchmarks/prius_back_emf_study.py [--level ci|fine]``.

Prints (1) the model's line-to-line rms and peak back-EMF per rpm against ORNL/TM-2004/247
Table 3.4 (``geometries/reference/measurements/ornl_prius_2004_back_emf.csv``), (2) how
much the measured columns disagree with themselves: an open-circuit EMF is omega times a
fixed waveform, so V_rms/rpm and V_peak/V_rms should not depend on speed, and (3) the
fundamental flux linkage of the model under one-at-a-time changes of inputs that no source
pins down (temporary design copies, the reference design is untouched), and (4) the peak
torque at ORNL's current with the magnets at 20 and 100 degC: the same magnets must meet the
back-EMF and the 400 N m. A study, not a test: nothing here is tuned into the design.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: one-at-a-time variants: (label, source of the alternative value, TOML replacement,
#: magnet temperature [degC])
VARIANTS = (
    ("reference design (Br 1.24 T at 20 degC)", "geometries/reference/designs", None, 20.0),
    ("airgap 0.73 mm (ORNL teardown) not 0.70 mm", "ORNL/TM-2010/253 Table 2.7",
     ("outer_radius_mm = 80.25", "outer_radius_mm = 80.22"), 20.0),
    ("steel: pyleecan M400-50A curve instead of M19 29ga", "pyleecan Toyota_Prius.json",
     ('material = "m19_29ga"', 'material = "m400_50a_pyleecan"'), 20.0),
    ("centre web 3.0 mm instead of 1.5 mm (assumed)", "unsourced",
     ("web_width_mm = 1.5", "web_width_mm = 3.0"), 20.0),
    ("centre web 0.5 mm", "unsourced", ("web_width_mm = 1.5", "web_width_mm = 0.5"), 20.0),
    ("magnets at 60 degC", "test temperature unknown", None, 60.0),
    ("magnets at 100 degC", "test temperature unknown", None, 100.0),
)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    from pipeline.design import design_from_toml, load_design
    from pipeline.em.machine import run_case
    from pipeline.post.validation import prius_back_emf_comparison

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--level", default="ci", choices=["ci", "fine"])
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    t = prius_back_emf_comparison(level=args.level, positions=48)
    n, v_rms, v_pk = t["speed_rpm"], t["measured_V"], t["measured_peak_V"]
    m_rms, m_pk = t["computed_V"], t["computed_peak_V"]
    k_rms = m_rms[0] / n[0]
    print(f"Prius 2004 open circuit, {args.level}, 48 positions over 60 el. deg "
          f"({time.perf_counter() - t0:.1f} s); model crest factor (line) "
          f"{m_pk[0] / m_rms[0]:.3f}, line THD {100 * t['thd_line']:.1f} %")  # fmt: skip
    print(f"{'rpm':>6} {'rms_meas':>9} {'rms_model':>10} {'err_%':>6} {'pk_meas':>8} "
          f"{'pk_model':>9} {'err_%':>6} {'meas_V/rpm':>10} {'meas_crest':>10}")  # fmt: skip
    for i in range(n.size):
        print(f"{n[i]:6.0f} {v_rms[i]:9.1f} {m_rms[i]:10.1f} {100 * t['error'][i]:+6.1f} "
              f"{v_pk[i]:8.0f} {m_pk[i]:9.1f} {100 * (m_pk[i] / v_pk[i] - 1):+6.1f} "
              f"{v_rms[i] / n[i]:10.4f} {v_pk[i] / v_rms[i]:10.3f}")  # fmt: skip
    ratio = v_rms / n
    crest = v_pk / v_rms
    lo, hi = ratio.min(), ratio.max()
    print(
        f"measured V_rms/rpm {lo:.4f} .. {hi:.4f} ({100 * (hi / lo - 1):.1f} % spread); "
        f"crest factor {crest.min():.2f} .. {crest.max():.2f} (a fixed waveform has one)"
    )
    print(
        f"a constant V/rpm within 5 % of every point must lie in "
        f"[{hi / 1.05:.4f}, {lo * 1.05:.4f}] V/rpm: width "
        f"{100 * (lo * 1.05 / (hi / 1.05) - 1):.1f} %; the model gives {k_rms:.4f} "
        f"({100 * (k_rms / (0.5 * (hi / 1.05 + lo * 1.05)) - 1):+.1f} % from its centre)"
    )

    base = (ROOT / "geometries/reference/designs/prius_2004.toml").read_text()
    print(f"\n{'variant':52s} {'source':28s} {'psi_1_Wb':>9} {'change_%':>9}")
    psi0 = None
    for label, source, repl, temp in VARIANTS:
        text = base
        if repl is not None:
            assert repl[0] in text, repl[0]
            text = text.replace(repl[0], repl[1])
        d = design_from_toml(text, label)
        r = run_case(d, 0.0, 0.0, positions=12, level=args.level, speed_rpm=1000.0,
                     magnet_temperature_C=temp)  # fmt: skip
        psi = r.back_emf().psi_fundamental
        psi0 = psi if psi0 is None else psi0
        print(f"{label:52s} {source:28s} {psi:9.4f} {100 * (psi / psi0 - 1):+9.1f}")
    implied = t["measured_psi_fundamental_Wb"]
    print(
        f"flux linkage implied by the measured rms (harmonics neglected): {implied:.4f} Wb "
        f"({100 * (implied / psi0 - 1):+.1f} % from the reference design)"
    )

    # the same magnets must also give ORNL's peak torque, 400 N m at 230 A rms (325 A peak,
    # geometries/reference/designs/prius_2004.toml [ratings]): best current angle of six
    design = load_design("prius_2004")
    i_pk = design.ratings.max_phase_current
    t_ref = design.ratings.peak_torque
    print(f"\npeak torque at {i_pk:.0f} A peak (ORNL: {t_ref:.0f} N m), best of gamma 30..55 deg:")
    for temp in (20.0, 100.0):
        best = max(
            (
                run_case(
                    design, -i_pk * np.sin(g), i_pk * np.cos(g), positions=12,
                    level=args.level, magnet_temperature_C=temp,
                ).mean_torque,
                g,
            )
            for g in np.radians(np.arange(30.0, 56.0, 5.0))
        )  # fmt: skip
        print(
            f"  magnets at {temp:5.1f} degC: {best[0]:6.1f} N m at gamma "
            f"{np.degrees(best[1]):.0f} deg ({100 * (best[0] / t_ref - 1):+.1f} %)"
        )


if __name__ == "__main__":
    main()
