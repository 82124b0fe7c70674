r"""Interpolated machine model built from a finite-element flux and loss map.

:class:`MachineMap` implements :class:`pipeline.maps.protocol.MachineMapProtocol` from a
Dataset with dimensions ``i_d``, ``i_q`` (and ``i_f`` for EESMs) [A] holding ``psi_d``,
``psi_q``, ``psi_f`` [Wb], ``torque`` [N m] (mean Arkkio torque), ``torque_ripple`` and
the loss coefficients of :func:`pipeline.maps.losses.point_losses`.

Interpolation: :class:`scipy.interpolate.RegularGridInterpolator`; by default ``cubic``
for flux linkages and torque (tensor-product cubic spline, fitted with a sparse direct
solve instead of scipy's default iterative one; every axis needs >= 4 nodes, otherwise
``linear``) and ``linear`` for the loss coefficients (non-negative, no overshoot).
``benchmarks/bench_maps_losses.py`` measured on a 9 x 9 Prius ci map (8 held-out points):
torque error max 0.58 % (cubic) vs 1.55 % (linear) of max |T|, flux 2.0 vs 2.5 % of max
|psi|, but iron loss 7.2 % (cubic) vs 2.2 % (linear) next to the strongly nonlinear
low-current corner. Outside the
grid box every result is NaN (no extrapolation); an axis with a single node (e.g. one
field current) accepts only that value. A variable with failed map points (NaN) is
interpolated linearly, so that only the cells around them are NaN (a cubic spline would
spread the NaN over the whole map).

Losses at (i_d, i_q, i_f) [A], mechanical speed ``n`` [rad/s], electrical frequency
``f = p n / (2 pi)`` [Hz] and temperatures [K] (missing keys: ``reference_temperature``):

* stator copper ``3/2 R_ac (i_d^2 + i_q^2)`` with the DC phase resistance
  :func:`pipeline.derived.phase_resistance_dc` (end connections included). Hairpins: the
  slot part of R (:func:`pipeline.derived.slot_length_share`) is multiplied by Dowell's
  factor for ``n_layers x turns_per_coil`` bars stacked radially at the fundamental f
  (all bars of a slot treated as carrying the same current; PWM harmonics neglected).
  Stranded windings: no AC factor (strands well below the skin depth);
* field copper ``R_f(T) i_f^2`` (:func:`pipeline.derived.field_resistance_dc`);
* brushes: contact drop plus friction (:func:`pipeline.derived.brush_loss`);
* iron per region: harmonic Bertotti ``c_h f + c_e f^2 + c_a f^1.5`` or, with
  ``iron_model="mse"``, ``k_mse f^alpha`` (coefficients interpolated, clipped at >= 0);
* magnet eddy currents ``c_m f^2`` (field at the map's magnet temperature; sigma constant:
  the magnet materials give no temperature coefficient of resistivity);
* mechanical: bearings (SKF constant-friction model) and rotor windage (Bilgen-Boulos)
  with the design's data of :func:`pipeline.derived.mechanical_data`.

Magnet temperature: flux linkages, torque and loss coefficients belong to the map's magnet
temperature (coordinate ``magnet_temperature`` [K], :mod:`pipeline.maps.magnets`). A map
solved at several temperatures is read at one of them, ``magnet_temperature`` (linear in T
between the solved ones); :meth:`MachineMap.at_magnet_temperature` gives the model at
another. :meth:`MachineMap.losses` refuses a ``magnet`` temperature other than the model's:
its losses would belong to fields solved at another temperature.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy.interpolate import RegularGridInterpolator
from scipy.sparse.linalg import spsolve

from pipeline.constants import ZERO_CELSIUS
from pipeline.derived import (
    T_REF,
    brush_data,
    brush_loss,
    conductor_resistivity,
    field_resistance_dc,
    mechanical_data,
    mechanical_loss,
    phase_resistance_dc,
    slot_length_share,
)
from pipeline.design import Design, load_design
from pipeline.errors import DesignError
from pipeline.io.store import netcdf_engine, write_dataset
from pipeline.losses import copper
from pipeline.maps.losses import IRON_REGIONS, POINT_LOSS_VARIABLES, losses_at_frequency
from pipeline.maps.magnets import at_magnet_temperature, map_magnet_temperatures
from pipeline.maps.protocol import LOSS_KEYS

__all__ = ["MachineMap"]

logger = logging.getLogger(__name__)

_FLUX = ("psi_d", "psi_q", "psi_f")
_IRON_C = ("c_h", "c_e", "c_a", "k_mse")


class MachineMap:
    """Machine model interpolated from a flux/loss map (module docstring).

    Parameters
    ----------
    ds : xarray Dataset over (i_d, i_q[, i_f]) [A] (see module docstring)
    design : the design the map was computed for (default: ``ds.attrs["design"]``)
    method : "cubic" or "linear" interpolation of flux linkages and torque
    loss_method : "linear" or "cubic" interpolation of the loss coefficients
    iron_model : "bertotti" (harmonic Bertotti) or "mse" (modified Steinmetz)
    reference_temperature : temperature of missing ``temperatures`` keys [K] (the magnet
        key excepted: missing, it is the map's magnet temperature)
    magnet_temperature : magnet temperature [K] to read a map at (None: its only solved
        temperature; required when it has several)
    """

    def __init__(
        self,
        ds,
        design: Design | str | None = None,
        method: str = "cubic",
        iron_model: str = "bertotti",
        loss_method: str = "linear",
        reference_temperature: float = T_REF,
        magnet_temperature: float | None = None,
    ):
        if design is None:
            design = ds.attrs.get("design")
        if design is None:
            raise DesignError("design", None, "pass the design or store its name in ds.attrs")
        d = load_design(design) if isinstance(design, str | Path) else design
        for key, value in (("method", method), ("loss_method", loss_method)):
            if value not in ("cubic", "linear"):
                raise DesignError(key, value, "'cubic' or 'linear'")
        if iron_model not in ("bertotti", "mse"):
            raise DesignError("iron_model", iron_model, "'bertotti' or 'mse'")
        for name in ("psi_d", "psi_q", "torque"):
            if name not in ds:
                raise DesignError("dataset", name, "missing variable of a flux map")
        self.source_dataset = ds  # as given (with its magnet-temperature axis, if any)
        #: solved magnet temperatures of the source map [K] (() for none recorded)
        self.magnet_temperatures = map_magnet_temperatures(ds)
        if magnet_temperature is None and "magnet_temperature" in ds.dims:
            if ds.sizes["magnet_temperature"] > 1:
                raise DesignError(
                    "magnet_temperature",
                    None,
                    "the map has several magnet temperatures: state the one to read it at",
                )
            magnet_temperature = self.magnet_temperatures[0]
        if magnet_temperature is not None:
            ds = at_magnet_temperature(ds, magnet_temperature)
        #: magnet temperature of this model's fields [K] (None: the map records none)
        self.magnet_temperature = (
            float(ds["magnet_temperature"]) if "magnet_temperature" in ds.coords else None
        )
        self._settings = {
            "method": method,
            "iron_model": iron_model,
            "loss_method": loss_method,
            "reference_temperature": reference_temperature,
        }
        self.dataset = ds
        self.design = d
        self.name = d.name
        self.has_field_winding = bool(d.topology.HAS_FIELD_WINDING)
        self.pole_pairs = d.pole_pairs
        r = d.ratings
        self.i_max = float(r.max_phase_current)
        self.i_f_max = float(r.max_field_current) if self.has_field_winding else 0.0
        self.u_f_max = float(r.max_field_voltage) if self.has_field_winding else 0.0
        self.dc_link_voltage = float(r.dc_link_voltage)
        self.max_speed = float(r.max_speed)
        self.method = method
        self.loss_method = loss_method
        self.iron_model = iron_model
        self.reference_temperature = float(reference_temperature)
        self.brushes = brush_data(d)
        self.mechanical = mechanical_data(d)

        dims = tuple(ds["psi_d"].dims)
        if dims[:2] != ("i_d", "i_q") or len(dims) not in (2, 3) or dims[2:] not in ((), ("i_f",)):
            raise DesignError("dataset dims", dims, "must be (i_d, i_q) or (i_d, i_q, i_f)")
        self._dims = dims
        axes = {k: np.asarray(ds[k].values, float) for k in dims}
        for k, a in axes.items():
            if a.size > 1 and np.any(np.diff(a) <= 0):
                raise DesignError(f"dataset {k}", a.tolist(), "grid axis must increase strictly")
        self._axes = axes
        self.i_d_range = (float(axes["i_d"][0]), float(axes["i_d"][-1]))
        self.i_q_range = (float(axes["i_q"][0]), float(axes["i_q"][-1]))
        a_f = axes.get("i_f", np.zeros(1))
        self.i_f_range = (float(a_f[0]), float(a_f[-1]))
        self._active = [k for k in dims if axes[k].size > 1]  # interpolated axes
        small = min(axes[k].size for k in self._active)
        self._method = method if small >= 4 else "linear"
        self._loss_method = loss_method if small >= 4 else "linear"
        self._interp: dict[str, RegularGridInterpolator] = {}

    # --- construction and storage ------------------------------------------------------
    def at_magnet_temperature(self, temperature: float) -> MachineMap:
        """The model with the fields of magnet temperature [K] (this one if it is already at
        it; interpolated linearly in T from the source map's solved temperatures; outside
        them: DesignError naming the range)."""
        t = float(temperature)
        if self.magnet_temperature is not None and abs(t - self.magnet_temperature) < 1e-6:
            return self
        return MachineMap(self.source_dataset, self.design, **self._settings, magnet_temperature=t)

    @classmethod
    def from_dataset(cls, ds, design: Design | str | None = None, **kwargs) -> MachineMap:
        """Model from a flux-map Dataset (design from ``ds.attrs["design"]`` if omitted)."""
        return cls(ds, design, **kwargs)

    @classmethod
    def load(cls, path: str | Path, design: Design | str | None = None, **kwargs) -> MachineMap:
        """Model from a NetCDF file written by :meth:`save` (or by the map computation);
        method and iron model as saved unless given."""
        # defer: xarray loads only where datasets are read or written
        import xarray as xr


        with xr.open_dataset(path, engine=netcdf_engine()) as ds:
            ds = ds.load()
        settings = json.loads(ds.attrs.get("machine_map", "{}"))
        settings.update(kwargs)
        return cls(ds, design, **settings)

    def save(self, path: str | Path) -> Path:
        """Write the source map Dataset (all its magnet temperatures; the model settings in
        its attributes) as NetCDF."""

        ds = self.source_dataset.copy()
        ds.attrs.update(
            {
                "design": self.name,
                "design_hash": self.design.content_hash(),
                "machine_map": json.dumps(
                    {
                        "method": self.method,
                        "loss_method": self.loss_method,
                        "iron_model": self.iron_model,
                    },
                    sort_keys=True,
                ),
            }
        )
        return write_dataset(ds, path)

    def to_csv(self, path: str | Path) -> Path:
        """Plain table, one row per grid point, columns ``<name>_<unit>`` (e.g. ``torque_Nm``,
        ``iron_stator_teeth_c_e_W_per_Hz2``); ``#`` header lines give design and units."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        ds = self.dataset
        names = [
            v
            for v in ds.data_vars
            if set(ds[v].dims) == set(self._dims) and np.issubdtype(ds[v].dtype, np.number)
        ]
        grids = np.meshgrid(*(self._axes[k] for k in self._dims), indexing="ij")
        cols = [(f"{k}_A", g.ravel()) for k, g in zip(self._dims, grids, strict=True)]
        for v in names:
            values = ds[v].transpose(*self._dims).values.ravel()
            cols.append((_column(v, ds[v].attrs.get("units", "1")), values))
        header = [
            f"# machine map of {self.name} (design hash {self.design.content_hash()}); "
            "SI values, unit after the last underscore-separated name part",
            "# currents: peak phase, amplitude-invariant dq; loss coefficients: P = c f^n with "
            "f the electrical frequency [Hz]",
            "# magnet temperature: "
            + (
                f"{self.magnet_temperature - ZERO_CELSIUS:.2f} degC"
                if self.magnet_temperature is not None
                else "none recorded"
            ),
            ",".join(c for c, _ in cols),
        ]
        data = np.column_stack([np.asarray(c, float) for _, c in cols])
        lines = [",".join(f"{x:.10g}" for x in row) for row in data]
        path.write_text("\n".join(header + lines) + "\n")
        return path

    # --- interpolation -----------------------------------------------------------------
    def _f(self, name: str) -> RegularGridInterpolator | None:
        if name not in self._interp:
            if name not in self.dataset:
                return None
            values = np.asarray(self.dataset[name].transpose(*self._dims).values, float)
            sl = tuple(slice(None) if k in self._active else 0 for k in self._dims)
            axes = [self._axes[k] for k in self._active]
            method = self._loss_method if name in POINT_LOSS_VARIABLES else self._method
            if method == "cubic" and not np.all(np.isfinite(values[sl])):
                # a global spline through a failed (NaN) node would be NaN everywhere
                logger.warning(
                    "%s: %s has failed map points; linear interpolation", self.name, name
                )
                method = "linear"
            # scipy's default spline solver for "cubic" is iterative (GCROT(m,k), ~1e-5
            # relative error); a sparse direct solve makes the spline exact
            solver = {"solver": spsolve} if method == "cubic" else {}
            self._interp[name] = RegularGridInterpolator(
                axes,
                values[sl],
                method=method,
                bounds_error=False,
                fill_value=np.nan,
                **solver,
            )
        return self._interp[name]

    def _points(self, i_d, i_q, i_f):
        i_d, i_q, i_f = np.broadcast_arrays(*(np.asarray(x, float) for x in (i_d, i_q, i_f)))
        ok = self.inside(i_d, i_q, i_f)
        coords = {"i_d": i_d, "i_q": i_q, "i_f": i_f}
        pts = np.stack([coords[k] for k in self._active], axis=-1)
        return pts, ok, i_d.shape

    def _eval(self, name: str, pts, ok, shape) -> np.ndarray:
        f = self._f(name)
        if f is None:
            return np.where(ok, 0.0, np.nan).reshape(shape)
        out = np.full(shape, np.nan)
        out[ok] = f(pts[ok])
        return out

    @property
    def has_iron_losses(self) -> bool:
        """True when the map carries the iron-loss coefficients (not an ``--no-losses`` map,
        whose iron and magnet losses evaluate to zero)."""
        return all(
            self._f(f"{key}_{name}") is not None
            for key in IRON_REGIONS.values()
            for name in _IRON_C[:3]
        )

    def inside(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0) -> np.ndarray:
        """True inside the grid box (single-node axes: that value only, to 1e-9 A)."""
        i_d, i_q, i_f = np.broadcast_arrays(*(np.asarray(x, float) for x in (i_d, i_q, i_f)))
        ok = np.ones(i_d.shape, dtype=bool)
        lo_f, hi_f = self.i_f_range
        for x, (lo, hi) in ((i_d, self.i_d_range), (i_q, self.i_q_range), (i_f, (lo_f, hi_f))):
            ok &= (x >= lo - 1e-9) & (x <= hi + 1e-9)
        return ok

    def flux(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0):
        """(psi_d, psi_q, psi_f) [Wb] (end-winding leakage as in the map); NaN outside."""
        args = self._points(i_d, i_q, i_f)
        return tuple(self._eval(name, *args) for name in _FLUX)

    def torque(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0) -> np.ndarray:
        """Mean electromagnetic torque [N m] interpolated from the map; NaN outside."""
        return self._eval("torque", *self._points(i_d, i_q, i_f))

    def torque_ripple(self, i_d: ArrayLike, i_q: ArrayLike, i_f: ArrayLike = 0.0) -> np.ndarray:
        """Torque ripple (peak-to-peak over mean) [-] interpolated from the map."""
        return self._eval("torque_ripple", *self._points(i_d, i_q, i_f))

    # --- losses --------------------------------------------------------------------------
    def phase_resistance(self, temperature: float) -> float:
        """DC phase resistance incl. end windings at ``temperature`` [K] [ohm]."""
        return float(phase_resistance_dc(self.design, temperature))

    def field_resistance(self, temperature: float) -> float:
        """Field-winding resistance at ``temperature`` [K] [ohm] (0 for PM)."""
        return float(field_resistance_dc(self.design, temperature))

    def ac_factor(self, frequency: ArrayLike, temperature: ArrayLike = T_REF) -> np.ndarray:
        """Ratio R_ac / R_dc of the whole phase (slot part x Dowell, ends DC) [-]."""
        d, w = self.design, self.design.winding
        f = np.asarray(frequency, float)
        if w.conductor != "hairpin":
            return np.ones(np.broadcast(f, np.asarray(temperature)).shape)
        rho_20, alpha = conductor_resistivity(w.material)
        rho = copper.resistivity(temperature, rho_20, alpha)
        ratio = w.bar_width / min(d.stator.slot.width_top, d.stator.slot.width_bottom)
        xi = copper.dowell_reduced_height(w.bar_height, np.maximum(f, 1e-9), rho, ratio)
        k_slot = copper.dowell_ac_factor(xi, w.n_layers * w.turns_per_coil)
        share = slot_length_share(d)
        return share * k_slot + (1.0 - share)

    def losses(
        self,
        i_d: ArrayLike,
        i_q: ArrayLike,
        i_f: ArrayLike,
        speed: ArrayLike,
        temperatures: dict | None = None,
    ) -> dict[str, np.ndarray]:
        """Loss components [W] under :data:`LOSS_KEYS` at mechanical speed [rad/s]; NaN
        outside the map domain. temperatures [K]: winding, field, magnet (module docstring)."""
        temps = {k: self.reference_temperature for k in ("winding", "field")}
        temps.update(temperatures or {})
        self._check_magnet_temperature(temps.get("magnet"))
        speed = np.asarray(speed, float)
        i_d, i_q, i_f, speed = np.broadcast_arrays(
            *(np.asarray(x, float) for x in (i_d, i_q, i_f, speed))
        )
        pts, ok, shape = self._points(i_d, i_q, i_f)
        nan = np.where(ok, 0.0, np.nan)  # adds NaN outside the domain
        omega = np.abs(speed)
        f = self.pole_pairs * omega / (2.0 * math.pi)
        t_w, t_f = temps["winding"], temps["field"]
        r_ac = phase_resistance_dc(self.design, t_w) * self.ac_factor(f, t_w)
        out = {key: np.zeros(shape) + nan for key in LOSS_KEYS}
        out["stator_copper"] += copper.copper_loss_dq(r_ac, i_d, i_q)
        if self.has_field_winding:
            out["field_copper"] += field_resistance_dc(self.design, t_f) * i_f**2
            out["brushes"] += brush_loss(self.design, i_f, omega)
        names = [f"{key}_{c}" for key in IRON_REGIONS.values() for c in _IRON_C] + ["magnet_c_e"]
        coeff = {n: np.maximum(self._eval(n, pts, ok, shape), 0.0) for n in names}
        scaled = losses_at_frequency(coeff, f)
        if self.iron_model == "mse":
            for key in IRON_REGIONS.values():
                part = "rotor" if key == "iron_rotor" else "stator"
                alpha = self._constant(f"iron_{part}_mse_alpha")
                scaled[key] = coeff[f"{key}_k_mse"] * f**alpha
        for key, value in scaled.items():
            out[key] += value
        out["mechanical"] += self.mechanical_loss(omega)
        return out

    def _check_magnet_temperature(self, temperature) -> None:
        """DesignError if a stated magnet temperature [K] is not the one of this model's
        fields (a PM map that records its magnet temperature)."""
        if temperature is None or self.has_field_winding or self.magnet_temperature is None:
            return
        if abs(float(temperature) - self.magnet_temperature) > 1e-6:
            raise DesignError(
                "temperatures.magnet",
                round(float(temperature) - ZERO_CELSIUS, 3),
                f"this model's fields are at {self.magnet_temperature - ZERO_CELSIUS:.2f} degC; "
                "use MachineMap.at_magnet_temperature",
            )

    def mechanical_loss(self, speed: ArrayLike) -> np.ndarray:
        """Bearings + windage at mechanical speed [rad/s] [W] (:func:`mechanical_loss`)."""
        return mechanical_loss(self.design, speed, self.mechanical)

    def _constant(self, name: str) -> float:
        if name not in self.dataset:
            raise DesignError("dataset", name, "missing: the map has no MSE coefficients")
        v = np.asarray(self.dataset[name].values, float)
        v = v[np.isfinite(v)]
        return float(v[0]) if v.size else math.nan


def _column(name: str, units: str) -> str:
    """``name_unit`` with a file-safe unit: 'N m' -> Nm, 'W/Hz^1.5' -> W_per_Hz1p5, '1' -> ''."""
    if units in ("1", ""):
        return name
    u = units.replace(" ", "").replace("/", "_per_").replace("^", "").replace(".", "p")
    return f"{name}_{u}"
