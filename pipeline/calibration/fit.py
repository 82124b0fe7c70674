r"""Bounded weighted least squares of design parameters against calibration measurements.

Residuals ``r_i = (model_i(x) - y_i) / sigma_i`` over the ``calibration`` rows of a
:class:`~pipeline.calibration.data.CalibrationData`; the parameters ``x`` (file units) are
fitted within their bounds by :func:`scipy.optimize.least_squares` (trust-region
reflective) in the normalised variables ``u = (x - lower) / (upper - lower)``.

Every model evaluation is a set of FE tasks (:mod:`pipeline.calibration.observables`) run
through :func:`pipeline.sweep.run_sweep` on one Dask client (a local cluster by default,
or a scheduler address or a dask-jobqueue file), each cached by content hash: the
Jacobian's finite-difference columns (forward steps of :data:`FD_STEP` of each range) are
submitted together, so they run in parallel, and a rerun reuses every solved task.

Uncertainty: ``cov_u = (J^T J)^-1 max(1, chi2 / (m - n))`` at the optimum (the Jacobian
of the weighted residuals; scaled by the reduced chi-square when the residuals are larger
than the stated uncertainties explain, so a poor fit widens the intervals), one standard
deviation ``sqrt(diag(cov_u)) (upper - lower)`` in file units. A parameter on a bound is
reported as such; its interval then describes the local curvature only.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geometries.settings import mesh_settings
from pipeline.calibration.data import CalibrationData
from pipeline.calibration.observables import observable_op, observable_task, prediction
from pipeline.cluster import close_quietly, open_client, quiet_dask_logs
from pipeline.errors import DesignError, PipelineError
from pipeline.io.store import ResultStore, task_hash
from pipeline.io.tables import canonical
from pipeline.mesh import mesh_key
from pipeline.sweep import run_sweep
from pipeline.version import __version__
from pipeline.workflow import Task, Workflow, registered_kinds

__all__ = ["FD_STEP", "Evaluator", "CalibrationResult", "calibrate", "with_parameters"]

log = logging.getLogger(__name__)

#: forward-difference step, as a fraction of each parameter's range [-]: large enough that
#: the solver's Newton tolerance (1e-8 relative) and, for geometric parameters, the change
#: of mesh (a remeshed geometry moves the residuals by up to ~1 % of chi-square at the ci
#: level, measured on the Prius V depth) do not dominate the difference, small against the
#: curvature of the residuals
FD_STEP = 0.05


def with_parameters(design, data: CalibrationData, x: np.ndarray):
    """``design`` with the parameters set to ``x`` (file units)."""
    changes = {p.field: float(v) * p.scale for p, v in zip(data.parameters, x, strict=True)}
    return design.with_changes(changes)


@dataclass
class Evaluator:
    """Model values of measurements for lists of parameter vectors, solved as one sweep.

    ``client``: a Dask client, or None to start one (``scheduler`` address, ``cluster_file``
    or a local cluster) at the first evaluation that has work to do; :meth:`close` ends it.
    """

    design: object
    data: CalibrationData
    results_root: Path
    client: object = None
    scheduler: str | None = None
    cluster_file: str | Path | None = None
    computed: int = 0
    reused: int = 0
    evaluations: int = 0
    _own: list = field(default_factory=list)

    def _client(self):
        if self.client is None:

            quiet_dask_logs()
            self.client, self._own = open_client(None, self.scheduler, self.cluster_file)
        return self.client

    def close(self) -> None:

        close_quietly(self._own, log)
        self._own = []

    def values(self, xs: list[np.ndarray], rows=None) -> list[dict[str, float]]:
        """{measurement name: model value} for each parameter vector in ``xs``."""

        rows = self.data.measurements if rows is None else rows
        level = self.data.level
        settings = mesh_settings(level, True)
        kind = registered_kinds()["calibration_observable"]
        assert kind.function is observable_task
        designs = [with_parameters(self.design, self.data, x) for x in xs]
        tasks: dict[str, Task] = {}
        keys: list[dict[str, str | None]] = []
        for x, d in zip(xs, designs, strict=True):
            dcanon, mkey = canonical(d), mesh_key(d, settings)
            labels = {p.path: float(v) for p, v in zip(self.data.parameters, x, strict=True)}
            per = {}
            for m in rows:
                op = observable_op(m)
                if op is None:
                    per[m.name] = None
                    continue
                key = task_hash(dcanon, canonical(settings), canonical(op), kind.name,
                                __version__)  # fmt: skip
                numeric = {k: v for k, v in op.items() if isinstance(v, float)}  # labels are numbers
                tasks.setdefault(key, Task(key, {**labels, **numeric}, op, d, None, mkey))
                per[m.name] = key
            keys.append(per)
        name = f"calibrate-{self.design.name}-{level}"
        store = ResultStore(self.results_root / name)
        if tasks:
            todo = [t for t in tasks.values() if not (store.load(t.key) or {}).get("status") == "ok"]
            wf = Workflow(name, None, self.design.name, self.design.content_hash(), level, kind,
                          "netcdf", [], list(tasks.values()))  # fmt: skip
            summary = run_sweep(wf, self.results_root, client=self._client() if todo else None,
                                gather_dataset=False, retry_failed=True)  # fmt: skip
            if summary.interrupted:
                raise KeyboardInterrupt
            self.computed += summary.done + summary.failed
            self.reused += summary.skipped
        self.evaluations += len(xs)
        out = []
        for d, per in zip(designs, keys, strict=True):
            vals = {}
            for m in rows:
                rec = store.load(per[m.name]) if per[m.name] else None
                if per[m.name] and (rec is None or rec.get("status") != "ok"):
                    reason = (rec or {}).get("reason", "no record")
                    raise PipelineError(f"calibration: {m.name} failed for {d.content_hash()}: {reason}")
                vals[m.name] = prediction(m, d, rec["values"] if rec else None)
            out.append(vals)
        return out


@dataclass(frozen=True)
class CalibrationResult:
    """Fitted parameters (file units) with one-sigma uncertainties, and every row's model
    value before and after (``before``/``after``: {name: value})."""

    data: CalibrationData
    design: object  # the calibrated Design (with its [calibration] provenance)
    start: tuple[float, ...]
    fitted: tuple[float, ...]
    uncertainty: tuple[float, ...]
    correlation: tuple[tuple[float, ...], ...]
    before: dict
    after: dict
    chi2_before: float
    chi2_after: float
    at_bound: tuple[bool, ...]
    nfev: int
    tasks_computed: int
    tasks_reused: int
    message: str

    def normalised_residuals(self, which: str, role: str) -> dict[str, float]:
        vals = self.before if which == "before" else self.after
        return {
            m.name: (vals[m.name] - m.value) / m.uncertainty for m in self.data.rows(role)
        }

    def table(self) -> dict:
        """The ``[calibration]`` table written into the calibrated design."""
        d = self.data
        params = {
            p.path: {
                "start": s, "fitted": float(f"{f:.6g}"), "uncertainty": float(f"{u:.3g}"),
                "lower": p.lower, "upper": p.upper, "at_bound": bool(b), "reason": p.reason,
            }
            for p, s, f, u, b in zip(d.parameters, self.start, self.fitted, self.uncertainty,
                                     self.at_bound, strict=True)
        }  # fmt: skip
        rows = {
            m.name: {
                "role": m.role, "kind": m.kind, "unit": m.unit, "measured": m.value,
                "uncertainty": m.uncertainty,
                "model_before": float(f"{self.before[m.name]:.6g}"),
                "model_after": float(f"{self.after[m.name]:.6g}"),
                "source": m.source,
            }
            for m in d.measurements
        }  # fmt: skip
        return {
            "method": "bounded weighted least squares (scipy.optimize.least_squares, trf); "
            "uncertainty (J^T J)^-1 scaled by max(1, reduced chi-square)",
            "data_file": Path(d.path).name,
            "data_sha256": d.sha256,
            "date": datetime.date.today().isoformat(),
            "level": d.level,
            "package_version": __version__,
            "chi2_before": float(f"{self.chi2_before:.6g}"),
            "chi2_after": float(f"{self.chi2_after:.6g}"),
            "n_calibration_rows": len(d.rows("calibration")),
            "n_validation_rows": len(d.rows("validation")),
            "parameters": params,
            "rows": rows,
        }


def _chi2(data: CalibrationData, vals: dict) -> float:
    return float(sum(((vals[m.name] - m.value) / m.uncertainty) ** 2 for m in data.rows("calibration")))


def calibrate(
    design, data: CalibrationData, results_root: str | Path, *, client=None,
    scheduler: str | None = None, cluster_file: str | Path | None = None,
    max_nfev: int = 30, on_step=None,
) -> CalibrationResult:  # fmt: skip
    """Fit ``data.parameters`` of ``design`` to the calibration rows (module docstring)."""
    # defer: this scipy submodule loads only on this path
    from scipy.optimize import least_squares

    if design.name != data.design:
        raise DesignError("design", design.name, f"the data file is for {data.design}")
    if not data.parameters:
        raise DesignError("parameter", [], "no [[parameter]] to fit")
    cal = data.rows("calibration")
    if not cal:
        raise DesignError("measurement.role", "validation", "no calibration rows to fit")
    lo = np.array([p.lower for p in data.parameters])
    span = np.array([p.upper - p.lower for p in data.parameters])
    u0 = (np.array([p.start for p in data.parameters]) - lo) / span
    ev = Evaluator(design, data, Path(results_root), client, scheduler, cluster_file)
    sigma = np.array([m.uncertainty for m in cal])
    measured = np.array([m.value for m in cal])
    cache: dict[tuple, np.ndarray] = {}

    def key(u):
        return tuple(np.round(np.asarray(u, float), 12))

    def run(us: list[np.ndarray]) -> None:
        need = [u for u in us if key(u) not in cache]
        if not need:
            return
        vals = ev.values([lo + u * span for u in need], rows=cal)
        for u, v in zip(need, vals, strict=True):
            cache[key(u)] = (np.array([v[m.name] for m in cal]) - measured) / sigma
            if on_step is not None:
                on_step(lo + u * span, float(np.sum(cache[key(u)] ** 2)))

    def steps(u):
        h = np.full(u.size, FD_STEP)
        return np.where(u + h > 1.0, -h, h)

    def fun(u):
        run([u])
        return cache[key(u)]

    def jac(u, *_):
        h = steps(u)
        shifted = [u + np.eye(u.size)[j] * h[j] for j in range(u.size)]
        run([u, *shifted])
        f0 = cache[key(u)]
        return np.column_stack([(cache[key(s)] - f0) / h[j] for j, s in enumerate(shifted)])

    try:
        sol = least_squares(fun, u0, jac=jac, bounds=(0.0, 1.0), method="trf",
                            x_scale=1.0, xtol=1e-3, ftol=1e-4, gtol=1e-6, max_nfev=max_nfev)  # fmt: skip
        x0 = lo + u0 * span
        # the values as the design file will hold them (6 significant digits), so that the
        # recorded model values belong to the written design exactly
        x1 = np.clip([float(f"{v:.6g}") for v in lo + sol.x * span], lo, lo + span)
        J = jac(sol.x)
        m, n = J.shape
        chi2 = float(np.sum(sol.fun**2))
        scale = max(1.0, chi2 / (m - n)) if m > n else 1.0
        try:
            cov = np.linalg.inv(J.T @ J) * scale
        except np.linalg.LinAlgError:
            cov = np.full((n, n), np.inf)
        sd = np.sqrt(np.clip(np.diag(cov), 0, None))
        corr = cov / np.outer(sd, sd) if np.all(np.isfinite(sd)) and np.all(sd > 0) else np.eye(n)
        before, after = ev.values([x0, x1])
    finally:
        ev.close()
    at_bound = tuple(bool(u <= 1e-6 or u >= 1 - 1e-6) for u in sol.x)
    fitted = with_parameters(design, data, x1)
    result = CalibrationResult(
        data=data, design=fitted, start=tuple(float(v) for v in x0),
        fitted=tuple(float(v) for v in x1), uncertainty=tuple(float(v) for v in sd * span),
        correlation=tuple(tuple(float(c) for c in row) for row in corr),
        before=before, after=after, chi2_before=_chi2(data, before), chi2_after=_chi2(data, after),
        at_bound=at_bound, nfev=int(sol.nfev), tasks_computed=ev.computed,
        tasks_reused=ev.reused, message=str(sol.message),
    )  # fmt: skip
    return dataclasses.replace(result, design=dataclasses.replace(fitted, calibration=result.table()))


def residual_summary(result: CalibrationResult) -> list[str]:
    """Plain-text lines: parameters and each row before/after."""
    lines = []
    for p, s, f, u, b in zip(result.data.parameters, result.start, result.fitted,
                             result.uncertainty, result.at_bound, strict=True):  # fmt: skip
        flag = "  (at a bound)" if b else ""
        lines.append(f"{p.path}: {s:.4g} -> {f:.4g} +- {u:.2g}{flag}")
    lines.append(f"chi2 (calibration rows): {result.chi2_before:.3g} -> {result.chi2_after:.3g}")
    lines.append(f"{'row':<28} {'role':<11} {'measured':>10} {'before':>10} {'after':>10} {'err_%':>7} {'z':>6}")
    for m in result.data.measurements:
        a = result.after[m.name]
        err = 100 * (a - m.value) / m.value if m.value else math.nan
        lines.append(
            f"{m.name:<28} {m.role:<11} {m.value:10.4g} {result.before[m.name]:10.4g} "
            f"{a:10.4g} {err:7.2f} {(a - m.value) / m.uncertainty:6.2f}"
        )
    return lines
