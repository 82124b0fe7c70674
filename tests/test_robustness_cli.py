"""Issue 17, command layer: bad input exits 2 with one line; an unexpected exception exits 70
with one line naming the failing stage and a log file holding the traceback (``--debug``
prints it); Ctrl-C on a sweep stops it with one line saying what was saved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import EXIT_INTERNAL, main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("EDRIVE_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path / "results"


def _boom(args):
    from pipeline.maps.model import MachineMap  # any library frame: the stage is named

    MachineMap.__init__(None, None, None)  # AttributeError inside pipeline.maps.model


def _err_lines(capsys) -> list[str]:
    return [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


def test_unexpected_exception_one_line_and_log(results, monkeypatch, capsys):
    import pipeline.cli as cli

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["designs"].set_defaults(func=_boom)
    assert main(["designs"]) == EXIT_INTERNAL
    lines = _err_lines(capsys)
    assert len(lines) == 1, lines
    assert "internal error in pipeline.maps.model.__init__" in lines[0]
    log = Path(lines[0].rsplit("traceback: ", 1)[1].rstrip(")"))
    assert log.parent == results / "logs" and "Traceback (most recent call last)" in log.read_text()


def test_debug_prints_the_traceback(results, monkeypatch, capsys):
    import pipeline.cli as cli

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["designs"].set_defaults(func=_boom)
    assert main(["--debug", "designs"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "internal error in" in err


@pytest.mark.parametrize("command", ["case", "map", "thermal", "mesh"])
def test_bad_design_file_exit_2_one_line(results, tmp_path, capsys, command):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'name = "\xff"\n')
    extra = ["--speed-rpm", "1000", "--torque-Nm", "10"] if command == "thermal" else []
    assert main([command, str(bad), *extra]) == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1 and "not UTF-8" in lines[0], lines


def test_map_bad_vehicle_file_fails_before_the_map(results, tmp_path, capsys):
    car = tmp_path / "car.toml"
    car.write_text("[mass\n")
    t0 = time.perf_counter()
    assert main(["map", "prius_2004", "--vehicle", str(car)]) == 2
    assert time.perf_counter() - t0 < 10  # no map point was solved (one takes ~1 s)
    lines = _err_lines(capsys)
    assert len(lines) == 1 and "vehicle" in lines[0] and "syntax error" in lines[0], lines


def test_map_bad_scheduler_and_cluster_before_work(results, tmp_path, capsys):
    assert main(["map", "prius_2004", "--scheduler", "tcp://nohost"]) == 2
    assert "an address like" in _err_lines(capsys)[0]
    c = tmp_path / "c.yaml"
    c.write_text(
        "kind: slurm\ncores: 8\nmemory: 8GB\nwalltime: '01:00:00'\nn_workers: 1\nqeue: x\n"
    )
    assert main(["map", "prius_2004", "--cluster", str(c)]) == 2
    assert "cluster.qeue" in _err_lines(capsys)[0]


def test_sweep_refuses_large_workflow_with_exit_2(results, tmp_path, capsys):
    wf = tmp_path / "wf.toml"
    # 80 x 80 = 6400 tasks x 144 positions x 0.1 s = 25.6 CPU hours > 24
    axis = ", ".join(str(float(i)) for i in range(80))
    wf.write_text(
        f'name = "big"\ndesign = "prius_2004"\ncompute = "case"\n'
        f"[operating_points]\ni_d_A = [{axis}]\ni_q_A = [{axis}]\n"
        "positions = [144]\n"
    )
    assert main(["sweep", str(wf)]) == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1 and "CPU hours" in lines[0] and "--allow-large" in lines[0], lines


_RUNNER = """
import os, sys
sys.path.insert(0, {root!r})
if __name__ == "__main__":
    import tests.test_sweep  # registers the "sleepy" task kind
    from pipeline.cli import main
    sys.exit(main(["sweep", {wf!r}, "--quiet"]))
"""


def test_ctrl_c_on_a_sweep(tmp_path):
    """SIGINT to the whole process group (what Ctrl-C in a terminal does) while workers run:
    one line with what was saved, exit 130, no worker tracebacks."""
    wf = tmp_path / "wf.toml"
    lengths = ", ".join(str(80 + i) for i in range(12))
    wf.write_text(
        'name = "ctrlc"\ndesign = "prius_2004"\ncompute = "sleepy"\n'
        f'[design_grid]\n"stator.stack_length_mm" = [{lengths}]\n'
    )
    script = tmp_path / "run.py"
    script.write_text(_RUNNER.format(root=str(ROOT), wf=str(wf)))
    (tmp_path / "markers").mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "EDRIVE_TEST_MARKERS": str(tmp_path / "markers"),
        "EDRIVE_TEST_SLEEP": "2",
        "EDRIVE_RESULTS_DIR": str(tmp_path / "results"),
    }
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not list((tmp_path / "markers").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)  # wait until a task runs on a worker
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "interrupted;" in lines[0] and "resume" in lines[0], lines
