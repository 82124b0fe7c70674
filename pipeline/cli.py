"""Command line: ``edrive`` (also ``python -m pipeline``).

Every command takes ``--help`` and ``--json`` (a machine-readable summary on stdout: SI
numbers under unit-suffixed keys, and the paths written), prints where its outputs went and
exits non-zero with a one-line reason on bad input.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from pipeline.commands.designs import add_mesh_arguments, cmd_designs, cmd_mesh
from pipeline.errors import PipelineError

__all__ = ["main", "results_dir"]

from pipeline.io.paths import RESULTS, results_dir  # noqa: E402,F401 - re-exported


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edrive", description="Finite-element analysis of electric drive units."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="on an unexpected error, print the traceback (it always goes to a log file)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
        p.set_defaults(func=func)
        return p

    add("designs", cmd_designs, "list the reference designs")
    p = add(
        "mesh", cmd_mesh, "build (or reuse) a design's mesh, print its summary, write a picture"
    )
    add_mesh_arguments(p)
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.commands.case import add_case_arguments, cmd_case

    p = add("case", cmd_case, "one operating point over rotor positions: torque, flux linkages")
    add_case_arguments(p)
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.commands.thermal import add_thermal_arguments, cmd_thermal

    p = add("thermal", cmd_thermal, "temperatures, hot spots and thermal envelopes at a point")
    add_thermal_arguments(p)
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.commands.sweep import add_sweep_arguments, cmd_sweep

    p = sub.add_parser(
        "sweep",
        help="run a workflow of design variants/operating points with Dask",
        description="run a workflow of design variants/operating points with Dask",
    )
    add_sweep_arguments(p)
    p.set_defaults(func=cmd_sweep)
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.commands.map import add_map_arguments, cmd_map

    p = add("map", cmd_map, "flux and loss maps over (i_d, i_q[, i_f]), then efficiency maps")
    add_map_arguments(p)
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.commands.validate import add_validate_arguments, cmd_validate

    p = add(
        "validate",
        cmd_validate,
        "verification, validation and golden-regression report (results/validation/)",
    )
    add_validate_arguments(p)
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.commands.calibrate import add_calibrate_arguments, cmd_calibrate

    p = add("calibrate", cmd_calibrate, "fit unsourced design inputs to measurements (least squares)")
    add_calibrate_arguments(p)
    return parser


#: exit code of an unexpected exception (sysexits.h EX_SOFTWARE), apart from 1 (a sweep or
#: map with failed points) and 2 (bad input)
EXIT_INTERNAL = 70


def _failing_stage(exc: BaseException) -> str:
    """``module.function`` of the innermost traceback frame inside the ``pipeline`` package."""

    stage = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        parts = Path(frame.filename).parts
        if "pipeline" in parts:
            mod = ".".join(parts[parts.index("pipeline") :]).removesuffix(".py")
            stage = f"{mod}.{frame.name}"
    return stage or "edrive"


def _write_crash_log(command: str, exc: BaseException) -> Path | None:
    """The traceback of ``exc`` in ``results/logs/edrive-<command>-<time>-<pid>.log``."""

    folder = results_dir() / "logs"
    path = folder / f"edrive-{command}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"edrive {' '.join(sys.argv[1:])}\n" + "".join(traceback.format_exception(exc))
        )
    except OSError:
        return None
    return path


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 ok, 1 some points failed, 2 bad input (one line
    ``field = value: rule``), 70 an unexpected error (one line with the failing stage and
    the log file holding the traceback; ``--debug`` prints it), 130 interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except PipelineError as exc:
        print(f"edrive {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"edrive {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the top-level handler of the command layer
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.errors import shorten

        log_path = _write_crash_log(args.command, exc)
        if args.debug:

            traceback.print_exception(exc, file=sys.stderr)
        message = shorten(str(exc), 120).strip("'\"")
        print(
            f"edrive {args.command}: internal error in {_failing_stage(exc)}: "
            f"{type(exc).__name__}: {message}" + (f" (traceback: {log_path})" if log_path else ""),
            file=sys.stderr,
        )
        return EXIT_INTERNAL

