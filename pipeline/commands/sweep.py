"""``edrive sweep``: run a workflow (or a design study) on Dask, with a progress line.

The library side is :func:`pipeline.sweep.run_sweep`; this module owns the flags, the
progress line on stderr, the printed summary and the results folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from pipeline.cluster import check_where, quiet_dask_logs
from pipeline.commands import add_where_arguments
from pipeline.commands.study import cmd_study
from pipeline.errors import DesignError, WorkflowError
from pipeline.io.paths import results_dir
from pipeline.study.spec import is_study_file
from pipeline.sweep import SweepSummary, run_sweep
from pipeline.workflow import load_workflow

__all__ = ["Progress", "add_limit_arguments", "add_sweep_arguments", "cmd_sweep"]


class Progress:
    """Progress line on stderr: done, total, failures, ETA; the dashboard address once."""

    def __init__(self, total: int | None = None, quiet: bool = False, label: str = "sweep"):
        self.total, self.quiet, self.t0, self.last = total, quiet, time.perf_counter(), 0.0
        self.shown, self.label, self.fixed = False, label, total is not None

    def __call__(self, record: dict, s: SweepSummary) -> None:
        now = time.perf_counter()
        n = s.done + s.failed + s.skipped
        if not self.fixed and s.total != self.total:  # the first, or a following sweep
            self.total, self.t0 = s.total, now
        if self.quiet:
            return
        if s.dashboard and not self.shown:
            self.shown = True
            print(f"[{self.label}] dashboard: {s.dashboard}", file=sys.stderr)
        if now - self.last < 0.5 and n < self.total:
            return
        self.last = now
        ran = s.done + s.failed
        rate = ran / (now - self.t0) if ran and now > self.t0 else 0.0
        left = self.total - n
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        print(
            f"\r[{self.label}] {n}/{self.total} done, {s.failed} failed, ETA {eta}   ",
            end="",
            file=sys.stderr,
            flush=True,
        )


def add_limit_arguments(parser) -> None:
    """``--allow-large`` and ``--allow-overload`` (sweep, map, case)."""
    parser.add_argument(
        "--allow-large",
        action="store_true",
        help="run even beyond the task-count, CPU-hour and mesh-size limits "
        "(pipeline.workflow.MAX_TASKS, MAX_CPU_HOURS; pipeline.mesh.MAX_MESH_ELEMENTS)",
    )
    parser.add_argument(
        "--allow-overload",
        action="store_true",
        help="allow currents beyond 1.5 x the design's rated peak phase (and field) current",
    )


def add_sweep_arguments(parser) -> None:
    """Arguments of ``edrive sweep``."""
    parser.add_argument("workflow", help="workflow TOML file")
    add_where_arguments(parser)
    parser.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="skip tasks already stored (default on)",
    )
    parser.add_argument("--retry-failed", action="store_true", help="re-run tasks stored as failed")
    add_limit_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--json", action="store_true", help="machine-readable summary on stdout")


def cmd_sweep(args) -> int:
    """Run a sweep; exit 0 if every task succeeded, 1 if any failed, 2 on bad input, 130 if interrupted."""
    if is_study_file(args.workflow):  # compute = "study": a design study (pipeline.study)
        return cmd_study(args)
    if not getattr(args, "verbose", False):
        quiet_dask_logs()
    try:
        check_where(args.scheduler, args.cluster)
        wf = load_workflow(
            args.workflow,
            allow_large=getattr(args, "allow_large", False),
            allow_overload=getattr(args, "allow_overload", False),
        )
    except (WorkflowError, DesignError) as exc:
        print(f"edrive sweep: error: {exc}", file=sys.stderr)
        return 2
    quiet = getattr(args, "quiet", False)
    progress = Progress(len(wf.tasks), quiet)
    if not quiet:
        print(f"[sweep] {wf.name}: {len(wf.tasks)} tasks of kind {wf.kind.name}", file=sys.stderr)
    try:
        s = run_sweep(
            wf,
            results_dir(),
            scheduler=args.scheduler,
            cluster_file=args.cluster,
            resume=args.resume,
            retry_failed=getattr(args, "retry_failed", False),
            on_result=progress,
        )
    except (WorkflowError, DesignError, OSError) as exc:
        print(f"edrive sweep: error: {exc}", file=sys.stderr)
        return 2
    if not quiet:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(s.as_dict(), indent=1, sort_keys=True))
    else:
        print(
            f"{wf.name}: {s.done} done, {s.failed} failed, {s.skipped} skipped of {s.total} in {s.elapsed_s:.1f} s"
        )
        for key, reason in s.reasons.items():
            print(f"  failed {key[:12]}: {reason}")
        print(f"results: {s.dataset_path or (results_dir() / wf.name / 'tasks')}")
    if s.interrupted:
        print(
            f"edrive sweep: interrupted; {s.done + s.failed} results of this run saved in "
            f"{results_dir() / wf.name / 'tasks'} (rerun the same command to resume)",
            file=sys.stderr,
        )
        return 130
    return 1 if s.failed or any(s.reasons) else 0
