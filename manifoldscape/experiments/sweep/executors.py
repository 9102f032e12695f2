"""Where the trials of a sweep run: this process, a local process pool, or a Dask cluster.

All executors take the pending trials as a lazy iterable and yield the records as they finish.

* ``run_serial`` — in this process;
* ``run_pool`` — a ``ProcessPoolExecutor`` of spawned processes with one BLAS thread each; a
  worker that dies (``BrokenProcessPool``) restarts the pool, the trials in flight are retried one
  at a time, and a trial that kills its worker ``max_attempts`` times running alone is recorded
  with that error.  A script that runs a sweep without ``if __name__ == "__main__":`` is stopped
  at the first failure: every spawned worker re-imports the script, and the sweep it starts
  there exits at once with a code the parent recognises (``MAIN_GUARD_EXIT``);
* ``dask_client`` / ``run_dask`` — a Dask ``LocalCluster``, or a scheduler at an address.
  Every way of failing to reach an address ends within ``timeout`` seconds with a
  ``SweepError``: the address is first probed with a plain socket for the scheduler's opening
  handshake (a Dask scheduler speaks first; an HTTP server or a silent one does not), then the
  client connects in a thread that is given up on after the timeout.  Dask clients unpickle what
  the scheduler sends: connect only to schedulers you trust.
"""

from __future__ import annotations

import ast
import concurrent.futures
import contextlib
import logging
import math
import multiprocessing
import os
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from manifoldscape.boundary.arguments import scheduler_location
from manifoldscape.experiments.sweep.batches import Task, died_records, run_task
from manifoldscape.experiments.sweep.plan import SweepError

logger = logging.getLogger(__name__)

_BLAS_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
#: exit status of a spawned process that was about to start a sweep while importing the script
MAIN_GUARD_EXIT = 87
_HANDSHAKE_LIMIT = 1 << 24


# --------------------------------------------------------------------------- the main guard
def in_spawned_bootstrap() -> bool:
    """Whether this process is a spawned child still importing its parent's main script."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def main_guard_message() -> str:
    """What to tell the author of a script that runs a sweep at import time."""
    main = sys.modules.get("__main__")
    where = getattr(main, "__file__", None) or "the main script"
    return (
        f"every worker process re-imports {where} (processes are spawned), and that script "
        "starts the sweep again as it is imported; put the code that runs the sweep under "
        'if __name__ == "__main__":'
    )


def main_script_lacks_guard() -> bool:
    """Whether ``__main__`` is a script file with no ``if __name__ == "__main__":`` test."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or getattr(main, "__spec__", None) is not None:
        return False
    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError, UnicodeError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(side, ast.Name) and side.id == "__name__"
            for side in [node.left, *node.comparators]
        ):
            return False
    return True


# --------------------------------------------------------------------------- helpers
class _Queue:
    """A lazy iterable of tasks with a pushback buffer (``deque``-like: popleft, appendleft)."""

    def __init__(self, tasks: Iterable[Task]):
        self._source = iter(tasks)
        self._buffer: deque[Task] = deque()

    def __bool__(self) -> bool:
        if not self._buffer:
            task = next(self._source, None)
            if task is None:
                return False
            self._buffer.append(task)
        return True

    def popleft(self) -> Task:
        if not self:
            raise IndexError("no task left")
        return self._buffer.popleft()

    def appendleft(self, task: Task) -> None:
        self._buffer.appendleft(task)


@contextlib.contextmanager
def blas_environment(threads: int | None) -> Iterator[None]:
    """Set the BLAS thread variables that processes started inside inherit; restore them after."""
    if threads is None:
        yield
        return
    saved = {name: os.environ.get(name) for name in _BLAS_VARIABLES}
    os.environ.update({name: str(threads) for name in _BLAS_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _worker_initializer(parent: int) -> None:
    """In each pool worker: leave Ctrl-C to the parent, and exit if the parent dies."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


@dataclass
class Stats:
    """What an executor reports besides the records: how often the pool was restarted."""

    restarts: int = 0


# --------------------------------------------------------------------------- executors
def run_serial(tasks: Iterable[Task], stats: Stats) -> Iterator[dict[str, Any]]:
    """Run the trials one by one in this process."""
    for task in tasks:
        yield from run_task(task)


def _new_pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_initializer,
        initargs=(os.getpid(),),
    )


def _exit_codes(pool: concurrent.futures.ProcessPoolExecutor) -> set[int]:
    codes = set()
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.join(timeout=1.0)
            if process.exitcode is not None:
                codes.add(process.exitcode)
    return codes


def _stop_pool(pool: concurrent.futures.ProcessPoolExecutor, kill: bool) -> None:
    if kill:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def run_pool(
    tasks: Iterable[Task],
    workers: int,
    threads: int | None,
    max_attempts: int,
    stats: Stats,
) -> Iterator[dict[str, Any]]:
    """Run ``tasks`` on a process pool; see the module docstring for worker deaths."""
    normal = _Queue(tasks)
    suspects: deque[Task] = deque()
    deaths: dict[tuple[str, int], int] = {}
    window = 4 * workers
    finished_any = False
    with blas_environment(threads):
        pool = _new_pool(workers)
        clean = False
        try:
            while normal or suspects:
                careful = bool(suspects)
                source: Any = suspects if careful else normal
                limit = 1 if careful else window
                running: dict[concurrent.futures.Future, Task] = {}
                broken = False
                while (source or running) and not broken:
                    while source and len(running) < limit:
                        task = source.popleft()
                        try:
                            running[pool.submit(run_task, task)] = task
                        except concurrent.futures.process.BrokenProcessPool:
                            source.appendleft(task)
                            broken = True
                            break
                    if not running:
                        break
                    finished, _ = concurrent.futures.wait(
                        running, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                    for future in finished:
                        task = running.pop(future)
                        try:
                            records = future.result()
                        except concurrent.futures.process.BrokenProcessPool:
                            running[future] = task
                            broken = True
                            continue
                        finished_any = True
                        yield from records
                    if careful and not broken:
                        break  # a suspect passed alone: back to the normal pace
                if broken:
                    codes = _exit_codes(pool)
                    if MAIN_GUARD_EXIT in codes or (
                        not finished_any and stats.restarts == 0 and main_script_lacks_guard()
                    ):
                        raise SweepError(main_guard_message())
                    for future in [f for f in running if f.done() and not f.exception()]:
                        yield from future.result()  # finished just before the pool broke
                        del running[future]
                    stats.restarts += 1
                    logger.warning(
                        "a worker process died; restarting the pool and retrying %d trial(s)",
                        len(running),
                    )
                    for task in running.values():
                        key = (task.point, task.trial)
                        if not careful:  # which of the trials in flight died is unknown
                            suspects.append(task)
                            continue
                        deaths[key] = deaths.get(key, 0) + 1  # it ran alone: it was the one
                        if deaths[key] >= max_attempts:
                            yield from died_records(task, deaths[key], "the worker process died")
                        else:
                            suspects.append(task)
                    _stop_pool(pool, kill=True)
                    pool = _new_pool(workers)
            clean = True
        finally:
            _stop_pool(pool, kill=not clean)


# --------------------------------------------------------------------------- Dask
def check_timeout(timeout: Any) -> float:
    """``timeout`` as a positive, finite number of seconds (at most a day), else SweepError."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise SweepError(f"timeout must be a number of seconds, got {timeout!r}")
    if not (math.isfinite(timeout) and 0 < timeout <= 86400):
        raise SweepError(
            f"timeout must be a positive number of seconds (at most 86400), got {timeout!r}"
        )
    return float(timeout)


def _tcp_location(address: str) -> tuple[str, int] | None:
    """(host, port) of a ``tcp://`` (or scheme-less) address; None for other schemes."""
    try:
        return scheduler_location(address)
    except ValueError as exc:
        raise SweepError(str(exc)) from None


def _read_within(sock: socket.socket, count: int, deadline: float) -> bytes:
    data = b""
    while len(data) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the connection was closed")
        data += chunk
    return data


def probe_scheduler(address: str, timeout: float) -> None:
    """Check within ``timeout`` seconds that a Dask scheduler answers at a ``tcp://`` address.

    A Dask scheduler opens every connection by sending its handshake, one message framed by an
    8-byte length; the length must be plausible and the message must arrive in time.
    """
    location = _tcp_location(address)
    if location is None:
        return
    what = f"the Dask scheduler at {address!r}"
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection(location, timeout=timeout)
    except (OSError, ValueError) as exc:
        raise SweepError(
            f"cannot reach {what} within {timeout:g} s: {' '.join(str(exc).split())}"
        ) from None
    with sock:
        try:
            head = _read_within(sock, 8, deadline)
            (length,) = struct.unpack("<Q", head)
            if not 0 < length <= _HANDSHAKE_LIMIT:
                raise SweepError(
                    f"cannot use {what}: it answered, but not as a Dask scheduler does (its "
                    f"first bytes: {head!r}) within {timeout:g} s"
                )
            _read_within(sock, int(length), deadline)
        except TimeoutError:
            raise SweepError(
                f"cannot reach {what} within {timeout:g} s: it accepted the connection but sent "
                "no Dask handshake"
            ) from None
        except (OSError, ConnectionError) as exc:
            raise SweepError(
                f"cannot reach {what} within {timeout:g} s: {' '.join(str(exc).split())}"
            ) from None


def _within(seconds: float, function: Any, what: str) -> Any:
    """``function()`` in a daemon thread, given up on (SweepError) after ``seconds``."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="dask-connect")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise SweepError(f"cannot reach {what} within {seconds:g} s")
    if "error" in outcome:
        exc = outcome["error"]
        raise SweepError(
            f"cannot reach {what}: {type(exc).__name__}: {' '.join(str(exc).split())}"
        ) from None
    return outcome["value"]


def dask_client(scheduler: str, workers: int, threads: int | None, timeout: float) -> Any:
    """A ``distributed.Client`` on a LocalCluster (``"local"``) or at a scheduler address."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError(
            "a Dask scheduler needs dask.distributed: pip install 'manifoldscape[dask]'"
        ) from None
    if scheduler == "local":
        if main_script_lacks_guard():
            raise SweepError(main_guard_message())
        with blas_environment(threads):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        return Client(cluster, timeout=timeout)
    probe_scheduler(scheduler, timeout)
    what = f"the Dask scheduler at {scheduler!r}"
    return _within(timeout + 1.0, lambda: Client(scheduler, timeout=timeout), what)


def close_client(client: Any) -> None:
    """Close a client and the LocalCluster it started, if any."""
    cluster = getattr(client, "cluster", None)
    with contextlib.suppress(Exception):
        client.close()
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close()


def run_dask(
    tasks: Iterable[Task], client: Any, workers: int, stats: Stats
) -> Iterator[dict[str, Any]]:
    """Run the trials on a Dask cluster, a window of them at a time."""
    from distributed import as_completed

    try:
        from distributed import KilledWorker
    except ImportError:  # pragma: no cover - older layouts
        from distributed.scheduler import KilledWorker

    queue = _Queue(tasks)
    window = max(4 * workers, 8)
    pending: dict[Any, Task] = {}

    def submit() -> Any:
        task = queue.popleft()
        future = client.submit(
            run_task, task, pure=False, key=f"trial-{task.sweep}-{task.point_index}-{task.trial}"
        )
        pending[future] = task
        return future

    initial = []
    while queue and len(initial) < window:
        initial.append(submit())
    completed = as_completed(initial)
    try:
        for future in completed:
            task = pending.pop(future)
            try:
                records = future.result()
            except KilledWorker:
                records = died_records(task, 1, "Dask reported the worker killed")
            yield from records
            if queue:
                completed.add(submit())
    finally:
        for future in pending:
            future.cancel()
