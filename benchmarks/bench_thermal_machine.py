"""Time the machine thermal model per design and mesh level (sector mesh, P1 + network).

Per design and level: mesh size; model set-up (mesh split, materials); first steady solve
(assembly + factorisation at a new speed/cooling); a steady re-solve with new losses
(back-substitution only); the coupled EM-thermal iteration; a 30 s transient (1 s steps,
one factorisation) and the time per step. Then, with the ANALYTIC loss estimate
(:func:`pipeline.thermal.envelope.representative_losses_at`, not the FE map): the hot spots
at a stated continuous point (base speed, 30 % of peak torque), after 30 s at peak torque,
the time to the first limit at peak torque, and the continuous torque at base speed.

Run: python benchmarks/bench_thermal_machine.py [--levels ci fine] [--designs ...]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, tests/ included

from pipeline.constants import ZERO_CELSIUS
from pipeline.design import load_design
from pipeline.mesh import get_mesh
from pipeline.thermal import envelope as ev
from pipeline.thermal.machine import Cooling, MachineThermalModel


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--designs", nargs="+", default=["gen5_eesm", "zoe_eesm", "prius_2004"])
    parser.add_argument("--levels", nargs="+", default=["ci", "fine"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--torque-fraction",
        type=float,
        default=0.3,
        help="continuous point: this fraction of peak torque at base speed",
    )
    args = parser.parse_args()
    cooling = Cooling()
    print(
        f"coolant {cooling.inlet_temperature - ZERO_CELSIUS:.0f} degC, "
        f"{cooling.flow_rate * 60e3:.0f} l/min; losses: analytic estimate (not the FE map)"
    )
    for name in args.designs:
        for level in args.levels:
            run(load_design(name), level, cooling, args.torque_fraction, args.repeat)


def run(design, level: str, cooling: Cooling, torque_fraction: float, repeat: int) -> None:
    """Time one design at one mesh level and print its hot spots (see module docstring)."""
    rt = design.ratings
    speed = rt.peak_power / rt.peak_torque  # base speed [rad/s]
    torque = torque_fraction * rt.peak_torque
    mm = get_mesh(design, level)
    t_setup, model = best(lambda: MachineThermalModel(design, mm), repeat)
    la = ev.representative_losses_at(model)
    losses = la(speed, torque, {})

    def first():
        model._cache.clear()  # force assembly and factorisation
        return model.steady(losses, speed, cooling)

    t_first, _ = best(first, repeat)
    t_again, _ = best(lambda: model.steady(losses, speed, cooling), repeat)
    t_coupled, state = best(
        lambda: model.coupled(lambda t: la(speed, torque, t), speed, cooling), repeat
    )
    t_tr, res = best(
        lambda: model.transient(
            lambda t: la(speed, rt.peak_torque, t), speed, cooling, t_end=30.0, dt=1.0
        ),
        repeat,
    )
    n_fe = model.mesh.p.shape[1]
    print(
        f"{design.name:11s} {level:4s} {n_fe:6d} FE nodes: set-up {t_setup * 1e3:6.1f} ms, "
        f"first steady {t_first * 1e3:6.1f} ms, re-solve {t_again * 1e3:5.2f} ms, "
        f"coupled {t_coupled * 1e3:6.1f} ms ({state.iterations} it), transient 30 x 1 s "
        f"{t_tr * 1e3:6.1f} ms ({t_tr / 30 * 1e3:5.2f} ms/step)"
    )
    hot = ", ".join(f"{k} {v - ZERO_CELSIUS:.1f}" for k, v in state.hot_spots.items())
    total = sum(state.losses.values())
    print(
        f"    point {speed * 30 / math.pi:.0f} rpm, {torque:.0f} N m, losses {total:.0f} W"
        f" (copper {state.losses['stator_copper']:.0f}, field "
        f"{state.losses['field_copper']:.0f}): hot spots [degC] {hot}; "
        f"imbalance {state.balance['imbalance']:.1e} W"
    )
    peak_hot = {k: v[-1] - ZERO_CELSIUS for k, v in res.hot_spots.items()}
    print(
        "    30 s at peak torque from the coolant temperature: "
        + ", ".join(f"{k} {v:.1f}" for k, v in peak_hot.items())
    )
    t0 = time.perf_counter()
    ttl, part = ev.time_to_limit(
        model, lambda t: la(speed, rt.peak_torque, t), speed, cooling, t_end=1800.0
    )
    ttl_text = "not within 1800 s" if math.isinf(ttl) else f"{ttl:.0f} s ({part})"
    print(
        f"    time to the first limit at peak torque from the coolant temperature: {ttl_text}"
        f" ({time.perf_counter() - t0:.2f} s)"
    )
    t0 = time.perf_counter()
    t_em = min(rt.peak_torque, rt.peak_power / speed)
    t_cont = ev.continuous_torque(model, la, speed, t_em, cooling)
    print(
        f"    continuous torque at base speed {t_cont:.1f} N m ({time.perf_counter() - t0:.2f} s)"
    )


if __name__ == "__main__":
    main()
