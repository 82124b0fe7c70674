"""Command-layer flags of the efficiency stage (units in the names, converted to SI on use):
``add_efficiency_arguments`` adds them to a parser, ``options_from_args`` turns the parsed
flags into :class:`~pipeline.maps.efficiency.EfficiencyOptions`."""

from __future__ import annotations

import argparse

from pipeline.constants import ZERO_CELSIUS
from pipeline.errors import DesignError
from pipeline.maps.efficiency import EfficiencyOptions
from pipeline.maps.magnets import DEFAULT_MAGNET_TEMPERATURE
from pipeline.maps.pwm import DEFAULT_SWITCHING_FREQUENCY

__all__ = ["add_efficiency_arguments", "options_from_args"]


def add_efficiency_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of the efficiency stage (units in the names, converted to SI on use)."""
    g = parser.add_argument_group("efficiency maps")
    d = EfficiencyOptions()
    g.add_argument(
        "--switching-frequency-kHz",
        type=float,
        default=None,
        help="inverter carrier (switching) frequency [kHz] (default: the design's [inverter] "
        f"table, else {DEFAULT_SWITCHING_FREQUENCY / 1e3:g})",
    )
    g.add_argument(
        "--modulation",
        choices=("svpwm", "spwm", "dpwm1"),
        default=None,
        help="PWM scheme (default: the design's [inverter] table, else svpwm)",
    )
    g.add_argument(
        "--current-waveform",
        choices=("inverter-fed", "sinusoidal"),
        default=None,
        help="inverter-fed adds the PWM carrier-band copper, iron and magnet losses "
        "(default when the design has an [inverter] table); sinusoidal leaves them out",
    )
    g.add_argument(
        "--winding-temperature-C",
        type=float,
        default=100.0,
        help="stator winding temperature [degC]",
    )
    g.add_argument(
        "--field-temperature-C",
        type=float,
        default=100.0,
        help="field winding temperature [degC] (EESM)",
    )
    g.add_argument(
        "--magnet-temperature-C",
        type=float,
        default=None,
        help="magnet temperature [degC] of the flux map and of the efficiency stage (PM only; "
        f"default {DEFAULT_MAGNET_TEMPERATURE - ZERO_CELSIUS:g})",
    )
    coolant_help = (
        "coolant temperature [degC]: sets winding/field to coolant + 40 K "
        "and oil to coolant + 0 K when given"
    )
    g.add_argument("--coolant-C", type=float, default=None, help=coolant_help)
    # the former name (issue 15: one name across commands), kept as a hidden alias
    g.add_argument("--coolant-temperature-C", dest="coolant_C", type=float, help=argparse.SUPPRESS)
    g.add_argument(
        "--oil-temperature-C", type=float, default=60.0, help="gearbox oil temperature [degC]"
    )
    g.add_argument("--n-speed", type=int, default=d.n_speed, help="speed grid points")
    g.add_argument("--n-torque", type=int, default=d.n_torque, help="torque grid points")
    g.add_argument(
        "--modulation-max",
        type=float,
        default=d.modulation_max,
        help="fraction of the SVPWM linear limit V_dc/sqrt(3)",
    )
    g.add_argument("--vehicle", default=d.vehicle, help="vehicle data (name or TOML)")
    g.add_argument(
        "--cycle-interpolated",
        action="store_true",
        help="cycle losses interpolated from the maps (faster) instead of solved per sample",
    )
    return parser


def options_from_args(args: argparse.Namespace) -> EfficiencyOptions:
    """:class:`EfficiencyOptions` from parsed :func:`add_efficiency_arguments` options."""
    winding, field_t, oil = (
        args.winding_temperature_C,
        args.field_temperature_C,
        args.oil_temperature_C,
    )
    if getattr(args, "coolant_C", None) is not None:
        winding = field_t = args.coolant_C + 40.0
        oil = args.coolant_C
    for name, value in (("n_speed", args.n_speed), ("n_torque", args.n_torque)):
        if value < 3:
            raise DesignError(name, value, "must be >= 3")
    return EfficiencyOptions(
        n_speed=args.n_speed,
        n_torque=args.n_torque,
        modulation_max=args.modulation_max,
        switching_frequency=(
            None if args.switching_frequency_kHz is None else args.switching_frequency_kHz * 1e3
        ),
        modulation=getattr(args, "modulation", None),
        current_waveform=getattr(args, "current_waveform", None),
        winding_temperature=ZERO_CELSIUS + winding,
        field_temperature=ZERO_CELSIUS + field_t,
        magnet_temperature=(
            DEFAULT_MAGNET_TEMPERATURE
            if getattr(args, "magnet_temperature_C", None) is None
            else ZERO_CELSIUS + args.magnet_temperature_C
        ),
        oil_temperature=ZERO_CELSIUS + oil,
        vehicle=args.vehicle,
        cycle_exact=not getattr(args, "cycle_interpolated", False),
    )
