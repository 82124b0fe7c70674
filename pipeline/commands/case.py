"""``edrive case``: one operating point over rotor positions (the command layer of
:func:`pipeline.api.run_case`): flags, the summary printed, the NetCDF, PNG and VTU
files written under ``results/case/``."""

from __future__ import annotations

import json
import math
from pathlib import Path

from pipeline import api
from pipeline.em.machine import CaseResult
from pipeline.io.paths import results_dir

__all__ = ["add_case_arguments", "cmd_case"]


def add_case_arguments(parser) -> None:
    """Arguments of ``edrive case`` (``--json`` only if the parser does not have it yet)."""
    parser.add_argument("design", help="design name (see `edrive designs`) or a .toml path")
    parser.add_argument("--i-d", type=float, default=0.0, help="d-axis current, peak [A]")
    parser.add_argument("--i-q", type=float, default=0.0, help="q-axis current, peak [A]")
    parser.add_argument("--i-f", type=float, default=0.0, help="field current [A] (EESM)")
    parser.add_argument("--speed-rpm", type=float, default=None, help="speed [rpm] for v_dq")
    parser.add_argument(
        "--positions", type=int, default=12, help="rotor positions over 60 el. deg (default 12)"
    )
    parser.add_argument("--level", default="ci", choices=["ci", "fine"], help="mesh level")
    parser.add_argument(
        "--allow-overload",
        action="store_true",
        help="allow |i_dq| (and i_f) beyond 1.5 x the design's rated current",
    )
    if "--json" not in parser._option_string_actions:
        parser.add_argument("--json", action="store_true", help="machine-readable summary")


def _case_path(res: CaseResult) -> Path:
    tag = f"id{res.i_d:g}-iq{res.i_q:g}-if{res.i_f:g}-n{res.torque.size}-{res.level}"
    return results_dir() / "case" / f"{res.design}-{tag}.nc"


def cmd_case(args) -> int:
    """``edrive case``: solve one operating point, print a summary, write a NetCDF file."""

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.store import write_dataset

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.post.export import plot_field, write_vtu

    case = api.run_case(  # design name or path, inputs and overload checked before FE work
        args.design,
        args.i_d,
        args.i_q,
        args.i_f,
        positions=args.positions,
        level=args.level,
        speed_rpm=args.speed_rpm,
        allow_overload=getattr(args, "allow_overload", False),
    )
    res = case.result
    path = write_dataset(case.to_dataset(), _case_path(res))
    snap = case.snapshot()
    png = plot_field(snap, path.with_suffix(".png"))
    vtu = write_vtu(snap, path.with_suffix(".vtu"))
    s = res.summary()
    s["output"] = str(path)
    s["picture"] = str(png)
    s["field_vtu"] = str(vtu)
    if getattr(args, "json", False):
        print(json.dumps(s, indent=1, sort_keys=True))
    else:
        print(
            "\n".join(
                [
                    f"{res.design} [{res.level}] i_d {res.i_d:g} A, i_q {res.i_q:g} A, "
                    f"i_f {res.i_f:g} A, {s['positions']} positions",
                    f"  torque mean {s['torque_mean_Nm']:.2f} N m (dq {s['torque_dq_mean_Nm']:.2f})"
                    f", pk-pk {s['torque_peak_to_peak_Nm']:.2f} N m ({100 * s['torque_ripple']:.1f} %)",
                    f"  psi_d {s['psi_d_Wb']:.4f} Wb, psi_q {s['psi_q_Wb']:.4f} Wb, "
                    f"psi_f {s['psi_f_Wb']:.4f} Wb",
                    f"  Newton {s['newton_iterations_mean']:.1f} mean / "
                    f"{s['newton_iterations_max']} max iterations, "
                    f"{s['solve_time_per_position_s']:.2f} s per position",
                    f"  end-winding leakage L_ew {1e6 * res.L_ew:.1f} uH per phase (in psi)",
                    *(
                        [
                            f"  at {res.speed_rpm:g} rpm: v_d {s['v_d_V']:.1f} V, v_q {s['v_q_V']:.1f} V"
                        ]
                        if res.speed_rpm is not None
                        else []
                    ),
                    *(
                        [
                            f"  back-EMF: phase fundamental {s['emf_phase_fundamental_peak_V']:.1f} V"
                            f" peak, line-line {s['emf_line_rms_V']:.1f} V rms "
                            f"(fundamental {s['emf_line_fundamental_rms_V']:.1f} V rms), THD "
                            f"{100 * s['emf_thd_phase']:.1f} % phase / "
                            f"{100 * s['emf_thd_line']:.1f} % line"
                        ]
                        if math.isfinite(s["emf_line_rms_V"])
                        else []
                    ),
                    f"  written: {path}",
                    f"  field picture (last position): {png}",
                    f"  field for ParaView (last position): {vtu}",
                ]
            )
        )
    return 0
