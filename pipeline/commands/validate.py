"""``edrive validate``: verification, validation and regression report; golden re-blessing."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from pipeline.errors import WorkflowError

__all__ = ["add_validate_arguments", "cmd_validate", "update_golden", "change_table"]


def add_validate_arguments(parser) -> None:
    """Arguments of ``edrive validate`` (``--json`` only if the parser lacks it)."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.validation.cases import CASE_NAMES

    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the slower cases (full-machine solve, P2 torque benchmark, half the angles)",  # fmt: skip
    )
    parser.add_argument(
        "--update-golden",
        action="store_true",
        help="recompute and rewrite tests/golden/*.json (values, measured mesh spread, "
        "tolerances) and print old, new and change; runs nothing else",
    )
    parser.add_argument(
        "--designs",
        default="",
        help="comma-separated reference designs for the regression/golden update (default all)",
    )
    parser.add_argument(
        "--case",
        action="append",
        default=[],
        help="run only this case (repeatable): " + ", ".join(CASE_NAMES),
    )
    parser.add_argument(
        "--output", default=None, help="report folder (default results/validation)"
    )
    # the former name, a hidden alias (issue 15: `--output` as in `edrive calibrate`)
    parser.add_argument("--out", dest="output", default=None, help=argparse.SUPPRESS)
    if "--json" not in parser._option_string_actions:
        parser.add_argument("--json", action="store_true", help="machine-readable summary")


def _designs(arg: str) -> tuple[str, ...]:
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.validation.golden import DESIGNS

    if not arg:
        return DESIGNS
    names = tuple(n.strip() for n in arg.split(",") if n.strip())
    bad = [n for n in names if n not in DESIGNS]
    if bad:
        raise WorkflowError(f"--designs: {', '.join(bad)} not among {', '.join(DESIGNS)}")
    return names


def _version(v: dict) -> str:
    return v.get("package", "?") + (f" (git {v['git']})" if v.get("git") else "")


def change_table(old: dict | None, new: dict) -> list[str]:
    """Lines: quantity, old, new, change [%], new tolerance, and whether the change exceeds
    the old tolerance (what a reviewer must look at)."""
    q_old = (old or {}).get("quantities", {})
    lines = [
        f"{new['design']} (code {_version(new['code_version'])}, {new['date']})",
        f"  {'quantity':34s} {'old':>13s} {'new':>13s} {'change':>10s} {'tolerance':>11s}  unit",
    ]
    for name, q in new["quantities"].items():
        o = q_old.get(name)
        v = q["value"]
        if o is None:
            lines.append(f"  {name:34s} {'(new)':>13s} {v:13.6g} {'':>10s} {q['tolerance']:11.3g}  {q['unit']}")  # fmt: skip
            continue
        ov = float(o["value"])
        pct = 100 * (v - ov) / abs(ov) if ov else math.nan
        flag = "  <-- beyond old tolerance" if abs(v - ov) > float(o["tolerance"]) else ""
        lines.append(
            f"  {name:34s} {ov:13.6g} {v:13.6g} {pct:+9.3f}% {q['tolerance']:11.3g}  "
            f"{q['unit']}{flag}"
        )
    for name in q_old:
        if name not in new["quantities"]:
            lines.append(f"  {name:34s} {float(q_old[name]['value']):13.6g} {'(removed)':>13s}")
    return lines


def update_golden(designs: tuple[str, ...]) -> tuple[list[dict], list[str]]:
    """Recompute and write the golden files of ``designs``; returns (tables, printed lines)."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.validation.golden import build_golden, golden_path, read_golden, write_golden

    tables, lines = [], []
    for name in designs:
        old = read_golden(name) if golden_path(name).exists() else None
        new = build_golden(name)
        path = write_golden(new)
        tables.append({"design": name, "path": str(path), "old": old, "new": new})
        lines += change_table(old, new) + [f"  written: {path}", ""]
    return tables, lines


def _terminal_table(rows) -> list[str]:
    """Verification and validation rows in full; regression rows as one line per design
    plus every failing quantity (the report has them all)."""
    shown = [r for r in rows if r.section != "regression" or not r.passed]
    width = min(max((len(f"{r.case}: {r.quantity}") for r in shown), default=20), 86)
    out = [
        f"{'check':{width}s} {'computed':>11s} {'reference':>11s} {'error':>10s} "
        f"{'tolerance':>11s} result"
    ]
    for r in shown:
        f = r.formatted()
        label = f"{r.case}: {r.quantity}"[:width]
        out.append(
            f"{label:{width}s} {f['computed']:>11s} {f['reference']:>11s} "
            f"{f['error']:>10s} {f['tolerance']:>11s} {f['result']}"
        )
    designs = sorted({r.case for r in rows if r.section == "regression"})
    for d in designs:
        sel = [r for r in rows if r.case == d]
        n_ok = sum(r.passed for r in sel)
        out.append(f"{d}: {n_ok} of {len(sel)} quantities within tolerance")
    return out


def cmd_validate(args) -> int:
    """Run the cases, write the report; exit 1 if any check fails (2 on bad input)."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.paths import results_dir

    designs = _designs(args.designs)
    if args.update_golden:
        tables, lines = update_golden(designs)
        if args.json:
            out = {
                t["design"]: {
                    "path": t["path"],
                    "quantities": {
                        k: {
                            "old": (t["old"] or {}).get("quantities", {}).get(k, {}).get("value"),
                            "new": q["value"],
                            "tolerance": q["tolerance"],
                            "unit": q["unit"],
                        }
                        for k, q in t["new"]["quantities"].items()
                    },
                }
                for t in tables
            }
            print(json.dumps(out, indent=1))
        else:
            print("\n".join(lines))
        return 0


    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.validation.cases import CASE_NAMES, Context, run_cases

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.validation.report import summary, write_report

    known = set(CASE_NAMES)
    bad = [c for c in args.case if c not in known]
    if bad:
        raise WorkflowError(f"--case: unknown {', '.join(bad)}; known: {', '.join(sorted(known))}")
    out_dir = Path(args.output) if args.output else results_dir() / "validation"
    ctx = Context(out_dir=out_dir, quick=args.quick, designs=designs)
    rows, times = run_cases(ctx, only=tuple(args.case))
    summ = summary(rows, times, args.quick, tuple(args.case))
    path = write_report(rows, ctx.figures, summ, out_dir)
    summ["report"] = str(path)
    if args.json:
        print(json.dumps({k: v for k, v in summ.items() if k != "results"}, indent=1))
    else:
        print("\n".join(_terminal_table(rows)))
        print(
            f"\n{summ['rows'] - summ['failed']} of {summ['rows']} checks pass"
            + (f", {summ['failed']} FAIL" if summ["failed"] else "")
            + f"; report: {path}"
        )
    return 0 if summ["passed"] else 1
