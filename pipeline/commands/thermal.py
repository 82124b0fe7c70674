"""``edrive thermal DESIGN --speed-rpm N --torque-Nm T``: temperatures at an operating point,
hot spots, heat balance, time to the limit, continuous and 30 s peak envelopes.

Losses come from the FE machine map (:func:`pipeline.thermal.envelope.losses_provider`,
needs ``edrive map DESIGN`` first), from the analytic estimate (``--loss-source
estimate``, labelled as such in every output) or from a JSON file of fixed losses
(``--losses FILE``: ``{"stator_copper": W, ...}``, no temperature coupling, no envelope).

With the FE map of a PM design the losses follow the magnet temperature through the fields:
the map must be solved over a magnet-temperature axis covering the coupled state (``edrive
map DESIGN --magnet-axis-C 20 100 160 200``); otherwise a one-line error says so. The summary
records the temperatures the final losses were evaluated at (``loss_temperatures_C``: the
magnet one is that of the flux used) next to the resulting mean temperatures.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import xarray as xr

from pipeline.commands import emit
from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError
from pipeline.io.paths import results_dir
from pipeline.io.store import netcdf_engine
from pipeline.maps.magnets import map_magnet_temperatures
from pipeline.maps.model import MachineMap
from pipeline.thermal import envelope as ev
from pipeline.thermal.coolant import WATER_GLYCOL_50_TABLE

__all__ = ["add_thermal_arguments", "cmd_thermal", "plot_temperature", "validate_inputs"]

#: coolant inlet temperatures the water-glycol property table covers [degC]
_COOLANT_RANGE_C = (
    float(WATER_GLYCOL_50_TABLE[0, 0]),
    float(WATER_GLYCOL_50_TABLE[-1, 0]),
)


def add_thermal_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("design", help="design name (see `edrive designs`) or a design .toml path")
    p.add_argument("--speed-rpm", type=float, required=True, help="mechanical speed [rpm]")
    torque = p.add_mutually_exclusive_group(required=True)
    torque.add_argument("--torque-Nm", type=float, help="shaft torque [N m]")
    # the former spelling, kept as a hidden alias (issue 15: unit suffixes as in the JSON keys)
    torque.add_argument("--torque-nm", dest="torque_Nm", type=float, help=argparse.SUPPRESS)
    p.add_argument(
        "--coolant-C",
        type=float,
        default=65.0,
        help=f"coolant inlet [degC] (65; {_COOLANT_RANGE_C[0]:g} to {_COOLANT_RANGE_C[1]:g})",
    )
    p.add_argument("--flow-lpm", type=float, default=10.0, help="coolant flow [l/min] (10)")
    p.add_argument(
        "--inverter-loss-W",
        type=float,
        default=0.0,
        help="inverter loss into the coolant upstream of the jacket [W] (0)",
    )
    p.add_argument(
        "--gearbox-loss-W", type=float, default=0.0, help="gearbox loss into the housing [W] (0)"
    )
    p.add_argument(
        "--transient-s",
        type=float,
        default=0.0,
        help="also run a transient of this length [s] from the coolant temperature",
    )
    p.add_argument(
        "--envelope", action="store_true", help="continuous and 30 s peak torque envelopes"
    )
    p.add_argument(
        "--peak-from",
        default="coolant",
        choices=["coolant", "point"],
        help="30 s peak envelope starting from the coolant temperature everywhere (default) "
        "or from the steady state at the given operating point",
    )
    p.add_argument("--level", default="ci", choices=["ci", "fine"], help="mesh level (ci)")
    p.add_argument(
        "--loss-source",
        default=None,
        choices=["map", "estimate"],
        help="FE machine map (default) or the analytic estimate (not FE); not with --losses",
    )
    p.add_argument("--losses", type=Path, help="JSON file of fixed losses [W] by component")
    return p


#: largest loss of one component in a ``--losses`` file [W]: the reference designs are rated
#: 50 to 210 kW peak, so 1 MW of loss in one component is a unit mistake (issue 17: 1e15 W
#: was accepted)
MAX_COMPONENT_LOSS_W = 1e6


def validate_inputs(args) -> dict:
    """Check the numbers before any heavy work; returns the fixed losses of ``--losses``
    (or None). DesignError naming field, value and rule."""
    checks = (
        ("speed_rpm", args.speed_rpm, args.speed_rpm >= 0, "must be >= 0 rpm"),
        (
            "torque_Nm",
            args.torque_Nm,
            args.torque_Nm >= 0,
            "must be >= 0 N m (motoring; the thermal model is symmetric)",
        ),
        ("flow_lpm", args.flow_lpm, args.flow_lpm > 0, "coolant flow must be > 0 l/min"),
        (
            "coolant_C",
            args.coolant_C,
            _COOLANT_RANGE_C[0] <= args.coolant_C <= _COOLANT_RANGE_C[1],
            f"must be within {_COOLANT_RANGE_C[0]:g} to {_COOLANT_RANGE_C[1]:g} degC "
            "(water-glycol property table)",
        ),
        ("transient_s", args.transient_s, args.transient_s >= 0, "must be >= 0 s"),
        ("inverter_loss_W", args.inverter_loss_W, args.inverter_loss_W >= 0, "must be >= 0 W"),
        ("gearbox_loss_W", args.gearbox_loss_W, args.gearbox_loss_W >= 0, "must be >= 0 W"),
    )
    for name, value, ok, rule in checks:
        if not (math.isfinite(value) and ok):
            raise DesignError(name, value, rule)
    if args.losses is None:
        if args.loss_source is None:
            args.loss_source = "map"
        return None
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.io.inputs import check_number, read_json

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.thermal.machine import LOSS_KEYS

    if args.loss_source is not None:
        raise DesignError(
            "--loss-source", args.loss_source, "give either --losses or --loss-source"
        )
    data = read_json(args.losses, "losses")
    if not isinstance(data, dict):
        raise DesignError("losses", str(args.losses), "must be a JSON object {component: W}")
    for key, value in data.items():
        if key not in LOSS_KEYS:
            raise DesignError(f"losses.{key}", value, f"unknown component; known: {LOSS_KEYS}")
        check_number(f"losses.{key}", value, 0, MAX_COMPONENT_LOSS_W, why="W")
    if args.envelope:
        raise DesignError("envelope", "--losses", "needs a loss model (map or estimate)")
    return {k: float(v) for k, v in data.items()}


def plot_temperature(model, state, path: Path, title: str = "") -> Path:
    """Temperature field of the sector [degC] as a PNG, hot spots in the title."""
    # defer: matplotlib loads only when a picture is drawn
    import matplotlib

    matplotlib.use("Agg")
    # defer: matplotlib loads only when a picture is drawn
    import matplotlib.pyplot as plt

    # defer: matplotlib loads only when a picture is drawn
    from matplotlib.tri import Triangulation

    m = model.mesh
    tri = Triangulation(m.p[0] * 1e3, m.p[1] * 1e3, m.t.T)
    fig, ax = plt.subplots(figsize=(7, 6))
    pc = ax.tripcolor(tri, state.T_fe - ZERO_CELSIUS, shading="gouraud", cmap="inferno")
    fig.colorbar(pc, ax=ax, label="temperature [degC]")
    hot = ", ".join(f"{k} {v - ZERO_CELSIUS:.0f}" for k, v in state.hot_spots.items())
    ax.set_title(f"{title}\nhot spots [degC]: {hot}", fontsize=8)
    ax.set_aspect("equal")
    ax.set_xlabel("x [mm]")
    ax.set_ylabel("y [mm]")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return path


def losses_provider(design, level: str = "ci", options=None):
    """(losses_at, torque_max) of the FE machine map of ``design`` at mesh ``level``.

    Uses :class:`pipeline.maps.model.MachineMap` loaded from the cached flux map
    ``results/maps/<design>-<level>/flux.nc`` and :func:`strategy_losses_at`. Without that
    file, or with a map made without losses: DesignError telling to run ``edrive map``.
    ``options``: :class:`pipeline.maps.strategy.StrategyOptions` (default grid if None).
    """
    path = results_dir() / "maps" / f"{design.name}-{level}" / "flux.nc"
    if not path.exists():
        raise DesignError(
            "flux map",
            str(path),
            f"not found: run `edrive map {design.name} --level {level}` first",
        )
    with xr.open_dataset(path, engine=netcdf_engine()) as ds:
        nodes = map_magnet_temperatures(ds)
    machine_map = MachineMap.load(path, magnet_temperature=nodes[0] if nodes else None)
    if not machine_map.has_iron_losses:
        raise DesignError(
            "flux map",
            str(path),
            f"has no iron-loss coefficients (made with --no-losses): run "
            f"`edrive map {design.name} --level {level}` without --no-losses",
        )
    return ev.strategy_losses_at(machine_map, options)


def _c(t: float) -> float:
    return round(float(t) - ZERO_CELSIUS, 2)


def cmd_thermal(args) -> int:
    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.design import load_design

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.mesh import get_mesh

    # defer: the stage behind this verb (and its numerical stack) loads only when it runs
    from pipeline.thermal.machine import Cooling, MachineThermalModel, ThermalLimits

    fixed = validate_inputs(args)
    design = load_design(args.design)
    speed = args.speed_rpm * math.pi / 30.0
    cooling = Cooling(
        inlet_temperature=ZERO_CELSIUS + args.coolant_C,
        flow_rate=args.flow_lpm / 60e3,
        inverter_loss=args.inverter_loss_W,
        gearbox_loss=args.gearbox_loss_W,
    )
    limits = ThermalLimits()
    losses_at = torque_max = None
    rt = design.ratings
    if fixed is not None:
        source = f"fixed losses from {args.losses}"
    elif args.loss_source == "map":
        losses_at, torque_max = losses_provider(design, args.level)
        source = f"FE machine map ({args.level})"
    else:
        source = "analytic estimate (not the FE map)"

        def torque_max(w):
            return min(rt.peak_torque, rt.peak_power / w) if w > 0 else rt.peak_torque

    if fixed is None and speed > rt.max_speed * (1 + 1e-9):
        raise DesignError(
            "speed_rpm",
            args.speed_rpm,
            f"beyond the maximum speed {rt.max_speed * 30 / math.pi:.0f} rpm",
        )
    if torque_max is not None and args.torque_Nm > torque_max(speed) * (1 + 1e-9):
        raise DesignError(
            "torque_Nm",
            args.torque_Nm,
            f"beyond the envelope {torque_max(speed):.1f} N m at {args.speed_rpm:.0f} rpm",
        )
    mm = get_mesh(design, args.level)
    model = MachineThermalModel(design, mm)
    if losses_at is None and fixed is None:
        losses_at = ev.representative_losses_at(model)
    used: dict = {}
    loss_temperatures = {}
    if fixed is not None:
        state = model.steady(fixed, speed, cooling)
        loss_fn = fixed
    else:

        def loss_fn(temps):
            used.clear()
            used.update(temps)  # the temperatures of the last loss evaluation
            return losses_at(speed, args.torque_Nm, temps)

        state = model.coupled(loss_fn, speed, cooling)
        loss_temperatures = dict(used)
    tag = f"{design.name}-{args.level}-{args.speed_rpm:.0f}rpm-{args.torque_Nm:.0f}Nm"
    out_dir = results_dir() / "thermal" / tag
    png = plot_temperature(
        model,
        state,
        out_dir / "temperature.png",
        f"{design.name} {args.speed_rpm:.0f} rpm {args.torque_Nm:.0f} N m ({source})",
    )
    bal = state.balance
    summary = {
        "design": design.name,
        "level": args.level,
        "loss_source": source,
        "speed_rpm": args.speed_rpm,
        "torque_Nm": args.torque_Nm,
        "coolant_inlet_C": args.coolant_C,
        "flow_lpm": args.flow_lpm,
        "losses_W": {k: round(v, 3) for k, v in state.losses.items()},
        "hot_spots_C": {k: _c(v) for k, v in state.hot_spots.items()},
        "mean_temperatures_C": {k: _c(v) for k, v in state.means.items()},
        "loss_temperatures_C": {k: _c(v) for k, v in loss_temperatures.items() if k in state.means},
        "flux_map_magnet_temperatures_C": [
            _c(t) for t in getattr(losses_at, "magnet_temperatures", ())
        ],
        "heat_balance_W": {k: round(v, 4) for k, v in bal.items()},
        "coolant_outlet_C": _c(state.coolant["outlet"]),
        "coolant_h_W_per_m2K": round(state.coolant["h"], 1),
        "coupling_iterations": state.iterations,
        "limits_C": {k: _c(getattr(limits, k)) for k in ("winding", "field", "magnet")},
        "picture": str(png),
    }
    lines = [
        f"{design.name} at {args.speed_rpm:.0f} rpm, {args.torque_Nm:.1f} N m; losses: {source}",
        "  losses [W]: " + ", ".join(f"{k} {v:.0f}" for k, v in state.losses.items() if v),
        "  hot spots [degC]: " + ", ".join(f"{k} {_c(v):.1f}" for k, v in state.hot_spots.items()),
        *(
            [
                "  losses evaluated at [degC]: "
                + ", ".join(f"{k} {v:.1f}" for k, v in summary["loss_temperatures_C"].items())
                + (
                    " (magnet flux interpolated from the map's "
                    + ", ".join(f"{t:g}" for t in summary["flux_map_magnet_temperatures_C"])
                    + " degC)"
                    if summary["flux_map_magnet_temperatures_C"]
                    else ""
                )
            ]
            if summary["loss_temperatures_C"]
            else []
        ),
        f"  heat balance [W]: generated {bal['generated']:.1f} = coolant {bal['to_coolant']:.1f}"
        f" + ambient {bal['to_ambient']:.1f} (imbalance {bal['imbalance']:.2e})",
        f"  coolant: h {state.coolant['h']:.0f} W/(m2 K), outlet {_c(state.coolant['outlet'])} degC",
    ]
    if args.transient_s > 0:
        res = model.transient(loss_fn, speed, cooling, t_end=args.transient_s, limits=limits)
        summary["transient"] = {
            "duration_s": args.transient_s,
            "time_to_limit_s": None if math.isinf(res.time_to_limit) else res.time_to_limit,
            "limiting": res.limiting or None,
            "final_hot_spots_C": {k: _c(v[-1]) for k, v in res.hot_spots.items()},
        }
        ttl = (
            "not reached"
            if math.isinf(res.time_to_limit)
            else f"{res.limiting} reaches its limit after {res.time_to_limit:.1f} s"
        )
        lines.append(f"  transient {args.transient_s:.0f} s from {args.coolant_C:.0f} degC: {ttl}")
    if args.envelope:
        speeds = np.linspace(0.02, 1.0, 8) * design.ratings.max_speed
        cont = ev.continuous_envelope(model, losses_at, speeds, torque_max, cooling=cooling)
        start = state if args.peak_from == "point" else None
        peak = ev.peak_envelope(
            model, losses_at, speeds, torque_max, cooling=cooling, initial=start
        )
        summary["envelope"] = {
            "speed_rpm": list(np.round(speeds * 30 / math.pi, 1)),
            "continuous_torque_Nm": list(np.round(cont["torque"], 2)),
            "peak_30s_torque_Nm": list(np.round(peak["torque"], 2)),
            "em_torque_Nm": list(np.round(cont["torque_em"], 2)),
        }
        origin = "the coolant temperature" if start is None else "this point's steady state"
        summary["envelope"]["peak_from"] = args.peak_from
        lines.append(f"  envelope (rpm: continuous / 30 s peak from {origin} / EM N m):")
        for n, tc, tp, te in zip(
            speeds * 30 / math.pi, cont["torque"], peak["torque"], cont["torque_em"], strict=True
        ):
            lines.append(f"    {n:7.0f}: {tc:7.1f} / {tp:7.1f} / {te:7.1f}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    summary["summary"] = str(out_dir / "summary.json")
    lines.append(f"  picture: {png}\n  summary: {out_dir / 'summary.json'}")
    emit(args, summary, lines)
    return 0
