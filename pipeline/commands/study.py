"""``edrive sweep STUDY.toml`` for a study file (``compute = "study"``): the command layer."""

from __future__ import annotations

import json
import sys

from pipeline.errors import DesignError, WorkflowError

__all__ = ["cmd_study"]


def cmd_study(args) -> int:
    """Run a study; exit 0 if every variant completed, 1 if any failed or was infeasible,
    2 on bad input, 130 if interrupted (everything finished is kept; rerun to resume)."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.cluster import check_where, quiet_dask_logs

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.paths import results_dir

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.study.run import StudyProgress, run_study

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.study.spec import estimate_cpu_hours, load_study

    if not getattr(args, "verbose", False):
        quiet_dask_logs()
    if getattr(args, "allow_overload", False):
        print(
            "edrive sweep: error: --allow-overload = true: a study's map grids follow each "
            "variant's own ratings (pipeline.maps.flux.default_grid); nothing to allow",
            file=sys.stderr,
        )
        return 2
    try:
        check_where(args.scheduler, args.cluster)
        spec = load_study(args.workflow, allow_large=getattr(args, "allow_large", False))
    except (WorkflowError, DesignError) as exc:
        print(f"edrive sweep: error: {exc}", file=sys.stderr)
        return 2
    quiet = getattr(args, "quiet", False)
    if not quiet:
        print(
            f"[study] {spec.name}: {len(spec.variants)} variants of {spec.base.name} "
            f"({spec.method}), about {estimate_cpu_hours(spec) * 3600:.0f} CPU s if nothing is cached",
            file=sys.stderr,
        )
    try:
        s = run_study(
            spec,
            results_dir(),
            scheduler=args.scheduler,
            cluster_file=args.cluster,
            resume=args.resume,
            retry_failed=getattr(args, "retry_failed", False),
            progress=StudyProgress(quiet=quiet),
        )
    except (WorkflowError, DesignError, OSError) as exc:
        print(f"\nedrive sweep: error: {exc}", file=sys.stderr)
        return 2
    if not quiet:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(s.as_dict(), indent=1, sort_keys=True, default=str))
    else:
        print(
            f"{spec.name}: {s.done} done, {s.failed} failed, {s.infeasible} infeasible of "
            f"{s.variants} variants ({s.computed_variants} computed, {s.reused_variants} reused) "
            f"in {s.wall_time_s:.1f} s; map points: {s.map_points_computed} computed, "
            f"{s.map_points_reused} reused of {s.map_points}"
        )
        for index, reason in sorted(s.reasons.items()):
            print(f"  variant {index}: {reason}")
        for key in ("dataset", "csv"):
            if key in s.outputs:
                print(f"{key}: {s.outputs[key]}")
        for p in s.outputs.get("pictures", []):
            print(f"picture: {p}")
    if s.interrupted:
        print("edrive sweep: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    return 1 if s.failed or s.infeasible else 0
