"""Markdown report and JSON summary of ``edrive validate`` under ``results/validation/``."""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

from pipeline.validation.golden import code_version
from pipeline.validation.rows import Row

__all__ = ["summary", "write_report", "SECTIONS"]

SECTIONS = {
    "verification": "Verification: analytic solutions and convergence rates",
    "calibration": "Calibration: the measurements the calibrated inputs were fitted to "
    "(agreement here is by construction, within their uncertainty)",
    "validation": "Validation: measurements (copied into the project with their sources); "
    "never used to tune anything",
    "regression": "Regression: reference designs against golden values (ci mesh)",
}


def summary(rows: list[Row], times: dict[str, float], quick: bool, only=()) -> dict:
    """Counts per section, failures, timings and every row (JSON-ready)."""

    sections = {}
    for key in SECTIONS:
        sel = [r for r in rows if r.section == key]
        sections[key] = {"rows": len(sel), "passed": sum(r.passed for r in sel)}
    return {
        "passed": all(r.passed for r in rows),
        "rows": len(rows),
        "failed": sum(not r.passed for r in rows),
        "quick": quick,
        "only_cases": list(only),
        "sections": sections,
        "failures": [f"{r.case}: {r.quantity}" for r in rows if not r.passed],
        "case_time_s": times,
        "code_version": code_version(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "results": [r.to_dict() for r in rows],
    }


def _version(v: dict) -> str:
    return v.get("package", "?") + (f" (git {v['git']})" if v.get("git") else "")


def _table(rows: list[Row]) -> list[str]:
    head = ["case", "quantity", "computed", "reference", "unit", "error", "tolerance", "result"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        f = r.formatted()
        res = "pass" if r.passed else "**FAIL**"
        cells = [r.case, f["quantity"], f["computed"], f["reference"], f["unit"], f["error"],
                 f["tolerance"], res]  # fmt: skip
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return out


def write_report(rows: list[Row], figures: list, summ: dict, out_dir: Path) -> Path:
    """Write ``report.md`` and ``summary.json`` into ``out_dir``; returns the report path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    fail = "" if summ["passed"] else f", {summ['failed']} fail"
    lines = [
        "# edrive validation report",
        "",
        f"Date {summ['date']}; code {_version(summ['code_version'])}; "
        + (f"cases {', '.join(summ['only_cases'])}" if summ["only_cases"] else "")
        + ("quick run" if summ["quick"] and not summ["only_cases"] else "")
        + ("full run" if not (summ["quick"] or summ["only_cases"]) else "")
        + ".",
        "",
        f"**{summ['rows'] - summ['failed']} of {summ['rows']} checks pass{fail}.**",
        "",
        "| section | checks | pass | fail |",
        "|---|---|---|---|",
    ]
    for key, s in summ["sections"].items():
        lines.append(f"| {key} | {s['rows']} | {s['passed']} | {s['rows'] - s['passed']} |")
    lines.append("")
    if summ["failures"]:
        lines += ["Failing checks:", ""] + [f"- {f}" for f in summ["failures"]] + [""]
    lines += [
        "Error is computed/reference - 1 for relative tolerances (+-x %), computed - reference "
        "otherwise; '>= -t' means computed >= reference - t, '<= +t' computed <= reference + t.",
        "",
    ]
    for key, title in SECTIONS.items():
        sel = [r for r in rows if r.section == key]
        if not sel:
            continue
        lines += [f"## {title}", ""] + _table(sel) + [""]
        notes = sorted({(r.case, r.note) for r in sel if r.note and key != "regression"})
        if notes:
            lines += ["Sources and tolerance reasons:", ""]
            lines += [f"- {case}: {note}" for case, note in notes] + [""]
        if key == "regression":
            lines += [
                "Tolerances come from the golden files (`tests/golden/*.json`): "
                "3 x the spread over meshes of the same physics and resolution (full machine; "
                "sector with the size growth x0.9 and x1.1), with a floor; "
                "each file states the basis of every tolerance.",
                "",
            ]
        for section, name, caption in figures:
            if section == key:
                lines += [f"![{caption}]({name})", ""]
    lines += ["## Run time per case [s]", ""]
    lines += [f"- {k}: {v:.1f}" for k, v in summ["case_time_s"].items()] + [""]
    path = out_dir / "report.md"
    tmp = out_dir / f".report.{os.getpid()}.tmp"
    tmp.write_text("\n".join(lines))
    os.replace(tmp, path)
    (out_dir / "summary.json").write_text(json.dumps(summ, indent=1) + "\n")
    return path
