"""The public Python API: load a design, run a case, compute a flux map, then efficiency
and thermal results from it, sweeps and calibration; every result has ``.to_dataset()``
(xarray, units on every variable) and ``.plot()`` (PNG files, the pictures the command
line writes). The ``edrive`` verbs ``case`` and ``map`` are thin users of it.

::

    import pipeline.api as edrive

    prius = edrive.load_design("prius_2004")
    fm = edrive.flux_map(prius, grid=(5, 4), scheduler="synchronous")
    print(edrive.efficiency_map(fm).summary["peak_motor_efficiency"])

Names follow the command-line flags (``scheduler``, ``positions``, ``held_out``,
``speed_rpm``, ``coolant_C``, ...); values are SI inside, with ``_rpm``/``_C`` only where the
flags have them. ``scheduler``: None (a local Dask cluster, as the command line),
``"synchronous"`` (every task in this process: no Dask client, no cluster; for debugging and
for users without a cluster), an address ``tcp://host:8786``, or a ``distributed.Client``.
Task results are cached in ``results_root`` (default ``$EDRIVE_RESULTS_DIR`` or
``results/``) by content hash, shared with the command line. Bad input: a one-line
:class:`~pipeline.errors.DesignError` before any solve. See ``docs/api.md``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.constants import ZERO_CELSIUS
from pipeline.design import Design, load_design
from pipeline.errors import DesignError

__all__ = [
    "load_design",
    "run_case",
    "flux_map",
    "efficiency_map",
    "thermal_envelope",
    "sweep",
    "calibrate",
    "Case",
    "FluxMap",
    "Efficiency",
    "ThermalEnvelope",
    "Sweep",
    "Calibration",
]


def _design(design) -> Design:
    return design if isinstance(design, Design) else load_design(design)


def _root(results_root) -> Path:
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.paths import results_dir

    return Path(results_root) if results_root is not None else results_dir()


def _where(scheduler) -> dict:
    """Keyword arguments (client / scheduler) of the library's sweep runners."""
    if scheduler is None or isinstance(scheduler, str):
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.cluster import check_where

        check_where(scheduler, None)  # "synchronous" or an address; one-line error
        return {"client": None, "scheduler": scheduler}
    if not hasattr(scheduler, "submit"):
        raise DesignError("scheduler", scheduler, "None, 'synchronous', an address or a Client")
    return {"client": scheduler, "scheduler": None}


# --- one operating point -------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One operating point over rotor positions: ``result`` is the library's
    :class:`pipeline.em.machine.CaseResult` (arrays per position)."""

    design: Design
    result: object
    magnet_temperature_C: float = 20.0

    @property
    def torque(self) -> float:
        """Mean Arkkio torque [N m]."""
        return self.result.mean_torque

    def summary(self) -> dict:
        """Scalars with unit-suffixed keys (what ``edrive case --json`` prints)."""
        return self.result.summary()

    def to_dataset(self):
        return self.result.to_dataset()

    def snapshot(self, position: int = -1):
        """The field at one solved position (:func:`pipeline.post.export.case_snapshot`)."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.em.machine import machine_model

        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.post.export import case_snapshot

        t = self.result.extras.get("magnet_temperature_C", self.magnet_temperature_C)
        model = machine_model(self.design, self.result.level, t)
        return case_snapshot(self.result, position, model=model)

    def plot(self, path: str | Path | None = None) -> Path:
        """Field picture of the last position (|B| and flux lines) as a PNG; default
        ``results/case/<design>-<point>.png``, as ``edrive case`` names it."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.post.export import plot_field

        if path is None:
            r = self.result
            tag = f"id{r.i_d:g}-iq{r.i_q:g}-if{r.i_f:g}-n{r.torque.size}-{r.level}"
            path = _root(None) / "case" / f"{r.design}-{tag}.png"
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return plot_field(self.snapshot(), Path(path))


def run_case(
    design,
    i_d: float = 0.0,
    i_q: float = 0.0,
    i_f: float = 0.0,
    *,
    speed_rpm: float | None = None,
    positions: int = 12,
    level: str = "ci",
    magnet_temperature_C: float = 20.0,
    allow_overload: bool = False,
) -> Case:
    """Solve one operating point (``edrive case``): currents [A] peak (i_d, i_q) and field
    current [A]; ``positions`` rotor positions over 60 el. deg; ``speed_rpm`` for v_dq and
    the back-EMF. Currents beyond 1.5 x the rated ones need ``allow_overload``."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.em.machine import check_case_inputs

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.em.machine import run_case as _run_case

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.workflow import check_overload

    d = _design(design)
    check_case_inputs(d, i_d, i_q, i_f, positions, math.pi / 3, speed_rpm)
    op = {"i_d_A": i_d, "i_q_A": i_q, "i_f_A": i_f}
    check_overload(d.ratings, op, allow_overload, "", ("--i-d, --i-q", "--i-f"))
    res = _run_case(
        d, i_d, i_q, i_f, positions=positions, level=level, speed_rpm=speed_rpm,
        magnet_temperature_C=magnet_temperature_C,
    )  # fmt: skip
    return Case(d, res, float(magnet_temperature_C))


# --- flux maps -----------------------------------------------------------------------
@dataclass(frozen=True)
class FluxMap:
    """A flux (and loss) map: ``run`` is the library's :class:`pipeline.maps.flux.FluxMap`
    (Dataset, counts, times, held-out check); ``magnet_temperature`` [K] is the one it is
    read at (None: EESM)."""

    design: Design
    level: str
    run: object
    magnet_temperature: float | None = None

    @property
    def dataset(self):
        return self.run.dataset

    def to_dataset(self):
        return self.run.dataset

    def machine_map(self, magnet_temperature: float | None = None):
        """The :class:`pipeline.maps.model.MachineMap` (interpolated model) of this map, read
        at ``magnet_temperature`` [K] (default: this map's)."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.maps.model import MachineMap

        t = self.magnet_temperature if magnet_temperature is None else magnet_temperature
        return MachineMap(self.dataset, self.design, magnet_temperature=t)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the Dataset (NetCDF); default ``results/maps/<design>-<level>/flux.nc``,
        where ``edrive thermal`` looks for it."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.io.store import write_dataset

        path = path or _root(None) / "maps" / f"{self.design.name}-{self.level}" / "flux.nc"
        return write_dataset(self.dataset, Path(path))

    def plot(self, out_dir: str | Path | None = None, speed_rpm: float | None = None) -> list[Path]:
        """``flux.png`` (psi_d, psi_q, torque over the current plane) and, for a map with
        losses, ``losses.png`` at ``speed_rpm``; default folder that of :meth:`save`."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.reports.maps import flux_figures

        out = out_dir or _root(None) / "maps" / f"{self.design.name}-{self.level}"
        model = self.machine_map()
        return flux_figures(model.dataset, out, model if model.has_iron_losses else None, speed_rpm)


def flux_map(
    design,
    level: str = "ci",
    *,
    grid=None,
    positions: int | None = None,
    held_out: int = 6,
    losses: bool = True,
    refine: int = 0,
    magnet_temperature_C: float | None = None,
    magnet_axis_C=None,
    iq_both_signs: bool = False,
    scheduler=None,
    cluster: str | Path | None = None,
    allow_large: bool = False,
    allow_overload: bool = False,
    progress=None,
    results_root: str | Path | None = None,
) -> FluxMap:
    """Compute (or reuse from the cache) the flux map of ``design`` (``edrive map --stage
    flux``). ``grid``: None (15 x 15 PM, 11 x 11 x 6 EESM), N, (n_id, n_iq[, n_if]), a
    ``[grid]`` table as a dict, or a :class:`~pipeline.maps.flux.FluxGrid`;
    ``losses=False``: flux and torque only. ``scheduler``/``cluster``: where (module
    docstring; ``cluster`` a dask-jobqueue YAML). ``progress(record, summary)``: called
    per point. Size and current limits as on the command line."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.maps.flux import FLUX_POSITIONS, compute_flux_map
    from pipeline.maps.grid import grid_for
    from pipeline.maps.magnets import map_temperatures

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.workflow import check_cost, check_overload

    d = _design(design)
    temps, t_read = map_temperatures(d, magnet_temperature_C, magnet_axis_C)
    g = grid_for(d, grid, positions, iq_both_signs)
    where = _where(scheduler)
    if cluster is not None:
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.cluster import check_where

        check_where(None, str(cluster))
    n = len(g.i_d) * len(g.i_q) * len(g.i_f) * max(len(temps), 1)
    check_cost(n, g.positions or FLUX_POSITIONS, level, allow_large, "--grid")
    corner = {"i_d_A": max(abs(x) for x in g.i_d), "i_q_A": max(abs(x) for x in g.i_q),
              "i_f_A": max(g.i_f)}  # fmt: skip
    check_overload(d.ratings, corner, allow_overload, "grid.")
    run = compute_flux_map(
        d, level, g, _root(results_root), **where, cluster_file=cluster, n_held_out=held_out,
        on_result=progress, losses=None if losses else False, refine=refine,
        magnet_temperature=temps or None,
    )  # fmt: skip
    return FluxMap(d, level, run, t_read)


# --- efficiency ------------------------------------------------------------------------
@dataclass(frozen=True)
class Efficiency:
    """Efficiency stage results: ``summary`` (what ``edrive map`` prints under
    "efficiency stage", unit-suffixed keys) and the written ``efficiency.nc`` Dataset."""

    summary: dict
    dataset: object
    out_dir: Path

    def to_dataset(self):
        return self.dataset

    def plot(self, out_dir: str | Path | None = None) -> list[Path]:
        """Motor and drive-unit efficiency maps, loss maps and envelopes as PNGs (the stage
        has already written them, with the WLTC overlay, into ``out_dir``)."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.reports.maps import efficiency_figures

        out = Path(out_dir or self.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        return efficiency_figures(self.dataset, None, out, title=self.summary.get("design", ""))


def efficiency_map(flux: FluxMap, options=None, *, out_dir=None, **fields) -> Efficiency:
    """Operating strategy, motor and drive-unit efficiency maps, envelopes and WLTC energy
    from a :class:`FluxMap` (``edrive map`` after the flux stage). ``options``: an
    :class:`~pipeline.maps.efficiency.EfficiencyOptions`, or its fields as keywords (SI:
    ``n_speed=30, vehicle="ix3", winding_temperature=373.15``); the magnet temperature is
    the map's unless given. Writes ``efficiency.nc`` and PNGs to ``out_dir`` (default
    ``results/maps/<design>-<level>/``)."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.maps.efficiency import EfficiencyOptions, compute_efficiency

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.reports.efficiency import write_efficiency

    if options is None:
        if flux.magnet_temperature is not None:
            fields.setdefault("magnet_temperature", flux.magnet_temperature)
        options = EfficiencyOptions(**fields)
    elif fields:
        options = dataclasses.replace(options, **fields)
    for name in ("n_speed", "n_torque"):
        if getattr(options, name) < 3:
            raise DesignError(name, getattr(options, name), "must be >= 3")
    out = Path(out_dir or _root(None) / "maps" / f"{flux.design.name}-{flux.level}")
    model = flux.machine_map(options.magnet_temperature if flux.magnet_temperature else None)
    result = compute_efficiency(model, flux.design, options)
    summary = write_efficiency(result, out)
    return Efficiency(summary, result.dataset, out)


# --- thermal -------------------------------------------------------------------------
@dataclass(frozen=True)
class ThermalEnvelope:
    """Continuous (steady) and peak (``duration_s`` from the coolant temperature) torque
    over speed, limited by the hot spots, with the electromagnetic envelope [SI]."""

    design: str
    speed: np.ndarray  # [rad/s]
    continuous_torque: np.ndarray  # [N m]
    peak_torque: np.ndarray  # [N m]
    em_torque: np.ndarray  # [N m]
    coolant_C: float
    flow_lpm: float
    duration_s: float

    def to_dataset(self):
        # defer: xarray loads only where datasets are read or written
        import xarray as xr

        def var(v, long_name):
            return ("speed", np.asarray(v), {"units": "N m", "long_name": long_name})

        return xr.Dataset(
            {
                "continuous_torque": var(self.continuous_torque, "continuous torque (thermal)"),
                "peak_torque": var(self.peak_torque, f"{self.duration_s:g} s peak torque"),
                "em_torque": var(self.em_torque, "electromagnetic torque envelope"),
            },
            coords={"speed": ("speed", self.speed, {"units": "rad/s", "long_name": "speed"})},
            attrs={
                "design": self.design,
                "coolant_inlet_C": self.coolant_C,
                "flow_lpm": self.flow_lpm,
            },  # fmt: skip
        )

    def plot(self, path: str | Path | None = None) -> Path:
        """Torque over speed: continuous, peak and EM envelopes (PNG)."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.reports.plots import plot_thermal_envelope

        path = path or _root(None) / "thermal" / f"{self.design}-envelope.png"
        return plot_thermal_envelope(self.to_dataset(), Path(path))


def thermal_envelope(
    flux: FluxMap,
    *,
    speeds_rpm=None,
    coolant_C: float = 65.0,
    flow_lpm: float = 10.0,
    inverter_loss_W: float = 0.0,
    gearbox_loss_W: float = 0.0,
    duration_s: float = 30.0,
) -> ThermalEnvelope:
    """Continuous and peak torque envelopes (``edrive thermal --envelope``) with the losses
    of the FE map (it must have losses; a PM map must cover the magnet temperatures the
    coupled states reach: ``magnet_axis_C``). ``speeds_rpm`` default: 8 speeds from 2 %
    to 100 % of the maximum speed, as the command line."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.mesh import get_mesh

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.thermal import envelope as ev

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.thermal.machine import Cooling, MachineThermalModel

    cooling = Cooling(ZERO_CELSIUS + coolant_C, flow_lpm / 60e3, inverter_loss_W, gearbox_loss_W)
    d = flux.design
    if speeds_rpm is None:
        speeds = np.linspace(0.02, 1.0, 8) * d.ratings.max_speed
    else:
        speeds = np.asarray(speeds_rpm, float) * math.pi / 30.0
        if speeds.ndim != 1 or not np.all(
            (speeds > 0) & (speeds <= d.ratings.max_speed * 1.000001)
        ):
            raise DesignError("speeds_rpm", speeds_rpm, "speeds in (0, maximum speed] rpm")
    nodes = flux.machine_map().magnet_temperatures
    machine_map = flux.machine_map(nodes[0] if nodes else None)
    if not machine_map.has_iron_losses:
        raise DesignError("flux map", d.name, "has no losses: compute it with losses=True")
    losses_at, torque_max = ev.strategy_losses_at(machine_map)
    model = MachineThermalModel(d, get_mesh(d, flux.level))
    cont = ev.continuous_envelope(model, losses_at, speeds, torque_max, cooling=cooling)
    peak = ev.peak_envelope(
        model, losses_at, speeds, torque_max, cooling=cooling, duration=duration_s
    )
    return ThermalEnvelope(
        d.name, speeds, cont["torque"], peak["torque"], cont["torque_em"], coolant_C,
        flow_lpm, duration_s,
    )  # fmt: skip


# --- sweeps and calibration --------------------------------------------------------------
@dataclass(frozen=True)
class Sweep:
    """A finished sweep: ``summary`` (:class:`pipeline.sweep.SweepSummary`: counts,
    failures, the gathered Dataset's path)."""

    summary: object

    def to_dataset(self):
        """The gathered Dataset along ``case`` (units, status, reason per task)."""
        # defer: xarray loads only where datasets are read or written
        import xarray as xr

        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.io.store import netcdf_engine

        path = self.summary.dataset_path
        if path is None:
            raise DesignError("sweep", self.summary.name, "was interrupted: nothing gathered")
        if str(path).endswith(".zarr"):
            return xr.open_zarr(path).load()
        with xr.open_dataset(path, engine=netcdf_engine()) as ds:
            return ds.load()

    def plot(self, variable: str, path: str | Path | None = None) -> Path:
        """``variable`` per task (PNG), failed tasks left out."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.reports.plots import plot_sweep_variable

        path = path or Path(self.summary.dataset_path).with_name(f"{variable}.png")
        return plot_sweep_variable(self.to_dataset(), variable, Path(path))


def sweep(
    workflow,
    *,
    scheduler=None,
    cluster: str | Path | None = None,
    resume: bool = True,
    retry_failed: bool = False,
    allow_large: bool = False,
    allow_overload: bool = False,
    progress=None,
    results_root: str | Path | None = None,
) -> Sweep:
    """Run (or resume) a workflow TOML (``edrive sweep``); ``workflow`` a path or a
    :class:`pipeline.workflow.Workflow` (e.g. from ``make_workflow``)."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.sweep import run_sweep

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.workflow import Workflow, load_workflow

    where = _where(scheduler)
    if cluster is not None:
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.cluster import check_where

        check_where(None, str(cluster))
    wf = workflow if isinstance(workflow, Workflow) else load_workflow(
        workflow, allow_large=allow_large, allow_overload=allow_overload
    )  # fmt: skip
    s = run_sweep(wf, _root(results_root), **where, cluster_file=cluster, resume=resume,
                  retry_failed=retry_failed, on_result=progress)  # fmt: skip
    return Sweep(s)


@dataclass(frozen=True)
class Calibration:
    """A calibration: ``result`` is :class:`pipeline.calibration.fit.CalibrationResult`
    (fitted values in file units, uncertainties, model before/after per row);
    ``design`` the calibrated design."""

    result: object

    @property
    def design(self) -> Design:
        return self.result.design

    def to_dataset(self):
        """Rows along ``measurement``: measured, uncertainty, model before and after."""
        # defer: xarray loads only where datasets are read or written
        import xarray as xr

        r = self.result
        rows = r.data.measurements
        names = [m.name for m in rows]

        def var(values, long_name):
            return ("measurement", np.asarray(values, float), {"long_name": long_name})

        return xr.Dataset(
            {
                "measured": var([m.value for m in rows], "measured value (file units)"),
                "uncertainty": var([m.uncertainty for m in rows], "one-sigma uncertainty"),
                "model_before": var([r.before[n] for n in names], "model, start parameters"),
                "model_after": var([r.after[n] for n in names], "model, fitted parameters"),
            },
            coords={
                "measurement": ("measurement", names),
                "role": ("measurement", [m.role for m in rows]),
                "unit": ("measurement", [m.unit for m in rows]),
            },
            attrs={"design": r.data.design, "chi2_before": r.chi2_before,
                   "chi2_after": r.chi2_after,
                   **{f"fitted {p.path}": v for p, v in zip(r.data.parameters, r.fitted,
                                                            strict=True)}},
        )  # fmt: skip

    def plot(self, path: str | Path | None = None) -> Path:
        """Model against measurement before and after, and the residuals (PNG)."""
        # defer: the stage behind this verb (and its numerical stack) loads only when it runs
        from pipeline.reports.plots import plot_calibration

        r = self.result
        path = path or _root(None) / "calibration" / f"{r.data.design}-{r.data.level}" / (
            "model_vs_measurement.png"
        )  # fmt: skip
        return plot_calibration(r, Path(path))


def calibrate(
    design,
    data,
    *,
    scheduler=None,
    cluster: str | Path | None = None,
    max_evaluations: int = 30,
    on_step=None,
    results_root: str | Path | None = None,
) -> Calibration:
    """Fit the parameters of a calibration data file (``edrive calibrate``): ``data`` a
    path or :class:`~pipeline.calibration.data.CalibrationData`."""
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.calibration.data import CalibrationData, load_calibration_data

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.calibration.fit import calibrate as _calibrate

    d = _design(design)
    if not isinstance(data, CalibrationData):
        data = load_calibration_data(data, d)
    if not 2 <= max_evaluations <= 500:
        raise DesignError("max_evaluations", max_evaluations, "must be in [2, 500]")
    where = _where(scheduler)
    res = _calibrate(d, data, _root(results_root), **where, cluster_file=cluster,
                     max_nfev=max_evaluations, on_step=on_step)  # fmt: skip
    return Calibration(res)
