"""Where sweep tasks run: a local cluster, an existing scheduler, a dask-jobqueue batch
cluster, each checked before any task is submitted (issue 17), or in this process
(``--scheduler synchronous``: :class:`SynchronousClient`, no Dask client or cluster).

Checked up front: the ``--scheduler`` address form (and that a scheduler answers within
:data:`CONNECT_TIMEOUT_S`), the cluster YAML against the keyword arguments dask-jobqueue's
cluster and job classes accept (unknown keys named, types, sizes, walltime form), the batch
system's commands on PATH, and that the first batch job starts within ``start_timeout_s``
(a rejected, vanished or never-starting job is a one-line :class:`DesignError`). With
:mod:`pipeline.sweep` the only modules that import dask/distributed.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from pipeline.errors import DesignError
from pipeline.io.inputs import check_keys, check_number, check_table, read_yaml

__all__ = [
    "WORKER_ENV",
    "quiet_dask_logs",
    "local_cluster",
    "jobqueue_cluster",
    "check_cluster_spec",
    "cluster_keys",
    "check_batch_system",
    "wait_for_first_job",
    "check_scheduler_address",
    "connect_scheduler",
    "open_client",
    "close_quietly",
    "check_where",
    "SYNCHRONOUS",
    "SynchronousClient",
    "as_completed",
    "START_TIMEOUT_S",
    "CONNECT_TIMEOUT_S",
]

#: environment for worker processes (see DESIGN.md: without the mmap threshold two workers
#: gave no speed-up; BLAS threads pinned to one per single-threaded worker)
WORKER_ENV = {
    "MALLOC_TRIM_THRESHOLD_": "67108864",
    "MALLOC_MMAP_THRESHOLD_": "67108864",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

#: ``--scheduler`` value that runs every task in this process, without a Dask client or
#: cluster (:class:`SynchronousClient`; Dask's name for its own single-thread scheduler)
SYNCHRONOUS = "synchronous"


# --- where it runs ---------------------------------------------------------------------
def _dask_config():
    # defer: Dask loads only when a sweep runs
    import dask

    return dask.config.set(
        {
            "distributed.nanny.pre-spawn-environ": dict(WORKER_ENV),
            "distributed.scheduler.allowed-failures": 3,
        }
    )


def quiet_dask_logs() -> None:
    """Dask's INFO lines (scheduler and nanny start-up, shutdown) off: WARNING and above.

    distributed applies its logging configuration (``logging.distributed: info``) when it
    is first imported, so the level is set after that import, not before it."""
    # defer: Dask distributed loads only when a cluster is used
    import distributed  # noqa: F401

    logging.getLogger("distributed").setLevel(logging.WARNING)


def local_cluster(
    n_workers: int | None = None, memory_limit: str | float = "auto", dashboard: bool = True
):
    """A ``LocalCluster`` of single-threaded worker processes with :data:`WORKER_ENV`.

    The worker processes are started with SIGINT ignored (they inherit the disposition;
    a signal mask would not do: the workers are spawned from distributed's event-loop
    thread), so that Ctrl-C reaches only the client, which stops the sweep and closes the
    cluster; otherwise every worker prints its own KeyboardInterrupt traceback (issue 17).
    A Ctrl-C during the few seconds of start-up is ignored.
    """

    # defer: Dask distributed loads only when a cluster is used
    from distributed import LocalCluster

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        return _local_cluster(LocalCluster, n_workers, memory_limit, dashboard)
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _local_cluster(LocalCluster, n_workers, memory_limit, dashboard):
    with _dask_config():
        return LocalCluster(
            n_workers=n_workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            host="127.0.0.1",
            dashboard_address=":0" if dashboard else None,
            env=dict(WORKER_ENV),
            # worker log lines on shutdown (cancelled tasks, a heartbeat to a closed
            # scheduler) are not the user's business; task failures reach the records
            silence_logs=logging.CRITICAL,
        )


#: keys of a cluster YAML that are ours, not dask-jobqueue's
OWN_CLUSTER_KEYS = {"kind", "n_workers", "adapt", "start_timeout_s"}
#: seconds to wait for the first batch job to start (issue 17: "within a minute"); a YAML
#: ``start_timeout_s`` changes it for sites with long queues
START_TIMEOUT_S = 60.0
#: (submit, status) commands of each batch system, as dask-jobqueue calls them
BATCH_COMMANDS = {"slurm": ("sbatch", "squeue"), "pbs": ("qsub", "qstat")}
_STARTED = {"RUNNING", "CONFIGURING", "COMPLETING"}
_WAITING = {"PENDING", "REQUEUED", "RESIZING", "SUSPENDED"}


def _cluster_classes(kind: str):
    if kind == "slurm":
        # defer: dask-jobqueue (optional) loads only for batch clusters
        from dask_jobqueue import SLURMCluster as Cluster

        # defer: dask-jobqueue (optional) loads only for batch clusters
        from dask_jobqueue.slurm import SLURMJob as Job
    else:
        # defer: dask-jobqueue (optional) loads only for batch clusters
        from dask_jobqueue import PBSCluster as Cluster

        # defer: dask-jobqueue (optional) loads only for batch clusters
        from dask_jobqueue.pbs import PBSJob as Job
    return Cluster, Job


def cluster_keys(kind: str) -> set[str]:
    """Keyword arguments dask-jobqueue's cluster and job classes of ``kind`` accept."""

    # defer: dask-jobqueue (optional) loads only for batch clusters
    from dask_jobqueue.core import Job as BaseJob

    # defer: dask-jobqueue (optional) loads only for batch clusters
    from dask_jobqueue.core import JobQueueCluster

    _, Job = _cluster_classes(kind)
    skip = {"self", "job_cls", "loop", "asynchronous", "config_name", "job_kwargs", "scheduler"}
    skip |= {"name", "base_class_kwargs", "security"}
    keys: set[str] = set()
    for fn in (JobQueueCluster.__init__, BaseJob.__init__, Job.__init__):
        keys |= set(inspect.signature(fn).parameters) - skip
    return keys


def _check_str_list(spec: dict, key: str, where: str) -> None:
    v = spec.get(key)
    if v is not None and (not isinstance(v, list) or not all(isinstance(x, str) for x in v)):
        raise DesignError(f"{where}.{key}", v, "must be a list of strings")


def check_cluster_spec(spec: object, where: str = "cluster") -> dict:
    """Validate a cluster YAML's mapping against what dask-jobqueue accepts; returns it."""
    # defer: Dask loads only when a sweep runs
    from dask.utils import parse_bytes


    check_table(spec, where)
    kind = spec.get("kind")
    if kind not in BATCH_COMMANDS:
        raise DesignError(f"{where}.kind", kind, "must be slurm or pbs")
    check_keys(spec, where, cluster_keys(kind) | OWN_CLUSTER_KEYS, ("cores", "memory", "walltime"))
    cores = check_number(f"{where}.cores", spec["cores"], 1, 1024, integer=True)
    if spec.get("processes") is not None:
        check_number(f"{where}.processes", spec["processes"], 1, cores, integer=True)
    memory = spec["memory"]
    try:
        if not isinstance(memory, str) or parse_bytes(memory) <= 0:
            raise ValueError
    except ValueError:
        raise DesignError(f"{where}.memory", memory, "a size like '32GB'") from None
    walltime = spec["walltime"]
    if not isinstance(walltime, str) or not re.fullmatch(r"(\d+-)?\d{1,3}(:\d{2}){0,2}", walltime):
        raise DesignError(f"{where}.walltime", walltime, "a time like '02:00:00' or '1-00:00:00'")
    for key in ("queue", "account", "project", "interface", "resource_spec"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise DesignError(f"{where}.{key}", spec[key], "must be a string")
    for key in ("job_extra_directives", "job_script_prologue", "worker_extra_args"):
        _check_str_list(spec, key, where)
    if "n_workers" in spec and "adapt" in spec:
        raise DesignError(f"{where}.adapt", spec["adapt"], "give either n_workers or adapt")
    if "n_workers" not in spec and "adapt" not in spec:  # no job would ever start
        raise DesignError(f"{where}.n_workers", None, "give n_workers or adapt")
    # 1000 jobs: far above any sweep here (a 15 x 15 map is 225 tasks); a typo guard
    if "n_workers" in spec:
        check_number(f"{where}.n_workers", spec["n_workers"], 1, 1000, integer=True)
    if "adapt" in spec:
        adapt = check_keys(spec["adapt"], f"{where}.adapt", {"minimum", "maximum"})
        lo = check_number(f"{where}.adapt.minimum", adapt.get("minimum", 0), 0, 1000, integer=True)
        check_number(
            f"{where}.adapt.maximum", adapt.get("maximum", 1), max(lo, 1), 1000, integer=True
        )
    if "start_timeout_s" in spec:
        check_number(f"{where}.start_timeout_s", spec["start_timeout_s"], 0, 86400, lo_open=True)
    return spec


def check_batch_system(kind: str, where: str = "cluster.kind") -> None:
    """Refuse a batch-system cluster whose submit or status command is not on PATH."""

    for cmd in BATCH_COMMANDS[kind]:
        if shutil.which(cmd) is None:
            raise DesignError(where, kind, f"'{cmd}' is not on PATH: no {kind.upper()} here")


def _job_state(kind: str, job_id: str) -> str:
    """State of batch job ``job_id``: RUNNING, PENDING, ... or "" when the queue has no such job."""

    cmd = ["squeue", "-h", "-j", job_id, "-o", "%T"] if kind == "slurm" else ["qstat", "-f", job_id]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "UNKNOWN"
    if out.returncode != 0 or not out.stdout.strip():
        return ""
    if kind == "slurm":
        return out.stdout.split()[0].upper()
    m = re.search(r"job_state\s*=\s*(\w)", out.stdout)
    code = m.group(1) if m else ""
    return {"R": "RUNNING", "Q": "PENDING", "H": "PENDING", "W": "PENDING"}.get(code, code)


class _SubmitErrors(logging.Filter):
    """Keeps (and hides) the submit command's failure that Tornado would log as a traceback."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, RuntimeError) and "non-zero exit code" in str(exc):
            lines = [ln for ln in str(exc).splitlines() if ln.strip()]
            err = lines[lines.index("stderr:") + 1 :] if "stderr:" in lines else lines[-1:]
            self.messages.append((err or ["(no message)"])[0].strip())
            return False
        return True


def wait_for_first_job(cluster, kind: str, timeout_s: float, errors: _SubmitErrors) -> str:
    """Poll the first batch job until it runs; DesignError if it is rejected, leaves the
    queue or is still waiting after ``timeout_s``. Returns its job id."""
    t_end = time.monotonic() + timeout_s
    state, job_id = "", None
    while True:
        if errors.messages:
            raise DesignError("cluster", kind, f"job submission rejected: {errors.messages[0]}")
        jobs = list(getattr(cluster, "workers", {}).values())
        job_id = next((j.job_id for j in jobs if getattr(j, "job_id", None)), None)
        if job_id is not None:
            state = _job_state(kind, str(job_id))
            if state in _STARTED:
                return str(job_id)
            if state not in _WAITING and state != "UNKNOWN":
                raise DesignError(
                    "cluster",
                    kind,
                    f"job {job_id} left the queue without starting (state {state or 'gone'});"
                    " rejected or failed at start, see its batch log",
                )
        if time.monotonic() > t_end:
            what = f"job {job_id} still {state}" if job_id else "no job was submitted"
            raise DesignError(
                "cluster", kind, f"{what} after {timeout_s:g} s; set start_timeout_s to wait longer"
            )
        time.sleep(min(1.0, max(0.05, timeout_s / 20)))


def jobqueue_cluster(path: str | Path, **overrides):
    """A dask-jobqueue SLURMCluster/PBSCluster from a YAML file (see workflows/cluster/).

    Keys: ``kind`` (slurm|pbs), ``cores``, ``memory``, ``walltime``, ``queue``, optional
    ``processes``, ``account``, ``job_extra_directives``, ``interface``, any other keyword
    dask-jobqueue accepts, and either ``n_workers`` (fixed number of jobs) or
    ``adapt: {minimum, maximum}`` (one of them is required); ``start_timeout_s`` (default
    60); the override ``n_workers=0`` gives a cluster that submits nothing (job scripts). Everything is checked
    before the cluster starts (unknown keys named); then the batch system's commands must be
    on PATH and the first job must start within ``start_timeout_s`` (one job is started
    first even with ``adapt``), or a one-line :class:`DesignError` says why.
    """

    spec = read_yaml(path, "cluster")
    spec = dict(check_cluster_spec(spec, "cluster")) | overrides
    kind = spec.pop("kind")
    Cluster, _ = _cluster_classes(kind)
    n_workers = spec.pop("n_workers", None)
    adapt = spec.pop("adapt", None)
    if n_workers or adapt:  # jobs will be submitted (n_workers=0 from code: a script only)
        check_batch_system(kind)
    timeout_s = float(spec.pop("start_timeout_s", START_TIMEOUT_S))
    prologue = [f"export {k}={v}" for k, v in WORKER_ENV.items()]
    spec["job_script_prologue"] = prologue + list(spec.get("job_script_prologue") or [])
    with _dask_config():
        cluster = Cluster(**spec)
    if not (n_workers or adapt):
        return cluster
    errors = _SubmitErrors()
    tornado_log = logging.getLogger("tornado.application")
    tornado_log.addFilter(errors)
    try:
        cluster.scale(jobs=1)
        wait_for_first_job(cluster, kind, timeout_s, errors)
    except BaseException:
        with contextlib.suppress(Exception):  # a never-started job fails dask's close checks
            cluster.close()
        raise
    finally:
        tornado_log.removeFilter(errors)
    if adapt:
        cluster.adapt(minimum=adapt.get("minimum", 0), maximum=adapt.get("maximum", 1))
    elif n_workers:
        cluster.scale(jobs=n_workers)
    return cluster


#: seconds to wait for an existing scheduler to answer (a LAN scheduler answers in
#: milliseconds; 10 s covers a busy one without leaving a typo hanging)
CONNECT_TIMEOUT_S = 10.0
_ADDRESS = re.compile(
    r"((tcp|tls|ucx|ws|wss)://)?[A-Za-z0-9_.\-]+:(\d{1,5})|\[[0-9a-fA-F:]+\]:(\d{1,5})"
)


def check_scheduler_address(address: object) -> str:
    """``address`` if it looks like ``[tcp://]host:port`` with a port in 1..65535."""
    m = _ADDRESS.fullmatch(address) if isinstance(address, str) else None
    port = int(m.group(3) or m.group(4)) if m else 0
    if not (m and 1 <= port <= 65535):
        raise DesignError(
            "--scheduler", address, f"an address like tcp://host:8786, or {SYNCHRONOUS}"
        )
    return address


def connect_scheduler(client_cls, address: str, timeout_s: float = CONNECT_TIMEOUT_S):
    """A Dask client of the scheduler at ``address``; one-line DesignError if none answers."""
    check_scheduler_address(address)
    try:
        return client_cls(address, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError) as exc:
        raise DesignError(
            "--scheduler",
            address,
            f"no Dask scheduler answered within {timeout_s:g} s ({type(exc).__name__})",
        ) from None


def open_client(client=None, scheduler: str | None = None, cluster_file=None):
    """(client, objects the caller must close): ``client`` as given, else (``scheduler`` =
    ``"synchronous"``) a :class:`SynchronousClient`, else a client of the ``scheduler``
    address, else of a dask-jobqueue cluster from ``cluster_file``, else of a
    :func:`local_cluster`. One place for every Dask user (sweeps, studies, calibration)."""
    if client is not None:
        return client, []
    if scheduler == SYNCHRONOUS:
        return SynchronousClient(), []
    # defer: Dask distributed loads only when a cluster is used
    from distributed import Client

    if scheduler:
        c = connect_scheduler(Client, scheduler)
        return c, [c]
    cluster = jobqueue_cluster(cluster_file) if cluster_file else local_cluster()
    c = Client(cluster)
    return c, [c, cluster]


def close_quietly(objects, log=None) -> None:
    """Close clients and clusters in order; a failure to close is logged, never raised (it
    must not hide the outcome of the work they ran)."""
    for obj in objects:
        try:
            obj.close()
        except Exception:  # noqa: BLE001 - see the docstring
            if log is not None:
                log.debug("closing %s failed", obj, exc_info=True)


def check_where(scheduler: str | None, cluster_file: str | None) -> None:
    """Validate ``--scheduler`` / ``--cluster`` before any work (address form; the cluster
    YAML against dask-jobqueue and the batch system's commands on PATH)."""

    if scheduler is not None and scheduler != SYNCHRONOUS:
        check_scheduler_address(scheduler)
    if cluster_file is not None:
        spec = check_cluster_spec(read_yaml(cluster_file, "cluster"), "cluster")
        check_batch_system(spec["kind"])


# --- in this process ---------------------------------------------------------------------


class _SyncFuture:
    """A task of :class:`SynchronousClient`: run when first asked for (``result``,
    ``exception`` or :func:`as_completed`), futures among its arguments first."""

    def __init__(self, fn, args, kwargs, key):
        self.fn, self.args, self.kwargs, self.key = fn, args, kwargs, key
        self.status = "pending"
        self._value = self._error = None

    def _run(self) -> None:
        if self.status != "pending":
            return
        try:
            args = [a.result() if isinstance(a, _SyncFuture) else a for a in self.args]
            self._value = self.fn(*args, **self.kwargs)
            self.status = "finished"
        except Exception as exc:  # noqa: BLE001 - kept as a worker keeps a task's error
            self._error, self.status = exc, "error"
        self.args = self.kwargs = None

    def result(self):
        self._run()
        if self.status == "cancelled":
            raise RuntimeError(f"task {self.key} was cancelled")
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self):
        self._run()
        return self._error

    def done(self) -> bool:
        return self.status != "pending"

    def release(self) -> None:
        self._value = None


class SynchronousClient:
    """The part of a Dask client that sweeps, studies and calibration use, run in this
    process and thread: ``submit`` returns a future that is computed when
    :func:`as_completed` (or ``result``) reaches it, in submission order, one at a time
    (what Dask's own ``scheduler="synchronous"`` does with a graph). No Client, no cluster,
    no worker processes: for debugging (breakpoints and prints work in tasks) and for users
    without a cluster. Results are those of a worker (tested in tests/test_api.py)."""

    dashboard_link = None

    def submit(self, fn, *args, pure=None, key=None, priority=0, **kwargs) -> _SyncFuture:
        return _SyncFuture(fn, args, kwargs, key)

    def cancel(self, futures) -> None:
        for f in futures:
            if isinstance(f, _SyncFuture) and f.status == "pending":
                f.status, f.args, f.kwargs = "cancelled", None, None

    def close(self) -> None:
        pass


def as_completed(futures):
    """Futures as they finish: Dask's ``as_completed``, or, for futures of a
    :class:`SynchronousClient`, each computed in turn in this process."""
    futures = list(futures)
    if futures and all(isinstance(f, _SyncFuture) for f in futures):
        return _run_in_turn(futures)
    # defer: Dask distributed loads only when a cluster is used
    from distributed import as_completed as dask_as_completed

    return dask_as_completed(futures)


def _run_in_turn(futures):
    for f in futures:
        f._run()
        if f.status != "cancelled":
            yield f
