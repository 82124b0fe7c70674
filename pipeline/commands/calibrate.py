"""``edrive calibrate DESIGN --data FILE.toml``: fit design parameters to measurements.

Writes ``results/calibration/<design>-<level>/``: ``<design>_calibrated.toml`` (the design
file with the fitted values and a ``[calibration]`` table; or ``--output PATH``),
``model_vs_measurement.png`` and ``summary.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import tomli_w

from pipeline.calibration.data import load_calibration_data
from pipeline.calibration.fit import CalibrationResult, calibrate, residual_summary
from pipeline.commands import add_where_arguments
from pipeline.errors import DesignError
from pipeline.reports.plots import plot_calibration

__all__ = ["add_calibrate_arguments", "cmd_calibrate", "calibrated_toml_text", "plot_calibration"]


def add_calibrate_arguments(p) -> None:
    p.add_argument("design", help="design name or .toml path")
    p.add_argument("--data", required=True, help="calibration data file (TOML)")
    p.add_argument("--output", default=None, help="path of the calibrated design TOML")
    p.add_argument("--max-evaluations", type=int, default=30,
                   help="most residual evaluations of the least-squares solver (default 30)")
    add_where_arguments(p)


def _set_key(text: str, table: str, key: str, value: float, note: str) -> str:
    """``text`` with ``key = value`` set in ``[table]`` (replaced, or added after its header)."""
    lines = text.splitlines()
    header = f"[{table}]"
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == header)
    except StopIteration:
        raise DesignError("parameter.path", f"{table}.{key}", "table not in the design file") from None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
               len(lines))  # fmt: skip
    new = f"{key} = {value:.6g}  # {note}"
    pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start + 1, end):
        if pat.match(lines[i]):
            lines[i] = new
            break
    else:
        last = max((i for i in range(start + 1, end) if "=" in lines[i]), default=start)
        lines.insert(last + 1, new)
    return "\n".join(lines) + "\n"


def calibrated_toml_text(original: str, result: CalibrationResult) -> str:
    """The design file ``original`` with the fitted values written in (comments kept) and a
    ``[calibration]`` table at the end (an old one is replaced)."""
    text = original.split("\n[calibration]")[0].rstrip() + "\n"
    for p, f, u in zip(result.data.parameters, result.fitted, result.uncertainty, strict=True):
        table, key = p.path.rsplit(".", 1)
        text = _set_key(text, table, key, f, f"calibrated: +- {u:.2g} (see [calibration])")
    return text + "\n" + tomli_w.dumps({"calibration": result.table()})


def cmd_calibrate(args) -> int:
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.design import DESIGNS_DIR, load_design

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.paths import results_dir

    design = load_design(args.design)
    data = load_calibration_data(args.data, design)
    if data.design != design.name:
        raise DesignError("--data", args.data, f"is for design {data.design}, not {design.name}")
    if not 2 <= args.max_evaluations <= 500:
        raise DesignError("--max-evaluations", args.max_evaluations, "must be in [2, 500]")
    src = Path(args.design) if args.design.endswith(".toml") else DESIGNS_DIR / f"{args.design}.toml"
    out_dir = results_dir() / "calibration" / f"{design.name}-{data.level}"
    output = Path(args.output) if args.output else out_dir / f"{design.name}_calibrated.toml"

    def step(x, chi2):
        if not args.json:
            vals = ", ".join(f"{p.path} {v:.4g}" for p, v in zip(data.parameters, x, strict=True))
            print(f"  evaluated {vals}: chi2 {chi2:.4g}", flush=True)

    result = calibrate(design, data, results_dir(), scheduler=args.scheduler,
                       cluster_file=args.cluster, max_nfev=args.max_evaluations, on_step=step)  # fmt: skip
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(calibrated_toml_text(src.read_text(encoding="utf-8"), result))
    png = plot_calibration(result, out_dir / "model_vs_measurement.png")
    summary = {
        "design": design.name,
        "calibrated_design": str(output),
        "picture": str(png),
        "calibration": result.table(),
        "tasks_computed": result.tasks_computed,
        "tasks_reused": result.tasks_reused,
        "solver_evaluations": result.nfev,
        "solver_message": result.message,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    if args.json:
        print(json.dumps(summary, indent=1, sort_keys=True))
    else:
        print("\n".join(residual_summary(result)))
        print(f"tasks: {result.tasks_computed} solved, {result.tasks_reused} reused; "
              f"{result.nfev} solver evaluations ({result.message})")  # fmt: skip
        print(f"calibrated design: {output}\npicture: {png}")
    return 0
