"""Sweep-layer speed: per-task overhead, parallel efficiency 1 vs 2 workers, scheduler cost.

Run: ``python benchmarks/bench_sweep.py`` (about 1 minute on 2 cores). Prints:
1. per-task overhead of ``run_sweep`` (submit, as_completed, atomic JSON write, gather)
   from a sweep of trivial tasks on one worker;
2. wall time of a 16-case sweep on 1 and 2 workers and the parallel efficiency t1 / (2 t2):
   (a) ~1 s CPU-bound numpy tasks, (b) real ``case`` tasks (prius_2004, ci, 24 rotor
   positions each, the workers' environment printed: malloc thresholds, BLAS threads);
3. scheduler time per task for 10,000 trivial tasks (``client.map`` + ``wait``).
Task functions defined here live in ``__main__`` and are shipped to the workers by value.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # calibrate with one BLAS thread, like the workers

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.sweep import load_workflow, local_cluster, register_task, run_sweep  # noqa: E402

__all__ = ["main"]


@register_task("bench_noop", needs_mesh=False)
def noop_task(design, level, operating_point):
    return {"x": [operating_point.get("i_q_A", 0.0), "A", "echo"]}


@register_task("bench_burn", needs_mesh=False)
def burn_task(design, level, operating_point):
    """A fixed amount (``$BENCH_ITERS`` solves, calibrated to ~1 s) of dense linear algebra."""
    return {
        "x": [_burn(int(os.environ["BENCH_ITERS"]), int(operating_point["i_q_A"])), "1", "checksum"]
    }


def _burn(iters: int, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((300, 300)) + 300 * np.eye(300)
    return sum(float(np.linalg.norm(np.linalg.solve(a, a[:, 0]))) for _ in range(iters))


def _workflow(folder: Path, kind: str, n: int) -> Path:
    p = folder / f"{kind}.toml"
    ops = ", ".join(str(float(i)) for i in range(n))
    p.write_text(
        f'name = "{kind}_{n}"\ndesign = "gen5_eesm"\ncompute = "{kind}"\n[operating_points]\ni_q_A = [{ops}]\n'
    )
    return p


def _case_workflow(folder: Path) -> Path:
    p = folder / "cases.toml"
    i_q = ", ".join(str(20.0 * (k + 1)) for k in range(16))
    p.write_text(
        'name = "bench_cases"\ndesign = "prius_2004"\ncompute = "case"\n[operating_points]\n'
        f"i_d_A = [-100.0]\ni_q_A = [{i_q}]\npositions = [24]\n"
    )
    return p


def _case_efficiency(tmp: Path) -> None:
    """16 real case tasks (prius_2004 ci, 24 positions) on 1 and 2 workers."""
    from distributed import Client

    from pipeline.design import load_design
    from pipeline.mesh import get_mesh
    from pipeline.sweep import WORKER_ENV

    get_mesh(load_design("prius_2004"), "ci")  # the mesh exists before timing
    wf = load_workflow(_case_workflow(tmp))
    times, cpu = {}, {}
    for workers in (1, 2):
        with local_cluster(n_workers=workers, dashboard=False) as lc, Client(lc) as client:
            client.wait_for_workers(workers)
            env = client.run(lambda: {k: os.environ.get(k) for k in WORKER_ENV})
            # warm each worker's machine model (built once per process) before timing
            client.run(_warm)
            t0 = time.perf_counter()
            s = run_sweep(wf, tmp / f"cases{workers}", client=client, gather_dataset=False)
            times[workers] = time.perf_counter() - t0
        store = tmp / f"cases{workers}" / "bench_cases" / "tasks"
        recs = [json.loads(p.read_text()) for p in store.glob("*.json")]
        cpu[workers] = sum(r["cpu_s"] for r in recs) / len(recs)
        print(
            f"16 case tasks (prius ci, 24 positions) on {workers} worker(s): {times[workers]:.2f} s "
            f"(done {s.done}; mean task CPU {cpu[workers]:.2f} s)"
        )
    print(f"worker environment: {sorted(set(tuple(sorted(e.items())) for e in env.values()))}")
    print(
        f"case tasks: speed-up {times[1] / times[2]:.2f}x, parallel efficiency "
        f"{times[1] / (2 * times[2]) * 100:.0f} %"
    )
    # contention check: cores actually used (task CPU / wall) and the per-task CPU ratio,
    # which bounds the efficiency two free cores would give
    used = {w: 16 * cpu[w] / times[w] for w in times}
    print(
        f"cores used: {used[1]:.2f} (1 worker), {used[2]:.2f} (2 workers); task CPU 1 vs 2 "
        f"workers {cpu[1] / cpu[2] * 100:.0f} % (load average {os.getloadavg()[0]:.1f})"
    )


def _warm() -> None:
    from pipeline.em.machine import run_case

    run_case("prius_2004", 0.0, 100.0, positions=1)


def main() -> None:
    from distributed import Client, wait

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 1. per-task overhead of the sweep layer
        with local_cluster(n_workers=1, dashboard=False) as lc, Client(lc) as client:
            client.submit(abs, 1).result()  # warm-up
            n = 200
            wf = load_workflow(_workflow(tmp, "bench_noop", n))
            t0 = time.perf_counter()
            s = run_sweep(wf, tmp / "res", client=client)
            t = time.perf_counter() - t0
            print(
                f"per-task overhead (run_sweep, {n} trivial tasks, 1 worker): {t / n * 1e3:.2f} ms/task (total {t:.2f} s, done {s.done})"
            )
            t0 = time.perf_counter()
            s = run_sweep(wf, tmp / "res", client=client)
            t = time.perf_counter() - t0
            print(f"resume check of {n} finished tasks: {t:.2f} s (skipped {s.skipped})")

        # 2. parallel efficiency, 16 x ~1 s CPU-bound tasks (fixed work calibrated here;
        #    the workers inherit BENCH_ITERS)
        t0 = time.perf_counter()
        _burn(20)
        per = (time.perf_counter() - t0) / 20
        os.environ["BENCH_ITERS"] = str(max(1, round(1.0 / per)))
        print(f"calibrated: {os.environ['BENCH_ITERS']} solves of 300x300 per ~1 s task")
        wf = load_workflow(_workflow(tmp, "bench_burn", 16))
        times = {}
        for workers in (1, 2):
            with local_cluster(n_workers=workers, dashboard=False) as lc, Client(lc) as client:
                client.wait_for_workers(workers)
                t0 = time.perf_counter()
                s = run_sweep(wf, tmp / f"res{workers}", client=client)
                times[workers] = time.perf_counter() - t0
            print(f"16 x 1 s tasks on {workers} worker(s): {times[workers]:.2f} s (done {s.done})")
        print(
            f"speed-up 2 vs 1 worker: {times[1] / times[2]:.2f}x, parallel efficiency {times[1] / (2 * times[2]) * 100:.0f} %"
        )
        _case_efficiency(tmp)

        # 3. scheduler time per task
        with local_cluster(n_workers=2, dashboard=False) as lc, Client(lc) as client:
            client.wait_for_workers(2)
            n = 10_000
            t0 = time.perf_counter()
            futs = client.map(abs, range(n), pure=False)
            wait(futs)
            t = time.perf_counter() - t0
            del futs
            print(
                f"scheduler time for {n} trivial tasks (2 workers): {t:.2f} s = {t / n * 1e3:.3f} ms/task"
            )
    print(f"cpu_count = {os.cpu_count()}")


if __name__ == "__main__":
    main()
